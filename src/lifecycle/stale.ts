import type { Gateway } from "../github/gateway.js";
import { formatDuration, parseDuration } from "../duration.js";
import type { Policy } from "../policy/types.js";
import { judgePullRequest } from "../pull-request/run.js";
import { BoundedCache } from "../util/bounded-cache.js";
import { isoSecond, type Clock } from "../util/clock.js";
import type { Logger } from "./actions.js";
import { decideStale, type StaleStep } from "./decide.js";
import { tick } from "../markdown.js";

export interface StaleDeps {
  clock: Clock;
  log: Logger;
  providers: ReadonlyMap<string, readonly string[]>;
}

/**
 * Stale requests: an open PR with grant files whose approval is still not satisfied `request_ttl`
 * after it was opened (or last reopened) is closed, with a comment saying why and how to ask again.
 * The approval is judged afresh at that moment, so a PR approved just in time stays open.
 */
export class StalePass {
  /** PRs judged not stale, by number, head and last update: judged again only when one of those changes. */
  private readonly notStale = new BoundedCache<true>(10_000);

  constructor(private readonly deps: StaleDeps) {}

  /** Closes the stale requests; says which, and when the next open PR reaches its TTL (for the precise timer). */
  async run(gw: Gateway, repo: string, branch: string, policy: Policy | undefined, skip: ReadonlySet<number>): Promise<{ closed: number[]; next?: Date }> {
    const ttl = policy ? parseDuration(policy.request_ttl) : undefined;
    if (!ttl?.ok) return { closed: [] };
    const now = this.deps.clock.now();
    const closed: number[] = [];
    let next: number | undefined;
    const waitFor = (step: StaleStep) => {
      if (step.kind === "not-yet") next = Math.min(next ?? step.at.getTime(), step.at.getTime());
      return step.kind === "not-yet";
    };
    for (const pull of await gw.pulls.openPulls(branch)) {
      const key = `${repo}#${pull.number}@${pull.headSha}@${pull.updatedAt}`;
      if (skip.has(pull.number) || waitFor(decideStale({ since: pull.createdAt, ttlMs: ttl.ms }, now)) || this.notStale.peek(key)) continue;
      const since = (await gw.issues.lastReopenedAt(pull.number)) ?? pull.createdAt;
      if (waitFor(decideStale({ since, ttlMs: ttl.ms }, now))) continue;
      const judged = await judgePullRequest(gw, pull.number, { providers: this.deps.providers, log: this.deps.log });
      const step = decideStale(
        { since, ttlMs: ttl.ms, judged: { hasGrants: (judged?.decision.grants.length ?? 0) > 0, approved: judged?.decision.approval.satisfied ?? true } },
        now,
      );
      if (!judged || step.kind !== "close") {
        void this.notStale.getOrLoad(key, async () => true);
        continue;
      }
      const waiting = judged.decision.approval.grants.filter((g) => !g.satisfied).map((g) => `- ${tick(g.path)}: ${g.missing || "not approved"}`);
      await gw.issues.comment(pull.number, staleComment(policy!.request_ttl, ttl.ms, since, waiting));
      await gw.pulls.closePull(pull.number);
      this.deps.log.info({ repo, pr: pull.number, since }, "stale access request closed");
      closed.push(pull.number);
    }
    return { closed, next: next === undefined ? undefined : new Date(next) };
  }
}

function staleComment(ttl: string, ttlMs: number, since: string, waiting: string[]): string {
  return [
    `<!-- timebox:stale ${since} -->`,
    `### 💤 Request closed: no approval within ${ttl}`,
    `This access request has waited since ${isoSecond(new Date(since))} without the approvals its policy requires (the policy's \`request_ttl\` is ${formatDuration(ttlMs)}), so Timebox closed it. Nothing was granted.`,
    "",
    ...waiting,
    "",
    `Still need the access? **Reopen this pull request** and ask an approver to review it: the ${ttl} count again from the reopening. Or open a new request.`,
  ].join("\n");
}

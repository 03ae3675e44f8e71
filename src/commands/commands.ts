import type { Gateway } from "../github/gateway.js";
import type { Policy } from "../policy/types.js";
import type { ActiveGrant } from "../providers/types.js";
import type { Clock } from "../util/clock.js";
import { expiresAt } from "../lifecycle/active-grant.js";
import type { Logger } from "../lifecycle/actions.js";
import { outcomeCommitMessage, revokedMarker } from "../records/comments.js";
import { endedGrants } from "./outcome.js";
import type { Reconciler } from "../lifecycle/reconciler.js";
import { isApproved, type ApprovedGrant } from "../lifecycle/types.js";

/** What `/timebox outcome` did on one PR (a recorded path without a commit: branch rules refused it). */
export type OutcomeResult =
  | { kind: "none" }
  | { kind: "missing" }
  | { kind: "done"; recorded: Array<{ path: string; sha?: string }>; refused: Array<{ path: string; mayAnswer: string[] }> };

/**
 * What `/timebox revoke` did on one PR. `due`: nothing was active, but a grant of the PR that the
 * commenter may revoke is past its expiry and not revoked yet (its reconcile has not run).
 */
export type RevokeCommandResult =
  { kind: "none"; due?: boolean } | { kind: "done"; revoked: string[]; failed: string[]; refused: Array<{ path: string; mayRevoke: string[] }> };

/** A command as GitHub delivered it: the comment's id and creation time, and its author's login (all set by GitHub). */
export interface CommandComment {
  id: number;
  createdAt: string;
  login: string;
}

/** The first line of Timebox's answer to the command in comment `id`. */
const answeredMarker = (id: number) => `<!-- timebox:answered ${id} -->`;

/**
 * Who may revoke an active grant early: its requester, an eligible approver of its role, or a
 * policy owner, judged with `policy` (the default branch tip's; the grant's own when that is invalid).
 */
function revokersOf(t: ApprovedGrant, policy: Policy | undefined): string[] {
  const p = policy ?? t.origin.policy;
  const role = p.resources[t.origin.grant.resource]?.roles[t.origin.grant.role] ?? t.origin.role;
  const seen = new Set<string>();
  return [t.origin.grant.requester, ...role.approvers, ...p.owners].filter((r) => !seen.has(r.toLowerCase()) && !!seen.add(r.toLowerCase()));
}

/** The commands people type on a grant's PR, carried out with the reconciler's view of the default branch. */
export class Commands {
  constructor(
    private readonly reconciler: Reconciler,
    private readonly deps: { clock: Clock; log: Logger },
  ) {}

  /**
   * `/timebox revoke` on PR `prNumber` by `login`: the PR's grants active on the default branch that
   * `login` may revoke (`isAllowed` of their revokers) are revoked now, their files removed with
   * `Revoke-Reason: revoked-by:<login>`.
   */
  async revokeByCommand(
    gw: Gateway,
    repo: string,
    prNumber: number,
    login: string,
    isAllowed: (refs: readonly string[]) => Promise<boolean>,
  ): Promise<RevokeCommandResult> {
    const { branch, policy, tracked } = await this.reconciler.view(gw, repo);
    const now = this.deps.clock.now();
    const approved = tracked.filter(isApproved);
    let live = approved.filter((t) => expiresAt(t) > now);
    // Merged grants of the PR, and its break-glass grants in effect before (or without) a merge.
    const mine: Array<{ t: ApprovedGrant; g?: ActiveGrant }> = live.filter((t) => t.origin.pull.number === prNumber).map((t) => ({ t }));
    for (const e of await this.reconciler.breakglass.activeOn(gw, repo, prNumber, policy)) if (!mine.some((m) => m.t.path === e.t.path)) mine.push(e);
    if (mine.length === 0) {
      // Expired, still on the branch and not revoked yet: its reconcile is due (the caller runs it).
      const markers = await gw.issues.markers(prNumber);
      const expired = approved.filter((t) => t.origin.pull.number === prNumber && expiresAt(t) <= now && !markers.has(revokedMarker(t)));
      for (const t of expired) if (await isAllowed(revokersOf(t, policy))) return { kind: "none", due: true };
      return { kind: "none" };
    }
    const result: RevokeCommandResult = { kind: "done", revoked: [], failed: [], refused: [] };
    for (const { t, g } of mine) {
      const refs = revokersOf(t, policy);
      if (!(await isAllowed(refs))) {
        result.refused.push({ path: t.path, mayRevoke: refs });
        continue;
      }
      const outcome =
        (await this.reconciler.isolated(repo, t.path, () =>
          this.reconciler.actions.revoke(gw, repo, branch, t, live, `revoked-by:${login}`, { onBranch: !g, known: g }),
        )) ?? "failed";
      if (outcome === "failed") {
        result.failed.push(t.path);
      } else {
        result.revoked.push(t.path);
        live = live.filter((o) => o.path !== t.path);
      }
    }
    return result;
  }

  /**
   * `/timebox outcome <text>` on PR `prNumber` by `login`: for each grant of the PR that Timebox
   * revoked, the requester's (or a policy owner's) answer is recorded in an empty Timebox commit
   * on the default branch, where `timebox audit` finds it.
   */
  async recordOutcome(
    gw: Gateway,
    repo: string,
    prNumber: number,
    login: string,
    text: string | undefined,
    isAllowed: (refs: readonly string[]) => Promise<boolean>,
  ): Promise<OutcomeResult> {
    if (!text) return { kind: "missing" };
    const ended = endedGrants(await gw.issues.markers(prNumber));
    if (ended.length === 0) return { kind: "none" };
    const { branch, policy } = await this.reconciler.view(gw, repo);
    const result: OutcomeResult = { kind: "done", recorded: [], refused: [] };
    for (const e of ended) {
      const refs = [...new Set([e.requester, ...(policy?.owners ?? [])])];
      if (!(await isAllowed(refs))) {
        result.refused.push({ path: e.path, mayAnswer: refs });
        continue;
      }
      const message = outcomeCommitMessage(e.path, prNumber, login, text, this.deps.clock.now(), this.reconciler.actions.runId);
      const sha = await gw.commits.recordCommit(branch, message);
      result.recorded.push({ path: e.path, sha });
      this.deps.log.info({ repo, grant: e.path, pr: prNumber, login, commit: sha }, "outcome recorded");
    }
    return result;
  }

  /**
   * A command acts once. GitHub may deliver its comment again (a redelivery, a retry, another
   * replica), so Timebox's answer to it carries `<!-- timebox:answered <comment id> -->` (sealed like
   * every marker), and a comment already answered is not acted on again. Called inside the
   * repository's exclusive section, as is `answer`.
   */
  async answered(gw: Gateway, prNumber: number, command: CommandComment): Promise<boolean> {
    return gw.issues.hasMarkedComment(prNumber, answeredMarker(command.id));
  }

  /** Posts Timebox's answer to the command, marked as answered. */
  async answer(gw: Gateway, prNumber: number, command: CommandComment, body: string): Promise<void> {
    await gw.issues.comment(prNumber, `${answeredMarker(command.id)}\n${body}`);
  }

  /**
   * Whether Timebox revoked a grant of the PR since the command was typed (its revoked comment,
   * created at or after the command, by GitHub's clock): that comment answers a `/timebox revoke`
   * that finds nothing left to revoke — the command's own revoke, delivered again, or the expiry that won the race.
   */
  async revokedSince(gw: Gateway, prNumber: number, command: CommandComment): Promise<boolean> {
    const since = Date.parse(command.createdAt);
    return (await gw.issues.ownComments(prNumber)).some(
      (c) => Date.parse(c.createdAt) >= since && c.markers.some((m) => m.startsWith("<!-- timebox:revoked-at ")),
    );
  }
}

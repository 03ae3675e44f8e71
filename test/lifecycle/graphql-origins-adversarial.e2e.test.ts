/**
 * The GraphQL cold start (src/github/graphql-origins.ts) against the REST path in the cases people
 * can shape: reviews by a bot, a dismissed approval, an approval on an older commit, a PR merged
 * into another branch whose content then reaches the default branch, one head opened as two PRs
 * (one into another branch, approved and merged first), and a `/timebox request` PR (authored by
 * this app's bot, which GraphQL names without `[bot]`). Both paths must reach the same decisions,
 * and those decisions must be the approval rule's (only the plain approval and the request apply).
 */
import { POLICY, grantYaml, startAccessRepo, type AccessRepo } from "../support/access-repo.js";
import { MemoryPool, MemoryProvider } from "../support/memory-provider.js";
import type { ReconcileReport } from "../../src/lifecycle/reconciler.js";
import { openIssue, pulls } from "../commands/request-support.js";

/** On-behalf allowed, no ticket; `renovate` (a person's login, as a policy can name) may approve readonly: its namesake app `renovate[bot]` may not. */
const POLICY_HERE = POLICY.replace("allow_on_behalf: false", "allow_on_behalf: true")
  .replace('ticket_pattern: "^(INC|CHG)-[0-9]+$"', "")
  .replace('approvers: ["@acme/sre", "sre1"]', 'approvers: ["@acme/sre", "sre1", "renovate"]');
const TARGET = { installationId: 1, owner: "acme", repo: "access" };
const grant = (name: string) => `grants/${name}.yaml`;

async function story(mode: "off" | "always"): Promise<{ report: ReconcileReport; graphqlCalls: number; held: string[] }> {
  const provider = new MemoryProvider();
  const ctx: AccessRepo = await startAccessRepo({ policy: POLICY_HERE, pool: new MemoryPool(provider), env: { TIMEBOX_GITHUB_GRAPHQL: mode } });
  const { gh, clock, probot } = ctx;
  const deliver = async (events: Parameters<typeof gh.deliver>[1]) => {
    await gh.deliver(probot, events);
    clock.advance(1000);
  };
  try {
    gh.createBot("renovate[bot]");
    gh.pushCommit({ branch: "release", from: "main", files: { "RELEASE.md": "release\n" }, author: "alice" });

    // The control: an eligible approval on the head.
    const control = gh.openPullRequest({ author: "dev1", branch: "control", files: { [grant("control")]: grantYaml({ reason: "control" }) } });
    await deliver(control);
    await deliver(gh.submitReview(control.number!, { reviewer: "sre1", state: "APPROVED" }));
    await deliver(gh.merge(control.number!, { by: "alice" }));

    // A /timebox request PR: the app's, judged as the commenter's through the app's own record.
    const issue = openIssue(gh, { author: "dev1", body: "access please" });
    await deliver(issue);
    await deliver(gh.comment(issue.number!, { author: "dev1", body: "/timebox request prod-db readonly 2h the request path" }));
    const requested = pulls(gh).find((p) => p.user === "timebox[bot]")!;
    await deliver(gh.submitReview(requested.number, { reviewer: "sre1", state: "APPROVED" }));
    await deliver(gh.merge(requested.number, { by: "alice" }));

    // A bot's approval never counts, even when a person of the same name may approve.
    const bot = gh.openPullRequest({ author: "dev1", branch: "bot", files: { [grant("bot")]: grantYaml({ reason: "bot" }) } });
    await deliver(bot);
    await deliver(gh.submitReview(bot.number!, { reviewer: "renovate[bot]", state: "APPROVED" }));
    await deliver(gh.merge(bot.number!, { by: "alice" }));

    // A dismissed approval no longer counts.
    const dismissed = gh.openPullRequest({ author: "dev1", branch: "dismissed", files: { [grant("dismissed")]: grantYaml({ reason: "dismissed" }) } });
    await deliver(dismissed);
    const approval = gh.submitReview(dismissed.number!, { reviewer: "sre1", state: "APPROVED" });
    await deliver(approval);
    await deliver(gh.dismissReview(dismissed.number!, approval.reviewId!, { by: "alice" }));
    await deliver(gh.merge(dismissed.number!, { by: "alice" }));

    // An approval of an older commit does not approve the content pushed after it.
    const stale = gh.openPullRequest({ author: "dev1", branch: "stale", files: { [grant("stale")]: grantYaml({ duration: "1h", reason: "stale" }) } });
    await deliver(stale);
    await deliver(gh.submitReview(stale.number!, { reviewer: "sre1", state: "APPROVED" }));
    await deliver(gh.pushToPullRequest(stale.number!, { pusher: "dev1", files: { [grant("stale")]: grantYaml({ duration: "8h", reason: "stale" }) } }));
    await deliver(gh.merge(stale.number!, { by: "alice" }));

    // Approved and merged into `release`; `release` then reaches main through an unapproved PR.
    const elsewhere = gh.openPullRequest({
      author: "dev1",
      branch: "elsewhere",
      base: "release",
      files: { [grant("elsewhere")]: grantYaml({ reason: "elsewhere" }) },
    });
    await deliver(elsewhere);
    await deliver(gh.submitReview(elsewhere.number!, { reviewer: "sre1", state: "APPROVED" }));
    await deliver(gh.merge(elsewhere.number!, { by: "alice" }));
    const release = gh.openPullRequest({ author: "dev2", branch: "release" });
    await deliver(release);
    await deliver(gh.merge(release.number!, { by: "alice" }));

    // One head, two PRs: approved into `release` and merged first; into main unapproved, merged later.
    const twice = gh.openPullRequest({ author: "dev1", branch: "twice", base: "release", files: { [grant("twice")]: grantYaml({ reason: "twice" }) } });
    await deliver(twice);
    await deliver(gh.submitReview(twice.number!, { reviewer: "sre1", state: "APPROVED" }));
    const intoMain = gh.openPullRequest({ author: "dev1", branch: "twice" });
    await deliver(intoMain);
    await deliver(gh.merge(twice.number!, { by: "alice" }));
    await deliver(gh.merge(intoMain.number!, { by: "alice" }));

    clock.advance(5 * 60_000);
    // A fresh process: the cold start reads every origin (through GraphQL when asked to).
    const fresh = await startAccessRepo({ gh, clock, pool: new MemoryPool(provider), policy: POLICY_HERE, env: { TIMEBOX_GITHUB_GRAPHQL: mode } });
    try {
      gh.resetRequests();
      const report = await fresh.runtime.reconcileRepo(TARGET);
      const graphqlCalls = gh.requests.filter((r) => r.route?.endsWith("/graphql") && r.status === 200).length;
      return { report, graphqlCalls, held: [...provider.held.values()].map((g) => g.id).sort() };
    } finally {
      await fresh.stop();
    }
  } finally {
    await ctx.stop();
  }
}

test("bots, dismissals, older commits, other bases, a head opened twice and a request PR: GraphQL decides as REST, and as the approval rule", async () => {
  const rest = await story("off");
  const graphql = await story("always");
  expect(rest.graphqlCalls).toBe(0);
  expect(graphql.graphqlCalls).toBeGreaterThan(0);
  const decisions = (r: ReconcileReport) => ({ active: r.active, unapproved: [...r.unapproved].sort(), failures: [...r.failures].sort() });
  expect(decisions(graphql.report)).toEqual(decisions(rest.report));
  expect(graphql.held).toEqual(rest.held);
  // The rule's answer, so an agreement on something else cannot pass.
  expect([...rest.report.unapproved].sort()).toEqual(["bot", "dismissed", "elsewhere", "stale", "twice"].map(grant).sort());
  expect(rest.held).toHaveLength(2);
  expect(rest.report.active).toBe(2);
}, 120_000);

/**
 * Ways access ends besides the plain expiry of one grant: a merged PR deleting the grant (early
 * revocation), a protected branch refusing Timebox's removal commit, and overlapping grants
 * (design §2 rules 6 and 7; issue 4, "Expiry and revocation").
 */
import { jest } from "@jest/globals";
import { grantYaml, startAccessRepo } from "../support/access-repo.js";
import { commentsWith, deliverOk, mergeApprovedGrant, postgresAccessPerTest, reconcile, timeboxCommits } from "../support/lifecycle-flow.js";
import type { PostgresAccess } from "../support/postgres-access.js";

jest.setTimeout(60_000);

const current = postgresAccessPerTest();
let env: PostgresAccess;
beforeEach(() => {
  env = current();
});

const HOUR = 3600_000;
const PATH = "grants/dev1-prod-db.yaml";

test("a merged PR that deletes an active grant revokes it at once, without a Timebox commit", async () => {
  const { gh, clock } = env;
  const granted = await mergeApprovedGrant(env, { path: PATH, content: grantYaml({ duration: "4h" }) });
  expect(await env.hasAccess()).toBe(true);

  clock.advance(HOUR);
  const removal = gh.openPullRequest({ author: "dev1", deletes: [PATH], title: "Done with prod-db" });
  await deliverOk(env, removal);
  const merge = gh.merge(removal.number!, { by: "dev1" });
  // Revoked by the merge's own reconcile (pull_request.closed), long before the 4h expiry.
  await deliverOk(env, merge, { only: ["pull_request"] });
  expect(await env.hasAccess()).toBe(false);
  await deliverOk(env, merge); // the push, and the merge event again
  expect(await env.hasAccess()).toBe(false);
  expect(await env.roleExists(env.grantRole(PATH))).toBe(false);
  const closing = commentsWith(env, granted.number, "timebox:revoked");
  expect(closing).toHaveLength(1);
  expect(closing[0].body).toMatch(/was removed from the default branch and was revoked at 2026-03-02T10:01:00Z/);
  // The file is already gone: no removal commit of Timebox's own, main is the merge.
  expect(gh.branchHead("main")).toBe(merge.sha);
  expect(timeboxCommits(env)).toEqual([]);

  // Later ticks, including past the original expiry, change nothing.
  clock.advance(4 * HOUR);
  await reconcile(env);
  expect(gh.branchHead("main")).toBe(merge.sha);
  expect(commentsWith(env, granted.number, "timebox:revoked")).toHaveLength(1);
  expect(await env.hasAccess()).toBe(false);
});

test("when branch protection refuses Timebox's commit, access is revoked anyway and the removal is proposed in one PR", async () => {
  const { gh, clock } = env;
  gh.protectBranch("main");
  const granted = await mergeApprovedGrant(env, { path: PATH, content: grantYaml() });
  expect(await env.hasAccess()).toBe(true);
  const mainBefore = gh.branchHead("main");

  clock.advance(2 * HOUR);
  const report = await reconcile(env);
  expect(report.revoked).toEqual([PATH]);
  expect(await env.hasAccess()).toBe(false);
  expect(gh.branchHead("main")).toBe(mainBefore);
  expect(gh.fileAt("main", PATH)).toBeDefined();

  const proposals = openRemovalPulls();
  expect(proposals).toHaveLength(1);
  const proposal = proposals[0];
  expect(proposal.user).toBe("timebox[bot]");
  expect(gh.fileAt(proposal.headSha, PATH)).toBeUndefined();
  const message = gh.commit(proposal.headSha)!.message;
  expect(message).toContain(`Timebox-Grant: ${PATH}`);
  expect(message).toContain("Revoke-Reason: expired");
  const closing = commentsWith(env, granted.number, "timebox:revoked");
  expect(closing).toHaveLength(1);
  expect(closing[0].body).toContain(`proposed in #${proposal.number}`);

  // Later ticks of this process, and a restarted app, do not propose it again.
  await reconcile(env);
  await env.pool.close();
  await env.pg.idle();
  const restarted = await startAccessRepo({ gh, clock, env: env.providerEnv, repo: env.fullName.split("/")[1] });
  try {
    await reconcile(restarted);
    await reconcile(restarted);
  } finally {
    await restarted.stop();
    await env.pg.idle();
  }
  expect(openRemovalPulls()).toHaveLength(1);
  expect(commentsWith(env, granted.number, "timebox:revoked")).toHaveLength(1);
  expect(await env.hasAccess()).toBe(false);

  // A maintainer merges the proposal: Git now records the removal; nothing is revoked or said twice.
  const merged = gh.merge(proposal.number, { by: "alice" });
  await deliverOk(env, merged);
  expect(gh.fileAt("main", PATH)).toBeUndefined();
  expect(timeboxCommits(env, PATH)).toHaveLength(1);
  expect(commentsWith(env, granted.number, "timebox:revoked")).toHaveLength(1);
  expect(openRemovalPulls()).toHaveLength(0);
  expect(await env.hasAccess()).toBe(false);
});

test("overlapping grants of the same role: the shorter one's expiry leaves the access, the longer one's ends it", async () => {
  const { gh, clock } = env;
  const short = await mergeApprovedGrant(env, { path: "grants/dev1-short.yaml", content: grantYaml({ duration: "1h" }) });
  const long = await mergeApprovedGrant(env, { path: "grants/dev1-long.yaml", content: grantYaml({ duration: "3h" }) });
  expect(await env.hasAccess()).toBe(true);
  expect(commentsWith(env, short.number, "timebox:applied")).toHaveLength(1);
  expect(commentsWith(env, long.number, "timebox:applied")).toHaveLength(1);

  clock.advance(HOUR); // the short grant (merged a minute before the long one) has expired
  let report = await reconcile(env);
  expect(report.revoked).toEqual(["grants/dev1-short.yaml"]);
  expect(report.failures).toEqual([]);
  expect(report.active).toBe(1);
  expect(await env.hasAccess()).toBe(true);
  expect(await env.roleExists(env.grantRole("grants/dev1-short.yaml"))).toBe(false);
  expect(gh.fileAt("main", "grants/dev1-short.yaml")).toBeUndefined();
  expect(gh.fileAt("main", "grants/dev1-long.yaml")).toBeDefined();
  expect(commentsWith(env, short.number, "timebox:revoked")).toHaveLength(1);
  expect(commentsWith(env, long.number, "timebox:revoked")).toHaveLength(0);

  clock.advance(2 * HOUR);
  report = await reconcile(env);
  expect(report.revoked).toContain("grants/dev1-long.yaml");
  expect(report.failures).toEqual([]);
  expect(report.active).toBe(0);
  expect(await env.hasAccess()).toBe(false);
  expect(gh.fileAt("main", "grants/dev1-long.yaml")).toBeUndefined();
  expect(commentsWith(env, long.number, "timebox:revoked")).toHaveLength(1);
  expect(timeboxCommits(env, "grants/dev1-short.yaml")).toHaveLength(1);
  expect(timeboxCommits(env, "grants/dev1-long.yaml")).toHaveLength(1);
});

/** Open pull requests from Timebox's removal branches. */
function openRemovalPulls() {
  return [...env.gh.repo(env.fullName).repo.pulls.values()].filter((p) => p.state === "open" && p.headRef.startsWith("timebox/remove/"));
}

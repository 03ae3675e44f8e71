/**
 * A provider that fails: apply is retried with bounded backoff and then reported once; a revoke
 * that keeps failing is retried on every tick, reported as stuck, and the grant file stays until
 * the revoke succeeds (design §2 rules 6 and 9; issue 4, "Failures").
 */
import { jest } from "@jest/globals";
import { grantYaml } from "../support/access-repo.js";
import { FaultyPool, UNREACHABLE } from "../support/faulty-pool.js";
import { commentsWith, mergeApprovedGrant, postgresAccessPerTest, reconcile, timeboxCommits } from "../support/lifecycle-flow.js";
import type { PostgresAccess } from "../support/postgres-access.js";

jest.setTimeout(60_000);

// TIMEBOX_APPLY_RETRY_DELAYS_MS is "0,0" in the test app: three attempts, no waiting.
const current = postgresAccessPerTest({ pool: (providerEnv) => new FaultyPool(providerEnv) });
let env: PostgresAccess;
let pool: FaultyPool;
beforeEach(() => {
  env = current();
  pool = env.pool as FaultyPool;
});

const HOUR = 3600_000;
const PATH = "grants/dev1-prod-db.yaml";

test("a provider that fails twice then works: applied on merge, one applied comment, no failure comment", async () => {
  const { gh } = env;
  pool.failures.grant = 2;
  const granted = await mergeApprovedGrant(env, { path: PATH, content: grantYaml() });

  expect(await env.hasAccess()).toBe(true);
  expect(pool.calls.grant).toBe(3);
  expect(commentsWith(env, granted.number, "timebox:applied")).toHaveLength(1);
  expect(commentsWith(env, granted.number, "timebox:apply-failed")).toHaveLength(0);
  expect(gh.checkRuns(granted.mergeSha, "timebox/apply").at(-1)?.conclusion).toBe("success");
});

test("a provider that stays down: one failure comment and a failed check run; applied once it recovers", async () => {
  const { gh, clock } = env;
  pool.failures.grant = Infinity;
  const granted = await mergeApprovedGrant(env, { path: PATH, content: grantYaml() });

  expect(await env.hasAccess()).toBe(false);
  expect(pool.calls.grant).toBeGreaterThanOrEqual(3);
  expect(commentsWith(env, granted.number, "timebox:applied")).toHaveLength(0);
  const failed = commentsWith(env, granted.number, "timebox:apply-failed");
  expect(failed).toHaveLength(1);
  expect(failed[0].body).toContain(UNREACHABLE);
  expect(failed[0].body).not.toContain(env.pg.url);
  const check = gh.checkRuns(granted.mergeSha, "timebox/apply").at(-1)!;
  expect(check.status).toBe("completed");
  expect(check.conclusion).toBe("failure");
  expect(check.output.summary).toContain(UNREACHABLE);

  // Every reconcile retries; none repeats the comment.
  clock.advance(60_000);
  let report = await reconcile(env);
  expect(report.failures).toEqual([PATH]);
  await reconcile(env);
  expect(commentsWith(env, granted.number, "timebox:apply-failed")).toHaveLength(1);
  expect(gh.checkRuns(granted.mergeSha, "timebox/apply").at(-1)!.conclusion).toBe("failure");
  expect(await env.hasAccess()).toBe(false);

  // The database is back: the next reconcile applies it and says so once.
  pool.failures.grant = 0;
  clock.advance(60_000);
  report = await reconcile(env);
  expect(report.applied).toEqual([PATH]);
  expect(await env.hasAccess()).toBe(true);
  const applied = commentsWith(env, granted.number, "timebox:applied");
  expect(applied).toHaveLength(1);
  // The expiry still counts from the merge, not from the late apply.
  expect(applied[0].body).toContain("Expires at:** 2026-03-02T11:01:00Z (in 1h58m)");
  expect(gh.checkRuns(granted.mergeSha, "timebox/apply").at(-1)!.conclusion).toBe("success");
  await reconcile(env);
  expect(commentsWith(env, granted.number, "timebox:applied")).toHaveLength(1);
  expect(commentsWith(env, granted.number, "timebox:apply-failed")).toHaveLength(1);
});

test("a revoke that keeps failing: the file stays, one timebox:stuck-revoke issue is kept up to date, and it completes once the provider works", async () => {
  const { gh, clock } = env;
  const granted = await mergeApprovedGrant(env, { path: PATH, content: grantYaml() });
  expect(await env.hasAccess()).toBe(true);
  const mainBefore = gh.branchHead("main");

  pool.failures.revoke = Infinity;
  clock.advance(2 * HOUR);
  for (let tick = 1; tick <= 2; tick++) {
    const report = await reconcile(env);
    expect(report.failures).toEqual([PATH]);
    clock.advance(60_000);
  }
  // Not yet reported as stuck (the threshold is 3 failures), and never recorded as revoked.
  expect(gh.issues({ labels: ["timebox:stuck-revoke"] })).toHaveLength(0);
  expect(gh.branchHead("main")).toBe(mainBefore);
  expect(gh.fileAt("main", PATH)).toBeDefined();
  expect(commentsWith(env, granted.number, "timebox:revoked")).toHaveLength(0);

  await reconcile(env);
  let stuck = gh.issues({ labels: ["timebox:stuck-revoke"] });
  expect(stuck).toHaveLength(1);
  expect(stuck[0].state).toBe("open");
  expect(stuck[0].title).toContain(PATH);
  expect(stuck[0].body).toContain(UNREACHABLE);
  expect(stuck[0].body).toContain(`PR #${granted.number}`);
  expect(stuck[0].body).not.toContain(env.pg.url);
  const firstBody = stuck[0].body;

  // More failing ticks update that issue; they never open a second one nor drop the revoke.
  clock.advance(60_000);
  await reconcile(env);
  clock.advance(60_000);
  await reconcile(env);
  stuck = gh.issues({ labels: ["timebox:stuck-revoke"] });
  expect(stuck).toHaveLength(1);
  expect(stuck[0].body).not.toBe(firstBody);
  expect(pool.calls.revoke).toBeGreaterThanOrEqual(5);
  expect(gh.fileAt("main", PATH)).toBeDefined();
  expect(gh.branchHead("main")).toBe(mainBefore);
  expect(timeboxCommits(env)).toEqual([]);
  expect(commentsWith(env, granted.number, "timebox:revoked")).toHaveLength(0);

  // The provider recovers: revoke, then the removal commit, then the closing comment.
  pool.failures.revoke = 0;
  clock.advance(60_000);
  const report = await reconcile(env);
  expect(report.revoked).toEqual([PATH]);
  expect(report.failures).toEqual([]);
  expect(await env.hasAccess()).toBe(false);
  expect(gh.fileAt("main", PATH)).toBeUndefined();
  const removal = gh.commit(gh.branchHead("main")!)!;
  expect(removal.message).toContain(`Timebox-Grant: ${PATH}`);
  expect(removal.message).toContain("Expires-at: 2026-03-02T11:01:00Z");
  expect(removal.message).toContain("Revoked-at: 2026-03-02T11:06:00Z");
  expect(removal.message).toContain("Revoke-Reason: expired");
  expect(commentsWith(env, granted.number, "timebox:revoked")).toHaveLength(1);
  expect(gh.issues({ labels: ["timebox:stuck-revoke"] })).toHaveLength(1);
});

/**
 * Crash safety (design rule 6): an app instance dies right after a step of apply or of revoke;
 * a fresh instance (same emulated GitHub, same PostgreSQL, nothing carried over in memory)
 * reconciles and converges: access applied once, revoked after expiry with nothing left behind,
 * the grant file removed by exactly one Timebox commit, one applied and one revoked comment.
 *
 * A crash is the instance's death: from that moment GitHub answers it 503 only (see `Death`),
 * so nothing it would still do after the step reaches GitHub, and its database connections are
 * closed before the next instance starts.
 */
import { jest } from "@jest/globals";
import type { AccessRepo } from "../support/access-repo.js";
import { Death, SimulatedCrash, WrappingPool, interceptProvider, requests, type ProviderHooks } from "../support/faults.js";
import { markedComments, mergeApprovedGrant, removalCommits, startPostgresStage, type PostgresStage } from "../support/lifecycle-stage.js";

jest.setTimeout(60_000);

const HOUR = 3600_000;
const PATH = "grants/dev1-prod-db.yaml";

type Hooks = ProviderHooks;

let stage: PostgresStage;
let death: Death;
/** Provider hooks of the first instance, set per test. */
let hooks: Hooks;

beforeEach(async () => {
  hooks = {};
  stage = await startPostgresStage({ firstPool: (env) => new WrappingPool(env, (inner) => interceptProvider(inner, hooksProxy)) });
  death = new Death(stage.gh);
});
afterEach(async () => {
  death.dispose();
  expect(stage.gh.unknownRequests()).toEqual([]);
  await stage.stop();
});

const gh = () => stage.gh;

/** Forwards to whatever `hooks` is at call time. */
const hooksProxy: Hooks = {
  before: (op) => death.gate(op),
  beforeGrant: () => hooks.beforeGrant?.(),
  afterGrant: () => hooks.afterGrant?.(),
  beforeRevoke: () => hooks.beforeRevoke?.(),
  afterRevoke: () => hooks.afterRevoke?.(),
};

/** The crashed instance is gone: GitHub answers again, its connections are closed, a fresh instance starts. */
async function replaceCrashed(): Promise<AccessRepo> {
  expect(death.isDead).toBe(true);
  death.revive();
  hooks = {};
  await stage.release(stage.first);
  return stage.startInstance();
}

/** After expiry, with `instance` doing the work: no access, one removal commit, one of each comment. */
async function expectConvergedAfterExpiry(instance: AccessRepo, pr: number): Promise<void> {
  const { gh } = stage;
  stage.first.clock.advance(2 * HOUR + 60_000);
  await instance.runtime.reconcileAll();
  await expectRevoked(pr);

  // Later ticks change nothing.
  const head = gh.branchHead("main");
  const comments = gh.comments(pr).length;
  await instance.runtime.reconcileAll();
  expect(gh.branchHead("main")).toBe(head);
  expect(gh.comments(pr)).toHaveLength(comments);
}

async function expectRevoked(pr: number): Promise<void> {
  const { gh } = stage;
  expect(await stage.hasAccess()).toBe(false);
  expect(
    await stage.pg.admin("SELECT 1 FROM pg_roles WHERE rolname LIKE 'timebox\\_%' AND pg_has_role(rolname, $1, 'MEMBER')", [stage.target]).then((r) => r.rows),
  ).toEqual([]);
  expect(gh.fileAt("main", PATH)).toBeUndefined();
  const removals = removalCommits(gh, PATH);
  expect(removals).toHaveLength(1);
  expect(removals[0].message).toContain("Revoke-Reason: expired");
  expect(markedComments(gh, pr, "applied")).toHaveLength(1);
  expect(markedComments(gh, pr, "revoked")).toHaveLength(1);
  expect(markedComments(gh, pr, "apply-failed")).toHaveLength(0);
  expect(markedComments(gh, pr, "revoked")[0].body).toContain("expired");
}

describe("a crash during apply; a fresh instance applies once, then revokes at expiry", () => {
  /** [step, arm the crash, what must be true when the instance has died] */
  const applyCrashes: Array<[string, () => void, (mergeSha: string, pr: number) => Promise<void>]> = [
    [
      // A provider that records prior access writes the record before it is touched; PostgreSQL
      // (per-grant roles, no prior access to record) may write it only once applied.
      "after the first apply-record write",
      () => death.killAfter(requests.applyRecordWrite),
      async (mergeSha) => {
        const record = gh().checkRuns(mergeSha, "timebox/apply").at(-1);
        expect(record).toBeDefined();
        if (record!.output.text?.includes('"state":"granting"')) expect(await stage.hasAccess()).toBe(false);
      },
    ],
    [
      "after the provider granted",
      () => (hooks = { afterGrant: death.crashHere("after grant") }),
      async (_, pr) => {
        expect(await stage.hasAccess()).toBe(true);
        expect(markedComments(gh(), pr, "applied")).toHaveLength(0);
      },
    ],
    [
      "before the applied comment",
      () => death.killAt(requests.comment("timebox:applied")),
      async (_, pr) => {
        expect(await stage.hasAccess()).toBe(true);
        expect(markedComments(gh(), pr, "applied")).toHaveLength(0);
      },
    ],
    [
      "after the applied comment (before the record says applied)",
      () => death.killAfter(requests.comment("timebox:applied")),
      async (mergeSha, pr) => {
        expect(markedComments(gh(), pr, "applied")).toHaveLength(1);
        expect(gh().checkRuns(mergeSha, "timebox/apply").at(-1)?.conclusion ?? null).not.toBe("success");
      },
    ],
  ];

  test.each(applyCrashes)("crash %s", async (_, arm, atCrash) => {
    const { gh } = stage;
    arm();
    const { number, mergeSha, deliveries } = await mergeApprovedGrant(gh, stage.first.probot);
    expect(death.isDead).toBe(true);
    expect(deliveries.some((d) => d.status === 500)).toBe(true);
    await atCrash(mergeSha, number);

    const fresh = await replaceCrashed();
    await fresh.runtime.reconcileAll();
    expect(await stage.hasAccess()).toBe(true);
    expect(markedComments(gh, number, "applied")).toHaveLength(1);
    expect(markedComments(gh, number, "apply-failed")).toHaveLength(0);
    expect(gh.checkRuns(mergeSha, "timebox/apply").at(-1)!.conclusion).toBe("success");

    await expectConvergedAfterExpiry(fresh, number);
  });
});

describe("a crash during revoke; a fresh instance finishes it", () => {
  /** [step, arm the crash, what must be true when the instance has died] */
  const revokeCrashes: Array<[string, () => void, (pr: number) => Promise<void>]> = [
    [
      "after the provider revoked",
      () => (hooks = { afterRevoke: death.crashHere("after revoke") }),
      async () => {
        expect(await stage.hasAccess()).toBe(false);
        expect(gh().fileAt("main", PATH)).toBeDefined();
      },
    ],
    [
      "after the removal commit was created (before the branch moved)",
      () => death.killAfter(requests.createCommit),
      async () => {
        expect(await stage.hasAccess()).toBe(false);
        expect(gh().fileAt("main", PATH)).toBeDefined();
      },
    ],
    [
      "after the removal commit (the branch moved)",
      () => death.killAfter(requests.updateBranch),
      async (pr) => {
        expect(gh().fileAt("main", PATH)).toBeUndefined();
        expect(markedComments(gh(), pr, "revoked")).toHaveLength(0);
      },
    ],
    [
      "before the revoked comment",
      () => death.killAt(requests.comment("timebox:revoked")),
      async (pr) => {
        expect(gh().fileAt("main", PATH)).toBeUndefined();
        expect(markedComments(gh(), pr, "revoked")).toHaveLength(0);
      },
    ],
  ];

  test.each(revokeCrashes)("crash %s", async (_, arm, atCrash) => {
    const { gh } = stage;
    const { number } = await mergeApprovedGrant(gh, stage.first.probot);
    expect(await stage.hasAccess()).toBe(true);
    expect(markedComments(gh, number, "applied")).toHaveLength(1);

    stage.first.clock.advance(2 * HOUR + 60_000);
    arm();
    await stage.first.runtime.reconcileAll();
    expect(death.isDead).toBe(true);
    await atCrash(number);

    const fresh = await replaceCrashed();
    await fresh.runtime.reconcileAll();
    await expectRevoked(number);
    const head = gh.branchHead("main");
    await fresh.runtime.reconcileAll();
    expect(gh.branchHead("main")).toBe(head);
    expect(markedComments(gh, number, "revoked")).toHaveLength(1);
  });
});

test("the crash hook is a crash, not a provider error: the dying instance reports nothing on the PR", async () => {
  const { gh } = stage;
  hooks = { afterGrant: death.crashHere("after grant") };
  const { number, deliveries } = await mergeApprovedGrant(gh, stage.first.probot);
  expect(deliveries.find((d) => d.status === 500)).toBeDefined();
  expect(markedComments(gh, number, "applied")).toHaveLength(0);
  expect(markedComments(gh, number, "apply-failed")).toHaveLength(0);
  // The provider did grant before the crash: the access exists with no comment yet.
  expect(await stage.hasAccess()).toBe(true);
  expect(new SimulatedCrash("x")).not.toHaveProperty("retryable");
});

/**
 * Two app instances (replicas behind one webhook URL, or an old and a new pod during a deploy)
 * reconcile the same repository at the same moment. The per-repository queue serialises only
 * inside one process, so across instances the compare-and-swap on the branch ref and idempotent
 * providers are what keep it right: exactly one removal commit per grant, access gone, the
 * provider consistent, and one revoked comment per PR.
 */
import { jest } from "@jest/globals";
import type { AccessRepo } from "../support/access-repo.js";
import { markedComments, mergeApprovedGrant, removalCommits, startPostgresStage, type PostgresStage, type Requester } from "../support/lifecycle-stage.js";
import { testPostgresMode } from "../providers/postgres-server.js";
import { lockstep, requests } from "../support/faults.js";

jest.setTimeout(90_000);

const HOUR = 3600_000;

let stage: PostgresStage;
let a: AccessRepo;
let b: AccessRepo;

beforeEach(async () => {
  stage = await startPostgresStage();
  a = stage.first;
  // PGlite serves one connection at a time, so there the replicas share one provider pool (its
  // calls queue on the single connection); on a real server each replica has its own.
  b = await stage.startInstance(testPostgresMode() === "pglite" ? { pool: a.pool } : {});
});
afterEach(async () => {
  expect(stage.gh.unknownRequests()).toEqual([]);
  await stage.stop();
});

/** Timebox's per-grant roles still granting the target. */
async function managedRoles(): Promise<string[]> {
  const { rows } = await stage.pg.admin<{ r: string }>(
    "SELECT r.rolname AS r FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles t ON t.oid = m.roleid WHERE t.rolname = $1 AND r.rolname LIKE 'timebox\\_%' ORDER BY 1",
    [stage.target],
  );
  return rows.map((x) => x.r);
}

test("both replicas reconcile after expiry at once: one removal commit and one revoked comment per grant, access gone", async () => {
  const { gh } = stage;
  // Three grants that expire together (merged through either replica), and one that lives on.
  const expiring: Array<{ who: Requester; via: AccessRepo }> = [
    { who: "dev1", via: a },
    { who: "dev2", via: b },
    { who: "dev3", via: a },
  ];
  const merged: Array<{ who: Requester } & Awaited<ReturnType<typeof mergeApprovedGrant>>> = [];
  for (const { who, via } of expiring) merged.push({ who, ...(await mergeApprovedGrant(gh, via.probot, { requester: who, advanceMs: 0 })) });
  const lasting = await mergeApprovedGrant(gh, b.probot, { requester: "dev1", path: "grants/dev1-long.yaml", fields: { duration: "6h" }, advanceMs: 0 });
  for (const m of [...merged, lasting]) {
    expect(m.deliveries.every((d) => d.status === 200)).toBe(true);
    expect(markedComments(gh, m.number, "applied")).toHaveLength(1);
  }
  for (const who of ["dev1", "dev2", "dev3"] as const) expect(await stage.hasAccess(who)).toBe(true);
  expect(await managedRoles()).toHaveLength(4);

  stage.first.clock.advance(2 * HOUR + 60_000);
  const [ra, rb] = await Promise.all([a.runtime.reconcileAll(), b.runtime.reconcileAll()]);
  expect(ra).toHaveLength(1);
  expect(rb).toHaveLength(1);
  // Nobody reports a failure: losing the race is not an error.
  expect([...ra[0].failures, ...rb[0].failures]).toEqual([]);

  const check = async () => {
    for (const m of merged) {
      expect(gh.fileAt("main", m.path)).toBeUndefined();
      expect(removalCommits(gh, m.path)).toHaveLength(1);
      expect(markedComments(gh, m.number, "applied")).toHaveLength(1);
      expect(markedComments(gh, m.number, "revoked")).toHaveLength(1);
    }
    expect(
      gh
        .repo()
        .log("main")
        .filter((c) => c.message.startsWith("Revoke")),
    ).toHaveLength(merged.length);
    expect(await stage.hasAccess("dev2")).toBe(false);
    expect(await stage.hasAccess("dev3")).toBe(false);
    // dev1 keeps the access of the grant that is still live, and only that grant's role remains.
    expect(await stage.hasAccess("dev1")).toBe(true);
    expect(gh.fileAt("main", lasting.path)).toBeDefined();
    expect(markedComments(gh, lasting.number, "revoked")).toHaveLength(0);
    expect(await managedRoles()).toHaveLength(1);
  };
  await check();

  // Both replicas tick again, at once and then one after the other: nothing changes.
  const head = gh.branchHead("main");
  await Promise.all([a.runtime.reconcileAll(), b.runtime.reconcileAll()]);
  await a.runtime.reconcileAll();
  await b.runtime.reconcileAll();
  expect(gh.branchHead("main")).toBe(head);
  await check();

  // The lasting grant expires later, again under both replicas at once.
  stage.first.clock.advance(4 * HOUR);
  await Promise.all([b.runtime.reconcileAll(), a.runtime.reconcileAll()]);
  expect(removalCommits(gh, lasting.path)).toHaveLength(1);
  expect(markedComments(gh, lasting.number, "revoked")).toHaveLength(1);
  expect(await stage.hasAccess("dev1")).toBe(false);
  expect(await managedRoles()).toEqual([]);
});

test("replicas racing many times: whichever wins each compare-and-swap, each grant is removed once", async () => {
  const { gh } = stage;
  for (let round = 0; round < 3; round++) {
    const grants = [];
    for (const who of ["dev1", "dev2", "dev3"] as const) {
      grants.push(
        await mergeApprovedGrant(gh, (round + grants.length) % 2 ? a.probot : b.probot, {
          requester: who,
          path: `grants/${who}-round${round}.yaml`,
          advanceMs: 0,
        }),
      );
    }
    stage.first.clock.advance(2 * HOUR + 60_000);
    // The replica that goes first alternates between rounds.
    await Promise.all(round % 2 ? [a.runtime.reconcileAll(), b.runtime.reconcileAll()] : [b.runtime.reconcileAll(), a.runtime.reconcileAll()]);
    for (const g of grants) {
      expect(removalCommits(gh, g.path)).toHaveLength(1);
      expect(markedComments(gh, g.number, "revoked")).toHaveLength(1);
    }
    for (const who of ["dev1", "dev2", "dev3"] as const) expect(await stage.hasAccess(who)).toBe(false);
    expect(await managedRoles()).toEqual([]);
  }
  expect(
    gh
      .repo()
      .log("main")
      .filter((c) => c.message.startsWith("Revoke")),
  ).toHaveLength(9);
});

test("replicas in lockstep: each names itself in its removal commit, so one compare-and-swap wins; one commit and one comment", async () => {
  // Two replicas woken by the same cron second would build byte-identical commits (same tree,
  // parent, message, author and second) and both fast-forwards would succeed; the Timebox-Run
  // trailer makes them differ. Forced here by holding each step until both replicas reach it.
  const { gh } = stage;
  const { number, path } = await mergeApprovedGrant(gh, a.probot);
  stage.first.clock.advance(2 * HOUR + 60_000);
  const atCommit = lockstep(gh, requests.createCommit);
  const atCommentCheck = lockstep(gh, requests.listComments);
  try {
    await Promise.all([a.runtime.reconcileAll(), b.runtime.reconcileAll()]);
  } finally {
    atCommit.remove();
    atCommentCheck.remove();
  }
  expect(atCommit.groups).toBe(1);
  const updates = gh.requestsMatching({ method: "PATCH", route: "/repos/{owner}/{repo}/git/refs/{ref}" });
  // Same second, same tree, same parent: only the Timebox-Run trailer tells the two commits apart.
  expect(updates.map((u) => u.status).sort()).toEqual([200, 422]);
  expect(new Set(updates.map((u) => (u.body as { sha: string }).sha)).size).toBe(2);
  expect(removalCommits(gh, path)).toHaveLength(1);
  expect(await stage.hasAccess()).toBe(false);
  expect(markedComments(gh, number, "revoked")).toHaveLength(1);
});

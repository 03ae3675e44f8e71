/**
 * Three replicas of the built app (separate processes, `npm start`'s command) behind one webhook
 * URL, sharing the Redis on this machine (REDIS_URL), against one emulated GitHub and a real
 * PostgreSQL. They cost about what one replica costs, revoke each grant once (one removal commit,
 * one comment), and a replica killed at the worst moment delays nothing for long: another runs
 * its lease's reconcile or its due timer. Without Redis (or with embedded PGlite instead of a
 * PostgreSQL server) `npm test` skips these with the reason; with TIMEBOX_REQUIRE_REDIS=1 (CI) they fail.
 */
import { jest } from "@jest/globals";
import { allRevoked, leaseHolder, marked, mergeGrants, removals, startCluster, redisUnavailable, type Cluster } from "./cluster.js";
import { measureReplicas } from "./scenario.js";
import { until } from "../support/app-process.js";
import { testPostgresMode } from "../providers/postgres-server.js";

jest.setTimeout(900_000);

const unavailable =
  (await redisUnavailable()) ??
  (testPostgresMode() === "pglite"
    ? "three replicas need a PostgreSQL server (embedded PGlite serves one connection); set TIMEBOX_TEST_POSTGRES_URL"
    : undefined);
if (unavailable && process.env.TIMEBOX_REQUIRE_REDIS) throw new Error(`TIMEBOX_REQUIRE_REDIS is set but ${unavailable}`);
if (unavailable) console.log(`Skipping the replica tests: ${unavailable}`);
const withRedis = unavailable ? test.skip : test;

/** How far past its ratio to one replica three replicas may go. */
const AT_MOST = 1.2;

let clusters: Cluster[] = [];
afterEach(async () => {
  for (const c of clusters) {
    expect(c.gh.unknownRequests()).toEqual([]);
    expect(c.output()).not.toContain("redis://");
    await c.stop();
  }
  clusters = [];
});

withRedis("three replicas on Redis cost about one replica's API calls, idle and over a burst of expiries; each grant revoked once, one comment", async () => {
  const one = await measureReplicas(1);
  clusters.push(one.cluster);
  const three = await measureReplicas(3, 11);
  clusters.push(three.cluster);
  console.log(
    `API calls, 1 replica vs 3 on Redis: idle ${one.figures.idleCalls} vs ${three.figures.idleCalls}, burst ${one.figures.burstCalls} vs ${three.figures.burstCalls}; lead lost ${three.figures.leadLost} time(s)`,
  );

  expect(three.figures.idleCalls).toBeLessThanOrEqual(one.figures.idleCalls * AT_MOST);
  expect(three.figures.burstCalls).toBeLessThanOrEqual(one.figures.burstCalls * AT_MOST);
  for (const { cluster, grants } of [one, three]) {
    for (const g of grants) {
      expect(removals(cluster, g.path)).toHaveLength(1);
      expect(marked(cluster, g.number, "revoked")).toHaveLength(1);
    }
    expect(await cluster.hasAccess()).toBe(false);
  }
});

/** A cluster that reconciles only on webhooks, timers and start-up: the backstop tick never comes during the test. */
const noTick = { TIMEBOX_RECONCILE_CRON: "0 0 1 1 *", TIMEBOX_LEASE_TTL_MS: "2000" };

withRedis("the replica holding the repository's lease is killed mid-reconcile: another revokes the grant, once", async () => {
  const c = await startCluster({ replicas: 3, redisDb: 12, env: noTick });
  clusters.push(c);
  const [grant] = await mergeGrants(c, 1, "8s");
  const killed: number[] = [];
  // The holder has revoked at PostgreSQL and is about to commit the file's removal: it dies there.
  const remove = c.gh.onRequest(async (r) => {
    if (killed.length || r.method !== "POST" || r.route !== "/repos/{owner}/{repo}/git/commits") return undefined;
    const holder = await leaseHolder(c);
    if (holder === undefined || holder < 0) throw new Error("a removal commit without a lease holder");
    killed.push(holder);
    c.apps[holder].kill("SIGKILL");
    await c.apps[holder].exited;
    return { status: 503, message: "Service Unavailable" };
  });
  try {
    await allRevoked(c, [grant]);
  } finally {
    remove();
  }
  expect(killed).toHaveLength(1);
  expect(removals(c, grant.path)).toHaveLength(1);
  expect(marked(c, grant.number, "revoked")).toHaveLength(1);
  expect(await c.hasAccess()).toBe(false);
});

withRedis("the replica that armed the grant's timer dies just before it fires: a live replica revokes at expiry, once", async () => {
  const c = await startCluster({ replicas: 3, redisDb: 13, env: noTick });
  clusters.push(c);
  // Every webhook of the grant goes to replica 0: only it reconciled, so only it knows the expiry.
  const [grant] = await mergeGrants(c, 1, "10s", () => 0);
  await until("a second before the expiry", () => Date.now() >= grant.mergedAt + 9_000);
  c.apps[0].kill("SIGKILL");
  await c.apps[0].exited;
  await allRevoked(c, [grant], 30_000);
  expect(removals(c, grant.path)).toHaveLength(1);
  expect(marked(c, grant.number, "revoked")).toHaveLength(1);
  expect(await c.hasAccess()).toBe(false);
});

/**
 * A graceful shutdown across replicas (REDIS_URL, the Redis on this machine, database 10): the
 * leading replica gets SIGTERM in the middle of revoking a grant, holding the repository's lease.
 * It finishes the revocation (removal commit, comment), releases the repository's lease and the
 * lead, and exits 0 — the keys are gone as it exits, long before their TTL (60 s here) — and the
 * other replica takes the lead. Before SIGTERM was handled, both keys stayed until the TTL.
 * Without Redis (or with embedded PGlite instead of a PostgreSQL server) the test is skipped with
 * the reason; with TIMEBOX_REQUIRE_REDIS=1 (CI) it fails.
 */
import { afterEach, expect, jest, test } from "@jest/globals";
import { Redis } from "ioredis";
import { REDIS_BASE, marked, mergeGrants, redisUnavailable, removals, type Cluster } from "../replicas/cluster.js";
import { startLiveApp, until } from "../support/app-process.js";
import { testPostgresMode } from "../providers/postgres-server.js";

jest.setTimeout(300_000);

const unavailable =
  (await redisUnavailable()) ??
  (testPostgresMode() === "pglite"
    ? "two replicas need a PostgreSQL server (embedded PGlite serves one connection); set TIMEBOX_TEST_POSTGRES_URL"
    : undefined);
if (unavailable && process.env.TIMEBOX_REQUIRE_REDIS) throw new Error(`TIMEBOX_REQUIRE_REDIS is set but ${unavailable}`);
if (unavailable) console.log(`Skipping the Redis shutdown test: ${unavailable}`);
const withRedis = unavailable ? test.skip : test;

const DB = 10;
/** Long, so a key gone at exit was released, not lapsed. */
const TTL_MS = 60_000;

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** Deletes this app's keys only (other tests share the database). */
async function clear(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
}

/** Two replicas of the built app sharing Redis database `DB`; only the backstop tick never comes. */
async function startTwo(): Promise<Cluster> {
  const url = `${REDIS_BASE.replace(/\/\d*$/, "")}/${DB}`;
  const redis = new Redis(url);
  const live = await startLiveApp(
    "shutdown-redis",
    { REDIS_URL: url, TIMEBOX_RECONCILE_CRON: "0 0 1 1 *", TIMEBOX_LEASE_TTL_MS: String(TTL_MS), LOG_LEVEL: "info" },
    2,
  ).catch((error: unknown) => {
    redis.disconnect();
    throw error;
  });
  const prefix = `timebox:${live.gh.env().APP_ID}`;
  return {
    ...live,
    redis,
    prefix,
    stop: async () => {
      await live.stop();
      await clear(redis, prefix);
      redis.disconnect();
    },
  };
}

/** The replica whose pid is in a lease's token (`<host>:<pid>:<random>`), -1 for none of them. */
const holderOf = (c: Cluster, token: string | null | undefined) => (token ? c.apps.findIndex((a) => token.split(":").at(-2) === String(a.pid)) : -1);

withRedis(
  "SIGTERM to the leader mid-revocation: it finishes, releases the repository's lease and the lead at once, exits 0; the other replica leads",
  async () => {
    const c = (cluster = await startTwo());
    const leaderKey = `${c.prefix}:leader`;
    const leaseKey = `${c.prefix}:lease:acme/${c.repoName}`;
    const leader = await until("a leader", async () => {
      const i = holderOf(c, await c.redis!.get(leaderKey));
      return i >= 0 ? i : undefined;
    });
    const [grant] = await mergeGrants(c, 1, "8s");

    // The expiry's reconcile (the leader's timer): it has revoked at PostgreSQL and commits the file's
    // removal; the leader is told to stop there, and the commit goes through once it is shutting down.
    let signalled: number | undefined;
    const remove = c.gh.onRequest(async (r) => {
      if (signalled !== undefined || r.method !== "POST" || r.route !== "/repos/{owner}/{repo}/git/commits") return undefined;
      signalled = holderOf(c, await c.redis!.get(leaseKey));
      c.apps[signalled].kill("SIGTERM");
      await until("the replica to start shutting down", () => c.apps[signalled!].output().includes("shutting down"));
      return undefined;
    });
    let exit;
    try {
      exit = await until("the signalled replica to exit", async () => (signalled === undefined ? undefined : c.apps[signalled].exited), 120_000);
    } finally {
      remove();
    }
    // Read at once: a released key is gone (or already another's), a lapsed one would still be there for a minute.
    const [leaseAfter, leaderAfter] = await Promise.all([c.redis!.get(leaseKey), c.redis!.get(leaderKey)]);

    expect(signalled).toBe(leader);
    expect(holderOf(c, leaseAfter)).not.toBe(leader);
    expect(holderOf(c, leaderAfter)).not.toBe(leader);
    expect(exit).toEqual({ code: 0, signal: null });
    // The revocation it was in the middle of was completed, once.
    expect(removals(c, grant.path)).toHaveLength(1);
    expect(marked(c, grant.number, "revoked")).toHaveLength(1);
    expect(await c.hasAccess()).toBe(false);
    // The other replica takes the lead (it asks every third of the TTL).
    const other = 1 - leader;
    await until("the other replica to lead", async () => holderOf(c, await c.redis!.get(leaderKey)) === other, 120_000);
    expect(c.output()).not.toContain("redis://");
  },
);

/**
 * RedisCoordinator.stop against the real Redis on this machine (database 9, keys of its own
 * prefix): the lead is given back at once, work holding a repository's lease finishes and releases
 * it before the connections close — neither key is left to lapse after its TTL. Skips without
 * Redis (with the reason); TIMEBOX_REQUIRE_REDIS=1 (CI) fails instead.
 */
import { randomBytes } from "node:crypto";
import { afterAll, expect, test } from "@jest/globals";
import { Redis } from "ioredis";
import { RedisCoordinator } from "../../src/coordination/redis-coordinator.js";
import { TimeboxMetrics } from "../../src/metrics/index.js";
import { systemClock } from "../harness/clock.js";
import { REDIS_BASE, redisUnavailable } from "../replicas/cluster.js";
import { until } from "../support/app-process.js";

const unavailable = await redisUnavailable();
if (unavailable && process.env.TIMEBOX_REQUIRE_REDIS) throw new Error(`TIMEBOX_REQUIRE_REDIS is set but ${unavailable}`);
if (unavailable) console.log(`Skipping the coordinator stop test: ${unavailable}`);
const withRedis = unavailable ? test.skip : test;

const url = `${REDIS_BASE.replace(/\/\d*$/, "")}/9`;
/** A prefix of this run's own: the database is shared with other tests. */
const prefix = `timebox:stop-test-${randomBytes(4).toString("hex")}`;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const redis = unavailable ? undefined : new Redis(url);

afterAll(async () => {
  const keys = (await redis?.keys(`${prefix}:*`)) ?? [];
  if (keys.length) await redis!.del(...keys);
  redis?.disconnect();
});

withRedis("stop gives back the lead at once and lets leased work finish and release its lease before closing Redis", async () => {
  // A long TTL: a key gone by the end was released, not lapsed.
  const c = new RedisCoordinator({
    url,
    prefix,
    leaseTtlMs: 60_000,
    clock: systemClock,
    log: quiet,
    health: new TimeboxMetrics({ processMetrics: false }).coordination,
  });
  // The commands connection fails fast until connected: claim the lead once it is.
  await until("the lead", () => c.claimTick().then((led) => led && c.leads()));
  expect(await redis!.get(`${prefix}:leader`)).not.toBeNull();

  let finish!: () => void;
  const held = new Promise<void>((resolve) => (finish = resolve));
  let started = false;
  const work = c.exclusive("acme/access", "wait", async () => {
    started = true;
    await held;
    return "done";
  });
  await until("the work to hold the lease", () => started);
  expect(await redis!.get(`${prefix}:lease:acme/access`)).not.toBeNull();

  let stopped = false;
  const stopping = c.stop().then(() => (stopped = true));
  // The lead goes at once, while the work still runs and holds the repository.
  await until("the lead given back", async () => (await redis!.get(`${prefix}:leader`)) === null);
  expect(await redis!.get(`${prefix}:lease:acme/access`)).not.toBeNull();
  const stoppedBeforeTheWorkEnded = stopped;

  finish();
  await expect(work).resolves.toBe("done");
  await stopping;
  // Released by the work as it ended, Redis still open: not left to lapse.
  expect(await redis!.get(`${prefix}:lease:acme/access`)).toBeNull();
  expect(stoppedBeforeTheWorkEnded).toBe(false);
  expect(c.leads()).toBe(false);
  // Stopped: it claims no tick and does not take the lead again.
  expect(await c.claimTick()).toBe(false);
  expect(c.leads()).toBe(false);
  expect(await redis!.get(`${prefix}:leader`)).toBeNull();
});

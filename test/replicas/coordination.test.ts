/**
 * The Redis coordinator against the real Redis on this machine: one lease holder per repository,
 * one replica per backstop tick, and — with Redis unreachable — every step done by the replica
 * alone, with `timebox_coordination_up` at 0 and the failures counted. Skips without Redis (with
 * the reason); TIMEBOX_REQUIRE_REDIS=1 (CI) fails instead.
 */
import { createServer, type Server } from "node:net";
import { Redis } from "ioredis";
import { SKIPPED } from "../../src/coordination/coordinator.js";
import { RedisCoordinator } from "../../src/coordination/redis-coordinator.js";
import { TimeboxMetrics } from "../../src/metrics/index.js";
import { systemClock } from "../harness/clock.js";
import { REDIS_BASE, redisUnavailable } from "./cluster.js";

const unavailable = await redisUnavailable();
if (unavailable && process.env.TIMEBOX_REQUIRE_REDIS) throw new Error(`TIMEBOX_REQUIRE_REDIS is set but ${unavailable}`);
if (unavailable) console.log(`Skipping the Redis coordination tests: ${unavailable}`);
const withRedis = unavailable ? test.skip : test;

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const DB = 15;
const url = `${REDIS_BASE.replace(/\/\d*$/, "")}/${DB}`;
let made: RedisCoordinator[] = [];

function coordinator(at = url, metrics = new TimeboxMetrics({ processMetrics: false })) {
  const c = new RedisCoordinator({ url: at, prefix: "timebox:test", leaseTtlMs: 2_000, clock: systemClock, log: quiet, health: metrics.coordination });
  made.push(c);
  return c;
}

async function ready(): Promise<void> {
  // The commands connection fails fast until it is connected; wait for Redis to answer through a lease.
  const probe = new Redis(url);
  await probe.flushdb();
  probe.disconnect();
  await new Promise((r) => setTimeout(r, 300));
}

afterEach(async () => {
  for (const c of made) await c.stop();
  made = [];
});

withRedis("one replica at a time works on a repository; a tick skips it while held, a request waits its turn", async () => {
  const [a, b] = [coordinator(), coordinator()];
  await ready();
  const order: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const first = a.exclusive("acme/access", "wait", async () => {
    order.push("a starts");
    await held;
    order.push("a ends");
    return "a";
  });
  await new Promise((r) => setTimeout(r, 200));
  expect(await b.exclusive("acme/access", "skip", async () => "b-tick")).toBe(SKIPPED);
  // Another repository is not held up.
  expect(await b.exclusive("acme/other", "skip", async () => "other")).toBe("other");
  const waiting = b.exclusive("acme/access", "wait", async () => {
    order.push("b runs");
    return "b";
  });
  await new Promise((r) => setTimeout(r, 500));
  release();
  expect(await Promise.all([first, waiting])).toEqual(["a", "b"]);
  expect(order).toEqual(["a starts", "a ends", "b runs"]);
});

withRedis(
  "one replica leads the backstop ticks while it lives; another takes over when it stops; a reconcile done since a due time is seen by all",
  async () => {
    const [a, b, c] = [coordinator(), coordinator(), coordinator()];
    await ready();
    const claims = await Promise.all([a.claimTick(), b.claimTick(), c.claimTick()]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const leader = [a, b, c][claims.indexOf(true)];
    const followers = [a, b, c].filter((x) => x !== leader);
    expect(await leader.claimTick()).toBe(true);
    expect(await Promise.all(followers.map((x) => x.claimTick()))).toEqual([false, false]);
    await leader.stop();
    made = made.filter((x) => x !== leader);
    const next = await Promise.all(followers.map((x) => x.claimTick()));
    expect(next.filter(Boolean)).toHaveLength(1);

    const due = new Date("2026-01-01T00:05:00Z");
    const [x, y] = followers;
    expect(await y.reconciledSince("acme/access", due)).toBe(false);
    await x.reconciled("acme/access", new Date("2026-01-01T00:04:59Z"));
    expect(await y.reconciledSince("acme/access", due)).toBe(false);
    await x.reconciled("acme/access", new Date("2026-01-01T00:05:01Z"));
    // An older reconcile finishing later does not move the mark back.
    await y.reconciled("acme/access", new Date("2026-01-01T00:04:00Z"));
    expect(await y.reconciledSince("acme/access", due)).toBe(true);
  },
);

withRedis(
  "a lease someone keeps and never releases (a hung replica, or a write to Redis) holds a repository up only for a bounded wait, then the work runs here",
  async () => {
    const metrics = new TimeboxMetrics({ processMetrics: false });
    const c = new RedisCoordinator({ url, prefix: "timebox:test", leaseTtlMs: 200, clock: systemClock, log: quiet, health: metrics.coordination });
    made.push(c);
    await ready();
    const squatter = new Redis(url);
    try {
      await squatter.set("timebox:test:lease:acme/access", "someone-else", "PX", 600_000);
      expect(await c.exclusive("acme/access", "wait", async () => "ran")).toBe("ran");
      expect(await metrics.registry.metrics()).toMatch(/^timebox_coordination_errors_total\{op="lease"\} [1-9]/m);
    } finally {
      squatter.disconnect();
    }
  },
  30_000,
);

test("Redis unreachable: the work is done here (lease, tick, timer), and the metrics say so", async () => {
  // A port that accepts and closes connections: nothing there speaks Redis.
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  try {
    const metrics = new TimeboxMetrics({ processMetrics: false });
    const c = coordinator(`redis://:hunter2@127.0.0.1:${port}`, metrics);
    expect(await c.exclusive("acme/access", "skip", async () => "ran")).toBe("ran");
    expect(await c.exclusive("acme/access", "wait", async () => "ran")).toBe("ran");
    expect(await c.claimTick()).toBe(true);
    expect(await c.reconciledSince("acme/access", new Date(0))).toBe(false);
    expect(await c.schedule({ installationId: 1, owner: "acme", repo: "access" }, new Date(Date.now() + 60_000))).toBe(false);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^timebox_coordination_up 0$/m);
    for (const op of ["lease", "tick", "mark", "timer"]) expect(text).toMatch(new RegExp(`^timebox_coordination_errors_total\\{op="${op}"\\} [1-9]`, "m"));
    expect(text).not.toContain("hunter2");
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test("without REDIS_URL there are no coordination series (absent, not a 0 that reads as Redis down)", async () => {
  const metrics = new TimeboxMetrics({ processMetrics: false });
  expect(await metrics.registry.metrics()).not.toContain("timebox_coordination");
});

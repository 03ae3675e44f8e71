/**
 * The graceful shutdown's sequence with fakes (no signals, no timers): timed work stops before
 * anything is waited for, work under way before notifications, the deadline is honoured and what
 * it left pending is reported; the signal handler runs the shutdown once and a second signal exits.
 */
import { EventEmitter } from "node:events";
import { expect, test } from "@jest/globals";
import { onShutdownSignals, shutDown, type ShutdownDeps } from "../../src/lifecycle/shutdown.js";
import { loadConfig } from "../../src/config/env.js";
import { KeyedQueue } from "../../src/util/keyed-queue.js";

/** A promise resolved from outside. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

interface Fakes {
  deps: ShutdownDeps;
  order: string[];
  logs: Array<{ level: string; obj: object; msg: string }>;
  /** Ends the deadline (as the timer would). */
  expire: () => void;
  /** The deadlines asked for, in ms. */
  deadlines: number[];
}

function fakes(overrides: Partial<ShutdownDeps> = {}): Fakes {
  const order: string[] = [];
  const logs: Fakes["logs"] = [];
  const deadlines: number[] = [];
  const expiries: Array<() => void> = [];
  const log = {
    info: (obj: object, msg: string) => logs.push({ level: "info", obj, msg }),
    warn: (obj: object, msg: string) => logs.push({ level: "warn", obj, msg }),
    error: (obj: object, msg: string) => logs.push({ level: "error", obj, msg }),
  };
  const deps: ShutdownDeps = {
    lifecycle: {
      stop: async () => {
        order.push("lifecycle.stop");
      },
    },
    queue: {
      idle: async () => {
        order.push("queue.idle");
      },
      pending: () => [],
    },
    notifier: {
      idle: async () => {
        order.push("notifier.idle");
      },
    },
    pool: {
      close: async () => {
        order.push("pool.close");
      },
    },
    deadlineMs: 20_000,
    log,
    after: (ms) => {
      deadlines.push(ms);
      const g = gate();
      expiries.push(g.open);
      return { done: g.promise, cancel: () => undefined };
    },
    ...overrides,
  };
  return { deps, order, logs, expire: () => expiries[0](), deadlines };
}

test("timed work stops first, then work under way, then notifications drain; the pool closes last", async () => {
  const f = fakes();
  const report = await shutDown(f.deps);
  expect(f.order).toEqual(["lifecycle.stop", "queue.idle", "notifier.idle", "pool.close"]);
  expect(report).toEqual({ drained: true, pendingWork: [], notificationsPending: false });
  expect(f.deadlines[0]).toBe(20_000);
  expect(f.logs.filter((l) => l.level === "warn")).toEqual([]);
});

test("nothing is waited for before the timed work has stopped", async () => {
  const stopping = gate();
  const f = fakes();
  f.deps.lifecycle = {
    stop: async () => {
      f.order.push("lifecycle.stop started");
      await stopping.promise;
      f.order.push("lifecycle.stop done");
    },
  };
  const done = shutDown(f.deps);
  await new Promise((r) => setImmediate(r));
  expect(f.order).toEqual(["lifecycle.stop started"]);
  stopping.open();
  await done;
  expect(f.order).toEqual(["lifecycle.stop started", "lifecycle.stop done", "queue.idle", "notifier.idle", "pool.close"]);
});

test("work that outlives the deadline: the shutdown ends anyway, reports and logs what was pending, still closes the pool", async () => {
  // A real queue with a reconcile that never finishes, and a webhook's work waiting behind another.
  const queue = new KeyedQueue();
  const never = new Promise<void>(() => undefined);
  void queue.run("reconcile:acme/access", () => never);
  void queue.run("acme/access#12", () => never);
  const f = fakes({ queue });
  const done = shutDown(f.deps);
  await new Promise((r) => setImmediate(r));
  expect(f.order).toEqual(["lifecycle.stop"]);
  f.expire();
  const report = await done;
  expect(report).toEqual({
    drained: false,
    interrupted: "waiting for work under way",
    pendingWork: ["reconcile:acme/access", "acme/access#12"],
    notificationsPending: true,
  });
  // Notifications are not waited for past the deadline; the pool is closed all the same.
  expect(f.order).toEqual(["lifecycle.stop", "pool.close"]);
  const warning = f.logs.find((l) => l.level === "warn");
  expect(warning?.msg).toMatch(/deadline passed/);
  expect(warning?.obj).toMatchObject({ deadlineMs: 20_000, pendingWork: ["reconcile:acme/access", "acme/access#12"], notificationsPending: true });
});

test("notifications still being delivered at the deadline are reported", async () => {
  const f = fakes();
  f.deps.notifier = { idle: () => new Promise<void>(() => undefined) };
  const done = shutDown(f.deps);
  await new Promise((r) => setImmediate(r));
  f.expire();
  const report = await done;
  expect(report).toEqual({ drained: false, interrupted: "waiting for notifications", pendingWork: [], notificationsPending: true });
});

test("a failing step is logged and the shutdown goes on to drain the rest", async () => {
  const f = fakes();
  f.deps.lifecycle = {
    stop: async () => {
      throw new Error("Redis went away");
    },
  };
  const report = await shutDown(f.deps);
  expect(report.drained).toBe(true);
  expect(f.order).toEqual(["queue.idle", "notifier.idle", "pool.close"]);
  expect(f.logs.find((l) => l.level === "error")?.obj).toEqual({ step: "stopping timed work", error: "Redis went away" });
});

class FakeProcess extends EventEmitter {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

test("the first SIGTERM or SIGINT runs the shutdown once, then exits 0; a second signal exits at once with 1", async () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const proc = new FakeProcess();
    const finish = gate();
    let runs = 0;
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    onShutdownSignals(
      async () => {
        runs++;
        await finish.promise;
      },
      log,
      proc,
    );
    proc.emit(signal);
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(1);
    expect(proc.exits).toEqual([]);
    proc.emit("SIGTERM");
    expect(runs).toBe(1);
    expect(proc.exits).toEqual([1]);
    finish.open();
    await new Promise((r) => setImmediate(r));
    expect(proc.exits).toEqual([1, 0]);
  }
});

test("a shutdown that throws still exits 0 after logging", async () => {
  const proc = new FakeProcess();
  const errors: string[] = [];
  onShutdownSignals(
    async () => {
      throw new Error("boom");
    },
    { info: () => undefined, warn: () => undefined, error: (_o, msg) => errors.push(msg) },
    proc,
  );
  proc.emit("SIGTERM");
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  expect(errors).toEqual(["shutdown failed"]);
  expect(proc.exits).toEqual([0]);
});

test("TIMEBOX_SHUTDOWN_MS: 20 s by default, a whole number from 1 s to 5 min, anything else keeps the default", () => {
  expect(loadConfig({}).shutdownMs).toBe(20_000);
  expect(loadConfig({ TIMEBOX_SHUTDOWN_MS: "25000" }).shutdownMs).toBe(25_000);
  expect(loadConfig({ TIMEBOX_SHUTDOWN_MS: "1000" }).shutdownMs).toBe(1_000);
  expect(loadConfig({ TIMEBOX_SHUTDOWN_MS: "300000" }).shutdownMs).toBe(300_000);
  for (const bad of ["0", "999", "300001", "1.5e3x", "abc", "-5", "2500.5", ""]) expect(loadConfig({ TIMEBOX_SHUTDOWN_MS: bad }).shutdownMs).toBe(20_000);
});

import type { Logger } from "./actions.js";

/** What a graceful shutdown stops and waits for; every piece is given, so it is tested with fakes. */
export interface ShutdownDeps {
  /** Stops the timed work: the backstop tick, the expiry timers, and the coordination across replicas (leases released). */
  lifecycle: { stop(): Promise<void> };
  /** Reconciles, commands and webhook work under way or queued. */
  queue: { idle(): Promise<void>; pending(): string[] };
  /** Slack and webhook notifications waiting in their queues. */
  notifier: { idle(): Promise<void> };
  /** Provider connections (database pools, LDAP), closed last. */
  pool: { close(): Promise<void> };
  /** TIMEBOX_SHUTDOWN_MS: the longest the stop and the waits take together. */
  deadlineMs: number;
  log: Logger;
  /** Resolves after `ms` (default: a timer); tests pass one they resolve themselves. */
  after?: (ms: number) => { done: Promise<void>; cancel(): void };
}

/** The steps, in order; the one a deadline interrupted is reported. */
type ShutdownStep = "stopping timed work" | "waiting for work under way" | "waiting for notifications";

export interface ShutdownReport {
  /** True when every step finished before the deadline. */
  drained: boolean;
  /** The step the deadline interrupted (absent when drained). */
  interrupted?: ShutdownStep;
  /** Queue keys (`reconcile:<owner>/<repo>`, `<owner>/<repo>#<pr>`) still running or waiting at the deadline. */
  pendingWork: string[];
  /** Whether notifications were still waiting or being delivered at the deadline. */
  notificationsPending: boolean;
}

/** How long closing the provider pool may take after the waits (it runs even when the deadline passed). */
const CLOSE_GRACE_MS = 2_000;

const timer = (ms: number) => {
  let handle: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    handle = setTimeout(resolve, ms);
  });
  return { done, cancel: () => clearTimeout(handle) };
};

/**
 * A graceful shutdown: first no new timed work (tick, timers; across replicas the lead and the
 * leases are given up so another replica takes over at once), then the work under way finishes,
 * then the notifications it queued are delivered — all within one deadline. The provider pool is
 * closed last. Past the deadline, what was still pending is logged and the shutdown goes on: the
 * next reconcile (here or on another replica) repairs a reconcile cut short. Never throws.
 */
export async function shutDown(deps: ShutdownDeps): Promise<ShutdownReport> {
  const after = deps.after ?? timer;
  const deadline = after(deps.deadlineMs);
  let expired = false;
  const late = deadline.done.then(() => {
    expired = true;
  });
  let step: ShutdownStep | undefined;
  let notificationsDrained = false;
  const steps: Array<[ShutdownStep, () => Promise<void>]> = [
    ["stopping timed work", () => deps.lifecycle.stop()],
    ["waiting for work under way", () => deps.queue.idle()],
    [
      "waiting for notifications",
      async () => {
        await deps.notifier.idle();
        notificationsDrained = true;
      },
    ],
  ];
  const run = async () => {
    for (const [name, work] of steps) {
      if (expired) return;
      step = name;
      await work().catch((error: unknown) => deps.log.error({ step: name, error: (error as Error).message }, "shutdown step failed; going on"));
    }
    step = undefined;
  };
  await Promise.race([run(), late]);
  deadline.cancel();

  const report: ShutdownReport = {
    drained: !expired,
    ...(expired && step ? { interrupted: step } : {}),
    pendingWork: deps.queue.pending(),
    notificationsPending: !notificationsDrained,
  };
  if (expired)
    deps.log.warn(
      { deadlineMs: deps.deadlineMs, interrupted: report.interrupted, pendingWork: report.pendingWork, notificationsPending: report.notificationsPending },
      "shutdown deadline passed (TIMEBOX_SHUTDOWN_MS); exiting with work still pending: the next reconcile repairs it, undelivered notifications are lost",
    );
  else deps.log.info({}, "work under way finished and notifications delivered");

  const closing = after(CLOSE_GRACE_MS);
  await Promise.race([
    deps.pool.close().catch((error: unknown) => deps.log.warn({ error: (error as Error).message }, "could not close the provider connections")),
    closing.done.then(() => deps.log.warn({}, "provider connections did not close in time")),
  ]);
  closing.cancel();
  return report;
}

/** The process events `onShutdownSignals` listens to and how it exits (the real process by default). */
export interface SignalTarget {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  exit(code: number): void;
}

const SIGNALS: NodeJS.Signals[] = ["SIGTERM", "SIGINT"];

/**
 * On the first SIGTERM or SIGINT runs `shutdown` and then exits 0; a second signal exits at once
 * (code 1). Only for the real app: an app built in a test process must not take its signals.
 */
export function onShutdownSignals(shutdown: () => Promise<unknown>, log: Logger, target: SignalTarget = process): void {
  let started = false;
  const handle = (signal: NodeJS.Signals) => {
    if (started) {
      log.warn({ signal }, "second signal during shutdown: exiting at once");
      target.exit(1);
      return;
    }
    started = true;
    log.info({ signal }, "shutting down: no new timed work; finishing the work under way and the notifications");
    void shutdown()
      .catch((error: unknown) => log.error({ error: (error as Error).message }, "shutdown failed"))
      .finally(() => target.exit(0));
  };
  for (const signal of SIGNALS) target.on(signal, () => handle(signal));
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ReconcileReport } from "../lifecycle/reconciler.js";

/** Seconds a reconcile of one repository may take: a no-op costs a few API calls, a first one many. */
const RECONCILE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Seconds between a grant's expiry and its revocation: the timer makes it ~1 s, the tick < 60 s. */
const LAG_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600];

/** A label value from a webhook payload, bounded: GitHub's own event and action names pass, anything else is `other`. */
function bounded(value: string | undefined): string {
  if (value === undefined || value === "") return "none";
  return /^[a-z][a-z0-9_]{0,63}$/.test(value) ? value : "other";
}

/** What a webhook handler is given that names its event: Probot's `Context`. */
interface EventContext {
  name: string;
  payload: unknown;
}

export interface TimeboxMetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag, GC) on this registry. Default true. */
  processMetrics?: boolean;
}

/**
 * Timebox's Prometheus metrics, on a registry of its own (never prom-client's global one: one
 * process may run several apps, as the tests do). Labels are bounded: event and action names,
 * outcomes, operations and repository names, never grant paths, logins or error text.
 */
export class TimeboxMetrics {
  readonly registry = new Registry();
  private readonly webhookEvents: Counter<"event" | "action" | "outcome">;
  private readonly reconciles: Counter<"outcome">;
  private readonly reconcileDuration: Histogram<"outcome">;
  private readonly grantsActive: Gauge<"repo">;
  private readonly grantOperations: Counter<"operation" | "outcome">;
  private readonly revocationLag: Histogram;

  constructor(options: TimeboxMetricsOptions = {}) {
    const registers = [this.registry];
    this.webhookEvents = new Counter({
      name: "timebox_webhook_events_total",
      help: "Webhook events Timebox handled, by event, action and outcome (ok, or error when a handler threw: GitHub got a 500).",
      labelNames: ["event", "action", "outcome"],
      registers,
    });
    this.reconciles = new Counter({
      name: "timebox_reconciles_total",
      help: "Reconciles of one repository, by outcome (error: the reconcile threw; grant-level failures are in timebox_grant_operations_total).",
      labelNames: ["outcome"],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: "timebox_reconcile_duration_seconds",
      help: "How long a reconcile of one repository took, including waiting for providers and GitHub.",
      labelNames: ["outcome"],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.grantsActive = new Gauge({
      name: "timebox_grants_active",
      help: "Grants active (approved and not expired) on the default branch of each repository, as of its last reconcile.",
      labelNames: ["repo"],
      registers,
    });
    this.grantOperations = new Counter({
      name: "timebox_grant_operations_total",
      help: "Provider operations on grants, by operation (apply, revoke) and outcome (ok, error). Errors are retried on later reconciles.",
      labelNames: ["operation", "outcome"],
      registers,
    });
    this.revocationLag = new Histogram({
      name: "timebox_revocation_lag_seconds",
      help: "Seconds between a grant's expiry and its successful revocation at the provider.",
      buckets: LAG_BUCKETS,
      registers,
    });
    for (const operation of ["apply", "revoke"]) for (const outcome of ["ok", "error"]) this.grantOperations.inc({ operation, outcome }, 0);
    for (const outcome of ["ok", "error"]) this.reconciles.inc({ outcome }, 0);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one handled webhook event. */
  webhook(event: string, action: string | undefined, outcome: "ok" | "error"): void {
    this.webhookEvents.inc({ event: bounded(event), action: bounded(action), outcome });
  }

  /** Wraps a webhook handler so each event it handles is counted with its outcome; errors still propagate. */
  track<C extends EventContext>(handler: (context: C) => Promise<void>): (context: C) => Promise<void> {
    return async (context) => {
      const action = (context.payload as { action?: unknown } | null)?.action;
      const name = typeof action === "string" ? action : undefined;
      try {
        await handler(context);
      } catch (error) {
        this.webhook(context.name, name, "error");
        throw error;
      }
      this.webhook(context.name, name, "ok");
    };
  }

  /** Records what one reconcile did. */
  reconciled(report: ReconcileReport, seconds: number): void {
    this.reconciles.inc({ outcome: "ok" });
    this.reconcileDuration.observe({ outcome: "ok" }, seconds);
    this.grantsActive.set({ repo: report.repo }, report.active);
    const failedRevokes = Math.min(report.failedRevokes, report.failures.length);
    this.grantOperations.inc({ operation: "apply", outcome: "ok" }, report.applied.length);
    this.grantOperations.inc({ operation: "apply", outcome: "error" }, report.failures.length - failedRevokes);
    this.grantOperations.inc({ operation: "revoke", outcome: "ok" }, report.revoked.length);
    this.grantOperations.inc({ operation: "revoke", outcome: "error" }, failedRevokes);
    for (const ms of report.revocationLagsMs) this.revocationLag.observe(Math.max(0, ms) / 1000);
  }

  /** Records a reconcile that threw (GitHub unreachable, say). */
  reconcileFailed(seconds: number): void {
    this.reconciles.inc({ outcome: "error" });
    this.reconcileDuration.observe({ outcome: "error" }, seconds);
  }

  /** Runs one reconcile, timing it and recording its report or its failure; the result or error passes through. */
  readonly observeReconcile = async (run: () => Promise<ReconcileReport>): Promise<ReconcileReport> => {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    let report: ReconcileReport;
    try {
      report = await run();
    } catch (error) {
      this.reconcileFailed(seconds());
      throw error;
    }
    this.reconciled(report, seconds());
    return report;
  };
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ReconcileReport } from "../lifecycle/reconciler.js";
import { providerIds } from "../providers/registry.js";
import { GitHubApiMetrics, type HookableOctokit } from "./github-api.js";
import { eventLabel, nameLabel } from "./labels.js";
import { ProviderMetrics } from "./providers.js";
import { CoordinationMetrics } from "./coordination.js";
import { NotificationMetrics } from "./notifications.js";

/** Seconds a reconcile of one repository may take: a no-op costs a few API calls, a first one many. */
const RECONCILE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Seconds between a grant's expiry and its revocation: the timer makes it ~1 s, the tick < 60 s. */
const LAG_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600];

/** What a webhook handler is given that names its event: Probot's `Context`. */
export interface EventContext {
  name: string;
  payload: unknown;
  /** The event's GitHub client (Probot creates one per event): its API calls are counted. */
  octokit?: HookableOctokit;
}

export interface TimeboxMetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag, GC) on this registry. Default true. */
  processMetrics?: boolean;
}

/**
 * Timebox's Prometheus metrics, on a registry of its own (never prom-client's global one: one
 * process may run several apps, as the tests do). Labels are bounded: event and action names,
 * outcomes, operations, repository, resource and provider names, route templates and installation
 * ids, never grant paths, logins, URLs or error text. The GitHub API and provider series live in
 * `github` and `providers`; this class holds the webhook, reconcile and grant series.
 */
export class TimeboxMetrics {
  readonly registry = new Registry();
  private readonly webhookEvents: Counter<"event" | "action" | "outcome">;
  private readonly reconciles: Counter<"outcome">;
  private readonly savingReconciles: Counter;
  private readonly reconcileDuration: Histogram<"outcome">;
  private readonly grantsActive: Gauge<"repo">;
  private readonly grantsActiveByResource: Gauge<"repo" | "resource">;
  /** The resources each repository's last report named, so series of resources gone are removed. */
  private readonly resourcesOf = new Map<string, Set<string>>();
  private readonly grantOperations: Counter<"operation" | "outcome">;
  private readonly revocationLag: Histogram;
  /** GitHub API calls and rate limit, on the clients `instrument` hooks. */
  readonly github: GitHubApiMetrics;
  /** Provider applies and revokes, on the providers of pools `meterPool` wraps. */
  readonly providers: ProviderMetrics;
  /** Replica coordination through Redis (REDIS_URL): up, and steps done alone after a Redis error. */
  readonly coordination: CoordinationMetrics;
  /** Slack and webhook notifications by outcome. */
  readonly notifications: NotificationMetrics;

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
    this.savingReconciles = new Counter({
      name: "timebox_reconciles_saving_budget_total",
      help: "Reconciles run with the installation's GitHub API budget at its revocation reserve (TIMEBOX_REVOKE_RESERVE): only revocations were done; reminders, reports, stale requests and drift waited.",
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
      help: "Grants in effect in each repository (approved and not expired on the default branch, and break-glass grants applied before their merge), as of its last reconcile.",
      labelNames: ["repo"],
      registers,
    });
    this.grantsActiveByResource = new Gauge({
      name: "timebox_grants_active_by_resource",
      help: "Grants in effect in each repository (as timebox_grants_active), by the policy's resource (0 for a resource with none), as of its last reconcile.",
      labelNames: ["repo", "resource"],
      registers,
    });
    this.grantOperations = new Counter({
      name: "timebox_grant_operations_total",
      help: "Grants applied and revoked by reconciles, one per grant, by operation (apply, revoke) and outcome (ok, error). Errors are retried on later reconciles; every provider call is in timebox_provider_operations_total.",
      labelNames: ["operation", "outcome"],
      registers,
    });
    this.revocationLag = new Histogram({
      name: "timebox_revocation_lag_seconds",
      help: "Seconds between a grant's expiry and its successful revocation at the provider.",
      buckets: LAG_BUCKETS,
      registers,
    });
    this.github = new GitHubApiMetrics(this.registry);
    this.providers = new ProviderMetrics(this.registry, providerIds());
    this.coordination = new CoordinationMetrics(this.registry);
    this.notifications = new NotificationMetrics(this.registry);
    for (const operation of ["apply", "revoke"]) for (const outcome of ["ok", "error"]) this.grantOperations.inc({ operation, outcome }, 0);
    for (const outcome of ["ok", "error"]) this.reconciles.inc({ outcome }, 0);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one handled webhook event. */
  webhook(event: string, action: string | undefined, outcome: "ok" | "error"): void {
    this.webhookEvents.inc({ event: eventLabel(event), action: eventLabel(action), outcome });
  }

  /**
   * Wraps a webhook handler so each event it handles is counted with its outcome (errors still
   * propagate), and the GitHub API calls made on the event's client are counted.
   */
  track<C extends EventContext>(handler: (context: C) => Promise<void>): (context: C) => Promise<void> {
    return async (context) => {
      if (context.octokit) this.github.instrument(context.octokit, installationOf(context.payload));
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
    if (report.saving) this.savingReconciles.inc();
    this.reconcileDuration.observe({ outcome: "ok" }, seconds);
    this.grantsActive.set({ repo: report.repo }, report.active);
    this.activeByResource(report.repo, report.activeByResource ?? {});
    const failedRevokes = Math.min(report.failedRevokes, report.failures.length);
    this.grantOperations.inc({ operation: "apply", outcome: "ok" }, report.applied.length);
    this.grantOperations.inc({ operation: "apply", outcome: "error" }, report.failures.length - failedRevokes);
    this.grantOperations.inc({ operation: "revoke", outcome: "ok" }, report.revoked.length);
    this.grantOperations.inc({ operation: "revoke", outcome: "error" }, failedRevokes);
    for (const ms of report.revocationLagsMs) this.revocationLag.observe(Math.max(0, ms) / 1000);
  }

  /** Sets each resource's active grants for `repo`; resources no longer reported lose their series. */
  private activeByResource(repo: string, counts: Readonly<Record<string, number>>): void {
    const now = new Map<string, number>();
    for (const [resource, n] of Object.entries(counts)) now.set(nameLabel(resource), (now.get(nameLabel(resource)) ?? 0) + n);
    for (const gone of this.resourcesOf.get(repo) ?? []) if (!now.has(gone)) this.grantsActiveByResource.remove({ repo, resource: gone });
    for (const [resource, n] of now) this.grantsActiveByResource.set({ repo, resource }, n);
    this.resourcesOf.set(repo, new Set(now.keys()));
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

/** The installation a webhook payload names, if any. */
function installationOf(payload: unknown): number | undefined {
  const id = (payload as { installation?: { id?: unknown } } | null)?.installation?.id;
  return typeof id === "number" ? id : undefined;
}

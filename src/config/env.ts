import { DEFAULT_MAX_GRANT_FILES } from "../grants/files.js";

/** Every environment variable Timebox reads (besides Probot's own), with its default, in one place. */
export interface TimeboxConfig {
  /** node-cron expression for the backstop reconcile of every repository. */
  reconcileCron: string;
  /** Added to the policy's longest max_duration to bound the history searched for removed grants. */
  historyMarginMs: number;
  /** Delays between provider retries when applying (bounded backoff). */
  applyRetryDelaysMs: number[];
  /** Failed revokes of one grant before a `timebox:stuck-revoke` issue is opened. */
  stuckRevokeAfter: number;
  /** Off only in tests that drive reconciles themselves. */
  scheduler: boolean;
  /**
   * How long a webhook waits for the reconcile it triggers before it is answered; the reconcile
   * then finishes on its own. GitHub gives a delivery 10 s.
   */
  webhookBudgetMs: number;
  /**
   * Deadline of one provider call (grant, revoke, read-back, drift listing, target check): past
   * it the call fails with a retryable error, so a hung database or API never stalls revocations.
   */
  providerTimeoutMs: number;
  /**
   * TIMEBOX_MAX_GRANT_FILES: the most files under grants_path one pull request may add or change
   * (default 100). Past it none is read and `timebox/validate` fails.
   */
  maxGrantFiles: number;
  /**
   * TIMEBOX_METRICS_TOKEN: when set, `GET /metrics` answers only a request with
   * `Authorization: Bearer <token>` (401 otherwise). Unset: open, as before.
   */
  metricsToken?: string;
  /**
   * TIMEBOX_REVOKE_RESERVE: the share of an installation's hourly GitHub API limit kept for
   * revocation (default 0.1). Below it, only revocations spend calls; reviews and optional work wait.
   */
  revokeReserve: number;
  /**
   * TIMEBOX_SLACK_API_URL: the base URL of Slack's Web API for the policy's Slack notifications
   * (a proxy, a test server); Slack's own (`https://slack.com/api/`) when unset.
   */
  slackApiUrl?: string;
  /**
   * TIMEBOX_GITHUB_GRAPHQL: how grant origins are read when many are unknown (a start, a deploy):
   * "auto" (default) batches them through GitHub's GraphQL API from 10 unknown origins, "always"
   * from one, "0"/"off" reads them over REST one by one. A GraphQL failure falls back to REST.
   */
  githubGraphql: "auto" | "always" | "off";
  /**
   * REDIS_URL (also Probot's: its throttling then shares each installation's GitHub budget between
   * replicas). When set, replicas coordinate through Redis: one reconciles a repository at a time,
   * one runs each backstop tick, expiry timers are durable jobs (docs/deploy.md). Unset: one process.
   */
  redisUrl?: string;
  /**
   * TIMEBOX_LEASE_TTL_MS (with REDIS_URL): how long a replica's hold on a repository and on a due
   * timer outlives the replica if it dies (default 10000, 1,000 to 120,000); renewed every third of it.
   */
  leaseTtlMs: number;
  /**
   * TIMEBOX_SHUTDOWN_MS: on SIGTERM or SIGINT, the longest the app waits for the work under way
   * and the queued notifications before it exits (default 20000, 1,000 to 300,000): below
   * Kubernetes' default grace period of 30 s.
   */
  shutdownMs: number;
}

export function loadConfig(env: Record<string, string | undefined>): TimeboxConfig {
  return {
    reconcileCron: env.TIMEBOX_RECONCILE_CRON ?? "* * * * *",
    historyMarginMs: hours(env.TIMEBOX_HISTORY_MARGIN_HOURS, 24),
    applyRetryDelaysMs: (env.TIMEBOX_APPLY_RETRY_DELAYS_MS ?? "1000,5000,15000").split(",").filter(Boolean).map(Number),
    stuckRevokeAfter: Number(env.TIMEBOX_STUCK_REVOKE_AFTER ?? 3),
    scheduler: env.TIMEBOX_SCHEDULER !== "off",
    webhookBudgetMs: Number(env.TIMEBOX_WEBHOOK_BUDGET_MS ?? 8000),
    providerTimeoutMs: providerTimeoutMs(env.TIMEBOX_PROVIDER_TIMEOUT_MS),
    maxGrantFiles: maxGrantFiles(env.TIMEBOX_MAX_GRANT_FILES),
    ...(env.TIMEBOX_METRICS_TOKEN ? { metricsToken: env.TIMEBOX_METRICS_TOKEN } : {}),
    revokeReserve: share(env.TIMEBOX_REVOKE_RESERVE, 0.1),
    ...(env.TIMEBOX_SLACK_API_URL ? { slackApiUrl: env.TIMEBOX_SLACK_API_URL } : {}),
    githubGraphql:
      env.TIMEBOX_GITHUB_GRAPHQL === "0" || env.TIMEBOX_GITHUB_GRAPHQL === "off" ? "off" : env.TIMEBOX_GITHUB_GRAPHQL === "always" ? "always" : "auto",
    ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {}),
    leaseTtlMs: leaseTtlMs(env.TIMEBOX_LEASE_TTL_MS),
    shutdownMs: shutdownMs(env.TIMEBOX_SHUTDOWN_MS),
  };
}

/** A share from 0 to 0.9; anything else keeps the default. */
function share(value: string | undefined, fallback: number): number {
  const n = Number(value ?? fallback);
  return Number.isFinite(n) && n >= 0 && n <= 0.9 ? n : fallback;
}

function hours(value: string | undefined, fallback: number): number {
  const n = Number(value ?? fallback);
  return (Number.isFinite(n) && n >= 0 ? n : fallback) * 3600_000;
}

/** TIMEBOX_PROVIDER_TIMEOUT_MS: default 60 s; a value that is not a whole number from 100 ms to 10 min keeps the default. */
function providerTimeoutMs(value: string | undefined): number {
  const n = Number(value ?? 60_000);
  return Number.isInteger(n) && n >= 100 && n <= 600_000 ? n : 60_000;
}

/** TIMEBOX_MAX_GRANT_FILES: default 100; a value that is not a whole number from 1 to 1,000 keeps the default. */
function maxGrantFiles(value: string | undefined): number {
  const n = Number(value ?? DEFAULT_MAX_GRANT_FILES);
  return Number.isInteger(n) && n >= 1 && n <= 1000 ? n : DEFAULT_MAX_GRANT_FILES;
}

/** TIMEBOX_LEASE_TTL_MS: default 10 s; a value that is not a whole number from 1 s to 2 min keeps the default. */
function leaseTtlMs(value: string | undefined): number {
  const n = Number(value ?? 10_000);
  return Number.isInteger(n) && n >= 1_000 && n <= 120_000 ? n : 10_000;
}

/** TIMEBOX_SHUTDOWN_MS: default 20 s; a value that is not a whole number from 1 s to 5 min keeps the default. */
function shutdownMs(value: string | undefined): number {
  const n = Number(value ?? 20_000);
  return Number.isInteger(n) && n >= 1_000 && n <= 300_000 ? n : 20_000;
}

import type { ApplicationFunction, ApplicationFunctionOptions, Probot } from "probot";
import { loadConfig } from "./config/env.js";
import { RateBudget } from "./github/rate-budget.js";
import { recordKeyOf } from "./github/seal.js";
import type { AppSelf } from "./github/self.js";
import type { Octokit } from "./github/types.js";
import { onIssueCommentCreated, onIssueCommentEdited } from "./handlers/issue-comment.js";
import { onPullRequestClosed, onPush } from "./handlers/merged.js";
import { onIssueOpened } from "./handlers/request.js";
import { onReviewChanged, REVIEW_CHANGE_EVENTS } from "./handlers/pull-request-review.js";
import { onCheckRerequested, onPullRequestChanged, REVIEW_EVENTS } from "./handlers/pull-request.js";
import { ProviderPool } from "./lifecycle/provider-pool.js";
import { Reconciler } from "./lifecycle/reconciler.js";
import { LifecycleRuntime, type RepoTarget } from "./lifecycle/runtime.js";
import { TargetCheck } from "./lifecycle/target-check.js";
import { serveMetrics, TimeboxMetrics, type EventContext } from "./metrics/index.js";
import { knownProviders } from "./policy/providers.js";
import { systemClock, type Clock } from "./util/clock.js";
import { KeyedQueue } from "./util/keyed-queue.js";
import { DeliveryScope, type DeliveryContext } from "./logging/delivery-scope.js";
import { Notifier } from "./notify/notifier.js";
import { RedisCoordinator } from "./coordination/redis-coordinator.js";
import { onShutdownSignals, shutDown } from "./lifecycle/shutdown.js";

export interface TimeboxOptions {
  clock?: Clock;
  env?: Record<string, string | undefined>;
  /** Lets tests (and the demo) drive reconciles and wait for them. */
  onRuntime?: (runtime: LifecycleRuntime, pool: ProviderPool) => void;
  /** Replaces the provider pool (tests inject failing or crashing providers). */
  pool?: ProviderPool;
  /**
   * Shut down gracefully on SIGTERM/SIGINT (docs/deploy.md). Only the real app (the default
   * export, `npm start`) sets it: apps built in a test process must leave its signals alone.
   */
  handleSignals?: boolean;
}

/** The composition root: builds the pieces and wires events to handlers. No logic lives here. */
export function createTimebox(options: TimeboxOptions = {}): ApplicationFunction {
  return (app: Probot, appOptions?: ApplicationFunctionOptions) => {
    const env = options.env ?? process.env;
    const config = loadConfig(env);
    const clock = options.clock ?? systemClock;
    const providers = knownProviders();
    const queue = new KeyedQueue();
    const pool = options.pool ?? new ProviderPool(env);
    const metrics = new TimeboxMetrics();
    // Lines logged while a webhook is handled carry its delivery id and installation.
    const deliveries = new DeliveryScope();
    const log = deliveries.logger(app.log);
    // Every GitHub client Timebox uses is counted (API calls, rate limit) on /metrics.
    // What is left of each installation's GitHub budget: its reserve is kept for revocation.
    const budget = new RateBudget(config.revokeReserve);
    const auth = async (installationId?: number) => {
      const octokit = metrics.github.instrument((await app.auth(installationId)) as Octokit, installationId);
      budget.watch(octokit, installationId);
      return octokit;
    };
    const track = <C extends EventContext & DeliveryContext>(handler: (context: C) => Promise<void>) =>
      metrics.track(
        deliveries.wrap(async (context: C) => {
          if (context.octokit) budget.watch(context.octokit, (context.payload as { installation?: { id: number } }).installation?.id);
          await handler(context);
        }),
      );
    // The key that seals the markers Timebox reads back from its comments (every replica derives the same one).
    const recordKey = recordKeyOf(env);
    const self = once(async (): Promise<AppSelf> => {
      const { data } = await (await app.auth()).rest.apps.getAuthenticated();
      if (!data) throw new Error("GitHub did not describe this app (GET /app)");
      return { appId: data.id, botLogin: `${data.slug}[bot]`, recordKey };
    });
    const meteredPool = metrics.providers.meterPool(pool);
    // Slack and signed webhooks, where the default branch's policy says; delivered in the background.
    const notifier = new Notifier({ env, log, metrics: metrics.notifications, slackApiUrl: config.slackApiUrl });
    const reconciler = new Reconciler({
      clock,
      providers,
      pool: meteredPool,
      log,
      historyMarginMs: config.historyMarginMs,
      applyRetryDelaysMs: config.applyRetryDelaysMs,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      stuckRevokeAfter: config.stuckRevokeAfter,
      notifier,
      graphqlOrigins: config.githubGraphql,
    });
    const lifecycle = new LifecycleRuntime({
      reconciler,
      queue,
      clock,
      log,
      cronExpression: config.reconcileCron,
      octokitFor: (id) => auth(id),
      self,
      discover: () => discoverRepositories(auth),
      observeReconcile: metrics.observeReconcile,
      budgetLow: (installation) => budget.low(installation, clock.now()),
      // On start-up and when the default branch's policy changes: its targets, checked at the providers.
      targetCheck: new TargetCheck({ pool: meteredPool, providers, log, clock, budgetMs: config.providerTimeoutMs + 5_000 }),
      // With REDIS_URL, replicas share leases, the backstop tick and expiry timers (docs/deploy.md).
      ...(config.redisUrl && config.scheduler
        ? {
            coordinator: new RedisCoordinator({
              url: config.redisUrl,
              prefix: `timebox:${env.APP_ID ?? "app"}`,
              leaseTtlMs: config.leaseTtlMs,
              clock,
              log,
              health: metrics.coordination,
            }),
          }
        : {}),
    });
    const deps = {
      providers,
      notifier,
      queue,
      lifecycle,
      self,
      webhookBudgetMs: config.webhookBudgetMs,
      maxGrantFiles: config.maxGrantFiles,
      budgetLow: (installation?: number) => budget.low(installation, clock.now()),
      now: () => clock.now(),
    };

    app.on([...REVIEW_EVENTS], track(onPullRequestChanged(deps)));
    app.on([...REVIEW_CHANGE_EVENTS], track(onReviewChanged(deps)));
    app.on("pull_request.closed", track(onPullRequestClosed(deps)));
    app.on("push", track(onPush(deps)));
    // Commands come from new comments only: an edited comment never runs one.
    app.on("issue_comment.created", track(onIssueCommentCreated(deps)));
    // Someone editing this app's own comments is logged; nothing depends on it (markers are sealed).
    app.on("issue_comment.edited", track(onIssueCommentEdited(deps)));
    // An issue opened with the request form asks for access (only `opened`: an edit never requests).
    app.on("issues.opened", track(onIssueOpened(deps)));
    app.on("check_run.rerequested", track(onCheckRerequested(deps)));
    serveMetrics(appOptions, metrics, app.log, config.metricsToken);

    options.onRuntime?.(lifecycle, pool);
    if (config.scheduler) lifecycle.start();
    // SIGTERM (a deploy, a rollout): no new timed work, the work under way and the notifications finish, then exit.
    if (options.handleSignals) onShutdownSignals(() => shutDown({ lifecycle, queue, notifier, pool, deadlineMs: config.shutdownMs, log: app.log }), app.log);
    app.log.info("Timebox is listening for pull requests");
  };
}

async function discoverRepositories(auth: (installationId?: number) => Promise<Octokit>): Promise<RepoTarget[]> {
  const appOctokit = await auth();
  const installations = await appOctokit.paginate(appOctokit.rest.apps.listInstallations, { per_page: 100 });
  const targets: RepoTarget[] = [];
  for (const installation of installations) {
    const octokit = await auth(installation.id);
    const repos = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
    for (const r of repos) targets.push({ installationId: installation.id, owner: r.owner.login, repo: r.name });
  }
  return targets;
}

/** A value computed on first use and kept; a failure is forgotten, so the next use tries again. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= load().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}

export default createTimebox({ handleSignals: true });

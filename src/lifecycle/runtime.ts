import cron from "node-cron";
import type { ScheduledTask } from "node-cron";
import { ImmutableCache } from "../github/client.js";
import { Gateway } from "../github/gateway.js";
import type { AppSelf } from "../github/self.js";
import type { Octokit } from "../github/types.js";
import { BoundedCache } from "../util/bounded-cache.js";
import type { Clock } from "../util/clock.js";
import type { KeyedQueue } from "../util/keyed-queue.js";
import type { Logger } from "./actions.js";
import { allows, teamsToCheck } from "../policy/principals.js";
import { lookUpMemberships } from "../pull-request/context.js";
import { Commands, type OutcomeResult, type RevokeCommandResult } from "../commands/commands.js";
import type { Reconciler, ReconcileReport } from "./reconciler.js";
import type { TargetCheck } from "./target-check.js";

export interface RepoTarget {
  installationId: number;
  owner: string;
  repo: string;
}

export interface RuntimeDeps {
  reconciler: Reconciler;
  queue: KeyedQueue;
  clock: Clock;
  log: Logger;
  octokitFor: (installationId: number) => Promise<Octokit>;
  /** This app's id and bot login (read once): only its own comments and check runs are its records. */
  self: () => Promise<AppSelf>;
  /** Every repository of every installation (for start-up and the backstop tick). */
  discover: () => Promise<RepoTarget[]>;
  cronExpression: string;
  /** Whether an installation is down to the share of its GitHub budget kept for revocation. */
  budgetLow?: (installationId: number) => boolean;
  /** Wraps each reconcile (metrics: duration, outcome, what it did). */
  observeReconcile?: (run: () => Promise<ReconcileReport>) => Promise<ReconcileReport>;
  /** Checks the default branch's policy at its providers after a reconcile, when the policy changed. */
  targetCheck?: TargetCheck;
}

/** Repositories the backstop reconciles at the same time. */
const REPOS_AT_ONCE = 4;

/** The longest a Node timer can wait; later expiries are caught by a later timer or the tick. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * When reconciles run: on start, on every push to the default branch and every merge (through the
 * handlers), on a precise timer for the next expiry, and on a node-cron tick as backstop. Runs for
 * one repository are serialised inside the process.
 */
export class LifecycleRuntime {
  private readonly known = new Map<string, RepoTarget>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private task?: ScheduledTask;
  /** Trees, blobs, commits and merges already read, shared by every reconcile of this process. */
  private readonly immutable = new ImmutableCache();
  /** Who pushed which commit, as push webhooks said (REST cannot tell): named in unapproved reports. */
  private readonly pushers = new BoundedCache<string>(10_000);

  /** Remembers the pusher of commits a push webhook announced. */
  notePush(commitShas: string[], pusher: string): void {
    for (const sha of commitShas) void this.pushers.getOrLoad(sha, async () => pusher);
  }
  private timersOn = false;

  private readonly commands: Commands;

  constructor(private readonly deps: RuntimeDeps) {
    this.commands = new Commands(deps.reconciler, deps);
  }

  /** Reconciles queued behind a running one, per repository: later requests join it instead of queueing more. */
  private readonly waiting = new Map<string, Promise<ReconcileReport>>();

  /**
   * Reconciles one repository. Requests that arrive while one is queued join it: a burst of webhooks
   * (a person labelling or editing PRs) costs one more reconcile, not one each.
   */
  reconcileRepo(target: RepoTarget, octokit?: Octokit): Promise<ReconcileReport> {
    const name = `${target.owner}/${target.repo}`;
    this.known.set(name, target);
    const queued = this.waiting.get(name);
    if (queued) return queued;
    const run = this.deps.queue.run(`reconcile:${name}`, async () => {
      this.waiting.delete(name);
      return this.reconcileNow(target, name, octokit);
    });
    this.waiting.set(name, run);
    run
      .catch(() => undefined)
      .finally(() => {
        if (this.waiting.get(name) === run) this.waiting.delete(name);
      });
    return run;
  }

  private async reconcileNow(target: RepoTarget, name: string, octokit?: Octokit): Promise<ReconcileReport> {
    const gw = await this.gatewayFor(target, octokit);
    const saving = this.deps.budgetLow?.(target.installationId) ?? false;
    if (saving)
      this.deps.log.warn(
        { repo: name, installation: target.installationId },
        "GitHub API budget at its reserve: revoking only; reminders, stale requests, reports and drift wait",
      );
    const run = () => this.deps.reconciler.reconcile(gw, name, (sha) => this.pushers.peek(sha), { saving });
    const report = await (this.deps.observeReconcile ?? ((f) => f()))(run);
    if (report.applied.length || report.revoked.length || report.failures.length || report.unapproved.length) {
      this.deps.log.info({ ...report, nextExpiry: report.nextExpiry?.toISOString() }, "reconciled");
    }
    this.armTimer(target, report.nextExpiry);
    // After the reconcile (revokes never wait for it), and optional: skipped while saving the budget.
    if (this.deps.targetCheck && report.tip && !saving) {
      await this.deps.targetCheck.checkIfPolicyChanged(gw, name, report.tip).catch((error: unknown) => {
        this.deps.log.warn(
          { repo: name, error: (error as Error).message },
          "could not check the policy's targets at its providers; trying again after the next reconcile",
        );
      });
    }
    return report;
  }

  /**
   * `/timebox revoke` by `login` on PR `pr`, serialised with the repository's reconciles. Team
   * membership is read live (active members only); a lookup that fails does not allow.
   */
  async revokeByCommand(target: RepoTarget, octokit: Octokit | undefined, pr: number, login: string): Promise<RevokeCommandResult> {
    const name = `${target.owner}/${target.repo}`;
    this.known.set(name, target);
    return this.deps.queue.run(`reconcile:${name}`, async () => {
      const gw = await this.gatewayFor(target, octokit);
      const result = await this.commands.revokeByCommand(gw, name, pr, login, (refs) => this.isAllowed(gw, refs, login));
      this.deps.log.info({ repo: name, pr, login, result }, "revoke command");
      return result;
    });
  }

  /** `/timebox outcome` by `login` on PR `pr`, serialised with the repository's reconciles. */
  async recordOutcome(target: RepoTarget, octokit: Octokit | undefined, pr: number, login: string, text: string): Promise<OutcomeResult> {
    const name = `${target.owner}/${target.repo}`;
    this.known.set(name, target);
    return this.deps.queue.run(`reconcile:${name}`, async () => {
      const gw = await this.gatewayFor(target, octokit);
      return this.commands.recordOutcome(gw, name, pr, login, text, (refs) => this.isAllowed(gw, refs, login));
    });
  }

  private async gatewayFor(target: RepoTarget, octokit?: Octokit): Promise<Gateway> {
    const client = octokit ?? (await this.deps.octokitFor(target.installationId));
    return new Gateway(client, { owner: target.owner, repo: target.repo }, await this.deps.self(), this.immutable);
  }

  /** Whether `login` is one of `refs`; team membership read live (active members only), a failed lookup does not allow. */
  private async isAllowed(gw: Gateway, refs: readonly string[], login: string): Promise<boolean> {
    const lookup = await lookUpMemberships(
      gw,
      teamsToCheck(refs, login).map((team) => ({ login, team })),
      this.deps.log,
    );
    return allows(refs, login, lookup) === "yes";
  }

  /** Reconciles every repository the app can see; one failing repository does not stop the others. */
  async reconcileAll(): Promise<ReconcileReport[]> {
    let targets = [...this.known.values()];
    try {
      targets = await this.deps.discover();
    } catch (error) {
      this.deps.log.warn({ error: (error as Error).message }, "could not list installations; reconciling the repositories already known");
    }
    // Repositories in parallel (a few at a time): one that hangs never holds up revokes in the others.
    const reports: ReconcileReport[] = [];
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const target = targets[next++];
        try {
          reports.push(await this.reconcileRepo(target));
        } catch (error) {
          this.deps.log.error({ repo: `${target.owner}/${target.repo}`, error: (error as Error).message }, "reconcile failed; the next tick tries again");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(REPOS_AT_ONCE, targets.length) }, worker));
    return reports;
  }

  /** Starts the backstop tick and the precise timers, and catches up at once. */
  start(): void {
    this.timersOn = true;
    this.task = cron.schedule(this.deps.cronExpression, () => this.reconcileAll().then(() => undefined), { name: "timebox-reconcile", noOverlap: true });
    void this.reconcileAll();
  }

  stop(): void {
    this.timersOn = false;
    void this.task?.stop();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private armTimer(target: RepoTarget, at: Date | undefined): void {
    const name = `${target.owner}/${target.repo}`;
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
    if (!this.timersOn || !at) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at.getTime() - this.deps.clock.now().getTime()) + 250);
    const timer = setTimeout(() => {
      this.timers.delete(name);
      this.reconcileRepo(target).catch((error) => this.deps.log.error({ repo: name, error: (error as Error).message }, "timed reconcile failed"));
    }, delay);
    timer.unref();
    this.timers.set(name, timer);
  }
}

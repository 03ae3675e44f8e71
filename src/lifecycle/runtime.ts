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
import { Commands, type CommandComment, type OutcomeResult, type RevokeCommandResult } from "../commands/commands.js";
import { outcomeReply, revokeReply } from "../commands/replies.js";
import type { Reconciler, ReconcileReport } from "./reconciler.js";
import type { TargetCheck } from "./target-check.js";
import { LocalCoordinator, SKIPPED, type Coordinator, type RepoTarget, type Turn } from "../coordination/coordinator.js";

export type { RepoTarget };

/** How one reconcile request takes its turn (see Coordinator). */
interface Request {
  octokit?: Octokit;
  turn: Turn;
  /** A timer's due time: the request is done once any replica completed a reconcile started at or after it. */
  dueAt?: Date;
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
  /** Other replicas (REDIS_URL): leases, one replica leading ticks and shared timers. Default: this process alone. */
  coordinator?: Coordinator;
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
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  private readonly coordinator: Coordinator;
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
  /** Set by `stop`: a backstop pass under way starts no more repositories. */
  private stopped = false;

  private readonly commands: Commands;

  constructor(private readonly deps: RuntimeDeps) {
    this.commands = new Commands(deps.reconciler, deps);
    this.coordinator = deps.coordinator ?? new LocalCoordinator();
  }

  /** Reconciles queued behind a running one, per repository: later requests join it instead of queueing more. */
  private readonly waiting = new Map<string, { run: Promise<ReconcileReport | undefined>; how: Request }>();

  /**
   * Reconciles one repository (after any other replica working on it). Requests that arrive while
   * one is queued join it: a burst of webhooks (a person labelling or editing PRs) costs one more
   * reconcile, not one each.
   */
  async reconcileRepo(target: RepoTarget, octokit?: Octokit): Promise<ReconcileReport> {
    const report = await this.request(target, { octokit, turn: "wait" });
    // A request that waits its turn and has no due time always runs.
    if (!report) throw new Error(`the reconcile of ${target.owner}/${target.repo} did not run`);
    return report;
  }

  /**
   * A reconcile a webhook asks for. Across replicas a follower hands it to the leader — a shared
   * timer due now, run on the leader's warm caches (what it already read and revoked) — and keeps a
   * safety net of its own a lease TTL later (it reconciles then only if nobody did since). Alone, as
   * the leader, with the timers off, or when Redis fails, it runs here.
   */
  async reconcileOnEvent(target: RepoTarget, octokit?: Octokit): Promise<ReconcileReport | undefined> {
    const name = `${target.owner}/${target.repo}`;
    this.known.set(name, target);
    if (this.timersOn && this.coordinator.shared && !this.coordinator.leads()) {
      const now = this.deps.clock.now();
      if (await this.coordinator.schedule(target, now)) {
        if (!this.timers.has(name)) this.armLocal(target, name, now, this.coordinator.safetyNetMs);
        return undefined;
      }
    }
    return this.reconcileRepo(target, octokit);
  }

  /** Queues (or joins) a reconcile; undefined when it gave way to another replica or was done there. */
  private request(target: RepoTarget, how: Request): Promise<ReconcileReport | undefined> {
    const name = `${target.owner}/${target.repo}`;
    this.known.set(name, target);
    const queued = this.waiting.get(name);
    if (queued) {
      this.join(queued.how, how);
      return queued.run;
    }
    const run = this.deps.queue.run(`reconcile:${name}`, async () => {
      if (this.waiting.get(name)?.run === run) this.waiting.delete(name);
      return this.takeTurn(target, name, how);
    });
    this.waiting.set(name, { run, how });
    run
      .catch(() => undefined)
      .finally(() => {
        if (this.waiting.get(name)?.run === run) this.waiting.delete(name);
      });
    return run;
  }

  /**
   * Folds a new request into one queued (not started yet), which then runs if either had to: a
   * tick that would give way to another replica waits its turn instead when a webhook or a timer
   * joins it, and it skips as done only if a reconcile started after both due times. In one
   * process nothing skips, so every request simply joins.
   */
  private join(queued: Request, next: Request): void {
    if (next.turn === "skip") return;
    if (queued.turn === "skip") {
      queued.turn = "wait";
      queued.dueAt = next.dueAt;
      return;
    }
    queued.dueAt = queued.dueAt && next.dueAt ? new Date(Math.max(queued.dueAt.getTime(), next.dueAt.getTime())) : undefined;
  }

  /** Runs the reconcile when it is this replica's turn, and records it done for the other replicas. */
  private async takeTurn(target: RepoTarget, name: string, how: Request): Promise<ReconcileReport | undefined> {
    const c = this.coordinator;
    const done = async () => how.dueAt !== undefined && (await c.reconciledSince(name, how.dueAt));
    if (await done()) return undefined;
    const report = await c.exclusive(name, how.turn, async () => {
      if (await done()) return undefined;
      const startedAt = this.deps.clock.now();
      const result = await this.reconcileNow(target, name, how.octokit);
      await c.reconciled(name, startedAt);
      return result;
    });
    return report === SKIPPED ? undefined : report;
  }

  /** Runs `work` as the only replica working on `name` (waiting for its turn). */
  private async exclusively<T>(name: string, work: () => Promise<T>): Promise<T> {
    const result = await this.coordinator.exclusive(name, "wait", work);
    if (result === SKIPPED) throw new Error(`${name} was not this replica's turn`);
    return result;
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
   * `/timebox revoke` in comment `command` on PR `pr`, serialised with the repository's reconciles,
   * and answered in the thread. Team membership is read live (active members only); a lookup that
   * fails does not allow. A command acts once (`Commands.answered`). When the PR's grant is past
   * its expiry but not revoked yet, its reconcile runs now. A command that finds nothing left
   * because a grant of the PR was revoked since it was typed is answered by that revoked comment.
   */
  async revokeByCommand(target: RepoTarget, octokit: Octokit | undefined, pr: number, command: CommandComment): Promise<RevokeCommandResult | "repeated"> {
    const name = `${target.owner}/${target.repo}`;
    this.known.set(name, target);
    return this.deps.queue.run(`reconcile:${name}`, () =>
      this.exclusively(name, async () => {
        let gw = await this.gatewayFor(target, octokit);
        if (await this.commands.answered(gw, pr, command)) return "repeated";
        const result = await this.commands.revokeByCommand(gw, name, pr, command.login, (refs) => this.isAllowed(gw, refs, command.login));
        this.deps.log.info({ repo: name, pr, login: command.login, result }, "revoke command");
        if (result.kind === "none" && result.due) {
          await this.reconcileNow(target, name, octokit);
          gw = await this.gatewayFor(target, octokit);
        }
        if (result.kind === "none" && (await this.commands.revokedSince(gw, pr, command))) return result;
        const reply = revokeReply(command.login, result);
        if (reply) await this.commands.answer(gw, pr, command, reply);
        return result;
      }),
    );
  }

  /** `/timebox outcome` in comment `command` on PR `pr` (`text` absent: none given), serialised with the repository's reconciles, acted on and answered once. */
  async recordOutcome(
    target: RepoTarget,
    octokit: Octokit | undefined,
    pr: number,
    command: CommandComment,
    text: string | undefined,
  ): Promise<OutcomeResult | "repeated"> {
    const name = `${target.owner}/${target.repo}`;
    this.known.set(name, target);
    return this.deps.queue.run(`reconcile:${name}`, () =>
      this.exclusively(name, async () => {
        const gw = await this.gatewayFor(target, octokit);
        if (await this.commands.answered(gw, pr, command)) return "repeated";
        const result = await this.commands.recordOutcome(gw, name, pr, command.login, text, (refs) => this.isAllowed(gw, refs, command.login));
        await this.commands.answer(gw, pr, command, outcomeReply(command.login, result));
        return result;
      }),
    );
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

  /**
   * Reconciles every repository the app can see; one failing repository does not stop the others.
   * A repository another replica is reconciling right now is left to it (its report is then missing).
   */
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
      while (next < targets.length && !this.stopped) {
        const target = targets[next++];
        try {
          const report = await this.request(target, { turn: "skip" });
          if (report) reports.push(report);
        } catch (error) {
          this.deps.log.error({ repo: `${target.owner}/${target.repo}`, error: (error as Error).message }, "reconcile failed; the next tick tries again");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(REPOS_AT_ONCE, targets.length) }, worker));
    return reports;
  }

  /**
   * Starts the backstop tick and the precise timers, and catches up at once. Across replicas, the
   * leading replica runs the ticks (and the catch-up) and the shared timers.
   */
  start(): void {
    this.timersOn = true;
    this.stopped = false;
    this.task = cron.schedule(this.deps.cronExpression, () => this.tick(), { name: "timebox-reconcile", noOverlap: true });
    this.coordinator.start((target, at) => this.request(target, { turn: "wait", dueAt: at }).then(() => undefined));
    void this.tick();
  }

  /**
   * Stops the timed work: the tick (a pass under way finishes the repositories it started), the
   * timers, and the coordination across replicas (see Coordinator.stop). Work already queued runs.
   */
  async stop(): Promise<void> {
    this.timersOn = false;
    this.stopped = true;
    void this.task?.stop();
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    await this.coordinator.stop();
  }

  private async tick(): Promise<void> {
    if (await this.coordinator.claimTick()) await this.reconcileAll();
  }

  /**
   * Arms the timer for the next due time. Alone, this process's timer reconciles then. Across
   * replicas, a shared (durable) timer does, and this one is the safety net: it fires a lease TTL
   * later and reconciles only if nobody did since the due time — at once when Redis failed.
   */
  private armTimer(target: RepoTarget, at: Date | undefined): void {
    const name = `${target.owner}/${target.repo}`;
    clearTimeout(this.timers.get(name)?.timer);
    this.timers.delete(name);
    if (!this.timersOn || !at) return;
    if (!this.coordinator.shared) return this.armLocal(target, name, at, 0);
    this.armLocal(target, name, at, this.coordinator.safetyNetMs);
    void this.coordinator.schedule(target, at).then((shared) => {
      if (!shared && this.timers.get(name)?.at === at.getTime()) this.armLocal(target, name, at, 0);
    });
  }

  private armLocal(target: RepoTarget, name: string, at: Date, lateByMs: number): void {
    clearTimeout(this.timers.get(name)?.timer);
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at.getTime() - this.deps.clock.now().getTime()) + 250 + lateByMs);
    const dueAt = this.coordinator.shared ? at : undefined;
    const timer = setTimeout(() => {
      this.timers.delete(name);
      this.request(target, { turn: "wait", dueAt }).catch((error) =>
        this.deps.log.error({ repo: name, error: (error as Error).message }, "timed reconcile failed"),
      );
    }, delay);
    timer.unref();
    this.timers.set(name, { timer, at: at.getTime() });
  }
}

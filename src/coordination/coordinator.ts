/** A repository the app reconciles: its installation and name. */
export interface RepoTarget {
  installationId: number;
  owner: string;
  repo: string;
}

/**
 * How a reconcile takes its turn across replicas. "wait": a request someone made (a webhook, a
 * command, a due timer) waits for the replica that holds the repository and then runs itself, so
 * it always sees what happened before it. "skip": the backstop tick and the start-up catch-up give
 * way to a replica already working on the repository (that run covers them).
 */
export type Turn = "wait" | "skip";

/** What `exclusive` returns when it gave way to another replica ("skip" only). */
export const SKIPPED: unique symbol = Symbol("skipped");

/**
 * What the lifecycle runtime needs from the other replicas, if any. `LocalCoordinator`: one
 * process, nothing shared (REDIS_URL unset). `RedisCoordinator`: a lease per repository, one
 * leading replica for the backstop tick and the durable expiry timers; any Redis failure falls back to doing
 * the work in this replica, never to skipping it.
 */
export interface Coordinator {
  /** Whether other replicas share the work (a request may then be done, or given way, elsewhere). */
  readonly shared: boolean;
  /** Runs `work` while no other replica works on `repo` (see Turn). */
  exclusive<T>(repo: string, turn: Turn, work: () => Promise<T>): Promise<T | typeof SKIPPED>;
  /** Whether this replica runs the backstop tick now due (one replica, the leader, runs them). */
  claimTick(): Promise<boolean>;
  /** Whether this replica leads now (runs the ticks and the shared timers): always, alone. */
  leads(): boolean;
  /** Records that a reconcile of `repo` that started at `startedAt` completed. */
  reconciled(repo: string, startedAt: Date): Promise<void>;
  /** Whether some replica completed a reconcile of `repo` that started at or after `at`. */
  reconciledSince(repo: string, at: Date): Promise<boolean>;
  /** Asks for a reconcile of `target` at `at` on whichever replica is alive then; false when only local timers exist. */
  schedule(target: RepoTarget, at: Date): Promise<boolean>;
  /** Starts running shared timers: `fire` is called once per due timer, on one replica. */
  start(fire: (target: RepoTarget, at: Date) => Promise<void>): void;
  stop(): Promise<void>;
  /**
   * How long after a due time this replica's own timer waits before it reconciles (and then only
   * if nobody did since): 0 when its timers are the only ones.
   */
  readonly safetyNetMs: number;
}

/** One process, as without REDIS_URL: every replica does all of its work itself. */
export class LocalCoordinator implements Coordinator {
  readonly shared = false;
  readonly safetyNetMs = 0;

  async exclusive<T>(_repo: string, _turn: Turn, work: () => Promise<T>): Promise<T> {
    return work();
  }

  async claimTick(): Promise<boolean> {
    return true;
  }

  leads(): boolean {
    return true;
  }

  async reconciled(): Promise<void> {}

  async reconciledSince(): Promise<boolean> {
    return false;
  }

  async schedule(): Promise<boolean> {
    return false;
  }

  start(): void {}

  async stop(): Promise<void> {}
}

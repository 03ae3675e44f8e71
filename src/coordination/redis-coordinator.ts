import type { Logger } from "../lifecycle/actions.js";
import type { Clock } from "../util/clock.js";
import { SKIPPED, type Coordinator, type RepoTarget, type Turn } from "./coordinator.js";
import { Leases, type HeldLease } from "./lease.js";
import { RedisLink, replicaToken, type CoordinationHealth } from "./redis.js";
import { ExpiryTimers } from "./timers.js";

/** Keeps the latest start time of a completed reconcile (never moves it back). */
const MARK = `local v = tonumber(redis.call("get", KEYS[1]) or "0") if tonumber(ARGV[1]) > v then redis.call("set", KEYS[1], ARGV[1], "PX", ARGV[2]) end return 1`;
/** How long the "reconciled at" marks live: a repository not reconciled for a week simply reconciles again. */
const MARK_TTL_MS = 7 * 24 * 3600_000;

export interface RedisCoordinatorOptions {
  url: string;
  /** Keys are `<prefix>:…`; the app's id is in it, so two apps can share one Redis. */
  prefix: string;
  /** Lease TTL per repository, and BullMQ's job lock: how long a dead replica holds things up. */
  leaseTtlMs: number;
  clock: Clock;
  log: Logger;
  health: CoordinationHealth;
}

/**
 * Replicas sharing one Redis (REDIS_URL): one replica at a time reconciles a repository, and one
 * replica — the leader, holding a lease it renews while it lives — runs the backstop ticks and the
 * expiry timers (BullMQ jobs, durable in Redis). Keeping that work on one replica keeps it on warm
 * caches (what it already read and already revoked), so N replicas cost what one costs; webhooks
 * still go to any replica. Followers try to take the lead every third of the TTL, so a dead leader
 * is replaced within about one TTL, and its unfinished timer job is handed over by BullMQ. Every
 * Redis failure is counted, logged and answered by doing the work here: a lease that cannot be
 * taken is worked without, a tick that cannot be claimed is run, a mark that cannot be read means
 * "not done yet". Revocation never waits for Redis.
 */
export class RedisCoordinator implements Coordinator {
  readonly shared = true;
  readonly safetyNetMs: number;
  private readonly link: RedisLink;
  private readonly leases: Leases;
  private readonly timers: ExpiryTimers;
  private readonly token = replicaToken();
  private readonly leaderKey: string;
  private leader?: HeldLease;
  private leading?: Promise<boolean>;
  private campaign?: NodeJS.Timeout;
  private fire?: (target: RepoTarget, at: Date) => Promise<void>;
  /** Set by `stop`: no more campaigning for the lead. */
  private stopped = false;
  /** Work holding a repository's lease right now: `stop` lets it finish and release before closing Redis. */
  private readonly working = new Set<Promise<unknown>>();

  constructor(private readonly options: RedisCoordinatorOptions) {
    this.link = new RedisLink(options.url, options.log, options.health);
    this.leases = new Leases(this.link, options.leaseTtlMs, this.token);
    this.timers = new ExpiryTimers(this.link, `${options.prefix}:bull`, options.leaseTtlMs, options.log);
    // A replica's own timer waits one lease TTL past the due time: by then the shared timer has run
    // unless Redis is down or the replica running it died (its lease has then expired).
    this.safetyNetMs = options.leaseTtlMs;
    this.leaderKey = `${options.prefix}:leader`;
  }

  async exclusive<T>(repo: string, turn: Turn, work: () => Promise<T>): Promise<T | typeof SKIPPED> {
    const key = `${this.options.prefix}:lease:${repo}`;
    let lease;
    try {
      lease = turn === "wait" ? await this.leases.acquire(key) : await this.leases.tryAcquire(key);
    } catch (error) {
      this.link.failed("lease", error);
      return work();
    }
    if (!lease) return SKIPPED;
    const run = (async () => {
      try {
        return await work();
      } finally {
        await lease.release();
      }
    })();
    this.working.add(run);
    try {
      return await run;
    } finally {
      this.working.delete(run);
    }
  }

  /** The leader runs every tick; a follower only when Redis cannot say who leads. */
  async claimTick(): Promise<boolean> {
    try {
      return await this.lead();
    } catch (error) {
      this.link.failed("tick", error);
      return true;
    }
  }

  leads(): boolean {
    return this.leader !== undefined;
  }

  /** Whether this replica leads, taking the lead if nobody holds it. Throws when Redis fails. */
  private lead(): Promise<boolean> {
    if (this.leader) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    // One attempt at a time (the campaign and a tick may ask together).
    this.leading ??= this.leases
      .tryAcquire(this.leaderKey, () => this.stepDown())
      .then(async (lease) => {
        if (!lease) return false;
        // Stopped while asking: give the lead straight back (the next replica takes it at once).
        if (this.stopped) {
          await lease.release();
          return false;
        }
        this.leader = lease;
        this.options.log.info({}, "this replica now runs the backstop tick and the expiry timers");
        if (this.fire) this.timers.start(this.fire);
        return true;
      })
      .finally(() => {
        this.leading = undefined;
      });
    return this.leading;
  }

  private stepDown(): void {
    this.leader = undefined;
    this.options.log.warn({}, "lost the lead (Redis unreachable longer than the lease TTL?); another replica runs the tick and timers");
    void this.timers.pause();
  }

  async reconciled(repo: string, startedAt: Date): Promise<void> {
    await this.link.commands
      .eval(MARK, 1, `${this.options.prefix}:reconciled:${repo}`, startedAt.getTime(), MARK_TTL_MS)
      .catch((error: unknown) => this.link.failed("mark", error));
  }

  async reconciledSince(repo: string, at: Date): Promise<boolean> {
    try {
      const v = await this.link.commands.get(`${this.options.prefix}:reconciled:${repo}`);
      return v !== null && Number(v) >= at.getTime();
    } catch (error) {
      this.link.failed("mark", error);
      return false;
    }
  }

  async schedule(target: RepoTarget, at: Date): Promise<boolean> {
    try {
      await this.timers.schedule(target, at, this.options.clock.now());
      return true;
    } catch (error) {
      this.link.failed("timer", error);
      return false;
    }
  }

  start(fire: (target: RepoTarget, at: Date) => Promise<void>): void {
    this.fire = fire;
    const campaign = (): void => {
      this.lead().catch(() => undefined);
    };
    this.campaign = setInterval(campaign, Math.max(100, Math.floor(this.options.leaseTtlMs / 3)));
    this.campaign.unref();
    campaign();
  }

  /**
   * Stops leading (a graceful shutdown, or the end of a test): the lead is released at once, so
   * another replica takes over the tick and the timers without waiting for the lease TTL; this
   * replica's timer worker stops after the job it is running; work holding a repository's lease
   * finishes and releases it before the Redis connections close (a lease left to lapse would hold
   * the repository up for a TTL).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.campaign);
    // A campaign under way gives the lead straight back (see lead()).
    await this.leading?.catch(() => undefined);
    const leader = this.leader;
    this.leader = undefined;
    await leader?.release();
    await this.timers.stop();
    while (this.working.size > 0) await Promise.allSettled([...this.working]);
    await this.link.close();
  }
}

import type { Logger } from "../lifecycle/actions.js";
import type { Clock } from "../util/clock.js";
import { SKIPPED, type Coordinator, type RepoTarget, type Turn } from "./coordinator.js";
import { Leases } from "./lease.js";
import { RedisLink, replicaToken, type CoordinationHealth } from "./redis.js";
import { ExpiryTimers } from "./timers.js";

/** Keeps the latest start time of a completed reconcile (never moves it back). */
const MARK = `local v = tonumber(redis.call("get", KEYS[1]) or "0") if tonumber(ARGV[1]) > v then redis.call("set", KEYS[1], ARGV[1], "PX", ARGV[2]) end return 1`;
/** How long the "reconciled at" marks live: a repository not reconciled for a week simply reconciles again. */
const MARK_TTL_MS = 7 * 24 * 3600_000;
/** A tick slot stays claimed this long (past any reconcile interval node-cron allows at one per second). */
const TICK_CLAIM_MS = 10 * 60_000;

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
 * Replicas sharing one Redis (REDIS_URL): one replica at a time reconciles a repository, one
 * replica runs each backstop tick, and expiry timers are BullMQ jobs any live replica runs. Every
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

  constructor(private readonly options: RedisCoordinatorOptions) {
    this.link = new RedisLink(options.url, options.log, options.health);
    this.leases = new Leases(this.link, options.leaseTtlMs, this.token);
    this.timers = new ExpiryTimers(this.link, `${options.prefix}:bull`, options.leaseTtlMs, options.log);
    // A replica's own timer waits one lease TTL past the due time: by then the shared timer has run
    // unless Redis is down or the replica running it died (its lease has then expired).
    this.safetyNetMs = options.leaseTtlMs;
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
    try {
      return await work();
    } finally {
      await lease.release();
    }
  }

  async claimTick(slot: Date): Promise<boolean> {
    const key = `${this.options.prefix}:tick:${Math.round(slot.getTime() / 1000)}`;
    try {
      return (await this.link.commands.set(key, this.token, "PX", TICK_CLAIM_MS, "NX")) === "OK";
    } catch (error) {
      this.link.failed("tick", error);
      return true;
    }
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
    this.timers.start(fire);
  }

  async stop(): Promise<void> {
    await this.timers.stop();
    await this.link.close();
  }
}

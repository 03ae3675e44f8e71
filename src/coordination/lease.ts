import type { RedisLink } from "./redis.js";

/** Extends the lease only while this replica still holds it. */
const RENEW = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;
/** Deletes the lease only while this replica still holds it (compare-and-delete). */
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/** How often a replica waiting for a repository asks again. */
const POLL_MS = 200;
/**
 * How many lease TTLs a replica waits for a repository before working without the lease: a holder
 * that renews but never finishes (a hung process, or someone writing to Redis) never stops revocation.
 */
const MAX_WAIT_TTLS = 30;

/** A lease taken: renewed in the background until released. */
export interface HeldLease {
  release(): Promise<void>;
}

/**
 * One replica at a time per key: `SET key token NX PX ttl`, renewed every third of the TTL while
 * the work runs, released with a compare-and-delete. A replica that dies keeps its lease at most
 * one TTL. A lease lost while working (Redis unreachable longer than the TTL) is logged and the
 * work goes on: the branch's compare-and-swap and idempotent providers keep it correct.
 */
export class Leases {
  constructor(
    private readonly link: RedisLink,
    private readonly ttlMs: number,
    private readonly token: string,
  ) {}

  /**
   * Takes the lease, or undefined when another replica holds it. Throws when Redis fails.
   * `onLost` is called if a renewal finds the lease gone or someone else's.
   */
  async tryAcquire(key: string, onLost?: () => void): Promise<HeldLease | undefined> {
    const ok = await this.link.commands.set(key, this.token, "PX", this.ttlMs, "NX");
    return ok === "OK" ? this.held(key, onLost) : undefined;
  }

  /**
   * Waits until the lease is free and takes it. Throws when Redis fails, or when another holder
   * kept it longer than {@link MAX_WAIT_TTLS} TTLs (the caller then works unlocked).
   */
  async acquire(key: string): Promise<HeldLease> {
    const giveUpAt = Date.now() + MAX_WAIT_TTLS * this.ttlMs;
    for (;;) {
      const lease = await this.tryAcquire(key);
      if (lease) return lease;
      if (Date.now() >= giveUpAt) throw new Error(`another replica held ${key} for ${MAX_WAIT_TTLS} lease TTLs; working without it`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  private held(key: string, onLost?: () => void): HeldLease {
    const renew = setInterval(
      () => {
        this.link.commands.eval(RENEW, 1, key, this.token, this.ttlMs).then(
          (n) => {
            if (n === 1) return;
            clearInterval(renew);
            if (onLost) onLost();
            else this.link.failed("lease", new Error(`lease on ${key} expired while working`));
          },
          (error: unknown) => this.link.failed("lease", error),
        );
      },
      Math.max(100, Math.floor(this.ttlMs / 3)),
    );
    renew.unref();
    return {
      release: async () => {
        clearInterval(renew);
        // A failed release costs nothing but the lease's remaining TTL.
        await this.link.commands.eval(RELEASE, 1, key, this.token).catch((error: unknown) => this.link.failed("lease", error));
      },
    };
  }
}

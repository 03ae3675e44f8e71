import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "../lifecycle/actions.js";

/** Where coordination reports Redis's health: the `timebox_coordination_*` metrics. */
export interface CoordinationHealth {
  /** Redis reachable (true) or not (false): replicas then fall back to doing all work themselves. */
  up(ok: boolean): void;
  /** One failed coordination step (`op`: lease, tick, timer, mark), done locally instead. */
  error(op: string): void;
}

/** How long a command waits for Redis before this replica falls back to working alone. */
const COMMAND_TIMEOUT_MS = 2_000;

/** An error's message without anything that looks like a URL's credentials. */
export function safeRedisError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\/\/[^@/\s]*@/g, "//***@");
}

/** `promise`, or a failure once `ms` passed (BullMQ waits for a connection instead of failing fast). */
export async function within<T>(promise: Promise<T>, ms = COMMAND_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Names this replica in the leases it holds: host (the pod's name on Kubernetes) and process id. */
export function replicaToken(): string {
  return `${hostname()}:${process.pid}:${randomBytes(6).toString("hex")}`;
}

/**
 * The Redis connections of one replica. `commands` fails fast while Redis is unreachable (no
 * offline queue, a short timeout), so a lease or a tick claim falls back to local work at once;
 * BullMQ gets connections of its own that wait and reconnect as BullMQ requires. Health changes
 * are logged once per change, never with the URL (it may hold a password).
 */
export class RedisLink {
  readonly commands: Redis;
  private readonly queueConnections: Redis[] = [];
  private healthy?: boolean;

  constructor(
    private readonly url: string,
    private readonly log: Logger,
    private readonly health: CoordinationHealth,
  ) {
    this.commands = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    this.health.up(false);
    this.commands.on("ready", () => this.changed(true));
    this.commands.on("error", (error) => this.changed(false, error));
    this.commands.on("close", () => this.changed(false));
  }

  /** A connection for BullMQ: a worker's blocking commands wait (maxRetriesPerRequest null), a queue's adds fail fast. */
  forQueue(role: "worker" | "queue"): Redis {
    const connection = new Redis(this.url, {
      maxRetriesPerRequest: role === "worker" ? null : 1,
      enableOfflineQueue: role === "worker",
      connectTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    // Errors are reported by the commands connection (same server); these only must not go unhandled.
    connection.on("error", () => undefined);
    this.queueConnections.push(connection);
    return connection;
  }

  /** Counts a failed step and says the replica goes on alone. */
  failed(op: string, error: unknown): void {
    this.health.error(op);
    if (this.healthy !== false) this.log.warn({ op, error: safeRedisError(error) }, "Redis coordination failed; this replica does the work itself");
  }

  async close(): Promise<void> {
    for (const c of [this.commands, ...this.queueConnections]) c.disconnect();
  }

  private changed(ok: boolean, error?: unknown): void {
    if (this.healthy === ok) return;
    const before = this.healthy;
    this.healthy = ok;
    this.health.up(ok);
    if (ok) this.log.info({}, "Redis coordination up: replicas share leases, the backstop tick and expiry timers");
    else if (before !== undefined || error)
      this.log.warn(
        { error: error ? safeRedisError(error) : "connection closed" },
        "Redis coordination down: this replica reconciles and revokes on its own until it is back",
      );
  }
}

import { Queue, Worker, type Job } from "bullmq";
import type { Logger } from "../lifecycle/actions.js";
import type { RepoTarget } from "./coordinator.js";
import { safeRedisError, within, type RedisLink } from "./redis.js";

/** The BullMQ queue of due reconciles (expiries, reminders, reviews), shared by every replica. */
const EXPIRY_QUEUE = "timebox-expiry";

interface ExpiryJob {
  target: RepoTarget;
  /** ISO time the reconcile is due. */
  at: string;
}

/** Timers due at once run in parallel up to this many per replica (different repositories). */
const CONCURRENCY = 4;

/**
 * Durable timers: one delayed BullMQ job per repository and due time, so whichever replica is
 * alive when it falls due runs it. The job id is the repository and the time: every replica that
 * computes the same next expiry adds the same job, and duplicates collapse. Only the leading
 * replica runs a worker. A leader that dies while running a job loses its job lock after `lockMs`;
 * the next leader's stalled-job check (every half of it) then runs the job again. Finished jobs are kept an hour so a late duplicate
 * add stays collapsed.
 */
export class ExpiryTimers {
  private readonly queue: Queue<ExpiryJob>;
  private worker?: Worker<ExpiryJob>;

  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
    private readonly lockMs: number,
    private readonly log: Logger,
  ) {
    this.queue = new Queue<ExpiryJob>(EXPIRY_QUEUE, { connection: link.forQueue("queue"), prefix });
    this.queue.on("error", () => undefined);
  }

  /** Adds the job for `target` at `at`. Throws when Redis fails (the replica's own timer covers it). */
  async schedule(target: RepoTarget, at: Date, now: Date): Promise<void> {
    await within(
      this.queue.add(
        "reconcile",
        { target, at: at.toISOString() },
        {
          // BullMQ refuses ':' in custom ids.
          jobId: `${target.installationId}/${target.owner}/${target.repo}@${at.getTime()}`.replaceAll(":", "_"),
          delay: Math.max(0, at.getTime() - now.getTime()),
          attempts: 5,
          backoff: { type: "exponential", delay: 1_000 },
          removeOnComplete: { age: 3_600 },
          removeOnFail: { age: 24 * 3_600 },
        },
      ),
    );
  }

  /** Runs due jobs in this replica (the leader) until `pause`. */
  start(fire: (target: RepoTarget, at: Date) => Promise<void>): void {
    if (this.worker) return;
    this.worker = new Worker<ExpiryJob>(EXPIRY_QUEUE, (job: Job<ExpiryJob>) => fire(job.data.target, new Date(job.data.at)), {
      connection: this.link.forQueue("worker"),
      prefix: this.prefix,
      concurrency: CONCURRENCY,
      lockDuration: this.lockMs,
      stalledInterval: Math.max(1_000, Math.floor(this.lockMs / 2)),
      maxStalledCount: 10,
    });
    this.worker.on("error", (error) => this.link.failed("timer", error));
    this.worker.on("failed", (job, error) =>
      this.log.warn({ job: job?.id, error: safeRedisError(error) }, "timed reconcile failed; BullMQ retries it, the backstop tick too"),
    );
  }

  /** Stops running jobs here (another replica leads); a job under way finishes. */
  async pause(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.close().catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.pause();
    await this.queue.close().catch(() => undefined);
  }
}

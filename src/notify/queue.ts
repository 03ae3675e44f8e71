/**
 * One channel's deliveries, in the background: in order, one at a time (a Slack update needs the
 * message its request's first post created), retried with backoff, and bounded — at most `limit`
 * waiting, each given at most `retryDelaysMs.length + 1` attempts. Nothing here ever throws at the
 * caller or makes it wait.
 */

/** Why a delivery failed: retried when `retryable` (after `retryAfterMs` when the far end said so). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "DeliveryError";
  }
}

export interface QueueOptions {
  /** Most deliveries waiting; past it a new one is refused (`push` returns false). */
  limit: number;
  /** Waits between attempts; an attempt after the last is not made. */
  retryDelaysMs: readonly number[];
  /** A `Retry-After` longer than this is not honoured: the wait is capped here. */
  maxRetryAfterMs: number;
  sleep: (ms: number) => Promise<void>;
}

export type Settled = { outcome: "delivered"; attempts: number } | { outcome: "dropped"; attempts: number; error: string };

export class DeliveryQueue<T> {
  private readonly waiting: T[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly deliver: (item: T, attempt: number) => Promise<void>,
    private readonly settled: (item: T, result: Settled) => void,
    private readonly options: QueueOptions,
  ) {}

  /** Queues one delivery; false when the queue is full (the caller counts and logs the overflow). */
  push(item: T): boolean {
    if (this.waiting.length >= this.options.limit) return false;
    this.waiting.push(item);
    this.running ??= this.drain().finally(() => (this.running = undefined));
    return true;
  }

  /** Resolves when nothing is waiting or being delivered (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  get size(): number {
    return this.waiting.length;
  }

  private async drain(): Promise<void> {
    for (let item = this.waiting.shift(); item !== undefined; item = this.waiting.shift()) {
      const result = await this.attempts(item);
      try {
        this.settled(item, result);
      } catch {
        // Counting and logging must never stop the queue.
      }
    }
  }

  private async attempts(item: T): Promise<Settled> {
    const { retryDelaysMs, maxRetryAfterMs, sleep } = this.options;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deliver(item, attempt);
        return { outcome: "delivered", attempts: attempt + 1 };
      } catch (error) {
        const known = error instanceof DeliveryError ? error : new DeliveryError("the delivery failed unexpectedly", true);
        const delay = retryDelaysMs[attempt];
        if (!known.retryable || delay === undefined) return { outcome: "dropped", attempts: attempt + 1, error: known.message };
        await sleep(Math.min(Math.max(delay, known.retryAfterMs ?? 0), Math.max(delay, maxRetryAfterMs)));
      }
    }
  }
}

/** A wait that never keeps the process alive on its own. */
export const unrefSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });

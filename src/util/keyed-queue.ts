/**
 * Runs tasks one at a time per key (a pull request, a repository) inside one process, so two
 * webhooks for the same PR never interleave their reads and writes. Different keys run in parallel.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** The keys with a task running or waiting (what a shutdown past its deadline leaves unfinished). */
  pending(): string[] {
    return [...this.tails.keys()];
  }

  /** Resolves when every queued task has finished (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}

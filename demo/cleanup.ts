/** What the demo started, undone when it ends however it ends: the last thing started is stopped first. */
export class Cleanup {
  private readonly tasks: { what: string; run: () => Promise<unknown> | unknown }[] = [];
  private finished?: Promise<void>;

  constructor(private readonly warn: (text: string) => void) {}

  add(what: string, run: () => Promise<unknown> | unknown): void {
    this.tasks.push({ what, run });
  }

  /** Runs every task once, even when one fails; later calls wait for the first. */
  runAll(): Promise<void> {
    this.finished ??= (async () => {
      for (const task of this.tasks.splice(0).reverse()) {
        try {
          await task.run();
        } catch (error) {
          this.warn(`cleanup: could not ${task.what}: ${(error as Error).message}\n`);
        }
      }
    })();
    return this.finished;
  }
}

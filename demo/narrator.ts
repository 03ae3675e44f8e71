/**
 * The demo's voice: chapters, checked facts (✓), and the one failed expectation (✗) that ends it.
 * Every ✓ is printed only after the fact was observed; a fact that does not come true in time
 * throws a StepFailure saying what was expected and what was seen instead.
 */
class StepFailure extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`expected ${expected}, got ${actual}`);
  }
}

export interface WaitOptions {
  /** What was seen instead, for the failure message. */
  seen?: () => string | Promise<string>;
  timeoutMs?: number;
}

export class Narrator {
  checks = 0;
  private chapterNo = 0;

  constructor(private readonly write: (text: string) => void) {}

  title(text: string): void {
    this.write(`${text}\n`);
  }

  chapter(text: string): void {
    this.chapterNo++;
    this.write(`\n${this.chapterNo}. ${text}\n`);
  }

  say(text: string): void {
    this.write(`   ${text}\n`);
  }

  /** Indented verbatim lines (a file, trailers, a table). */
  quote(text: string): void {
    for (const line of text.replace(/\n+$/, "").split("\n")) this.write(`       ${line}\n`);
  }

  ok(text: string): void {
    this.checks++;
    this.write(`   ✓ ${text}\n`);
  }

  /** Fails the step unless `holds`. */
  check(holds: boolean, expected: string, actual: () => string): void {
    if (!holds) throw new StepFailure(expected, actual());
  }

  /** Polls `probe` (real time: the app runs in its own process) until it gives a value. */
  async waitFor<T>(expected: string, probe: () => Promise<T | undefined> | T | undefined, options: WaitOptions = {}): Promise<T> {
    const end = Date.now() + (options.timeoutMs ?? 20_000);
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > end) throw new StepFailure(expected, options.seen ? await options.seen() : "nothing, in time");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  failed(error: unknown, diagnostics: string): void {
    if (error instanceof StepFailure) {
      this.write(`   ✗ expected: ${error.expected}\n`);
      this.write(`     got:      ${error.actual}\n`);
    } else {
      this.write(`   ✗ the demo broke: ${(error as Error)?.stack ?? String(error)}\n`);
    }
    if (diagnostics.trim()) {
      this.write("\n   What the Timebox process logged last:\n");
      this.quote(diagnostics);
    }
  }
}

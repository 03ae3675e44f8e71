#!/usr/bin/env node
/** `npm run demo`: the whole product, offline, narrated. Exit code 0 only if every step happened. */
import { Cleanup } from "./cleanup.js";
import { runDemo } from "./run-demo.js";

const cleanup = new Cleanup((text) => process.stderr.write(text));
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    process.stdout.write(`\nInterrupted (${signal}): stopping everything the demo started.\n`);
    void cleanup.runAll().finally(() => process.exit(130));
  });
}

process.exitCode = await runDemo({ write: (text) => process.stdout.write(text), cleanup });

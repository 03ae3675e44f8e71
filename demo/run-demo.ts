/**
 * Runs the demo from start to finish: sets the world up, plays the scenario, cleans up, and gives
 * the exit code: 0 only if every step happened, 1 at the first one that did not.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Cleanup } from "./cleanup.js";
import { Narrator } from "./narrator.js";
import { playScenario } from "./scenario.js";
import { startWorld, type World } from "./world.js";

export interface DemoIo {
  write: (text: string) => void;
  cleanup: Cleanup;
}

/** The repository root: the nearest folder up from here whose package.json is Timebox's. */
export function repositoryRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "timebox") return dir;
    if (dirname(dir) === dir) throw new Error("cannot find Timebox's package.json above the demo");
  }
}

export interface DemoOptions {
  scenario?: (n: Narrator, w: World) => Promise<void>;
  /** The compiled time-travel preload (next to this file once built). */
  preload?: URL;
}

export async function runDemo(io: DemoIo, options: DemoOptions = {}): Promise<0 | 1> {
  const scenario = options.scenario ?? playScenario;
  const started = performance.now();
  const n = new Narrator(io.write);
  let world: World | undefined;
  n.title("Timebox demo: temporary production access through pull requests.");
  n.title("Everything runs on this machine: no network, no credentials.");
  try {
    n.chapter("Starting the pieces");
    const root = repositoryRoot();
    const preload = options.preload ?? new URL("./time-travel-preload.js", import.meta.url);
    world = await startWorld(root, preload, io.cleanup, {
      scratch: (dir) => n.say(`Working files go to ${dir} (removed at the end).`),
      postgres: (url) =>
        n.ok(`embedded PostgreSQL (PGlite) at ${url.replace(/^postgres:\/\/[^@]*@/, "")}, with the login role dev1_login and the role analytics_read`),
      github: (url) => n.ok(`emulated GitHub at ${url}: org acme, teams @acme/sre (alice) and @acme/engineering (dev1, dev2), the repository acme/access`),
      app: (url) => n.ok(`Timebox itself at ${url}: \`probot run lib/index.js\` (what \`npm start\` runs) in its own process, webhooks signed`),
    });
    await scenario(n, world);
    n.title(`\nEvery step happened: ${n.checks} checks passed in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
    return 0;
  } catch (error) {
    n.failed(error, world?.app.tail() ?? "");
    n.title(`\nThe demo failed after ${n.checks} checks.`);
    return 1;
  } finally {
    await io.cleanup.runAll();
  }
}

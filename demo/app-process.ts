/**
 * The real Timebox server for the demo: `probot run <repo>/lib/index.js` (what `npm start` runs) in
 * a child process, configured only through environment variables, reached over HTTP. The demo's
 * time-travel preload is the one addition (see time-travel-preload.ts). The process runs in an
 * empty temporary directory, so a developer's `.env` in the repository is never read.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Cleanup } from "./cleanup.js";

export interface AppProcess {
  url: string;
  /** Moves the process's clock forward by `ms`; resolves with the time it now reads. */
  jump(ms: number): Promise<Date>;
  /** The last lines the process printed (for a failure report). */
  tail(lines?: number): string;
  stop(): Promise<void>;
}

export interface AppProcessOptions {
  /** The repository root (holds lib/ and node_modules/). */
  root: string;
  /** An empty directory to run in. */
  cwd: string;
  preload: URL;
  env: Record<string, string>;
}

/** A port nobody listens on right now (the app needs its port before it starts). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What a child needs from the parent's environment; nothing else leaks in (no tokens, no proxies). */
function baseEnv(): Record<string, string> {
  const keep = ["PATH", "HOME", "TMPDIR", "LANG", "TZ", "SYSTEMROOT"];
  return Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!]));
}

/** Starts the process and registers its stop with `cleanup` at once (before it even answers). */
export async function startAppProcess(options: AppProcessOptions, cleanup: Cleanup): Promise<AppProcess> {
  const lib = join(options.root, "lib", "index.js");
  if (!existsSync(lib)) throw new Error(`${lib} is missing: build it first (npm run demo does)`);
  const probot = join(options.root, "node_modules", "probot", "bin", "probot.js");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  let exit: string | undefined;
  const child: ChildProcess = spawn(process.execPath, ["--import", options.preload.href, probot, "run", lib], {
    cwd: options.cwd,
    env: { ...baseEnv(), ...options.env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    // Its own process group: a Ctrl-C in the terminal reaches the demo, whose cleanup stops the app
    // in order. Should the demo die without cleaning up, the app exits when the IPC channel closes.
    detached: true,
  });
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exit = `exited (${signal ?? `code ${code}`})`;
      resolve();
    }),
  );

  const stop = async () => {
    if (exit) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  cleanup.add("stop the Timebox process", stop);

  const end = Date.now() + 20_000;
  while (
    !(await fetch(`${url}/ping`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (exit || Date.now() > end) {
      throw new Error(`the Timebox process did not answer ${url}/ping (${exit ?? "timed out"}):\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const jump = (ms: number) =>
    new Promise<Date>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the Timebox process did not acknowledge the clock jump")), 5_000);
      const onMessage = (message: { type?: string; now?: string }) => {
        if (message?.type !== "timebox-demo:jumped") return;
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(new Date(message.now!));
      };
      child.on("message", onMessage);
      child.send({ type: "timebox-demo:jump", ms });
    });

  const tail = (lines = 30) => [...output.trimEnd().split("\n").slice(-lines), ...(exit ? [`(the process ${exit})`] : [])].join("\n");
  return { url, jump, tail, stop };
}

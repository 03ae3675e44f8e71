/**
 * The built app (`probot run ./lib/index.js`, what `npm start` runs) in its own process, reached
 * over HTTP, talking to an emulated GitHub through GHE_HOST and to a real PostgreSQL. `npm test`
 * builds `lib/` first (pretest), so a missing build is a failure, not a skip.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { systemClock } from "../harness/clock.js";
import { GitHubEmulator } from "../harness/github/index.js";
import { startTestPostgres, uniqueSuffix, type TestPostgres } from "../providers/postgres-server.js";
import { POLICY } from "./access-repo.js";
import { privateKey } from "./probot.js";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** Polls `probe` until it gives a value other than undefined/false (real time: the app runs apart). */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface LiveApp {
  gh: GitHubEmulator;
  pg: TestPostgres;
  url: string;
  /** Every replica started (the first one serves `url`). */
  apps: AppProcess[];
  repoName: string;
  target: string;
  login: string;
  hasAccess(): Promise<boolean>;
  /** What the app process printed so far (for failure messages and secret checks). */
  output(): string;
  /** Stops the app, drops this run's roles, stops GitHub and PostgreSQL. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * An access repository on the emulated GitHub, real database roles, and the built app serving it.
 * `env` adds to or overrides the app's environment (e.g. `LOG_LEVEL`, `LOG_FORMAT`); `replicas`
 * processes of the app serve the same repository (a deployment scaled out).
 */
export async function startLiveApp(
  webhookSecret: string,
  env: Record<string, string> = {},
  replicas = 1,
  /** Changes to the repository's first policy version (trusted as the policy the app was installed with; a later push to main is not). */
  policyOf: (policy: string) => string = (p) => p,
): Promise<LiveApp> {
  const lib = new URL("../../lib/index.js", import.meta.url);
  if (!existsSync(lib)) throw new Error(`${lib.pathname} is missing: run \`npm run build\` (npm test does)`);
  const pg = await startTestPostgres();
  const s = uniqueSuffix();
  const target = `analytics_read_${s}`;
  const login = `dev1_${s}`;
  await pg.admin(`CREATE ROLE "${target}" NOLOGIN`);
  await pg.admin(`CREATE ROLE "${login}" LOGIN`);
  const gh = new GitHubEmulator({ clock: systemClock, webhookSecret });
  await gh.start();
  for (const user of ["dev1", "alice"]) gh.createUser(user, { orgs: ["acme"] });
  gh.createTeam({ org: "acme", slug: "sre", members: ["alice"] });
  gh.createTeam({ org: "acme", slug: "engineering", members: ["dev1"] });
  const policy = policyOf(POLICY)
    .replace("target: analytics_read", `target: ${target}`)
    .replace("dev1: { postgres: dev1_login }", `dev1: { postgres: ${login} }`)
    .replace("settings: { url_env: PROD_DB_URL }", `settings: { url_env: PROD_DB_URL, pool_size: ${pg.poolSize} }`);
  const repoName = `access-${s}`;
  gh.createRepo({ owner: "acme", name: repoName, files: { ".github/timebox.yml": policy } });

  const apps: AppProcess[] = [];
  for (let i = 0; i < replicas; i++) apps.push(await spawnApp(gh, pg, env));
  const { url } = apps[0];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const app of apps) app.kill("SIGTERM");
    await Promise.all(apps.map((app) => app.exited));
    await pg.idle();
    const roles = await pg.admin<{ r: string }>(
      "SELECT rolname AS r FROM pg_roles WHERE rolname LIKE 'timebox_%' AND shobj_description(oid, 'pg_authid') LIKE $1",
      [`%${repoName}%`],
    );
    for (const role of roles.rows) await pg.admin(`DROP ROLE IF EXISTS "${role.r}"`);
    await pg.admin(`DROP ROLE IF EXISTS "${login}"`);
    await pg.admin(`DROP ROLE IF EXISTS "${target}"`);
    await gh.stop();
    await pg.stop();
  };
  await Promise.all(apps.map((app) => app.ready())).catch(async (e) => {
    await stop();
    throw e;
  });
  const hasAccess = async () => (await pg.admin<{ ok: boolean }>("SELECT pg_has_role($1, $2, 'MEMBER') AS ok", [login, target])).rows[0].ok;
  return { gh, pg, url, apps, repoName, target, login, hasAccess, output: () => apps.map((app) => app.output()).join(""), stop };
}

/** One process of the built app (one replica), as `npm start` runs it. */
interface AppProcess {
  url: string;
  pid: number;
  /** What the process printed so far. */
  output(): string;
  /** Resolves once it answers /ping (fails with its output after 30 s). */
  ready(): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** Resolves when the process has exited: with its exit code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the built app against `gh` and `pg` with `env` added (a replica of a deployment). */
async function spawnApp(gh: GitHubEmulator, pg: TestPostgres, env: Record<string, string> = {}): Promise<AppProcess> {
  const port = await freePort();
  let output = "";
  const app: ChildProcess = spawn(process.execPath, ["node_modules/probot/bin/probot.js", "run", "./lib/index.js"], {
    cwd: new URL("../..", import.meta.url).pathname,
    env: {
      ...process.env,
      ...gh.env(),
      PRIVATE_KEY: privateKey,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      PROD_DB_URL: pg.url,
      NODE_OPTIONS: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  app.stdout!.on("data", (d) => (output += d));
  app.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    app.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const ready = () =>
    until(
      "the app to answer /ping",
      () =>
        fetch(`${url}/ping`).then(
          (r) => r.ok,
          () => false,
        ),
      // Generous: a loaded CI machine starting several replicas at once.
      90_000,
    ).then(
      () => undefined,
      (e: unknown) => {
        throw new Error(`${(e as Error).message}\n${output}`);
      },
    );
  return { url, pid: app.pid!, output: () => output, ready, kill: (signal) => app.kill(signal), exited };
}

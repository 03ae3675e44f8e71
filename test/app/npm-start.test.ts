/**
 * The built app as GitHub drives it: `probot run ./lib/index.js` in its own process (what
 * `npm start` runs after building), configured only through environment variables, reached with
 * signed webhooks over HTTP, talking to the emulated GitHub through GHE_HOST, and to a real
 * PostgreSQL (the server in CI, embedded PGlite otherwise). Needs `lib/` (npm test builds it).
 */
import { jest } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { systemClock } from "../harness/clock.js";
import { GitHubEmulator } from "../harness/github/index.js";
import { startTestPostgres, uniqueSuffix, type TestPostgres } from "../providers/postgres-server.js";
import { grantYaml, POLICY } from "../support/access-repo.js";
import { privateKey } from "../support/probot.js";

jest.setTimeout(90_000);

const built = existsSync(new URL("../../lib/index.js", import.meta.url));
const maybe = built ? test : test.skip;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let app: ChildProcess | undefined;
let output = "";
let gh: GitHubEmulator;
let pg: TestPostgres;

afterEach(async () => {
  app?.kill("SIGTERM");
  await gh?.stop();
  await pg?.stop();
});

maybe("npm start: a signed PR webhook gets the checks; merge grants real PostgreSQL access", async () => {
  pg = await startTestPostgres();
  const s = uniqueSuffix();
  const target = `analytics_read_${s}`;
  const login = `dev1_${s}`;
  await pg.admin(`CREATE ROLE "${target}" NOLOGIN`);
  await pg.admin(`CREATE ROLE "${login}" LOGIN`);
  gh = new GitHubEmulator({ clock: systemClock, webhookSecret: "smoke-secret" });
  await gh.start();
  for (const user of ["dev1", "alice"]) gh.createUser(user, { orgs: ["acme"] });
  gh.createTeam({ org: "acme", slug: "sre", members: ["alice"] });
  gh.createTeam({ org: "acme", slug: "engineering", members: ["dev1"] });
  const policy = POLICY.replace("target: analytics_read", `target: ${target}`)
    .replace("dev1: { postgres: dev1_login }", `dev1: { postgres: ${login} }`)
    .replace("settings: { url_env: PROD_DB_URL }", `settings: { url_env: PROD_DB_URL, pool_size: ${pg.poolSize} }`);
  gh.createRepo({ owner: "acme", name: `access-${s}`, files: { ".github/timebox.yml": policy } });

  const port = await freePort();
  app = spawn(process.execPath, ["node_modules/probot/bin/probot.js", "run", "./lib/index.js"], {
    cwd: new URL("../..", import.meta.url).pathname,
    env: { ...process.env, ...gh.env(), PRIVATE_KEY: privateKey, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", PROD_DB_URL: pg.url, NODE_OPTIONS: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  app.stdout!.on("data", (d) => (output += d));
  app.stderr!.on("data", (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  await until("the app to answer /ping", () => fetch(`${url}/ping`).then((r) => r.ok, () => false)).catch((e) => {
    throw new Error(`${(e as Error).message}\n${output}`);
  });

  const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": grantYaml() } });
  expect((await gh.deliver(url, pr)).map((r) => r.status)).toEqual(pr.map(() => 200));
  const validate = await until("timebox/validate", () => gh.checkRuns(pr.sha!, "timebox/validate").at(-1));
  expect(validate.conclusion).toBe("success");

  // A delivery with a wrong signature is refused and changes nothing; the genuine one is handled.
  const review = gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" });
  expect((await gh.deliver(url, review, { secret: "wrong" })).map((r) => r.status)).toEqual([400]);
  expect(gh.checkRuns(pr.sha!, "timebox/approval").at(-1)!.conclusion).toBe("action_required");
  expect((await gh.deliver(url, review)).map((r) => r.status)).toEqual([200]);
  await until("approval", () => gh.checkRuns(pr.sha!, "timebox/approval").at(-1)?.conclusion === "success");

  await gh.deliver(url, gh.merge(pr.number!, { by: "alice" }));
  const hasAccess = async () => (await pg.admin<{ ok: boolean }>("SELECT pg_has_role($1, $2, 'MEMBER') AS ok", [login, target])).rows[0].ok;
  await until("access in PostgreSQL", hasAccess);
  await until("the applied comment", () => gh.comments(pr.number!).some((c: { body: string }) => c.body.includes("timebox:applied")));
  expect(output).not.toContain(pg.url);

  app.kill("SIGTERM");
  await pg.idle();
  for (const role of (await pg.admin<{ r: string }>("SELECT rolname AS r FROM pg_roles WHERE rolname LIKE 'timebox_%' AND shobj_description(oid, 'pg_authid') LIKE $1", [`%access-${s}%`])).rows) {
    await pg.admin(`DROP ROLE IF EXISTS "${role.r}"`);
  }
  await pg.admin(`DROP ROLE IF EXISTS "${login}"`);
  await pg.admin(`DROP ROLE IF EXISTS "${target}"`);

});

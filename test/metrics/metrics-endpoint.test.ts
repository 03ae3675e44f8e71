/**
 * `/metrics` on the built app as GitHub drives it: `probot run ./lib/index.js` in its own process,
 * signed webhooks over HTTP, the emulated GitHub through GHE_HOST, a real PostgreSQL (the server
 * in CI, embedded PGlite otherwise). After a PR is validated, approved and merged (so the grant is
 * applied), Prometheus sees the webhook, reconcile and grant series. Needs `lib/` (npm test builds it).
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

const built = existsSync(new URL("../../lib/index.js", import.meta.url)) && existsSync(new URL("../../lib/metrics/index.js", import.meta.url));
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

/** The value of one sample line (`name{labels} value`) in the exposition text, if present. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

let app: ChildProcess | undefined;
let output = "";
let gh: GitHubEmulator | undefined;
let pg: TestPostgres | undefined;

afterEach(async () => {
  app?.kill("SIGTERM");
  await gh?.stop();
  await pg?.stop();
});

maybe("the running app exposes webhook, reconcile and grant series on /metrics after an end-to-end grant", async () => {
  pg = await startTestPostgres();
  const s = uniqueSuffix();
  const target = `analytics_read_${s}`;
  const login = `dev1_${s}`;
  await pg.admin(`CREATE ROLE "${target}" NOLOGIN`);
  await pg.admin(`CREATE ROLE "${login}" LOGIN`);
  gh = new GitHubEmulator({ clock: systemClock, webhookSecret: "metrics-secret" });
  await gh.start();
  for (const user of ["dev1", "alice"]) gh.createUser(user, { orgs: ["acme"] });
  gh.createTeam({ org: "acme", slug: "sre", members: ["alice"] });
  gh.createTeam({ org: "acme", slug: "engineering", members: ["dev1"] });
  const policy = POLICY.replace("target: analytics_read", `target: ${target}`)
    .replace("dev1: { postgres: dev1_login }", `dev1: { postgres: ${login} }`)
    .replace("settings: { url_env: PROD_DB_URL }", `settings: { url_env: PROD_DB_URL, pool_size: ${pg.poolSize} }`);
  const repoName = `access-${s}`;
  gh.createRepo({ owner: "acme", name: repoName, files: { ".github/timebox.yml": policy } });

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
  const metrics = async () => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    return res.text();
  };

  // Before any webhook: the families are declared, process metrics are there.
  const before = await metrics();
  expect(before).toContain("# TYPE timebox_webhook_events_total counter");
  expect(before).toContain("# TYPE timebox_reconcile_duration_seconds histogram");
  expect(before).toContain("# TYPE timebox_revocation_lag_seconds histogram");
  expect(before).toContain("process_resident_memory_bytes");

  const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": grantYaml() } });
  expect((await gh.deliver(url, pr)).map((r) => r.status)).toEqual(pr.map(() => 200));
  await until("timebox/validate", () => gh!.checkRuns(pr.sha!, "timebox/validate").at(-1));
  // The webhook response is sent before handlers finish: wait for the counter.
  const opened = 'timebox_webhook_events_total{event="pull_request",action="opened",outcome="ok"}';
  await until("the opened event counted", async () => sample(await metrics(), opened) === 1);

  await gh.deliver(url, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  await until("approval", () => gh!.checkRuns(pr.sha!, "timebox/approval").at(-1)?.conclusion === "success");
  await gh.deliver(url, gh.merge(pr.number!, { by: "alice" }));
  await until("the applied comment", () => gh!.comments(pr.number!).some((c: { body: string }) => c.body.includes("timebox:applied")));

  const repoSeries = `timebox_grants_active{repo="acme/${repoName}"}`;
  const text = await until("the apply counted", async () => {
    const t = await metrics();
    return sample(t, 'timebox_grant_operations_total{operation="apply",outcome="ok"}') === 1 && sample(t, repoSeries) === 1 ? t : undefined;
  });
  expect(sample(text, opened)).toBe(1);
  expect(sample(text, 'timebox_webhook_events_total{event="pull_request_review",action="submitted",outcome="ok"}')).toBe(1);
  expect(sample(text, 'timebox_webhook_events_total{event="pull_request",action="closed",outcome="ok"}')).toBe(1);
  expect(sample(text, 'timebox_reconciles_total{outcome="ok"}')).toBeGreaterThanOrEqual(1);
  expect(sample(text, 'timebox_reconciles_total{outcome="error"}')).toBe(0);
  expect(sample(text, 'timebox_reconcile_duration_seconds_count{outcome="ok"}')).toBeGreaterThanOrEqual(1);
  expect(sample(text, 'timebox_grant_operations_total{operation="apply",outcome="error"}')).toBe(0);
  expect(sample(text, "timebox_revocation_lag_seconds_count")).toBe(0);
  // Bounded, secret-free labels: no grant paths, logins or connection URLs.
  expect(text).not.toContain("grants/");
  expect(text).not.toContain(login);
  expect(text).not.toContain(pg.url);

  app.kill("SIGTERM");
  await pg.idle();
  for (const role of (await pg.admin<{ r: string }>("SELECT rolname AS r FROM pg_roles WHERE rolname LIKE 'timebox_%' AND shobj_description(oid, 'pg_authid') LIKE $1", [`%access-${s}%`])).rows) {
    await pg.admin(`DROP ROLE IF EXISTS "${role.r}"`);
  }
  await pg.admin(`DROP ROLE IF EXISTS "${login}"`);
  await pg.admin(`DROP ROLE IF EXISTS "${target}"`);
});

/**
 * Apply and revoke latency per provider, side by side in one run (issue #12's provider bench):
 * every provider against its local test server — PostgreSQL (the server at
 * $TIMEBOX_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/postgres, else PGlite over
 * pglite-socket), GitHub (the emulated GitHub of test/harness, team membership), MySQL/MariaDB
 * ($TIMEBOX_TEST_MYSQL_URL, else mysql://root@127.0.0.1:3306/), LDAP (a throw-away slapd, as
 * test/providers/ldap-server.ts starts it; `member` of a groupOfNames and `memberUid` of a
 * posixGroup), webhook (the example receiver of docs/providers/webhook.md, on 127.0.0.1) and
 * kubernetes (the emulated API server of test/harness/kubernetes, a namespaced Role),
 * aws-identity-center (moto's server) and gcp-iam (the emulated Resource Manager of test/harness/gcp).
 *
 * For each: 200 grants, each to its own principal on one target, then their 200 revokes, one at a
 * time, through the BUILT provider (lib/providers/…, `npm run build` first), as the lifecycle calls
 * it: apply = recordPriorAccess (when the provider has it) + grant + isGranted read-back; revoke =
 * revoke + isGranted read-back. The first connection (`checkTarget`) is outside the figures.
 * Nearest-rank p50 (the median) and p99, in ms; the grant and revoke calls alone are kept too.
 *
 * A provider whose server is missing is recorded as skipped with the reason, never a failure; a
 * read-back that disagrees fails. No assertions on time. The GitHub provider runs without
 * Octokit's write pacing (`throttle: false`, as the tests build it): deployed, Octokit spaces
 * writes at least 1 s apart, so back-to-back GitHub applies take about a second each.
 *
 * Run by bench/run.js (section e), which passes $TIMEBOX_BENCH_PROVIDER_OUT; on its own:
 *   npm run build && NODE_OPTIONS=--experimental-vm-modules npx jest -c bench/jest.config.js provider-latency
 * $TIMEBOX_BENCH_GRANTS changes the count (default 200), $TIMEBOX_BENCH_PROVIDERS=mysql,ldap picks providers.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import mysql from "mysql2/promise";
import pg from "pg";
import type { ActiveGrant, Provider } from "../src/providers/types.js";
import { GitHubEmulator } from "../test/harness/github/index.js";
import { startResourceManager } from "../test/harness/gcp/resource-manager.js";
import { startEmulatedKubernetes } from "../test/harness/kubernetes/api-server.js";
import { startTestMoto } from "../test/providers/moto-server.js";
import { startTestSlapd } from "../test/providers/ldap-server.js";
import { ident, Made, startTestMysql } from "../test/providers/mysql-server.js";
import { startTestPostgres, uniqueSuffix } from "../test/providers/postgres-server.js";
import { loadExampleReceiver } from "../test/providers/webhook-receiver.js";

const N = Number(process.env.TIMEBOX_BENCH_GRANTS ?? 200);
const ONLY = process.env.TIMEBOX_BENCH_PROVIDERS?.split(",").map((s) => s.trim());
const TIMEOUT = 15 * 60_000;
const POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const MYSQL_URL = "mysql://root@127.0.0.1:3306/";

/** The built provider modules (lib/), typed as their sources; a path in a variable keeps tsc off the untyped .js. */
async function built<M>(path: string): Promise<M> {
  return (await import(path)) as M;
}

interface Stats {
  p50: number;
  p99: number;
  max: number;
}
type Outcome =
  | { status: "measured"; server: string; grants: number; apply_ms: Stats; revoke_ms: Stats; grant_call_ms: Stats; revoke_call_ms: Stats }
  | { status: "skipped" | "failed"; reason: string };

/** A provider ready to measure: principals that exist at the server, one target, and how to clean up. */
interface Setup {
  server: string;
  provider: Provider;
  principals: string[];
  target: string;
  roleSettings?: ActiveGrant["roleSettings"];
  cleanup(shortIds: string[]): Promise<void>;
}

/** The server is not there: recorded as skipped. */
class Missing extends Error {}

const results: Record<string, Outcome> = {};

const now = (): bigint => process.hrtime.bigint();
const ms = (since: bigint): number => Number(now() - since) / 1e6;

function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p50: r(at(50)), p99: r(at(99)), max: r(s[s.length - 1]!) };
}

function grantFor(principal: string, target: string, roleSettings: ActiveGrant["roleSettings"], i: number): ActiveGrant {
  const grantedAt = new Date();
  return {
    id: `grants/bench-${i}.yaml`,
    shortId: randomBytes(6).toString("hex"),
    repo: "acme/bench",
    requester: `dev${i}`,
    principal,
    resource: "bench",
    role: "bench",
    target,
    roleSettings,
    pullRequest: 1000 + i,
    grantedAt,
    expiresAt: new Date(grantedAt.getTime() + 2 * 3600_000),
  };
}

async function measure(name: string, setup: Setup): Promise<Outcome> {
  const { provider, target } = setup;
  const grants = setup.principals.map((p, i) => grantFor(p, target, setup.roleSettings ?? {}, i));
  try {
    const problems = await provider.checkTarget(target); // the first connection, outside the figures
    if (problems.some((d) => d.severity === "error")) throw new Error(`checkTarget: ${problems.map((d) => d.message).join("; ")}`);
    const apply: number[] = [];
    const grantCall: number[] = [];
    const applied: ActiveGrant[] = [];
    for (const g of grants) {
      const start = now();
      const withPrior = provider.recordPriorAccess ? { ...g, priorAccess: await provider.recordPriorAccess(g, []) } : g;
      const call = now();
      await provider.grant(withPrior);
      grantCall.push(ms(call));
      if (!(await provider.isGranted(withPrior))) throw new Error(`${name}: ${g.principal} is not granted after grant`);
      apply.push(ms(start));
      applied.push(withPrior);
    }
    const revoke: number[] = [];
    const revokeCall: number[] = [];
    for (const g of applied) {
      const start = now();
      await provider.revoke(g, []);
      revokeCall.push(ms(start));
      if (await provider.isGranted(g)) throw new Error(`${name}: ${g.principal} is still granted after revoke`);
      revoke.push(ms(start));
    }
    return {
      status: "measured",
      server: setup.server,
      grants: grants.length,
      apply_ms: stats(apply),
      revoke_ms: stats(revoke),
      grant_call_ms: stats(grantCall),
      revoke_call_ms: stats(revokeCall),
    };
  } finally {
    await provider.close?.();
    await setup.cleanup(grants.map((g) => g.shortId));
  }
}

const range = (prefix: string) => Array.from({ length: N }, (_, i) => `${prefix}${i}`);

async function postgres(): Promise<Setup> {
  const { postgresProviderFactory } = await built<typeof import("../src/providers/postgres/index.js")>("../lib/providers/postgres/index.js");
  const url = process.env.TIMEBOX_TEST_POSTGRES_URL ?? POSTGRES_URL;
  let version: string | undefined;
  let absent = "";
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await probe.connect();
    version = (await probe.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
  } catch (err) {
    absent = (err as { code?: string }).code ?? (err as Error).message;
  } finally {
    await probe.end().catch(() => undefined);
  }
  // startTestPostgres picks the server by this variable; PGlite when it is unset.
  const before = process.env.TIMEBOX_TEST_POSTGRES_URL;
  if (version) process.env.TIMEBOX_TEST_POSTGRES_URL = url;
  else delete process.env.TIMEBOX_TEST_POSTGRES_URL;
  const pgs = await startTestPostgres();
  if (before === undefined) delete process.env.TIMEBOX_TEST_POSTGRES_URL;
  else process.env.TIMEBOX_TEST_POSTGRES_URL = before;
  const suffix = uniqueSuffix();
  const target = `tbbench_target_${suffix}`;
  const principals = range(`tbbench_${suffix}_`);
  await pgs.admin(`CREATE ROLE ${pg.escapeIdentifier(target)} NOLOGIN`);
  for (const p of principals) await pgs.admin(`CREATE ROLE ${pg.escapeIdentifier(p)} LOGIN`);
  return {
    server: version ? `PostgreSQL ${version} (${new URL(url).host})` : `PGlite over pglite-socket, one connection (no server: ${absent})`,
    provider: postgresProviderFactory.create({
      resource: "bench",
      settings: { url_env: "U", pool_size: pgs.poolSize },
      env: { U: pgs.url },
      timeoutMs: 30_000,
    }),
    principals,
    target,
    cleanup: async (shortIds) => {
      await pgs.idle();
      for (const r of [...shortIds.map((s) => `timebox_${s}`), ...principals, target])
        await pgs.admin(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(r)}`).catch(() => undefined);
      await pgs.stop();
    },
  };
}

async function github(): Promise<Setup> {
  const { createGithubProvider } = await built<typeof import("../src/providers/github/index.js")>("../lib/providers/github/index.js");
  const gh = new GitHubEmulator();
  await gh.start();
  const principals = range("person");
  gh.createOrg("acme", { members: principals });
  gh.createTeam({ org: "acme", slug: "ops" });
  return {
    server: "emulated GitHub (test/harness) on 127.0.0.1, team membership",
    provider: createGithubProvider(
      { resource: "bench", settings: { token_env: "T", base_url_env: "U" }, env: { T: gh.providerToken, U: gh.baseUrl }, timeoutMs: 30_000 },
      { throttle: false },
    ),
    principals,
    target: "@acme/ops",
    cleanup: () => gh.stop(),
  };
}

async function mysqlServer(): Promise<Setup> {
  const { mysqlProviderFactory } = await built<typeof import("../src/providers/mysql/index.js")>("../lib/providers/mysql/index.js");
  const url = process.env.TIMEBOX_TEST_MYSQL_URL ?? MYSQL_URL;
  const u = new URL(url);
  let server: string;
  try {
    const c = await mysql.createConnection({
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      connectTimeout: 3000,
    });
    const [rows] = await c.query("SELECT VERSION() AS v, @@global.event_scheduler AS s");
    const { v, s } = (rows as Array<{ v: string; s: string }>)[0]!;
    server = `${/mariadb/i.test(v) ? "MariaDB" : "MySQL"} ${v.replace(/-MariaDB.*$/i, "")} (${u.host}, event scheduler ${s})`;
    await c.end();
  } catch (err) {
    throw new Missing(`no MySQL/MariaDB server at ${u.host} (${(err as { code?: string }).code ?? "error"})`);
  }
  const before = process.env.TIMEBOX_TEST_MYSQL_URL;
  process.env.TIMEBOX_TEST_MYSQL_URL = url;
  const my = await startTestMysql();
  if (before === undefined) delete process.env.TIMEBOX_TEST_MYSQL_URL;
  const made = new Made(() => my);
  const target = await made.role();
  const principals: string[] = [];
  for (let i = 0; i < N; i++) principals.push(await made.account());
  return {
    server,
    provider: mysqlProviderFactory.create({ resource: "bench", settings: { url_env: "U" }, env: { U: url }, timeoutMs: 30_000 }),
    principals,
    target,
    cleanup: async (shortIds) => {
      await made.dropAll();
      for (const s of shortIds) await my.admin(`DROP ROLE IF EXISTS ${ident(`timebox_${s}`)}`).catch(() => undefined);
      await my.stop();
    },
  };
}

function ldap(attribute: "member" | "memberUid"): () => Promise<Setup> {
  return async () => {
    const { ldapProviderFactory } = await built<typeof import("../src/providers/ldap/index.js")>("../lib/providers/ldap/index.js");
    const slapd = await startTestSlapd().catch((err: Error) => {
      throw /not installed/.test(err.message) ? new Missing(err.message) : err;
    });
    const principals = range("person");
    for (const uid of principals) await slapd.addUser(uid);
    const target = attribute === "member" ? await slapd.addGroup("ops", "groupOfNames") : await slapd.addGroup("shell", "posixGroup");
    return {
      server: `slapd (OpenLDAP, mdb) on 127.0.0.1, ${attribute === "member" ? "member of a groupOfNames" : "memberUid of a posixGroup"}, principals by uid`,
      // Principals by login name (resolved under base_dn on every call), the common case.
      provider: ldapProviderFactory.create({ resource: "bench", settings: slapd.settings, env: slapd.env, timeoutMs: 30_000 }),
      principals,
      target,
      roleSettings: { member_attribute: attribute },
      cleanup: () => slapd.stop(),
    };
  };
}

async function webhook(): Promise<Setup> {
  const { webhookProviderFactory } = await built<typeof import("../src/providers/webhook/index.js")>("../lib/providers/webhook/index.js");
  const { receiver, memorySystem } = await loadExampleReceiver();
  const secret = randomBytes(32).toString("hex");
  const principals = range("bench").map((p) => `${p}@acme.example`);
  const system = memorySystem({ "bench-target": [] }, principals);
  const server = createServer(receiver(secret, system));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/timebox`;
  return {
    server: "the example receiver of docs/providers/webhook.md on 127.0.0.1",
    provider: webhookProviderFactory.create({ resource: "bench", settings: { url_env: "U", secret_env: "S" }, env: { U: url, S: secret }, timeoutMs: 30_000 }),
    principals,
    target: "bench-target",
    cleanup: async () => {
      if (system.members.get("bench-target")?.size) throw new Error("webhook: access left behind in the receiver");
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function kubernetes(): Promise<Setup> {
  const { kubernetesProviderFactory } = await built<typeof import("../src/providers/kubernetes/index.js")>("../lib/providers/kubernetes/index.js");
  const emu = await startEmulatedKubernetes();
  emu.addNamespace("bench");
  emu.addRole("bench", "bench-role");
  return {
    server: "the emulated API server of test/harness/kubernetes on 127.0.0.1 (RoleBindings)",
    provider: kubernetesProviderFactory.create({ resource: "bench", settings: { kubeconfig_env: "KC" }, env: { KC: emu.kubeconfig() }, timeoutMs: 30_000 }),
    principals: range("bench").map((p) => `${p}@acme.example`),
    target: "bench/Role/bench-role",
    cleanup: async () => {
      if (emu.bindings().length > 0) throw new Error("kubernetes: bindings left behind");
      if (emu.violations.length > 0) throw new Error(`kubernetes: emulator model violations: ${emu.violations.join("; ")}`);
      await emu.stop();
    },
  };
}

async function awsIdentityCenter(): Promise<Setup> {
  const { awsIdentityCenterProviderFactory } = await built<typeof import("../src/providers/aws-identity-center/index.js")>(
    "../lib/providers/aws-identity-center/index.js",
  );
  const moto = await startTestMoto().catch((err: Error) => {
    throw /not installed/.test(err.message) ? new Missing(err.message) : err;
  });
  const account = moto.account();
  await moto.addPermissionSet("BenchReadOnly", "PT1H");
  const principals = range("bench").map((p) => `${p}@acme.example`);
  for (const p of principals) await moto.addUser(p);
  return {
    server: "moto's server on 127.0.0.1 (sso-admin account assignments; moto reports provisioning as done at once)",
    provider: awsIdentityCenterProviderFactory.create({ resource: "bench", settings: moto.settings, env: moto.env, timeoutMs: 30_000 }),
    principals,
    target: `${account}/BenchReadOnly`,
    cleanup: async () => {
      await moto.stop();
    },
  };
}

async function gcpIam(): Promise<Setup> {
  const { gcpIamProviderFactory } = await built<typeof import("../src/providers/gcp-iam/index.js")>("../lib/providers/gcp-iam/index.js");
  const rm = await startResourceManager();
  rm.addResource("projects/acme-bench");
  const principals = range("bench").map((p) => `user:${p}@acme.example`);
  for (const p of principals) rm.addPrincipal(p);
  return {
    server: "the emulated Resource Manager IAM endpoint of test/harness/gcp on 127.0.0.1 (conditional bindings, etags)",
    provider: gcpIamProviderFactory.create({
      resource: "bench",
      settings: { credentials_env: "KEY", endpoint_env: "ENDPOINT" },
      env: { KEY: rm.keyJson, ENDPOINT: rm.url },
      timeoutMs: 30_000,
    }),
    principals,
    target: "projects/acme-bench#roles/viewer",
    cleanup: async () => {
      if (rm.violations.length > 0) throw new Error(`gcp-iam: emulator violations: ${rm.violations.join("; ")}`);
      await rm.stop();
    },
  };
}

const PROVIDERS: Array<[string, () => Promise<Setup>]> = [
  ["postgres", postgres],
  ["github", github],
  ["mysql", mysqlServer],
  ["ldap", ldap("member")],
  ["ldap_memberuid", ldap("memberUid")],
  ["webhook", webhook],
  ["kubernetes", kubernetes],
  ["aws_identity_center", awsIdentityCenter],
  ["gcp_iam", gcpIam],
];

describe(`provider apply/revoke latency, ${N} grants each`, () => {
  afterAll(() => {
    const out = process.env.TIMEBOX_BENCH_PROVIDER_OUT;
    if (out) writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    else console.log(JSON.stringify(results, null, 2));
  });

  for (const [name, setup] of PROVIDERS) {
    if (ONLY && !ONLY.includes(name)) continue;
    test(
      name,
      async () => {
        let ready: Setup;
        try {
          ready = await setup();
        } catch (err) {
          if (!(err instanceof Missing)) {
            results[name] = { status: "failed", reason: String((err as Error).message ?? err) };
            throw err;
          }
          results[name] = { status: "skipped", reason: err.message };
          console.log(`${name}: skipped: ${err.message}`);
          return;
        }
        try {
          results[name] = await measure(name, ready);
        } catch (err) {
          results[name] = { status: "failed", reason: String((err as Error).message ?? err) };
          throw err;
        }
      },
      TIMEOUT,
    );
  }
});

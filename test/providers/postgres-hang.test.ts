/**
 * A PostgreSQL server that hangs cannot stall the lifecycle (issue #10 item 12, design rule 13):
 * every call of the provider rejects within its timeouts with a retryable ProviderError that
 * carries no credentials; a connection whose query timed out is destroyed, never reused; a grant
 * given up half-way leaves nothing behind and holds no lock; and once the pool's deadline passed,
 * the provider sends nothing more (no late grant lands after the revoke that followed).
 *
 * Hangs are real TCP servers on 127.0.0.1: a black hole (accepts, never answers) and a proxy in
 * front of the test PostgreSQL (TIMEBOX_TEST_POSTGRES_URL, else PGlite) that stalls on cue.
 */
import pg from "pg";
import { ProviderPool } from "../../src/lifecycle/provider-pool.js";
import type { Policy } from "../../src/policy/types.js";
import { withDeadline } from "../../src/providers/deadline.js";
import { PostgresProvider, postgresProviderFactory, timeoutsWithin, type PostgresTimeouts } from "../../src/providers/postgres/index.js";
import { ProviderError, type ActiveGrant } from "../../src/providers/types.js";
import { errorTexts, makeActiveGrant } from "./contract.js";
import { eventually, hostPort, startBlackHole, startStallingProxy, viaPort, type BlackHole, type StallingProxy } from "./hang-servers.js";
import { startTestPostgres, testPostgresMode, uniqueSuffix, type TestPostgres } from "./postgres-server.js";

const TIMEOUT = 30_000;
/** Generous: a hung call must fail, not hang; how fast is not asserted beyond this. */
const BOUND = 10_000;
const SECRET = "hung-S3cret/pw";
const FAST: Partial<PostgresTimeouts> = { connectMs: 300, queryMs: 300, statementMs: 250 };
const ident = pg.escapeIdentifier;
/** Mid-transaction hangs need real sessions: PGlite has one backend, whose transaction a dropped socket does not end. */
const serverOnly = testPostgresMode() === "server" ? test : test.skip;

let pgs: TestPostgres;
let hole: BlackHole;
let proxy: StallingProxy;
const suffix = uniqueSuffix();
const login = `tbtest_hang_login_${suffix}`;
const target = `tbtest_hang_target_${suffix}`;

beforeAll(async () => {
  pgs = await startTestPostgres();
  hole = await startBlackHole();
  proxy = await startStallingProxy(hostPort(pgs.url));
  await pgs.admin(`CREATE ROLE ${ident(login)} LOGIN`);
  await pgs.admin(`CREATE ROLE ${ident(target)} NOLOGIN`);
}, TIMEOUT);

afterAll(async () => {
  await proxy?.close();
  await hole?.close();
  if (pgs) {
    const { rows } = await pgs.admin<{ rolname: string }>(
      `SELECT r.rolname FROM pg_roles r JOIN pg_auth_members am ON am.roleid = r.oid JOIN pg_roles m ON m.oid = am.member
       WHERE starts_with(r.rolname, 'timebox_') AND m.rolname = $1`,
      [login],
    );
    for (const r of [...rows.map((x) => x.rolname), login, target]) await pgs.admin(`DROP ROLE IF EXISTS ${ident(r)}`);
    await pgs.stop();
  }
}, TIMEOUT);

afterEach(async () => {
  proxy.stall(undefined);
  await pgs.idle();
});

function direct(url: string, timeouts: Partial<PostgresTimeouts> = FAST): PostgresProvider {
  return new PostgresProvider({ resource: "prod-db", urlEnv: "DB_URL", url, terminateSessions: false, poolSize: pgs.poolSize, timeouts });
}

const proxied = () => viaPort(pgs.url, proxy.port, SECRET);
const grantFor = (): ActiveGrant => makeActiveGrant(login, target, { resource: "prod-db" });

/** The error a call rejects with, checked: a retryable ProviderError, in bounded time, no secrets. */
async function hung(p: Promise<unknown>, url: string): Promise<ProviderError> {
  const started = Date.now();
  const err = await p.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  expect(Date.now() - started).toBeLessThan(BOUND);
  expect(err).toBeInstanceOf(ProviderError);
  const e = err as ProviderError;
  expect(e.retryable).toBe(true);
  const texts = errorTexts(e);
  for (const secret of [SECRET, encodeURIComponent(SECRET), url, new URL(url).host]) expect(texts).not.toContain(secret);
  return e;
}

/** Every proxied connection closed, and the test server free again. */
async function settled(): Promise<void> {
  await eventually(() => proxy.open === 0);
  await pgs.idle();
}

async function handleExists(g: ActiveGrant): Promise<boolean> {
  return (await pgs.admin("SELECT 1 FROM pg_roles WHERE rolname = $1", [`timebox_${g.shortId}`])).rows.length > 0;
}

describe("a server that accepts connections and never answers", () => {
  test(
    "grant, revoke, isGranted, listManaged and checkTarget each fail at the connect timeout",
    async () => {
      const url = `postgres://timebox:${encodeURIComponent(SECRET)}@127.0.0.1:${hole.port}/prod`;
      const p = direct(url);
      const g = grantFor();
      for (const call of [() => p.grant(g), () => p.revoke(g), () => p.isGranted(g), () => p.listManaged(), () => p.checkTarget(target, login)]) {
        const err = await hung(call(), url);
        expect(err.message).toBe("postgres: connection to prod-db failed (no answer within 0.3 s)");
      }
      await p.close();
    },
    TIMEOUT,
  );

  test(
    "a reply cut off in the middle of the startup fails at the connect timeout too",
    async () => {
      proxy.stall({ afterServerBytes: 5 });
      const url = proxied();
      const p = direct(url);
      const err = await hung(p.isGranted(grantFor()), url);
      expect(err.message).toBe("postgres: connection to prod-db failed (no answer within 0.3 s)");
      await p.close();
    },
    TIMEOUT,
  );
});

describe("a server that answers the startup, then hangs on queries", () => {
  test(
    "every call fails at the client-side query timeout",
    async () => {
      proxy.stall({ afterQueries: 0 });
      const url = proxied();
      const g = grantFor();
      const p = direct(url);
      const calls: Array<[string, () => Promise<unknown>]> = [
        ["grant", () => p.grant(g)],
        ["revoke", () => p.revoke(g)],
        ["check grant", () => p.isGranted(g)],
        ["list managed roles", () => p.listManaged()],
        ["check target", () => p.checkTarget(target, login)],
      ];
      for (const [what, call] of calls) {
        const err = await hung(call(), url);
        expect(err.message).toMatch(new RegExp(`^postgres: ${what}.* on prod-db failed \\(no answer within 0\\.3 s\\)$`));
        await settled(); // PGlite serves one connection: wait until the hung one is gone
      }
      expect(proxy.queriesSwallowed).toBeGreaterThanOrEqual(calls.length);
      await p.close();
    },
    TIMEOUT,
  );

  test(
    "the connection whose query timed out is destroyed, not reused: the next call works",
    async () => {
      proxy.stall({ afterQueries: 0 });
      const url = proxied();
      const p = direct(url);
      const g = grantFor();
      await hung(p.isGranted(g), url);
      // The hung connection is closed (the proxy sees it go), and the pool (size 1 on PGlite) reconnects.
      await settled();
      proxy.stall(undefined);
      await expect(p.isGranted(g)).resolves.toBe(false);
      await p.close();
    },
    TIMEOUT,
  );

  serverOnly(
    "a grant that hangs mid-transaction leaves no role behind and does not hold the lock",
    async () => {
      // BEGIN and the advisory lock reach the server; the next query never does.
      proxy.stall({ afterQueries: 2 });
      const url = proxied();
      const p = direct(url);
      const g = grantFor();
      const err = await hung(p.grant(g), url);
      expect(err.message).toMatch(/^postgres: grant .* on prod-db failed \(no answer within 0\.3 s\)$/);
      await eventually(() => proxy.open === 0);
      // The server rolled back when the connection went: another grant takes the lock and completes.
      const healthy = direct(pgs.url, {});
      const other = grantFor();
      await healthy.grant(other);
      expect(await healthy.isGranted(other)).toBe(true);
      expect(await handleExists(g)).toBe(false);
      await healthy.revoke(other);
      await healthy.close();
      await p.close();
    },
    TIMEOUT,
  );
});

describe("through the provider pool (the deadline every lifecycle call runs under)", () => {
  const policy = { resources: { "prod-db": { provider: "postgres", settings: { url_env: "DB_URL", pool_size: 1 }, roles: {} } } } as unknown as Policy;

  test(
    "grant, revoke, isGranted and listManaged on a hung server reject within the deadline",
    async () => {
      proxy.stall({ afterQueries: 0 });
      const url = proxied();
      const pool = new ProviderPool({ DB_URL: url }, { timeoutMs: 300 });
      const p = pool.forResource(policy, "prod-db");
      const g = grantFor();
      for (const call of [() => p.grant(g), () => p.revoke(g, []), () => p.isGranted(g), () => p.listManaged!()]) {
        const err = await hung(call(), url);
        expect(err.message).toMatch(/prod-db/);
        expect(err.message).toMatch(/(no answer|did not answer) within 0\.3 s/);
        await settled();
      }
      await pool.close();
    },
    TIMEOUT,
  );

  test("the factory fits the provider's own timeouts inside the deadline", () => {
    const p = postgresProviderFactory.create({ resource: "prod-db", settings: { url_env: "DB_URL" }, env: {}, timeoutMs: 2_000 });
    expect(p.timeouts).toMatchObject({ connectMs: 2_000, queryMs: 2_000, statementMs: 1_600 });
    expect(timeoutsWithin(60_000)).toMatchObject({ connectMs: 10_000, queryMs: 15_000, statementMs: 10_000 });
    expect(timeoutsWithin(undefined).queryMs).toBe(15_000);
  });

  test(
    "once the deadline passed, the provider sends nothing more: no late grant lands",
    async () => {
      // A slow startup: the connection is made only after the deadline. The provider's own timeouts
      // are long, so only the deadline it is told about can stop it.
      proxy.stall({ connectDelayMs: 800 });
      const url = proxied();
      const raw = direct(url, { connectMs: 5_000, queryMs: 5_000, statementMs: 4_000 });
      const p = withDeadline(raw, "prod-db", 300);
      const g = grantFor();
      const before = proxy.queriesForwarded;
      const err = await hung(p.grant(g), url);
      expect(err.message).toBe(`prod-db: the postgres provider did not answer within 0.3 s (grant ${g.id})`);
      // Long after the connection came up, not one query reached the server, and there is no role.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(proxy.queriesForwarded).toBe(before);
      expect(await handleExists(g)).toBe(false);
      await raw.close();
    },
    TIMEOUT,
  );
});

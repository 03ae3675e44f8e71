/**
 * The PostgreSQL provider: the shared contract plus postgres-only behaviour. Runs against the real
 * server when TIMEBOX_TEST_POSTGRES_URL is set, else against PGlite over pglite-socket (see
 * postgres-server.ts for what PGlite cannot show). Role names carry a random suffix so parallel
 * runs against one real server never clash; everything made here is dropped in afterAll.
 */
import net from "node:net";
import pg from "pg";
import { postgresProviderFactory, type PostgresProvider } from "../../src/providers/postgres/index.js";
import { ProviderError, type Provider } from "../../src/providers/types.js";
import { describeProviderContract, errorTexts, makeActiveGrant } from "./contract.js";
import { startTestPostgres, testPostgresMode, uniqueSuffix, type TestPostgres } from "./postgres-server.js";

const TIMEOUT = 30_000;
const ident = pg.escapeIdentifier;

/** Roles made by one describe block, dropped (with any timebox_ role hanging off them) at the end. */
class Roles {
  private readonly made: string[] = [];
  private n = 0;
  readonly suffix = uniqueSuffix();
  constructor(private readonly pgs: TestPostgres) {}

  name(kind: string): string {
    return `tbtest_${kind}_${this.suffix}_${++this.n}`;
  }

  async create(name: string, login: boolean): Promise<string> {
    await this.pgs.admin(`CREATE ROLE ${ident(name)} ${login ? "LOGIN" : "NOLOGIN"}`);
    this.made.push(name);
    return name;
  }

  async dropAll(): Promise<void> {
    const { rows } = await this.pgs.admin<{ rolname: string }>(
      `SELECT DISTINCT r.rolname FROM pg_auth_members am JOIN pg_roles r ON r.oid IN (am.member, am.roleid)
       JOIN pg_roles o ON o.oid IN (am.member, am.roleid) AND o.oid <> r.oid
       WHERE starts_with(r.rolname, 'timebox_') AND o.rolname = ANY($1)`,
      [this.made],
    );
    for (const r of [...rows.map((x) => x.rolname), ...this.made]) {
      // DROP OWNED also clears privileges a failed test left behind, which would block DROP ROLE
      await this.pgs.admin(`DROP ROLE IF EXISTS ${ident(r)}`).catch(async () => {
        await this.pgs.admin(`DROP OWNED BY ${ident(r)}`);
        await this.pgs.admin(`DROP ROLE ${ident(r)}`);
      });
    }
  }
}

async function hasRole(pgs: TestPostgres, member: string, group: string): Promise<boolean> {
  const { rows } = await pgs.admin<{ m: boolean }>("SELECT pg_has_role($1, $2, 'MEMBER') AS m", [member, group]);
  return rows[0]!.m;
}

function makeProvider(pgs: TestPostgres, settings: Record<string, string | number | boolean> = {}): PostgresProvider {
  return postgresProviderFactory.create({
    resource: "prod-db",
    settings: { url_env: "TIMEBOX_DB_URL", pool_size: pgs.poolSize, ...settings },
    env: { TIMEBOX_DB_URL: pgs.url },
  });
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const SECRET = "S3cr3t-p@ss/word";
async function badUrl(): Promise<string> {
  return `postgres://timebox:${encodeURIComponent(SECRET)}@127.0.0.1:${await closedPort()}/prod`;
}

/** Run the calls in order and return what each threw. */
async function failures(calls: Array<() => Promise<unknown>>): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const c of calls)
    out.push(
      await c().then(
        () => new Error("expected a failure"),
        (e: unknown) => e,
      ),
    );
  return out;
}

let pgs: TestPostgres;
beforeAll(async () => {
  pgs = await startTestPostgres();
}, TIMEOUT);
afterAll(async () => {
  await pgs?.stop();
}, TIMEOUT);

describeProviderContract(`postgres (${testPostgresMode()})`, async () => {
  const roles = new Roles(pgs);
  const provider = makeProvider(pgs);
  return {
    provider,
    resource: "prod-db",
    makePrincipal: () => roles.create(roles.name("login"), true),
    makeTarget: () => roles.create(roles.name("target"), false),
    missingTarget: () => `tbtest_missing_${roles.suffix}`,
    missingPrincipal: () => `tbtest_nobody_${roles.suffix}`,
    grantOutsideTimebox: async (p, t) => void (await pgs.admin(`GRANT ${ident(t)} TO ${ident(p)}`)),
    hasAccess: (p, t) => hasRole(pgs, p, t),
    withBadCredentials: async () => {
      const url = await badUrl();
      const bad = postgresProviderFactory.create({ resource: "prod-db", settings: { url_env: "DB_URL" }, env: { DB_URL: url } });
      return { provider: bad, secrets: [SECRET, encodeURIComponent(SECRET), url] };
    },
    teardown: async () => {
      await provider.close();
      await pgs.idle();
      await roles.dropAll();
    },
  };
});

describe("postgres provider", () => {
  let roles: Roles;
  let provider: PostgresProvider | undefined;

  beforeAll(() => {
    roles = new Roles(pgs);
  });
  afterEach(async () => {
    await provider?.close();
    provider = undefined;
    await pgs.idle(); // PGlite admits one connection: let the next test's provider in
  });
  afterAll(async () => {
    await roles?.dropAll();
  }, TIMEOUT);

  const principalAndTarget = async () => [await roles.create(roles.name("login"), true), await roles.create(roles.name("target"), false)] as const;

  test(
    "hostile role names are quoted everywhere and break nothing",
    async () => {
      const p = await roles.create(`x"; DROP ROLE postgres; --${roles.suffix}`, true);
      const t = await roles.create(`t'); DROP ROLE postgres; -- "${roles.suffix}`, false);
      provider = makeProvider(pgs);
      const g = makeActiveGrant(p, t, {
        id: `grants/it's "evil"'); DROP ROLE postgres; --.yaml`,
        repo: `acme/'"; --`,
        requester: `o'brien"\\`,
      });
      expect(await provider.checkTarget(t, p)).toEqual([]);
      await provider.grant(g);
      expect(await provider.isGranted(g)).toBe(true);
      expect(await hasRole(pgs, p, t)).toBe(true);
      const listed = (await provider.listManaged()).find((m) => m.shortId === g.shortId);
      expect(listed).toMatchObject({ grantId: g.id, repo: g.repo, principal: p, target: t });
      await provider.revoke(g);
      expect(await provider.isGranted(g)).toBe(false);
      expect(await hasRole(pgs, p, t)).toBe(false);
      const { rows } = await pgs.admin<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname = ANY($1)", [["postgres", p, t]]);
      expect(rows.map((r) => r.rolname).sort()).toEqual(["postgres", p, t].sort());
    },
    TIMEOUT,
  );

  test(
    "a short id that is not identifier-safe is refused before any SQL runs",
    async () => {
      const [p, t] = await principalAndTarget();
      provider = makeProvider(pgs);
      const g = makeActiveGrant(p, t, { shortId: `x"; DROP ROLE postgres; --` });
      await expect(provider.grant(g)).rejects.toMatchObject({ name: "ProviderError", retryable: false });
      await expect(provider.revoke(g)).rejects.toBeInstanceOf(ProviderError);
      expect(await hasRole(pgs, p, t)).toBe(false);
    },
    TIMEOUT,
  );

  test(
    "listManaged round-trips the role comment and skips roles that are not Timebox's",
    async () => {
      const [p, t] = await principalAndTarget();
      provider = makeProvider(pgs);
      const g = makeActiveGrant(p, t, { id: "grants/dev1-prod-db.yaml", repo: "acme/access", pullRequest: 7, requester: "dev1" });
      await provider.grant(g);
      // a hand-made timebox_ role with a hand-edited comment is still listed (drift), just without details
      const stray = `timebox_${roles.suffix}ff`;
      await roles.create(stray, false);
      await pgs.admin(`COMMENT ON ROLE ${ident(stray)} IS 'not json'`);
      await roles.create(`timeboxz${roles.suffix}`, false); // `_` is not a LIKE wildcard here

      const managed = await provider.listManaged();
      expect(managed.find((m) => m.shortId === g.shortId)).toEqual({
        handle: `timebox_${g.shortId}`,
        shortId: g.shortId,
        grantId: g.id,
        repo: "acme/access",
        principal: p,
        target: t,
        expiresAt: g.expiresAt,
      });
      expect(managed.find((m) => m.handle === stray)).toEqual({ handle: stray, shortId: `${roles.suffix}ff` });
      expect(managed.some((m) => m.handle === `timeboxz${roles.suffix}`)).toBe(false);
      const { rows } = await pgs.admin<{ c: string }>("SELECT shobj_description(oid, 'pg_authid') AS c FROM pg_roles WHERE rolname = $1", [
        `timebox_${g.shortId}`,
      ]);
      expect(JSON.parse(rows[0]!.c)).toEqual({ grant: g.id, repo: "acme/access", pr: 7, requester: "dev1", expires_at: g.expiresAt.toISOString() });
      await provider.revoke(g);
    },
    TIMEOUT,
  );

  test(
    "grant completes a grant that failed half-way",
    async () => {
      const [p, t] = await principalAndTarget();
      provider = makeProvider(pgs);
      const g = makeActiveGrant(p, t);
      await pgs.admin(`CREATE ROLE ${ident(`timebox_${g.shortId}`)} NOLOGIN`); // as if a crash came after CREATE ROLE
      expect(await provider.isGranted(g)).toBe(false);
      await provider.grant(g);
      expect(await provider.isGranted(g)).toBe(true);
      expect(await hasRole(pgs, p, t)).toBe(true);
      await provider.revoke(g);
    },
    TIMEOUT,
  );

  test(
    "granting to a missing role fails clearly, changes nothing, and is not retryable",
    async () => {
      const [p] = await principalAndTarget();
      provider = makeProvider(pgs);
      const g = makeActiveGrant(p, `tbtest_missing_${roles.suffix}`);
      await expect(provider.grant(g)).rejects.toMatchObject({
        retryable: false,
        message: expect.stringContaining(`target role \`tbtest_missing_${roles.suffix}\` does not exist`),
      });
      const { rows } = await pgs.admin("SELECT 1 FROM pg_roles WHERE rolname = $1", [`timebox_${g.shortId}`]);
      expect(rows).toHaveLength(0);
    },
    TIMEOUT,
  );

  test(
    "a missing env var is named, a connection failure is summarised, and no URL or password shows",
    async () => {
      const missing = postgresProviderFactory.create({ resource: "prod-db", settings: { url_env: "PROD_DB_URL" }, env: {} });
      await expect(missing.checkTarget("x")).rejects.toThrow("postgres: environment variable PROD_DB_URL (the connection URL for prod-db) is not set");

      const url = await badUrl();
      const bad = postgresProviderFactory.create({ resource: "prod-db", settings: { url_env: "DB" }, env: { DB: url } });
      const [err] = await failures([() => bad.checkTarget("x")]);
      expect((err as Error).message).toBe("postgres: connection to prod-db failed (ECONNREFUSED)");

      // other ways to fail: unknown host, malformed URL with a password in it, wrong database
      const urls = [
        `postgres://timebox:${SECRET}@no-such-host.invalid:5432/prod`,
        `postgres://timebox:${SECRET}@[bad/prod`,
        `host=127.0.0.1 port=1 password='${SECRET}'`,
      ];
      if (pgs.mode === "server") {
        // PGlite ignores the database name; a real server refuses it (3D000)
        const u = new URL(pgs.url);
        u.password = encodeURIComponent(SECRET);
        u.pathname = `/no_such_db_${roles.suffix}`;
        urls.push(u.toString());
      }
      for (const u of urls) {
        const p = postgresProviderFactory.create({ resource: "prod-db", settings: { url_env: "DB", pool_size: pgs.poolSize }, env: { DB: u } });
        const errs = await failures([() => p.checkTarget("x"), () => p.listManaged()]);
        await p.close();
        await pgs.idle();
        for (const e of errs) {
          expect(e).toBeInstanceOf(ProviderError);
          const text = errorTexts(e);
          expect(text).not.toContain(SECRET);
          expect(text).not.toContain(encodeURIComponent(SECRET));
          expect(text).not.toContain(u);
        }
      }
    },
    TIMEOUT,
  );

  test(
    "concurrent grants and revokes of one grant do not race",
    async () => {
      const [p, t] = await principalAndTarget();
      provider = makeProvider(pgs);
      const g = makeActiveGrant(p, t);
      await Promise.all([provider.grant(g), provider.grant(g), provider.grant(g)]);
      expect(await provider.isGranted(g)).toBe(true);
      await Promise.all([provider.revoke(g), provider.revoke(g)]);
      expect(await provider.isGranted(g)).toBe(false);
      expect(await hasRole(pgs, p, t)).toBe(false);
    },
    TIMEOUT,
  );

  test(
    "revoke works when the principal's login was dropped meanwhile",
    async () => {
      const [p, t] = await principalAndTarget();
      provider = makeProvider(pgs);
      const g = makeActiveGrant(p, t);
      await provider.grant(g);
      await pgs.admin(`DROP ROLE ${ident(p)}`);
      await provider.revoke(g);
      const { rows } = await pgs.admin("SELECT 1 FROM pg_roles WHERE rolname = $1", [`timebox_${g.shortId}`]);
      expect(rows).toHaveLength(0);
    },
    TIMEOUT,
  );

  test(
    "revoke removes the access even when the per-grant role cannot be dropped",
    async () => {
      const [p, t] = await principalAndTarget();
      provider = makeProvider(pgs);
      const g = makeActiveGrant(p, t);
      const role = ident(`timebox_${g.shortId}`);
      await provider.grant(g);
      await pgs.admin(`GRANT CONNECT ON DATABASE postgres TO ${role}`); // a hand-made dependency
      await provider.revoke(g);
      expect(await provider.isGranted(g)).toBe(false);
      expect(await hasRole(pgs, p, t)).toBe(false);
      expect((await provider.listManaged()).find((m) => m.shortId === g.shortId)).toMatchObject({ grantId: g.id });
      expect((await provider.listManaged()).find((m) => m.shortId === g.shortId)?.principal).toBeUndefined();
      await pgs.admin(`REVOKE CONNECT ON DATABASE postgres FROM ${role}`);
      await pgs.admin(`DROP ROLE ${role}`);
    },
    TIMEOUT,
  );

  test("factory settings are checked", () => {
    const create = (settings: Record<string, string | number | boolean>) => () => postgresProviderFactory.create({ resource: "db", settings, env: {} });
    expect(postgresProviderFactory.id).toBe("postgres");
    expect(postgresProviderFactory.settingsKeys).toEqual(["url_env", "terminate_sessions", "pool_size"]);
    expect(create({})).toThrow("`url_env`");
    expect(create({ url_env: "postgres://x" })).toThrow("`url_env`");
    expect(create({ url_env: "DB", terminate_sessions: "yes" })).toThrow("`terminate_sessions`");
    expect(create({ url_env: "DB", pool_size: 0 })).toThrow("`pool_size`");
    expect(create({ url_env: "DB", password: "x" })).toThrow("unknown setting `password`");
    expect(create({ url_env: "DB", terminate_sessions: false, pool_size: 1 })()).toBeDefined();
  });
});

// Session termination needs real backends per login; PGlite has one backend and ignores the login user.
const sessionTest = testPostgresMode() === "server" ? test : test.skip;
const skipNote =
  testPostgresMode() === "server" ? "" : " [skipped: needs TIMEBOX_TEST_POSTGRES_URL (a real server); PGlite has a single backend and no per-login sessions]";

describe(`postgres provider: open sessions on revoke${skipNote}`, () => {
  let roles: Roles;
  const clients: pg.Client[] = [];
  let provider: Provider | undefined;

  beforeAll(() => {
    roles = new Roles(pgs);
  });
  afterEach(async () => {
    await provider?.close?.();
    provider = undefined;
    for (const c of clients.splice(0)) await c.end().catch(() => undefined);
  });
  afterAll(async () => {
    await roles?.dropAll();
  }, TIMEOUT);

  /** Log in as `login` and SET ROLE to `target`: the session keeps that role after the membership goes. */
  async function openSession(login: string, target: string): Promise<{ client: pg.Client; ended: () => boolean }> {
    const u = new URL(pgs.url);
    u.username = encodeURIComponent(login);
    u.password = "";
    const client = new pg.Client({ connectionString: u.toString() });
    let ended = false;
    client.on("error", () => (ended = true));
    client.on("end", () => (ended = true));
    await client.connect();
    clients.push(client);
    await client.query(`SET ROLE ${ident(target)}`);
    return { client, ended: () => ended };
  }

  async function alive(client: pg.Client): Promise<boolean> {
    return client.query("SELECT current_user").then(
      () => true,
      () => false,
    );
  }

  sessionTest(
    "revoke ends the principal's open sessions",
    async () => {
      const p = await roles.create(roles.name("login"), true);
      const t = await roles.create(roles.name("target"), false);
      provider = makeProvider(pgs);
      const g = makeActiveGrant(p, t);
      await provider.grant(g);
      const s = await openSession(p, t);
      expect(await alive(s.client)).toBe(true);
      await provider.revoke(g);
      expect(await alive(s.client)).toBe(false);
    },
    TIMEOUT,
  );

  sessionTest(
    "terminate_sessions: false keeps the session",
    async () => {
      const p = await roles.create(roles.name("login"), true);
      const t = await roles.create(roles.name("target"), false);
      provider = makeProvider(pgs, { terminate_sessions: false });
      const g = makeActiveGrant(p, t);
      await provider.grant(g);
      const s = await openSession(p, t);
      await provider.revoke(g);
      expect(await alive(s.client)).toBe(true);
      expect(await hasRole(pgs, p, t)).toBe(false);
    },
    TIMEOUT,
  );

  sessionTest(
    "someone who still has the target another way is not disconnected",
    async () => {
      const p = await roles.create(roles.name("login"), true);
      const t = await roles.create(roles.name("target"), false);
      provider = makeProvider(pgs);
      const g1 = makeActiveGrant(p, t);
      const g2 = makeActiveGrant(p, t);
      await provider.grant(g1);
      await provider.grant(g2);
      const s = await openSession(p, t);
      await provider.revoke(g1); // g2 still gives access
      expect(await alive(s.client)).toBe(true);
      await pgs.admin(`GRANT ${ident(t)} TO ${ident(p)}`); // and access from outside Timebox
      await provider.revoke(g2);
      expect(await alive(s.client)).toBe(true);
      await pgs.admin(`REVOKE ${ident(t)} FROM ${ident(p)}`);
    },
    TIMEOUT,
  );

  sessionTest(
    "a server-side error (no privilege) is summarised without the URL or password",
    async () => {
      const weak = await roles.create(roles.name("weak"), true);
      const p = await roles.create(roles.name("login"), true);
      const t = await roles.create(roles.name("target"), false);
      const u = new URL(pgs.url);
      u.username = weak;
      u.password = encodeURIComponent(SECRET); // trust auth ignores it, but it is in the URL
      const url = u.toString();
      provider = postgresProviderFactory.create({ resource: "prod-db", settings: { url_env: "DB" }, env: { DB: url } });
      const [err] = await failures([() => provider!.grant(makeActiveGrant(p, t))]);
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as Error).message).toMatch(/^postgres: grant grants\/contract-\w+\.yaml on prod-db failed: permission denied.*\(42501\)$/);
      expect(errorTexts(err)).not.toContain(SECRET);
      expect(errorTexts(err)).not.toContain(url);
    },
    TIMEOUT,
  );
});

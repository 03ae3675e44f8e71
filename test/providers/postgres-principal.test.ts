/**
 * Issue #10: "without an `identities` entry, a GitHub login may collide with a database group role".
 *
 * The PostgreSQL provider grants the per-grant role `timebox_<id>` (a member of the target) TO the
 * principal, which is the requester's GitHub login when the policy has no `identities` entry for
 * them. A login that names a group role (e.g. `analytics_team`) would give the target to every
 * member of that group; one that names a superuser, a predefined `pg_*` role, the target itself,
 * Timebox's own role or a group Timebox's role is in would do something else nobody approved. The
 * provider now refuses any principal that is not a plain login role of one person, in `grant` and
 * in `checkTarget`, with a non-retryable error that names the rule and the fix.
 *
 * Runs against the real server when TIMEBOX_TEST_POSTGRES_URL is set, else PGlite (where every
 * connection is `postgres`, so the tests that connect as a non-superuser Timebox role are skipped).
 */
import pg from "pg";
import { postgresProviderFactory, type PostgresProvider } from "../../src/providers/postgres/index.js";
import { ProviderError, type ActiveGrant } from "../../src/providers/types.js";
import { errorTexts, makeActiveGrant } from "./contract.js";
import { startTestPostgres, testPostgresMode, uniqueSuffix, type TestPostgres } from "./postgres-server.js";

const TIMEOUT = 30_000;
const ident = pg.escapeIdentifier;
const serverTest = testPostgresMode() === "server" ? test : test.skip;

let pgs: TestPostgres;
const made: string[] = [];
const suffix = uniqueSuffix();
let n = 0;
let provider: PostgresProvider | undefined;

/** Create a role (dropped in afterAll); `options` is the rest of CREATE ROLE, e.g. "LOGIN SUPERUSER". */
async function role(kind: string, options: string): Promise<string> {
  const name = `tbtest_${kind}_${suffix}_${++n}`;
  await pgs.admin(`CREATE ROLE ${ident(name)} ${options}`);
  made.push(name);
  return name;
}

async function hasRole(member: string, group: string): Promise<boolean> {
  const { rows } = await pgs.admin<{ m: boolean }>("SELECT pg_has_role($1, $2, 'MEMBER') AS m", [member, group]);
  return rows[0]!.m;
}

async function handleExists(shortId: string): Promise<boolean> {
  return (await pgs.admin("SELECT 1 FROM pg_roles WHERE rolname = $1", [`timebox_${shortId}`])).rows.length > 0;
}

/** A NOLOGIN or LOGIN role (`options`) with a login role `analyst` as its member. */
async function groupWithMember(kind: string, options: string): Promise<{ group: string; member: string }> {
  const group = await role(kind, options);
  const member = await role("analyst", "LOGIN");
  await pgs.admin(`GRANT ${ident(group)} TO ${ident(member)}`);
  return { group, member };
}

/** What granting `g` threw (an Error saying so when it did not throw). */
async function grantError(p: PostgresProvider, g: ActiveGrant): Promise<unknown> {
  return p.grant(g).then(
    () => new Error("grant succeeded"),
    (e: unknown) => e,
  );
}

/** `checkTarget` finds nothing wrong with `person`, and granting `target` to them makes them a member of it; returns the grant. */
async function expectAccepted(p: PostgresProvider, person: string, target: string): Promise<ActiveGrant> {
  expect(await p.checkTarget(target, person)).toEqual([]);
  const g = makeActiveGrant(person, target, { requester: person });
  await p.grant(g);
  expect(await hasRole(person, target)).toBe(true);
  return g;
}

function makeProvider(url = pgs.url, poolSize = pgs.poolSize): PostgresProvider {
  return postgresProviderFactory.create({
    resource: "prod-db",
    settings: { url_env: "TIMEBOX_DB_URL", pool_size: poolSize },
    env: { TIMEBOX_DB_URL: url },
  });
}

/**
 * Granting `target` to `principal` (a GitHub login with no `identities` entry) is refused: not
 * retryable, the message names the rule (`why`) and the fix, nothing is created, and `checkTarget`
 * reports the same rule.
 */
async function expectRefused(p: PostgresProvider, principal: string, target: string, why: string): Promise<void> {
  const g = makeActiveGrant(principal, target, { requester: principal });
  const err = await grantError(p, g);
  expect(err).toBeInstanceOf(ProviderError);
  expect(err).toMatchObject({ retryable: false });
  const message = (err as Error).message;
  expect(message).toContain(`postgres: cannot grant ${g.id} on prod-db: principal \`${principal}\``);
  expect(message).toContain(why);
  expect(message).toContain("`identities`");
  expect(message).toContain(`GitHub login \`${principal}\``); // says why this name was used
  expect(await handleExists(g.shortId)).toBe(false);
  expect(await p.isGranted(g)).toBe(false);

  const diags = await p.checkTarget(target, principal);
  expect(diags).toEqual([expect.objectContaining({ path: "", line: 1, column: 1, rule: "provider.principal", severity: "error" })]);
  expect(diags[0]!.message).toContain(why);
  expect(diags[0]!.message).toContain("`identities`");
}

beforeAll(async () => {
  pgs = await startTestPostgres();
}, TIMEOUT);
afterEach(async () => {
  await provider?.close();
  provider = undefined;
  await pgs.idle();
});
afterAll(async () => {
  if (!pgs) return;
  // any timebox_ role a failed test left hanging off our roles, then ours (DROP ROLE removes memberships)
  const { rows } = await pgs.admin<{ rolname: string }>(
    `SELECT DISTINCT r.rolname FROM pg_auth_members am JOIN pg_roles r ON r.oid IN (am.member, am.roleid)
     JOIN pg_roles o ON o.oid IN (am.member, am.roleid) AND o.oid <> r.oid
     WHERE starts_with(r.rolname, 'timebox_') AND o.rolname = ANY($1)`,
    [made],
  );
  for (const r of [...rows.map((x) => x.rolname), ...made.reverse()]) {
    await pgs.admin(`DROP ROLE IF EXISTS ${ident(r)}`).catch(async () => {
      await pgs.admin(`DROP OWNED BY ${ident(r)}`);
      await pgs.admin(`DROP ROLE ${ident(r)}`);
    });
  }
  await pgs.stop();
}, TIMEOUT);

describe(`postgres provider: who may be a principal (${testPostgresMode()})`, () => {
  test(
    "the attack: a GitHub login that names a NOLOGIN group role would give the target to every member",
    async () => {
      const target = await role("target", "NOLOGIN");
      const { group, member } = await groupWithMember("analytics_team", "NOLOGIN");
      provider = makeProvider();
      await expectRefused(provider, group, target, "cannot log in");
      expect(await hasRole(member, target)).toBe(false);
      expect(await hasRole(group, target)).toBe(false);
    },
    TIMEOUT,
  );

  test(
    "a login role that has members of its own is a group too",
    async () => {
      const target = await role("target", "NOLOGIN");
      const { group, member } = await groupWithMember("shared", "LOGIN");
      provider = makeProvider();
      await expectRefused(provider, group, target, "is a group role (1 member)");
      expect(await hasRole(member, target)).toBe(false);
    },
    TIMEOUT,
  );

  test(
    "a superuser is refused",
    async () => {
      const target = await role("target", "NOLOGIN");
      const su = await role("dba", "LOGIN SUPERUSER");
      provider = makeProvider();
      await expectRefused(provider, su, target, "is a superuser");
    },
    TIMEOUT,
  );

  test(
    "a predefined pg_* role is refused (its members would gain the target)",
    async () => {
      const target = await role("target", "NOLOGIN");
      provider = makeProvider();
      await expectRefused(provider, "pg_monitor", target, "is a predefined PostgreSQL role");
      expect((await pgs.admin("SELECT 1 FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid WHERE r.rolname = $1", [target])).rows).toHaveLength(0);
    },
    TIMEOUT,
  );

  test(
    "the target itself is refused",
    async () => {
      const target = await role("target", "LOGIN");
      provider = makeProvider();
      await expectRefused(provider, target, target, "is the target role itself");
    },
    TIMEOUT,
  );

  test(
    "a role Timebox manages (timebox_*) is refused even when it can log in",
    async () => {
      const target = await role("target", "NOLOGIN");
      const name = `timebox_${suffix}aa`;
      await pgs.admin(`CREATE ROLE ${ident(name)} LOGIN`);
      made.push(name);
      provider = makeProvider();
      await expectRefused(provider, name, target, "is a role Timebox manages");
    },
    TIMEOUT,
  );

  test(
    "the role Timebox connects as is refused",
    async () => {
      const target = await role("target", "NOLOGIN");
      const { rows } = await pgs.admin<{ u: string }>("SELECT current_user AS u"); // the URL's user, in both modes
      provider = makeProvider();
      await expectRefused(provider, rows[0]!.u, target, "is the role Timebox connects as");
    },
    TIMEOUT,
  );

  test(
    "a plain login role of one person is accepted",
    async () => {
      const target = await role("target", "NOLOGIN");
      const person = await role("dev1", "LOGIN");
      provider = makeProvider();
      const g = await expectAccepted(provider, person, target);
      await provider.revoke(g);
      expect(await hasRole(person, target)).toBe(false);
    },
    TIMEOUT,
  );

  test(
    "with an identities entry the message does not blame the GitHub login",
    async () => {
      const target = await role("target", "NOLOGIN");
      const group = await role("team", "NOLOGIN");
      provider = makeProvider();
      const err = await grantError(provider, makeActiveGrant(group, target, { requester: "dev1" }));
      expect(err).toMatchObject({ name: "ProviderError", retryable: false });
      expect((err as Error).message).toContain("cannot log in");
      expect((err as Error).message).toContain("`identities.dev1.postgres`");
      expect((err as Error).message).not.toContain("GitHub login");
    },
    TIMEOUT,
  );

  // PostgreSQL 16+: a CREATEROLE role that creates a login gets ADMIN on it, without INHERIT or SET.
  // Such a member gets none of the role's privileges, so it does not make the login a group.
  test(
    "a member with ADMIN only (no INHERIT, no SET; PostgreSQL 16+) does not make a group",
    async () => {
      const { rows } = await pgs.admin<{ v: number }>("SELECT current_setting('server_version_num')::int AS v");
      if (rows[0]!.v < 160000) return; // older servers have no such membership
      const target = await role("target", "NOLOGIN");
      const person = await role("dev1", "LOGIN");
      const creator = await role("creator", "LOGIN CREATEROLE");
      await pgs.admin(`GRANT ${ident(person)} TO ${ident(creator)} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE`);
      provider = makeProvider();
      const g = await expectAccepted(provider, person, target);
      await provider.revoke(g);
    },
    TIMEOUT,
  );
});

describe(`postgres provider: principals and Timebox's own role${testPostgresMode() === "server" ? "" : " [skipped: needs TIMEBOX_TEST_POSTGRES_URL; PGlite connects everyone as postgres]"}`, () => {
  /** A least-privilege Timebox role as deploy.md describes it: LOGIN CREATEROLE, ADMIN OPTION on the target. */
  async function timeboxRole(target: string): Promise<{ name: string; url: string }> {
    const name = await role("timebox_admin", "LOGIN CREATEROLE");
    await pgs.admin(`GRANT ${ident(target)} TO ${ident(name)} WITH ADMIN OPTION`);
    const u = new URL(pgs.url);
    u.username = name;
    return { name, url: u.toString() };
  }

  serverTest(
    "the non-superuser role Timebox connects as is refused",
    async () => {
      const target = await role("target", "NOLOGIN");
      const tb = await timeboxRole(target);
      provider = makeProvider(tb.url, 2);
      await expectRefused(provider, tb.name, target, "is the role Timebox connects as");
    },
    TIMEOUT,
  );

  serverTest(
    "a login role Timebox's own role is a member of is refused",
    async () => {
      const target = await role("target", "NOLOGIN");
      const tb = await timeboxRole(target);
      const shared = await role("ops", "LOGIN");
      await pgs.admin(`GRANT ${ident(shared)} TO ${ident(tb.name)}`);
      provider = makeProvider(tb.url, 2);
      await expectRefused(provider, shared, target, "Timebox's own role");
    },
    TIMEOUT,
  );

  serverTest(
    "a plain login role is still granted by a least-privilege Timebox role",
    async () => {
      const target = await role("target", "NOLOGIN");
      const tb = await timeboxRole(target);
      const person = await role("dev1", "LOGIN");
      provider = makeProvider(tb.url, 2);
      expect(await provider.checkTarget(target, person)).toEqual([]);
      const g = makeActiveGrant(person, target, { requester: person });
      const err = await provider.grant(g).then(
        () => undefined,
        (e: unknown) => e,
      );
      // On PostgreSQL 15 and older, ADMIN OPTION on the target is enough; the grant goes through.
      expect(err === undefined ? undefined : errorTexts(err)).toBeUndefined();
      expect(await hasRole(person, target)).toBe(true);
      await provider.revoke(g);
      expect(await hasRole(person, target)).toBe(false);
    },
    TIMEOUT,
  );
});

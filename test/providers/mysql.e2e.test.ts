/**
 * The MySQL/MariaDB provider against the real server (TIMEBOX_TEST_MYSQL_URL): the shared contract
 * plus what is particular to it — a fresh connection of the account really can, then really cannot,
 * read what the role gives, without SET ROLE; default roles; overlaps and prior access; KILL of the
 * account's sessions; the expiry event; hostile names; credentials scrubbed from errors; deadlines.
 * Without the server the tests are skipped with a printed reason (TIMEBOX_REQUIRE_MYSQL=1 fails them).
 */
import { jest } from "@jest/globals";
import mysql from "mysql2/promise";
import net from "node:net";
import { withDeadline } from "../../src/providers/deadline.js";
import { mysqlProviderFactory, type MysqlProvider } from "../../src/providers/mysql/index.js";
import { accountRoleOf } from "../../src/providers/mysql/provider.js";
import { ProviderError } from "../../src/providers/types.js";
import { describeProviderContract, errorTexts, makeActiveGrant } from "./contract.js";
import { startBlackHole } from "./hang-servers.js";
import { Made, findTestMysql, ident, startTestMysql, type TestMysql } from "./mysql-server.js";

const TIMEOUT = 30_000;
jest.setTimeout(TIMEOUT);

const probe = await findTestMysql("mysql provider tests");
const describeMysql = probe.available || probe.required ? describe : describe.skip;

let my: TestMysql;
beforeAll(async () => {
  if (describeMysql === describe) my = await startTestMysql();
}, TIMEOUT);
afterAll(async () => {
  await my?.stop();
});

function makeProvider(settings: Record<string, string | number | boolean> = {}, url = my.url): MysqlProvider {
  return mysqlProviderFactory.create({ resource: "prod-db", settings: { url_env: "TIMEBOX_DB_URL", ...settings }, env: { TIMEBOX_DB_URL: url } });
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

/** Can `user` read `db`.t in a brand-new session, without SET ROLE? */
async function canSelect(user: string, password: string, db: string): Promise<boolean> {
  const c = await my.connectAs(user, password);
  try {
    const [rows] = await c.query(`SELECT x FROM ${ident(db)}.t`);
    return (rows as Array<{ x: number }>)[0]?.x === 42;
  } catch (err) {
    if ((err as { errno?: number }).errno === 1142) return false; // SELECT command denied
    throw err;
  } finally {
    await c.end();
  }
}

const userOf = (account: string) => account.slice(0, account.lastIndexOf("@"));

if (describeMysql === describe.skip) {
  describe.skip(`mysql provider: ${probe.reason}`, () => test("needs a server", () => undefined));
} else {
  describeProviderContract("mysql (real server)", async () => {
    const made = new Made(() => my);
    const provider = makeProvider();
    return {
      provider,
      resource: "prod-db",
      makePrincipal: () => made.account(),
      makeTarget: () => made.role(),
      missingTarget: () => `tbt_missing_${made.suffix}`,
      missingPrincipal: () => `tbt_nobody_${made.suffix}@%`,
      grantOutsideTimebox: async (p, t) => {
        const at = p.lastIndexOf("@");
        await my.admin(`GRANT ${ident(t)} TO ${ident(p.slice(0, at))}@${ident(p.slice(at + 1))}`);
      },
      hasAccess: (p, t) => my.reaches(p, t),
      withBadCredentials: async () => {
        const url = `mysql://timebox:${encodeURIComponent(SECRET)}@127.0.0.1:${await closedPort()}/`;
        return { provider: makeProvider({}, url), secrets: [SECRET, encodeURIComponent(SECRET), url] };
      },
      teardown: async () => {
        await provider.close();
        await made.dropAll();
      },
    };
  });
}

describeMysql("mysql provider (real server)", () => {
  const made = new Made(() => my);
  let provider: MysqlProvider | undefined;

  test("the MySQL/MariaDB server answers (TIMEBOX_REQUIRE_MYSQL asks for it)", () => {
    expect(probe.reason).toBeUndefined();
  });

  afterEach(async () => {
    await provider?.close();
    provider = undefined;
  });
  afterAll(async () => {
    if (my) await made.dropAll();
  }, TIMEOUT);

  test("a fresh connection of the account can SELECT at once, without SET ROLE, and cannot after revoke", async () => {
    const { db, role } = await made.readableTable();
    const account = await made.account();
    provider = makeProvider();
    const g = makeActiveGrant(account, role);
    expect(await canSelect(userOf(account), made.password, db)).toBe(false);
    const result = await provider.grant(g);
    expect(result.summary).toContain(`timebox_${g.shortId}`);
    expect(result.summary).toContain(account);
    expect(await canSelect(userOf(account), made.password, db)).toBe(true);
    // the account's default role is its per-account role, which holds the per-grant role
    const [row] = await my.admin<{ default_role: string }>("SELECT default_role FROM mysql.user WHERE User = ? AND Host = '%'", [userOf(account)]);
    expect(row!.default_role).toBe(accountRoleOf({ user: userOf(account), host: "%" }));
    await provider.revoke(g);
    expect(await canSelect(userOf(account), made.password, db)).toBe(false);
    // nothing of Timebox's is left for this account
    const [after] = await my.admin<{ default_role: string }>("SELECT default_role FROM mysql.user WHERE User = ? AND Host = '%'", [userOf(account)]);
    expect(after!.default_role).toBe("");
    expect(await my.admin("SELECT 1 FROM mysql.user WHERE User = ?", [accountRoleOf({ user: userOf(account), host: "%" })])).toHaveLength(0);
  });

  test("one account, several grants of different roles: one fresh session has all of them; revoking one keeps the other", async () => {
    const a = await made.readableTable();
    const b = await made.readableTable();
    const account = await made.account();
    provider = makeProvider();
    const ga = makeActiveGrant(account, a.role);
    const gb = makeActiveGrant(account, b.role);
    await provider.grant(ga);
    await provider.grant(gb);
    expect(await canSelect(userOf(account), made.password, a.db)).toBe(true);
    expect(await canSelect(userOf(account), made.password, b.db)).toBe(true);
    await provider.revoke(ga);
    expect(await canSelect(userOf(account), made.password, a.db)).toBe(false);
    expect(await canSelect(userOf(account), made.password, b.db)).toBe(true);
    expect(await provider.isGranted(gb)).toBe(true);
    await provider.revoke(gb);
    expect(await canSelect(userOf(account), made.password, b.db)).toBe(false);
  });

  test("overlapping grants of one role: revoking one keeps access for fresh sessions", async () => {
    const { db, role } = await made.readableTable();
    const account = await made.account();
    provider = makeProvider();
    const g1 = makeActiveGrant(account, role);
    const g2 = makeActiveGrant(account, role);
    await provider.grant(g1);
    await provider.grant(g2);
    await provider.revoke(g1);
    expect(await canSelect(userOf(account), made.password, db)).toBe(true);
    await provider.revoke(g2);
    expect(await canSelect(userOf(account), made.password, db)).toBe(false);
  });

  test("a default role the account had before is kept working during the grant and restored after it", async () => {
    const prior = await made.readableTable();
    const granted = await made.readableTable();
    const account = await made.account();
    const [user] = [userOf(account)];
    await my.admin(`GRANT ${ident(prior.role)} TO ${ident(user)}@'%'`);
    await my.admin(`SET DEFAULT ROLE ${ident(prior.role)} FOR ${ident(user)}@'%'`);
    expect(await canSelect(user, made.password, prior.db)).toBe(true);
    provider = makeProvider();
    const g = makeActiveGrant(account, granted.role);
    await provider.grant(g);
    expect(await canSelect(user, made.password, prior.db)).toBe(true);
    expect(await canSelect(user, made.password, granted.db)).toBe(true);
    await provider.revoke(g);
    expect(await canSelect(user, made.password, granted.db)).toBe(false);
    expect(await canSelect(user, made.password, prior.db)).toBe(true);
    const [row] = await my.admin<{ default_role: string }>("SELECT default_role FROM mysql.user WHERE User = ? AND Host = '%'", [user]);
    expect(row!.default_role).toBe(prior.role);
  });

  test("prior access to the same role (granted and default) survives the revoke, and its sessions are not killed", async () => {
    const { db, role } = await made.readableTable();
    const account = await made.account();
    const user = userOf(account);
    await my.admin(`GRANT ${ident(role)} TO ${ident(user)}@'%'`);
    await my.admin(`SET DEFAULT ROLE ${ident(role)} FOR ${ident(user)}@'%'`);
    const before = await my.connectAs(user, made.password); // its active role: the prior default
    provider = makeProvider();
    const g = makeActiveGrant(account, role);
    await provider.grant(g);
    const during = await my.connectAs(user, made.password); // its active role: Timebox's per-account role
    during.on("error", () => undefined);
    try {
      await provider.revoke(g);
      expect(await canSelect(user, made.password, db)).toBe(true);
      const [rows] = await before.query(`SELECT x FROM ${ident(db)}.t`);
      expect(rows).toEqual([{ x: 42 }]);
      // Documented limit (docs/providers/mysql.md): a session opened during the grant runs under the
      // per-account role, which the revoke drops; it is not killed (the account is still entitled)
      // but has the prior default role again only after SET ROLE or a reconnect.
      await expect(during.query(`SELECT x FROM ${ident(db)}.t`)).rejects.toMatchObject({ errno: 1142 });
      await during.query(`SET ROLE ${ident(role)}`);
      const [again] = await during.query(`SELECT x FROM ${ident(db)}.t`);
      expect(again).toEqual([{ x: 42 }]);
    } finally {
      await before.end();
      await during.end();
    }
  });

  test("revoke kills the account's open sessions (KILL CONNECTION), not while another grant still gives the role", async () => {
    const { db, role } = await made.readableTable();
    const account = await made.account();
    const user = userOf(account);
    provider = makeProvider();
    const g1 = makeActiveGrant(account, role);
    const g2 = makeActiveGrant(account, role);
    await provider.grant(g1);
    await provider.grant(g2);
    const open = await my.connectAs(user, made.password);
    open.on("error", () => undefined);
    try {
      await provider.revoke(g1);
      const [rows] = await open.query(`SELECT x FROM ${ident(db)}.t`); // still entitled: still connected
      expect(rows).toEqual([{ x: 42 }]);
      await provider.revoke(g2);
      await expect(open.query("SELECT 1")).rejects.toMatchObject({ fatal: true });
      expect(await my.admin("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?", [user])).toEqual([]);
    } finally {
      open.destroy();
    }
  });

  test("kill_sessions: false leaves open sessions alone", async () => {
    const { role } = await made.readableTable();
    const account = await made.account();
    provider = makeProvider({ kill_sessions: false });
    const g = makeActiveGrant(account, role);
    await provider.grant(g);
    const open = await my.connectAs(userOf(account), made.password);
    try {
      await provider.revoke(g);
      await expect(open.query("SELECT 1 AS one")).resolves.toBeDefined();
    } finally {
      await open.end();
    }
  });

  describe("the expiry event (the database's own lock)", () => {
    let scheduler = "OFF";
    beforeAll(async () => {
      scheduler = String((await my.admin<{ s: string }>("SELECT @@global.event_scheduler AS s"))[0]!.s);
    });
    afterAll(async () => {
      if (scheduler === "OFF" || scheduler === "ON") await my.admin(`SET GLOBAL event_scheduler = ${scheduler}`);
    });

    test("with the scheduler on: an event at the expiry, moved by an extension, dropped by the revoke", async () => {
      await my.admin("SET GLOBAL event_scheduler = ON");
      const { role } = await made.readableTable();
      const account = await made.account();
      provider = makeProvider();
      const g = makeActiveGrant(account, role);
      const result = await provider.grant(g);
      expect(result.summary).toContain(`the database itself ends it at ${g.expiresAt.toISOString()}`);
      const at = async () =>
        (
          await my.admin<{ at: string }>(
            "SELECT EXECUTE_AT AS at, TIME_ZONE AS tz FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'timebox' AND EVENT_NAME = ?",
            [`timebox_${g.shortId}`],
          )
        )[0];
      const expected = (d: Date) => new Date(Math.ceil(d.getTime() / 1000) * 1000).toISOString().slice(0, 19).replace("T", " ");
      expect(await at()).toMatchObject({ at: expected(g.expiresAt), tz: "+00:00" });
      const extended = { ...g, expiresAt: new Date(g.expiresAt.getTime() + 3600_000) };
      await provider.grant(extended);
      expect(await at()).toMatchObject({ at: expected(extended.expiresAt) });
      await provider.revoke(extended);
      expect(await at()).toBeUndefined();
    });

    test("with the scheduler on, the database revokes the grant at its expiry by itself (Timebox never called)", async () => {
      await my.admin("SET GLOBAL event_scheduler = ON");
      const { db, role } = await made.readableTable();
      const account = await made.account();
      provider = makeProvider();
      const g = makeActiveGrant(account, role, { expiresAt: new Date(Date.now() + 3000) });
      await provider.grant(g);
      expect(await canSelect(userOf(account), made.password, db)).toBe(true);
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (await my.reaches(account, role))) await new Promise((r) => setTimeout(r, 250));
      expect(await my.reaches(account, role)).toBe(false);
      expect(await canSelect(userOf(account), made.password, db)).toBe(false);
      expect(await provider.isGranted(g)).toBe(false);
      expect((await provider.listManaged()).some((m) => m.shortId === g.shortId)).toBe(false);
      await provider.revoke(g); // Timebox's own revoke afterwards is harmless and tidies the per-account role
      expect(await my.admin("SELECT 1 FROM mysql.user WHERE User = ?", [accountRoleOf({ user: userOf(account), host: "%" })])).toHaveLength(0);
    });

    test("with the scheduler off: no event, and the summary says so", async () => {
      await my.admin("SET GLOBAL event_scheduler = OFF");
      const { role } = await made.readableTable();
      const account = await made.account();
      provider = makeProvider();
      const g = makeActiveGrant(account, role);
      const result = await provider.grant(g);
      expect(result.summary).toContain("no expiry event in the database: the server's event_scheduler is OFF, so only Timebox revokes it");
      expect(await my.admin("SELECT 1 FROM information_schema.EVENTS WHERE EVENT_NAME = ?", [`timebox_${g.shortId}`])).toHaveLength(0);
      await provider.revoke(g);
    });
  });

  test("hostile account, role and grant names are quoted everywhere and break nothing", async () => {
    const user = `x'\`"; DROP USER root; --${made.suffix}`;
    const account = await made.account(user);
    const role = await made.role(`t'); DROP ROLE x; -- \`"${made.suffix}`);
    provider = makeProvider();
    const g = makeActiveGrant(account, role, { id: `grants/it's "evil"'); DROP ROLE x; --\\.yaml`, repo: `acme/'"; --\\`, requester: `o'brien"\\` });
    expect(await provider.checkTarget(role, account)).toEqual([]);
    await my.admin("SET GLOBAL event_scheduler = ON");
    await provider.grant(g);
    expect(await provider.isGranted(g)).toBe(true);
    expect(await my.reaches(account, role)).toBe(true);
    const listed = (await provider.listManaged()).find((m) => m.shortId === g.shortId);
    expect(listed).toMatchObject({ grantId: g.id, repo: g.repo, principal: account, target: role, expiresAt: g.expiresAt });
    await provider.revoke(g);
    expect(await provider.isGranted(g)).toBe(false);
    expect(await my.reaches(account, role)).toBe(false);
    expect(await my.admin("SELECT 1 FROM mysql.user WHERE User = 'root'")).not.toHaveLength(0);
    expect(await my.admin("SELECT 1 FROM mysql.user WHERE User = ?", [user])).toHaveLength(1);
    await my.admin("SET GLOBAL event_scheduler = OFF");
  });

  test("a short id that is not identifier-safe is refused before any SQL runs", async () => {
    const account = await made.account();
    const role = await made.role();
    provider = makeProvider();
    const g = makeActiveGrant(account, role, { shortId: "x`; DROP ROLE x; --" });
    await expect(provider.grant(g)).rejects.toMatchObject({ name: "ProviderError", retryable: false });
    await expect(provider.revoke(g)).rejects.toBeInstanceOf(ProviderError);
    expect(await my.reaches(account, role)).toBe(false);
  });

  test("listManaged reads back the record and lists per-grant roles, not per-account ones", async () => {
    const account = await made.account();
    const role = await made.role();
    provider = makeProvider();
    const g = makeActiveGrant(account, role, { id: "grants/dev1-prod-db.yaml", repo: "acme/access", pullRequest: 7 });
    await provider.grant(g);
    const managed = await provider.listManaged();
    expect(managed.find((m) => m.shortId === g.shortId)).toEqual({
      handle: `timebox_${g.shortId}`,
      shortId: g.shortId,
      grantId: g.id,
      repo: "acme/access",
      principal: account,
      target: role,
      expiresAt: g.expiresAt,
    });
    expect(managed.some((m) => m.handle.startsWith("timebox_acct_"))).toBe(false);
    // drift: revoked from the handle alone (no principal, no target), as the reconciler does
    await provider.revoke({ ...g, principal: "", target: "" });
    expect(await my.reaches(account, role)).toBe(false);
    expect(await my.admin("SELECT 1 FROM mysql.user WHERE User = ?", [accountRoleOf({ user: userOf(account), host: "%" })])).toHaveLength(0);
  });

  test("bad credentials on the real server: a clear message without the password or the URL", async () => {
    const url = `mysql://root:${encodeURIComponent(SECRET)}@${my.host}:${my.port}/`;
    provider = makeProvider({}, url);
    const err = await provider.checkTarget("x").then(
      () => new Error("no error"),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toBe("mysql: connection to prod-db failed (authentication failed)");
    const text = errorTexts(err);
    for (const s of [SECRET, encodeURIComponent(SECRET), url]) expect(text.includes(s)).toBe(false);
  });

  test("a missing URL variable and bad settings are clear, non-retryable errors", async () => {
    const p = mysqlProviderFactory.create({ resource: "prod-db", settings: { url_env: "NOPE_URL" }, env: {} });
    await expect(p.checkTarget("x")).rejects.toMatchObject({
      retryable: false,
      message: "mysql: environment variable NOPE_URL (the connection URL for prod-db) is not set",
    });
    expect(() => mysqlProviderFactory.create({ resource: "r", settings: { url_env: "U", colour: "x" }, env: {} })).toThrow("unknown setting `colour`");
    expect(() => mysqlProviderFactory.create({ resource: "r", settings: { url_env: "U", database: "a`b" }, env: {} })).toThrow("setting `database`");
    const q = mysqlProviderFactory.create({
      resource: "prod-db",
      settings: { url_env: "U" },
      env: { U: `mysql://root:${SECRET}@127.0.0.1/?flags=MULTI_STATEMENTS` },
    });
    const err = await q.checkTarget("x").then(
      () => new Error("no error"),
      (e: unknown) => e,
    );
    expect((err as Error).message).toContain("unsupported parameter `flags`");
    expect(errorTexts(err).includes(SECRET)).toBe(false);
  });

  test("a grant given up at its deadline while waiting inside Timebox's lock (its connection destroyed) does not keep the lock", async () => {
    const { role } = await made.readableTable();
    const account = await made.account();
    provider = makeProvider();
    await provider.listManaged(); // the records table exists
    const conn = await mysql.createConnection(my.url); // as the admin, like the test's other admin calls
    try {
      await conn.query("LOCK TABLES timebox.`grants` WRITE"); // the grant's record write waits behind this
      const p = withDeadline(provider, "prod-db", 800);
      const err = await p.grant(makeActiveGrant(account, role)).then(
        () => new Error("no error"),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ProviderError);
      await conn.query("UNLOCK TABLES");
      const until = Date.now() + 5_000;
      let holder: unknown = "held";
      while (Date.now() < until && holder !== null) {
        holder = (await my.admin<{ h: unknown }>("SELECT IS_USED_LOCK('timebox.mysql.roles') AS h"))[0]!.h;
        if (holder !== null) await new Promise((r) => setTimeout(r, 100));
      }
      expect(holder).toBeNull();
      // and the next call works
      const g = makeActiveGrant(account, role);
      await provider.grant(g);
      await provider.revoke(g);
    } finally {
      await conn.query("UNLOCK TABLES").catch(() => undefined);
      await conn.end();
    }
  });

  test("a server that accepts connections and never answers: every call fails within the deadline", async () => {
    const hole = await startBlackHole();
    try {
      const raw = mysqlProviderFactory.create({
        resource: "prod-db",
        settings: { url_env: "U" },
        env: { U: `mysql://root:${SECRET}@127.0.0.1:${hole.port}/` },
        timeoutMs: 500,
      });
      const p = withDeadline(raw, "prod-db", 700);
      const g = makeActiveGrant("dev1@%", "reader");
      for (const call of [() => p.grant(g), () => p.revoke(g), () => p.isGranted(g), () => p.checkTarget("reader", "dev1@%")]) {
        const started = Date.now();
        const err = await call().then(
          () => new Error("no error"),
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ProviderError);
        expect((err as ProviderError).retryable).toBe(true);
        expect(errorTexts(err).includes(SECRET)).toBe(false);
        expect(Date.now() - started).toBeLessThan(2_000);
      }
      await raw.close();
    } finally {
      await hole.close();
    }
  });
});

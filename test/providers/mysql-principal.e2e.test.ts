/**
 * Who may be a MySQL/MariaDB principal (as issue #10 for PostgreSQL: without an `identities` entry
 * the principal is `<login>@%`, and a login may collide with a role or a shared account), and the
 * least privileges docs/providers/mysql.md gives for Timebox's own account — exactly those
 * statements, run here, suffice for grant, revoke (with KILL), listManaged, checkTarget and the
 * expiry event. Real server only (TIMEBOX_TEST_MYSQL_URL); skipped with a printed reason without it.
 */
import { jest } from "@jest/globals";
import { mysqlProviderFactory, type MysqlProvider } from "../../src/providers/mysql/index.js";
import { ProviderError } from "../../src/providers/types.js";
import { makeActiveGrant } from "./contract.js";
import { Made, findTestMysql, ident, startTestMysql, type TestMysql } from "./mysql-server.js";

jest.setTimeout(30_000);

const probe = await findTestMysql("mysql principal tests");
const describeMysql = probe.available || probe.required ? describe : describe.skip;

let my: TestMysql;
let made: Made;
let provider: MysqlProvider | undefined;
beforeAll(async () => {
  if (describeMysql !== describe) return;
  my = await startTestMysql();
  made = new Made(() => my);
});
afterEach(async () => {
  await provider?.close();
  provider = undefined;
});
afterAll(async () => {
  if (!my) return;
  await made.dropAll();
  await my.stop();
});

function makeProvider(url = my.url): MysqlProvider {
  return mysqlProviderFactory.create({ resource: "prod-db", settings: { url_env: "DB_URL" }, env: { DB_URL: url } });
}

/** Refused in grant (not retryable, nothing created, names the rule and the identities fix) and in checkTarget. */
async function expectRefused(principal: string, target: string, why: string): Promise<void> {
  provider ??= makeProvider();
  const g = makeActiveGrant(principal, target, { requester: "dev1" });
  const err = await provider.grant(g).then(
    () => new Error("grant succeeded"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  expect(err).toMatchObject({ retryable: false });
  expect((err as Error).message).toContain(`mysql: cannot grant ${g.id} on prod-db: principal \`${principal}\``);
  expect((err as Error).message).toContain(why);
  expect((err as Error).message).toContain("identities");
  expect(await my.admin("SELECT 1 FROM mysql.user WHERE User = ?", [`timebox_${g.shortId}`])).toHaveLength(0);
  const diags = await provider.checkTarget(target, principal);
  expect(diags).toEqual([expect.objectContaining({ rule: "provider.principal", severity: "error" })]);
  expect(diags[0]!.message).toContain(why);
}

describeMysql("mysql provider: who may be a principal", () => {
  test("the attack: a GitHub login that names a role (no identities entry: `<login>@%`) would give the target to every holder", async () => {
    const target = await made.role();
    const group = await made.role(made.name("analysts"));
    const member = await made.account();
    await my.admin(`GRANT ${ident(group)} TO ${ident(member.split("@")[0]!)}@'%'`);
    await expectRefused(group, target, "is a role, not an account");
    expect(await my.reaches(member, target)).toBe(false);
  });

  test("Timebox's own account, and another account with its user name, are refused", async () => {
    const target = await made.role();
    const [me] = await my.admin<{ me: string }>("SELECT CURRENT_USER() AS me");
    await expectRefused(me!.me, target, "is Timebox's own account");
    const user = me!.me.slice(0, me!.me.lastIndexOf("@"));
    await expectRefused(`${user}@%`, target, "is Timebox's own account (or shares its user name)");
  });

  test("a superuser, a timebox_* name, PUBLIC, an anonymous account, the target itself and a proxied account are refused", async () => {
    const target = await made.role();
    const su = await made.account();
    await my.admin(`GRANT SUPER ON *.* TO ${ident(su.split("@")[0]!)}@'%'`);
    await expectRefused(su, target, "is a superuser");
    await expectRefused(`timebox_${made.suffix}@%`, target, "is a role Timebox manages");
    await expectRefused("PUBLIC", target, "is the PUBLIC role");
    await expectRefused("@%", target, "is an anonymous account");
    await expectRefused(`${target}@%`, target, "is the target role itself");
    const shared = await made.account();
    const other = await made.account();
    // GRANT PROXY needs PROXY WITH GRANT OPTION, which only root@localhost has: write the row the grant would.
    await my.admin("INSERT INTO mysql.proxies_priv (Host, User, Proxied_host, Proxied_user, With_grant) VALUES ('%', ?, '%', ?, 0)", [
      other.split("@")[0],
      shared.split("@")[0],
    ]);
    try {
      await expectRefused(shared, target, "can be used by other accounts through PROXY");
    } finally {
      await my.admin("DELETE FROM mysql.proxies_priv WHERE User = ? AND Proxied_user = ?", [other.split("@")[0], shared.split("@")[0]]);
    }
  });

  test("a missing account is reported by checkTarget; a target Timebox cannot grant (no ADMIN OPTION) too", async () => {
    const target = await made.role();
    provider = makeProvider();
    const diags = await provider.checkTarget(target, `tbt_nobody_${made.suffix}@%`);
    expect(diags).toEqual([expect.objectContaining({ rule: "provider.principal" })]);
    expect(diags[0]!.message).toContain("does not exist");
    // a role root does not hold WITH ADMIN OPTION: made by another account
    const maker = await made.account();
    const makerUser = maker.split("@")[0]!;
    await my.admin(`GRANT CREATE USER ON *.* TO ${ident(makerUser)}@'%'`);
    const foreign = made.name("foreign");
    const c = await my.connectAs(makerUser, made.password);
    await c.query(`CREATE ROLE ${ident(foreign)}`);
    await c.end();
    await made.adopt(foreign);
    const d2 = await provider.checkTarget(foreign);
    expect(d2).toEqual([expect.objectContaining({ rule: "provider.target", severity: "error" })]);
    expect(d2[0]!.message).toContain("WITH ADMIN OPTION");
    const account = await made.account();
    await expect(provider.grant(makeActiveGrant(account, foreign))).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining("WITH ADMIN OPTION"),
    });
  });
});

describeMysql("mysql provider: the least privileges in docs/providers/mysql.md suffice", () => {
  test("grant, read back, list, revoke with KILL, and the expiry event, as an account with only those privileges", async () => {
    const { db, role } = await made.readableTable();
    const tb = made.name("timebox");
    const tbPassword = `tb-${made.suffix}`;
    await made.adoptAccount(tb, "%");
    // The statements of docs/providers/mysql.md ("Timebox's own account"), for MariaDB 10.5+.
    for (const statement of [
      `CREATE USER ${ident(tb)}@'%' IDENTIFIED BY '${tbPassword}'`,
      `GRANT CREATE USER, PROCESS, CONNECTION ADMIN ON *.* TO ${ident(tb)}@'%'`,
      `GRANT UPDATE ON mysql.* TO ${ident(tb)}@'%'`,
      `GRANT SELECT ON mysql.user TO ${ident(tb)}@'%'`,
      `GRANT SELECT ON mysql.roles_mapping TO ${ident(tb)}@'%'`,
      `GRANT SELECT ON mysql.proxies_priv TO ${ident(tb)}@'%'`,
      `GRANT CREATE, SELECT, INSERT, UPDATE, DELETE, EVENT ON timebox.* TO ${ident(tb)}@'%'`,
      `GRANT ${ident(role)} TO ${ident(tb)}@'%' WITH ADMIN OPTION`,
    ]) {
      await my.admin(statement);
    }
    const account = await made.account();
    const user = account.split("@")[0]!;
    provider = makeProvider(`mysql://${tb}:${tbPassword}@${my.host}:${my.port}/`);
    expect(await provider.checkTarget(role, account)).toEqual([]);

    const [{ s: scheduler } = { s: "OFF" }] = await my.admin<{ s: string }>("SELECT @@global.event_scheduler AS s");
    await my.admin("SET GLOBAL event_scheduler = ON");
    try {
      const canSelect = async () => {
        const c = await my.connectAs(user, made.password);
        try {
          await c.query(`SELECT x FROM ${ident(db)}.t`);
          return true;
        } catch {
          return false;
        } finally {
          await c.end();
        }
      };
      const g = makeActiveGrant(account, role);
      expect((await provider.grant(g)).summary).toContain("the database itself ends it at");
      expect(await canSelect()).toBe(true);
      expect((await provider.listManaged()).some((m) => m.shortId === g.shortId && m.principal === account)).toBe(true);
      const open = await my.connectAs(user, made.password);
      open.on("error", () => undefined);
      await provider.revoke(g);
      expect(await canSelect()).toBe(false);
      await expect(open.query("SELECT 1")).rejects.toMatchObject({ fatal: true });
      open.destroy();

      // The event, defined by this account, revokes by itself with these privileges.
      const soon = makeActiveGrant(account, role, { expiresAt: new Date(Date.now() + 2500) });
      await provider.grant(soon);
      expect(await canSelect()).toBe(true);
      const until = Date.now() + 15_000;
      while (Date.now() < until && (await my.reaches(account, role))) await new Promise((r) => setTimeout(r, 250));
      expect(await canSelect()).toBe(false);
      await provider.revoke(soon);
    } finally {
      if (scheduler === "ON" || scheduler === "OFF") await my.admin(`SET GLOBAL event_scheduler = ${scheduler}`);
    }
  });
});

if (describeMysql === describe.skip) describe.skip(`mysql principals: ${probe.reason}`, () => test("needs a server", () => undefined));

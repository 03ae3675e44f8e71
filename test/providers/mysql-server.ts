/**
 * The real MySQL/MariaDB server for the mysql provider's tests: TIMEBOX_TEST_MYSQL_URL (an admin
 * URL, e.g. mysql://root@127.0.0.1:3306/). There is no embedded stand-in: without the variable, or
 * when the server does not answer, the tests are skipped with a printed reason — unless
 * TIMEBOX_REQUIRE_MYSQL is set (CI sets it), when they fail instead.
 *
 * Usage (top-level await, so a file can pick `describe` or `describe.skip` at definition time):
 *   const server = await findTestMysql("mysql provider");
 *   const describeMysql = server.available || server.required ? describe : describe.skip;
 *   let my: TestMysql; beforeAll(async () => { my = await startTestMysql(); });
 */
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { accountRoleOf } from "../../src/providers/mysql/provider.js";

const URL_ENV = "TIMEBOX_TEST_MYSQL_URL";
const REQUIRE_ENV = "TIMEBOX_REQUIRE_MYSQL";

export interface TestMysqlProbe {
  available: boolean;
  required: boolean;
  /** Why the tests are skipped (or, when required, why they will fail). */
  reason?: string;
}

/** Is the server there? Prints why not (once per file). */
export async function findTestMysql(what: string): Promise<TestMysqlProbe> {
  const required = Boolean(process.env[REQUIRE_ENV]);
  const url = process.env[URL_ENV];
  let reason: string | undefined;
  if (!url) reason = `${URL_ENV} is not set`;
  else {
    try {
      const c = await mysql.createConnection({ ...options(url), connectTimeout: 3000 });
      await c.query("SELECT 1");
      await c.end();
    } catch (err) {
      reason = `the server at ${URL_ENV} does not answer (${(err as { code?: string }).code ?? "error"})`;
    }
  }
  if (reason) {
    const verdict = required ? `${REQUIRE_ENV} is set, so they FAIL` : `skipped (set ${REQUIRE_ENV}=1 to fail instead)`;
    console.warn(`${what}: no MySQL/MariaDB server — ${reason}; the tests are ${verdict}. Example: ${URL_ENV}=mysql://root@127.0.0.1:3306/`);
  }
  return { available: !reason, required, ...(reason ? { reason } : {}) };
}

export interface TestMysql {
  url: string;
  /** host and port of the server, for connecting as the test accounts. */
  host: string;
  port: number;
  admin<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Does `account` (user@host) hold role `role` through any chain of grants? */
  reaches(account: string, role: string): Promise<boolean>;
  /** A new connection as a test account (what a person does), closed by the caller. */
  connectAs(user: string, password: string): Promise<mysql.Connection>;
  stop(): Promise<void>;
}

function options(url: string): mysql.ConnectionOptions {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

export async function startTestMysql(): Promise<TestMysql> {
  const url = process.env[URL_ENV];
  if (!url) throw new Error(`${URL_ENV} is not set (and ${REQUIRE_ENV} asks for the MySQL tests to run)`);
  const o = options(url);
  const pool = mysql.createPool({ ...o, connectionLimit: 2, dateStrings: true });
  const admin = async <R>(sql: string, params?: unknown[]): Promise<R[]> => {
    const [rows] = await pool.query(sql, params);
    return (Array.isArray(rows) ? rows : []) as R[];
  };
  return {
    url,
    host: o.host!,
    port: o.port!,
    admin,
    reaches: async (account, role) => {
      const at = account.lastIndexOf("@");
      const start = at < 0 ? { u: account, h: "%" } : { u: account.slice(0, at), h: account.slice(at + 1) };
      const edges = await admin<{ User: string; Host: string; Role: string }>("SELECT User, Host, Role FROM mysql.roles_mapping");
      const seen = new Set<string>();
      const stack = [start];
      while (stack.length) {
        const n = stack.pop()!;
        for (const e of edges) {
          if (e.User !== n.u || e.Host !== n.h || seen.has(e.Role)) continue;
          if (e.Role === role) return true;
          seen.add(e.Role);
          stack.push({ u: e.Role, h: "" });
        }
      }
      return false;
    },
    connectAs: (user, password) => mysql.createConnection({ host: o.host, port: o.port, user, password, connectTimeout: 5000 }),
    stop: () => pool.end(),
  };
}

export const ident = (name: string): string => "`" + name.replace(/`/g, "``") + "`";

/** A random suffix, so parallel runs against one server never clash. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString("hex");
}

/**
 * Accounts, roles and databases one test file makes, dropped at the end with whatever Timebox
 * hung off them (per-grant roles that were granted one of our roles, per-account roles of our
 * accounts, their records and events).
 */
export class Made {
  readonly suffix = uniqueSuffix();
  private n = 0;
  private readonly accounts: Array<{ user: string; host: string }> = [];
  private readonly roles: string[] = [];
  private readonly databases: string[] = [];
  readonly password = `pw-${this.suffix}`;

  constructor(private readonly my: () => TestMysql) {}

  name(kind: string): string {
    return `tbt_${kind}_${this.suffix}_${++this.n}`;
  }

  /** A person's account `user@%` with `this.password`; returns `user@%`. */
  async account(user = this.name("dev"), host = "%"): Promise<string> {
    await this.my().admin(`CREATE USER ${ident(user)}@${ident(host)} IDENTIFIED BY '${this.password}'`);
    this.accounts.push({ user, host });
    return `${user}@${host}`;
  }

  /** A role (root made it, so root holds it WITH ADMIN OPTION). */
  async role(name = this.name("role")): Promise<string> {
    await this.my().admin(`CREATE ROLE ${ident(name)}`);
    this.roles.push(name);
    return name;
  }

  /** Drop this role at the end too (made by someone else). */
  async adopt(role: string): Promise<void> {
    this.roles.push(role);
  }

  /** Drop this account at the end too (made by the test itself). */
  async adoptAccount(user: string, host: string): Promise<void> {
    this.accounts.push({ user, host });
  }

  /** A database with one table `t` (one row), and a role that may SELECT from it. */
  async readableTable(): Promise<{ db: string; role: string }> {
    const db = this.name("db");
    await this.my().admin(`CREATE DATABASE ${ident(db)}`);
    this.databases.push(db);
    await this.my().admin(`CREATE TABLE ${ident(db)}.t (x INT)`);
    await this.my().admin(`INSERT INTO ${ident(db)}.t VALUES (42)`);
    const role = await this.role(this.name("reader"));
    await this.my().admin(`GRANT SELECT ON ${ident(db)}.* TO ${ident(role)}`);
    return { db, role };
  }

  async dropAll(): Promise<void> {
    const my = this.my();
    const edges = await my.admin<{ User: string; Host: string; Role: string }>("SELECT User, Host, Role FROM mysql.roles_mapping");
    const timebox = new Set<string>();
    for (const e of edges) if (e.Host === "" && e.User.startsWith("timebox_") && this.roles.includes(e.Role)) timebox.add(e.User);
    for (const a of this.accounts) timebox.add(accountRoleOf(a));
    for (const r of timebox) {
      await my.admin(`DROP ROLE IF EXISTS ${ident(r)}`).catch(() => undefined);
      await my.admin(`DROP EVENT IF EXISTS timebox.${ident(r)}`).catch(() => undefined);
      await my.admin("DELETE FROM timebox.`grants` WHERE short_id = ?", [r.slice("timebox_".length)]).catch(() => undefined);
    }
    for (const a of this.accounts) await my.admin(`DROP USER IF EXISTS ${ident(a.user)}@${ident(a.host)}`).catch(() => undefined);
    for (const r of this.roles) await my.admin(`DROP ROLE IF EXISTS ${ident(r)}`).catch(() => undefined);
    for (const d of this.databases) await my.admin(`DROP DATABASE IF EXISTS ${ident(d)}`).catch(() => undefined);
  }
}

/**
 * Every statement the MySQL/MariaDB provider runs, in one place, so it is easy to audit that no
 * grant value is ever spliced into SQL raw: role and account names go through `ident` (backticks,
 * a backtick doubled; DDL cannot take bind parameters), the few literals inside DDL (an event's
 * time and body) through `literal`, and everything in a WHERE clause or a row is a bind parameter.
 *
 * `literal` escapes with backslashes, which is only safe when the session's sql_mode does not
 * contain NO_BACKSLASH_ESCAPES: `SESSION_SETUP` sets the sql_mode of every connection first.
 *
 * The two servers differ in their catalogs, so the catalog reads and a few statements come in two
 * dialects. MariaDB keeps roles in `mysql.user` (is_role = 'Y', host '') and edges in
 * `mysql.roles_mapping`, and allows one default role per account; MySQL 8 roles are locked
 * accounts (`name`@`%`), edges live in `mysql.role_edges`, default roles (several allowed) in
 * `mysql.default_roles`.
 */

export type Flavor = "mariadb" | "mysql";

/** A user, account or role: MariaDB roles have host ''. */
export interface Node {
  user: string;
  host: string;
}

/** `grantee` holds `role` (GRANT role TO grantee). */
export interface Edge {
  grantee: Node;
  role: Node;
  admin: boolean;
}

/** Prefix of every per-grant role Timebox creates: `timebox_<shortId>`. */
export const ROLE_PREFIX = "timebox_";
/** Prefix of the per-account role Timebox makes the account's default role: `timebox_acct_<hash>`. */
export const ACCOUNT_ROLE_PREFIX = "timebox_acct_";
/** A per-grant role's name (not a per-account one: `acct_…` has an underscore). */
export const PER_GRANT_ROLE = /^timebox_([0-9a-z]{1,40})$/;

/** One server-wide named lock for all Timebox role changes (as PostgreSQL's advisory lock). */
export const LOCK_NAME = "timebox.mysql.roles";

function ident(name: string): string {
  return "`" + name.replace(/`/g, "``") + "`";
}

/** A string literal for DDL (needs the sql_mode SESSION_SETUP sets: backslash escapes on). */
function literal(value: string): string {
  return (
    "'" +
    // eslint-disable-next-line no-control-regex -- the characters MySQL's string literals escape
    value.replace(/[\0\b\t\n\r\x1a"'\\]/g, (c) =>
      c === "\0" ? "\\0" : c === "\b" ? "\\b" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : c === "\x1a" ? "\\Z" : `\\${c}`,
    ) +
    "'"
  );
}

export const sameNode = (a: Node, b: Node): boolean => a.user === b.user && a.host === b.host;
export const nodeText = (n: Node): string => (n.host === "" ? n.user : `${n.user}@${n.host}`);

/**
 * Run on every new connection: a known sql_mode (backslash escapes on, so `literal` is safe; no
 * ANSI_QUOTES), UTC (event times are written in UTC), and server-side timeouts.
 */
export function sessionSetup(flavor: Flavor, statementMs: number, lockWaitMs: number): string {
  const lockWait = Math.max(1, Math.ceil(lockWaitMs / 1000));
  const statement =
    flavor === "mariadb"
      ? `, max_statement_time = ${Math.max(0.001, statementMs / 1000).toFixed(3)}`
      : `, max_execution_time = ${Math.max(1, Math.floor(statementMs))}`;
  // SET NAMES: the server's default collation for utf8mb4, so literals compare with catalog columns.
  return `SET NAMES utf8mb4, SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00', lock_wait_timeout = ${lockWait}${statement}`;
}

export const version = "SELECT VERSION() AS v, CURRENT_USER() AS me";
export const getLock = "SELECT GET_LOCK(?, ?) AS got";
export const releaseLock = "SELECT RELEASE_LOCK(?) AS released";

/** Everything each dialect does differently. */
export interface Dialect {
  readonly flavor: Flavor;
  /** The role a `target` names: MariaDB `name`; MySQL `name` (host %) or `name@host`. */
  roleNode(name: string): Node;
  /** SQL for a role: MariaDB `` `name` ``, MySQL `` `name`@`host` ``. */
  roleSql(role: Node): string;
  /** All roles (name, host). */
  readonly roles: string;
  /** Every role edge, as rows { gu, gh, ru, rh, admin }. */
  readonly edges: string;
  /** The account `?`@`?`: { is_role, super, locked }; no row when it does not exist. */
  readonly account: string;
  /** Default roles of account `?`@`?`, as rows { ru, rh }. */
  readonly defaultRoles: string;
  setDefaultRoles(account: Node, roles: readonly Node[]): string;
  createRole(role: Node): string;
}

const accountSql = (n: Node): string => `${ident(n.user)}@${ident(n.host)}`;
export { accountSql };

export const mariadb: Dialect = {
  flavor: "mariadb",
  roleNode: (name) => ({ user: name, host: "" }),
  roleSql: (role) => ident(role.user),
  roles: "SELECT User AS u, '' AS h FROM mysql.user WHERE is_role = 'Y'",
  edges: "SELECT User AS gu, Host AS gh, Role AS ru, '' AS rh, Admin_option = 'Y' AS admin FROM mysql.roles_mapping",
  account: "SELECT is_role = 'Y' AS is_role, Super_priv = 'Y' AS super, 0 AS locked FROM mysql.user WHERE User = ? AND Host = ?",
  defaultRoles: "SELECT default_role AS ru, '' AS rh FROM mysql.user WHERE User = ? AND Host = ? AND default_role <> ''",
  // MariaDB: one default role per account.
  setDefaultRoles: (account, roles) => {
    if (roles.length > 1) throw new Error("MariaDB allows one default role per account");
    return `SET DEFAULT ROLE ${roles[0] ? ident(roles[0].user) : "NONE"} FOR ${accountSql(account)}`;
  },
  // The creator (Timebox's account) is given the role WITH ADMIN OPTION, which it needs to grant it.
  createRole: (role) => `CREATE ROLE IF NOT EXISTS ${ident(role.user)}`,
};

/** MySQL 8: untested here (no MySQL server on this machine); see docs/providers/mysql.md. */
export const mysql8: Dialect = {
  flavor: "mysql",
  roleNode: (name) => {
    const at = name.lastIndexOf("@");
    return at > 0 ? { user: name.slice(0, at), host: name.slice(at + 1) } : { user: name, host: "%" };
  },
  roleSql: (role) => accountSql(role),
  // A role is a locked account without a password (what CREATE ROLE makes).
  roles: "SELECT User AS u, Host AS h FROM mysql.user WHERE account_locked = 'Y' AND authentication_string = ''",
  edges: "SELECT TO_USER AS gu, TO_HOST AS gh, FROM_USER AS ru, FROM_HOST AS rh, WITH_ADMIN_OPTION = 'Y' AS admin FROM mysql.role_edges",
  account:
    "SELECT (account_locked = 'Y' AND authentication_string = '') AS is_role, Super_priv = 'Y' AS super, account_locked = 'Y' AS locked FROM mysql.user WHERE User = ? AND Host = ?",
  defaultRoles: "SELECT DEFAULT_ROLE_USER AS ru, DEFAULT_ROLE_HOST AS rh FROM mysql.default_roles WHERE USER = ? AND HOST = ?",
  setDefaultRoles: (account, roles) => `SET DEFAULT ROLE ${roles.length ? roles.map(accountSql).join(", ") : "NONE"} TO ${accountSql(account)}`,
  createRole: (role) => `CREATE ROLE IF NOT EXISTS ${accountSql(role)}`,
};

export const grantRole = (d: Dialect, role: Node, to: Node, toIsRole: boolean): string =>
  `GRANT ${d.roleSql(role)} TO ${toIsRole ? d.roleSql(to) : accountSql(to)}`;
export const dropRole = (d: Dialect, role: Node): string => `DROP ROLE IF EXISTS ${d.roleSql(role)}`;

/** Does account `?`@`?` exist as a proxy target (other accounts may log in as it)? */
export const proxiedBy = "SELECT count(*) AS n FROM mysql.proxies_priv WHERE Proxied_user = ? AND (Proxied_host = ? OR Proxied_host = '%') AND User <> ''";

// --- Timebox's own database: the grant records and the expiry events -------------------------

export const createDatabase = (db: string): string => `CREATE DATABASE IF NOT EXISTS ${ident(db)}`;
export const createTable = (db: string): string => `CREATE TABLE IF NOT EXISTS ${ident(db)}.\`grants\` (
  short_id VARCHAR(40) NOT NULL PRIMARY KEY,
  grant_id VARCHAR(1024) NOT NULL,
  repo VARCHAR(300) NOT NULL,
  pull_request INT NOT NULL,
  requester VARCHAR(100) NOT NULL,
  principal VARCHAR(400) NOT NULL,
  target VARCHAR(400) NOT NULL,
  expires_at VARCHAR(40) NOT NULL
) DEFAULT CHARSET = utf8mb4 COMMENT = 'Timebox: one row per grant it applied (read by listManaged)'`;
export const upsertRecord = (db: string): string =>
  `INSERT INTO ${ident(db)}.\`grants\` (short_id, grant_id, repo, pull_request, requester, principal, target, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
   ON DUPLICATE KEY UPDATE grant_id = VALUES(grant_id), repo = VALUES(repo), pull_request = VALUES(pull_request), requester = VALUES(requester),
     principal = VALUES(principal), target = VALUES(target), expires_at = VALUES(expires_at)`;
export const deleteRecord = (db: string): string => `DELETE FROM ${ident(db)}.\`grants\` WHERE short_id = ?`;
export const records = (db: string): string => `SELECT short_id, grant_id, repo, principal, target, expires_at FROM ${ident(db)}.\`grants\``;

/** `YYYY-MM-DD HH:MM:SS` in UTC (the session's time zone), rounded up to the next second. */
function utcDateTime(d: Date): string {
  const up = new Date(Math.ceil(d.getTime() / 1000) * 1000);
  return up.toISOString().slice(0, 19).replace("T", " ");
}

/**
 * The one-shot event that ends a grant inside the database at its expiry even when Timebox is
 * down: drop the per-grant role (which removes its edges: the account loses the target through
 * it) and its record. Written as the Timebox account (its DEFINER), run by the event scheduler.
 */
export function createEvent(d: Dialect, db: string, role: Node, shortId: string, at: Date): string {
  return `CREATE EVENT ${ident(db)}.${ident(role.user)} ON SCHEDULE AT ${literal(utcDateTime(at))} ON COMPLETION NOT PRESERVE
  COMMENT ${literal(`Timebox: ends grant ${shortId} at its expiry`)}
  DO BEGIN
    DROP ROLE IF EXISTS ${d.roleSql(role)};
    DELETE FROM ${ident(db)}.\`grants\` WHERE short_id = ${literal(shortId)};
  END`;
}
export const dropEvent = (db: string, name: string): string => `DROP EVENT IF EXISTS ${ident(db)}.${ident(name)}`;

/** Sessions of user name `?`, never this one. */
export const sessionsOf = "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()";
export const kill = (id: number): string => {
  if (!Number.isSafeInteger(id) || id < 0) throw new Error("not a connection id");
  return `KILL CONNECTION ${id}`;
};

/**
 * Every statement the PostgreSQL provider runs, in one place, so it is easy to audit that no grant
 * value is ever spliced into SQL raw: role names go through `escapeIdentifier` (DDL cannot take
 * bind parameters), comment text through `escapeLiteral`, and everything in a WHERE clause is a
 * bind parameter.
 */
import pg from "pg";

const { escapeIdentifier: ident, escapeLiteral: literal } = pg;

/** Prefix of every role Timebox creates; `listManaged` finds them by it. */
export const ROLE_PREFIX = "timebox_";

/**
 * One cluster-wide advisory lock for all Timebox role changes. Grants are rare, so serialising
 * them costs nothing, and it makes "create if missing" and "is access still given by another
 * path?" race-free between concurrent grants and revokes, even from several app instances.
 * The key is arbitrary: the bytes of "TIMB".
 */
const LOCK_KEY = 0x54494d42;

export const lock = `SELECT pg_advisory_xact_lock(${LOCK_KEY})`;

export const roleExists = "SELECT 1 FROM pg_roles WHERE rolname = $1";

/** Is `$2` a direct member of `$1`? (direct: the edges Timebox itself creates.) */
export const directMember = `SELECT 1 FROM pg_auth_members am
  JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
  WHERE g.rolname = $1 AND m.rolname = $2`;

/** Direct members of role `$1`. */
export const membersOf = `SELECT m.rolname FROM pg_auth_members am
  JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
  WHERE g.rolname = $1 ORDER BY 1`;

/** Has `$1` the privileges of `$2` by any path? NULL when either role is missing. */
export const hasRole = `SELECT CASE WHEN
    EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2)
  THEN pg_has_role($1, $2, 'MEMBER') END AS member`;

/**
 * Does membership edge `am` pass privileges to the member? Before PostgreSQL 16 every membership
 * does (the member can at least SET ROLE). From 16 on, an edge with neither INHERIT nor SET (e.g.
 * the ADMIN-only membership a CREATEROLE role gets in the roles it creates) passes none. Read
 * through to_jsonb so the same text runs on servers without those columns.
 */
const confers = (am: string): string =>
  `(coalesce((to_jsonb(${am}) ->> 'inherit_option')::boolean, true) OR coalesce((to_jsonb(${am}) ->> 'set_option')::boolean, true))`;

/**
 * What decides whether role `$1` may be a principal (no row: it does not exist):
 * - `can_login`, `superuser`;
 * - `is_timebox`: it is the role this session runs as (`current_user`) or logged in as (`session_user`);
 * - `members`: how many roles are members of it in a way that passes privileges (a group);
 * - `held_by_timebox`: Timebox's own role is a member of it, directly or through other roles.
 */
export const principalFacts = `SELECT r.rolcanlogin AS can_login, r.rolsuper AS superuser,
    (r.rolname = current_user OR r.rolname = session_user) AS is_timebox,
    (SELECT count(*)::int FROM pg_auth_members am WHERE am.roleid = r.oid AND ${confers("am")}) AS members,
    EXISTS (
      WITH RECURSIVE held(oid) AS (
        SELECT oid FROM pg_roles WHERE rolname = current_user OR rolname = session_user
        UNION
        SELECT am.roleid FROM pg_auth_members am JOIN held h ON am.member = h.oid WHERE ${confers("am")})
      SELECT 1 FROM held WHERE held.oid = r.oid) AS held_by_timebox
  FROM pg_roles r WHERE r.rolname = $1`;

/** Every Timebox role with its comment, the roles it is a member of, and its members. */
export const listManaged = `SELECT r.rolname AS handle,
    shobj_description(r.oid, 'pg_authid') AS comment,
    (SELECT min(g.rolname) FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid
      WHERE am.member = r.oid) AS target,
    (SELECT min(m.rolname) FROM pg_auth_members am JOIN pg_roles m ON m.oid = am.member
      WHERE am.roleid = r.oid) AS principal
  FROM pg_roles r WHERE starts_with(r.rolname, $1) ORDER BY 1`;

/** End the sessions of login `$1`, never our own, nor any session of Timebox's own role. */
export const terminateSessions = `SELECT count(*)::int AS n FROM (
    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE usename = $1 AND pid <> pg_backend_pid() AND usename <> session_user AND usename <> current_user) t`;

// NOLOGIN: nobody signs in as the per-grant role; INHERIT: its members get the target's privileges.
export const createRole = (role: string): string => `CREATE ROLE ${ident(role)} NOLOGIN INHERIT`;
export const grantRole = (role: string, to: string): string => `GRANT ${ident(role)} TO ${ident(to)}`;
export const revokeRole = (role: string, from: string): string => `REVOKE ${ident(role)} FROM ${ident(from)}`;
export const dropRole = (role: string): string => `DROP ROLE IF EXISTS ${ident(role)}`;
export const commentOnRole = (role: string, text: string): string => `COMMENT ON ROLE ${ident(role)} IS ${literal(text)}`;

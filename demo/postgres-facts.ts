/** What PostgreSQL itself says about dev1's access: the facts the demo checks and prints. */
import type { EmbeddedPostgres } from "./embedded-postgres.js";
import { LOGIN_ROLE, TARGET_ROLE } from "./world.js";

export async function hasRole(pg: EmbeddedPostgres): Promise<boolean> {
  const [row] = await pg.query<{ member: boolean }>("SELECT pg_has_role($1, $2, 'MEMBER') AS member", [LOGIN_ROLE, TARGET_ROLE]);
  return row.member;
}

/** Memberships touching the login or the target role, from pg_auth_members: "x is a member of y". */
export async function memberships(pg: EmbeddedPostgres): Promise<string[]> {
  const rows = await pg.query<{ member: string; role: string }>(
    `SELECT m.rolname AS member, r.rolname AS role
       FROM pg_auth_members am
       JOIN pg_roles r ON r.oid = am.roleid
       JOIN pg_roles m ON m.oid = am.member
      WHERE m.rolname = $1 OR r.rolname = $2
      ORDER BY r.rolname, m.rolname`,
    [LOGIN_ROLE, TARGET_ROLE],
  );
  return rows.map((r) => `${r.member} is a member of ${r.role}`);
}

/** The per-grant roles Timebox created (`timebox_…`) that still exist. */
export async function timeboxRoles(pg: EmbeddedPostgres): Promise<string[]> {
  const rows = await pg.query<{ name: string }>("SELECT rolname AS name FROM pg_roles WHERE rolname LIKE 'timebox\\_%' ORDER BY 1");
  return rows.map((r) => r.name);
}

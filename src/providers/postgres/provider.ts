/**
 * The PostgreSQL provider. Each grant gets its own NOLOGIN role `timebox_<shortId>` that is a
 * member of the target role and is granted to the principal's login role. Revoking drops that
 * role only, so overlapping grants and access the person had before Timebox stay intact by
 * construction (design rule 7) — no prior-access bookkeeping is needed.
 */
import pg from "pg";
import type { Diagnostic } from "../../diagnostics.js";
import { remainingMs, throwIfPastDeadline } from "../deadline.js";
import { ProviderError, type ActiveGrant, type GrantResult, type ManagedGrant, type Provider } from "../types.js";
import { Redactor } from "./errors.js";
import * as sql from "./sql.js";

export interface PostgresProviderConfig {
  /** Policy resource name, used in messages instead of anything from the URL. */
  resource: string;
  /** Name of the env var holding the URL (for messages) and its value (may be missing). */
  urlEnv: string;
  url: string | undefined;
  terminateSessions: boolean;
  /** Pool size; 1 works (every operation uses one connection at a time). */
  poolSize: number;
  /** Client- and server-side timeouts; defaults in `DEFAULT_TIMEOUTS`. */
  timeouts?: Partial<PostgresTimeouts>;
}

/**
 * Every wait on the database is bounded (design rule 13), so a server that accepts connections
 * and never answers cannot stall the lifecycle:
 * - `connectMs`: TCP connect, TLS, authentication and startup, and waiting for a free pooled
 *   connection (pg's `connectionTimeoutMillis`);
 * - `queryMs`: one query, client-side (pg's `query_timeout`) — holds even when the server or the
 *   network is what hangs; the connection is then destroyed, never reused;
 * - `statementMs`: one statement, server-side (`statement_timeout`, which also bounds waiting for
 *   the advisory lock); below `queryMs`, so a slow server cancels cleanly and the connection stays;
 * - `idleInTransactionMs`: the server ends a session that sits in an open transaction this long
 *   (`idle_in_transaction_session_timeout`), so an instance cut off mid-transaction cannot keep
 *   the advisory lock, and every other instance's grants and revokes, waiting;
 * - `idleMs`: an idle pooled connection is closed (`idleTimeoutMillis`);
 * - `keepAliveMs`: TCP keepalive starts probing an idle socket after this long, so a peer that
 *   vanished without closing is noticed.
 * Inside a call bounded by the provider pool's deadline (`currentDeadline`), no query is sent
 * after the deadline and each query's timeout is cut to the time left.
 */
export interface PostgresTimeouts {
  connectMs: number;
  queryMs: number;
  statementMs: number;
  idleInTransactionMs: number;
  idleMs: number;
  keepAliveMs: number;
}

const DEFAULT_TIMEOUTS: PostgresTimeouts = {
  connectMs: 10_000,
  queryMs: 15_000,
  statementMs: 10_000,
  idleInTransactionMs: 30_000,
  idleMs: 30_000,
  keepAliveMs: 10_000,
};

/** The timeouts for a call deadline of `callMs` (each request fits inside one call). */
export function timeoutsWithin(callMs: number | undefined): PostgresTimeouts {
  if (callMs === undefined) return DEFAULT_TIMEOUTS;
  const cap = (ms: number) => Math.max(1, Math.min(ms, callMs));
  return {
    ...DEFAULT_TIMEOUTS,
    connectMs: cap(DEFAULT_TIMEOUTS.connectMs),
    queryMs: cap(DEFAULT_TIMEOUTS.queryMs),
    // Server-side below client-side, so a slow statement is cancelled by the server first.
    statementMs: Math.max(1, Math.min(DEFAULT_TIMEOUTS.statementMs, Math.floor(callMs * 0.8))),
  };
}

/** The JSON stored with COMMENT ON ROLE; read back by `listManaged`. */
interface RoleComment {
  grant: string;
  repo: string;
  pr: number;
  requester: string;
  expires_at: string;
}

type Query = (text: string, params?: unknown[]) => Promise<pg.QueryResult>;

export class PostgresProvider implements Provider {
  readonly id = "postgres";
  private pool: pg.Pool | undefined;
  private readonly redact: Redactor;
  readonly timeouts: PostgresTimeouts;

  constructor(private readonly config: PostgresProviderConfig) {
    this.redact = new Redactor(config.url);
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...config.timeouts };
  }

  async checkTarget(target: string, principal?: string): Promise<Diagnostic[]> {
    return this.session("check target", async (q) => {
      const out: Diagnostic[] = [];
      if (!(await exists(q, target))) {
        out.push(diag("provider.target", `PostgreSQL role \`${target}\` does not exist on ${this.config.resource}; create it or fix the role's target.`));
      }
      if (principal !== undefined) {
        if (!(await exists(q, principal))) {
          out.push(
            diag(
              "provider.principal",
              `PostgreSQL login role \`${principal}\` does not exist on ${this.config.resource}; create it or fix the identities mapping.`,
            ),
          );
        } else {
          const rule = await principalProblem(q, principal, target);
          if (rule !== undefined) {
            out.push(diag("provider.principal", `PostgreSQL principal \`${principal}\` on ${this.config.resource} ${rule}. ${howToFix(principal)}`));
          }
        }
      }
      return out;
    });
  }

  async grant(g: ActiveGrant): Promise<GrantResult> {
    const role = handleOf(g);
    await this.transaction(`grant ${g.id}`, async (q) => {
      // Checked up front so the error says which role is missing instead of a bare SQLSTATE.
      if (!(await exists(q, g.target))) throw this.fatal(`target role \`${g.target}\` does not exist`, g);
      if (!(await exists(q, g.principal))) throw this.fatal(`login role \`${g.principal}\` does not exist`, g);
      // The principal must be one person's own login role (issue #10): granting to a group, a
      // superuser, a pg_* role, the target or Timebox's own role gives the access to someone else.
      const rule = await principalProblem(q, g.principal, g.target);
      if (rule !== undefined) throw this.fatal(`principal \`${g.principal}\` ${rule}. ${howToFix(g.principal, g.requester)}`, g);
      // Each step is skipped when already done, so re-running after a partial failure completes it.
      if (!(await exists(q, role))) await q(sql.createRole(role));
      if (!(await isMember(q, g.target, role))) await q(sql.grantRole(g.target, role));
      await q(sql.commentOnRole(role, JSON.stringify(commentOf(g))));
      if (!(await isMember(q, role, g.principal))) await q(sql.grantRole(role, g.principal));
    });
    // Read back after commit: resolve only when the access is really in effect.
    const member = await this.session(`verify grant ${g.id}`, (q) => hasRole(q, g.principal, g.target));
    if (member !== true)
      throw new ProviderError(`postgres: grant ${g.id} on ${this.config.resource} did not take effect (\`${g.principal}\` is not a member of \`${g.target}\`)`);
    return { summary: `PostgreSQL role \`${role}\` (member of \`${g.target}\`) granted to \`${g.principal}\` on ${this.config.resource}` };
  }

  async revoke(g: ActiveGrant): Promise<void> {
    const role = handleOf(g);
    await this.transaction(`revoke ${g.id}`, async (q) => {
      if (!(await exists(q, role))) return; // already gone: nothing to do
      // Revoke from whoever holds it (the principal may have been renamed in `identities` since).
      for (const { rolname } of (await q(sql.membersOf, [role])).rows as { rolname: string }[]) await q(sql.revokeRole(role, rolname));
      if (await isMember(q, g.target, role)) await q(sql.revokeRole(g.target, role));
      // The access is gone with the memberships. If someone granted the role privileges by hand,
      // DROP ROLE fails (2BP01); keep the revoke rather than roll it back, and leave the empty role
      // for listManaged to show as drift. (DROP OWNED would also drop objects made under it.)
      await q("SAVEPOINT timebox_drop");
      try {
        await q(sql.dropRole(role));
      } catch (err) {
        if ((err as { code?: unknown }).code !== "2BP01") throw err;
        await q("ROLLBACK TO SAVEPOINT timebox_drop");
      }
    });
    if (this.config.terminateSessions) await this.endSessionsIfNoAccess(g);
  }

  async isGranted(g: ActiveGrant): Promise<boolean> {
    const role = handleOf(g);
    return this.session(`check grant ${g.id}`, async (q) => (await isMember(q, g.target, role)) && (await isMember(q, role, g.principal)));
  }

  async listManaged(): Promise<ManagedGrant[]> {
    return this.session("list managed roles", async (q) => {
      const { rows } = await q(sql.listManaged, [sql.ROLE_PREFIX]);
      return rows.map((r: { handle: string; comment: string | null; target: string | null; principal: string | null }) => {
        const c = parseComment(r.comment);
        const expires = c?.expires_at ? new Date(c.expires_at) : undefined;
        return {
          handle: r.handle,
          shortId: r.handle.slice(sql.ROLE_PREFIX.length),
          ...(c?.grant ? { grantId: c.grant } : {}),
          ...(c?.repo ? { repo: c.repo } : {}),
          ...(r.principal ? { principal: r.principal } : {}),
          ...(r.target ? { target: r.target } : {}),
          ...(expires && !Number.isNaN(expires.getTime()) ? { expiresAt: expires } : {}),
        };
      });
    });
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  /**
   * Sessions keep a role chosen with SET ROLE (and open transactions) after the membership is
   * gone, so ending them is what makes a revoke immediate. Done in its own locked transaction,
   * after the drop committed, and only when no other path (another grant, access from before
   * Timebox) still gives the principal the target — someone still entitled is not disconnected.
   */
  private async endSessionsIfNoAccess(g: ActiveGrant): Promise<void> {
    await this.transaction(`end sessions after revoking ${g.id}`, async (q) => {
      if ((await hasRole(q, g.principal, g.target)) !== false) return; // still has access, or a role is gone
      await q(sql.terminateSessions, [g.principal]);
    });
  }

  private fatal(what: string, g: ActiveGrant): ProviderError {
    return new ProviderError(this.redact.scrub(`postgres: cannot grant ${g.id} on ${this.config.resource}: ${what}`), false);
  }

  private getPool(): pg.Pool {
    if (this.pool) return this.pool;
    const { url, urlEnv, resource } = this.config;
    if (!url) throw new ProviderError(`postgres: environment variable ${urlEnv} (the connection URL for ${resource}) is not set`, false);
    const t = this.timeouts;
    const pool = new pg.Pool({
      connectionString: url,
      max: this.config.poolSize,
      connectionTimeoutMillis: t.connectMs,
      idleTimeoutMillis: t.idleMs,
      query_timeout: t.queryMs,
      statement_timeout: t.statementMs,
      idle_in_transaction_session_timeout: t.idleInTransactionMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: t.keepAliveMs,
      application_name: "timebox",
    });
    // An idle connection the server drops (restart, pg_terminate_backend) is reported here; without a
    // listener it would crash the app. The pool discards that client and the next call reconnects.
    pool.on("error", () => undefined);
    this.pool = pool;
    return pool;
  }

  /** Run `fn` on one pooled connection; map every failure to a safe ProviderError. */
  private async session<T>(action: string, fn: (q: Query) => Promise<T>): Promise<T> {
    const pool = this.getPool();
    throwIfPastDeadline();
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw this.redact.connectError(this.config.resource, err, this.timeouts.connectMs);
    }
    // What the connection is doing, to decide whether it may go back to the pool.
    let busy = false; // a query was sent and has not been answered (timed out, connection broke)
    let open = false; // a transaction is open (given up at the deadline, or ROLLBACK not answered)
    const query: Query = async (text, params) => {
      // Not sent once the call's deadline passed; given at most the time left.
      throwIfPastDeadline();
      busy = true;
      try {
        // `query_timeout` per query is read by pg (Client#query) but missing from @types/pg.
        const config = { text, values: params, query_timeout: remainingMs(this.timeouts.queryMs) } as pg.QueryConfig;
        const result = await client.query(config);
        busy = false;
        if (text === "BEGIN") open = true;
        else if (text === "COMMIT" || text === "ROLLBACK") open = false;
        return result;
      } catch (err) {
        if (isSqlError(err)) busy = false; // the server answered: the connection works
        throw err;
      }
    };
    try {
      return await fn(query);
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      throw this.redact.queryError(this.config.resource, action, err, this.timeouts.queryMs);
    } finally {
      // A connection still busy with a query (a hung server) or left in a transaction is
      // destroyed, never reused: the server rolls the transaction back when it goes.
      client.release(busy || open ? new Error("postgres session abandoned") : undefined);
    }
  }

  private async transaction<T>(action: string, fn: (q: Query) => Promise<T>): Promise<T> {
    return this.session(action, async (q) => {
      await q("BEGIN");
      try {
        await q(sql.lock);
        const out = await fn(q);
        await q("COMMIT");
        return out;
      } catch (err) {
        // After a server-side SQL error or one of our own checks the connection answers ROLLBACK
        // (past the call's deadline it is not sent at all); after a timeout or a broken connection
        // it would only wait behind the hung query. Either way a connection left in a transaction
        // is destroyed by `session`, and the server rolls back when it goes.
        if (isSqlError(err) || err instanceof ProviderError) await q("ROLLBACK").catch(() => undefined);
        throw err;
      }
    });
  }
}

/** A server-side SQL error: the server answered, so the connection is healthy. */
function isSqlError(err: unknown): boolean {
  return err instanceof Error && "severity" in err;
}

function handleOf(g: ActiveGrant): string {
  // shortId is a hex hash; checked anyway, since it becomes part of a role name.
  if (!/^[0-9a-z]{1,40}$/.test(g.shortId)) {
    throw new ProviderError(`postgres: grant ${g.id} has an invalid short id (expected lower-case letters and digits)`, false);
  }
  return `${sql.ROLE_PREFIX}${g.shortId}`;
}

function commentOf(g: ActiveGrant): RoleComment {
  return { grant: g.id, repo: g.repo, pr: g.pullRequest, requester: g.requester, expires_at: g.expiresAt.toISOString() };
}

function parseComment(text: string | null): Partial<RoleComment> | undefined {
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === "object" ? (v as Partial<RoleComment>) : undefined;
  } catch {
    return undefined; // someone edited the comment by hand; the handle alone still identifies it
  }
}

async function exists(q: Query, role: string): Promise<boolean> {
  return (await q(sql.roleExists, [role])).rowCount === 1;
}

interface PrincipalFacts {
  can_login: boolean;
  superuser: boolean;
  is_timebox: boolean;
  members: number;
  held_by_timebox: boolean;
}

/**
 * Why `principal` may not be granted `target`, or undefined when it may: it must be a plain login
 * role of one person. The rules, first match reported (each one a way a name collision — a GitHub
 * login used as the principal for want of an `identities` entry — gives access nobody approved):
 * - not a predefined `pg_*` role (its members would gain the target);
 * - not a `timebox_*` role (Timebox's own per-grant roles);
 * - not the target itself;
 * - not the role Timebox connects as (`current_user`, `session_user`);
 * - not a superuser (it has everything already; whoever uses it is not known to be the requester);
 * - able to log in (`rolcanlogin`): a NOLOGIN role is a group, or at least nobody's login;
 * - Timebox's own role is not a member of it (the grant would give Timebox the target);
 * - no member gets its privileges (a group; any member counts, there is no safe size). A member
 *   that has neither INHERIT nor SET (PostgreSQL 16+; e.g. the ADMIN-only membership a
 *   CREATEROLE role gets in roles it creates) receives nothing, so it does not count.
 * Returns a phrase that follows "principal `x`". Assumes the role exists.
 */
async function principalProblem(q: Query, principal: string, target: string): Promise<string | undefined> {
  if (principal.startsWith("pg_")) return "is a predefined PostgreSQL role (pg_*): every role that is a member of it would gain the target";
  if (principal.startsWith(sql.ROLE_PREFIX)) return `is a role Timebox manages (${sql.ROLE_PREFIX}*), not a person's login role`;
  if (principal === target) return "is the target role itself";
  const f = (await q(sql.principalFacts, [principal])).rows[0] as PrincipalFacts | undefined;
  if (!f) return "does not exist";
  if (f.is_timebox) return "is the role Timebox connects as: the grant would give Timebox's own role the target, not a person";
  if (f.superuser) return "is a superuser: it needs no grant, and who uses it is not known to be the requester";
  if (!f.can_login) {
    return f.members > 0
      ? `cannot log in (NOLOGIN): it is a group role (${plural(f.members, "member")}), and every member would gain the target`
      : "cannot log in (NOLOGIN), so it is not a person's login role";
  }
  if (f.held_by_timebox) return "has Timebox's own role as a member: the grant would give Timebox's own role the target";
  if (f.members > 0) return `is a group role (${plural(f.members, "member")}): every member would gain the target`;
  return undefined;
}

/** How to fix a refused principal: map the person to their own login role. */
function howToFix(principal: string, requester?: string): string {
  if (requester !== undefined && principal.toLowerCase() === requester.toLowerCase()) {
    const login = requester.toLowerCase();
    return `It is the requester's GitHub login \`${requester}\`, the principal when the policy has no \`identities\` entry for them: add \`identities: { ${login}: { postgres: <their own login role> } }\` to the policy (or fix \`identities.${login}.postgres\`).`;
  }
  if (requester !== undefined) {
    return `Change \`identities.${requester.toLowerCase()}.postgres\` in the policy to the requester's own login role.`;
  }
  return "Map each person to their own login role with an `identities` entry in the policy (`identities: { <github login>: { postgres: <login role> } }`).";
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

async function isMember(q: Query, group: string, member: string): Promise<boolean> {
  return ((await q(sql.directMember, [group, member])).rowCount ?? 0) > 0;
}

async function hasRole(q: Query, member: string, group: string): Promise<boolean | null> {
  return ((await q(sql.hasRole, [member, group])).rows as { member: boolean }[])[0]?.member ?? null;
}

function diag(rule: string, message: string): Diagnostic {
  return { path: "", line: 1, column: 1, message, rule, severity: "error" };
}

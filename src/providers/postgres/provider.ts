/**
 * The PostgreSQL provider. Each grant gets its own NOLOGIN role `timebox_<shortId>` that is a
 * member of the target role and is granted to the principal's login role. Revoking drops that
 * role only, so overlapping grants and access the person had before Timebox stay intact by
 * construction (design rule 7) — no prior-access bookkeeping is needed.
 */
import pg from "pg";
import type { Diagnostic } from "../../diagnostics.js";
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

  constructor(private readonly config: PostgresProviderConfig) {
    this.redact = new Redactor(config.url);
  }

  async checkTarget(target: string, principal?: string): Promise<Diagnostic[]> {
    return this.session("check target", async (q) => {
      const out: Diagnostic[] = [];
      if (!(await exists(q, target))) {
        out.push(diag("provider.target", `PostgreSQL role \`${target}\` does not exist on ${this.config.resource}; create it or fix the role's target.`));
      }
      if (principal !== undefined && !(await exists(q, principal))) {
        out.push(diag("provider.principal", `PostgreSQL login role \`${principal}\` does not exist on ${this.config.resource}; create it or fix the identities mapping.`));
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
      // Each step is skipped when already done, so re-running after a partial failure completes it.
      if (!(await exists(q, role))) await q(sql.createRole(role));
      if (!(await isMember(q, g.target, role))) await q(sql.grantRole(g.target, role));
      await q(sql.commentOnRole(role, JSON.stringify(commentOf(g))));
      if (!(await isMember(q, role, g.principal))) await q(sql.grantRole(role, g.principal));
    });
    // Read back after commit: resolve only when the access is really in effect.
    const member = await this.session(`verify grant ${g.id}`, (q) => hasRole(q, g.principal, g.target));
    if (member !== true) throw new ProviderError(`postgres: grant ${g.id} on ${this.config.resource} did not take effect (\`${g.principal}\` is not a member of \`${g.target}\`)`);
    return { summary: `PostgreSQL role \`${role}\` (member of \`${g.target}\`) granted to \`${g.principal}\` on ${this.config.resource}` };
  }

  async revoke(g: ActiveGrant): Promise<void> {
    const role = handleOf(g);
    await this.transaction(`revoke ${g.id}`, async (q) => {
      if (!(await exists(q, role))) return; // already gone: nothing to do
      // Revoke from whoever holds it (the principal may have been renamed in `identities` since).
      for (const { rolname } of (await q(sql.membersOf, [role])).rows) await q(sql.revokeRole(role, rolname));
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
    const pool = new pg.Pool({
      connectionString: url,
      max: this.config.poolSize,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      statement_timeout: 30_000,
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
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw this.redact.connectError(this.config.resource, err);
    }
    let broken: unknown;
    try {
      return await fn((text, params) => client.query(text, params));
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      broken = err;
      throw this.redact.queryError(this.config.resource, action, err);
    } finally {
      // A connection that failed mid-query may be unusable: destroy it rather than reuse it.
      client.release(broken instanceof Error && !("severity" in broken) ? broken : undefined);
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
        await q("ROLLBACK").catch(() => undefined);
        throw err;
      }
    });
  }
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

async function isMember(q: Query, group: string, member: string): Promise<boolean> {
  return ((await q(sql.directMember, [group, member])).rowCount ?? 0) > 0;
}

async function hasRole(q: Query, member: string, group: string): Promise<boolean | null> {
  return (await q(sql.hasRole, [member, group])).rows[0]?.member ?? null;
}

function diag(rule: string, message: string): Diagnostic {
  return { path: "", line: 1, column: 1, message, rule, severity: "error" };
}

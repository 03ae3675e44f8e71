/**
 * The MySQL/MariaDB provider. Like the PostgreSQL provider, each grant gets its own role
 * `timebox_<shortId>`, granted the target role; revoking drops that role only, so overlapping
 * grants and access the person had before Timebox stay intact by construction (design rule 7).
 *
 * What MySQL-family servers add: a role granted to an account is not active in a new session until
 * the session runs `SET ROLE`, unless it is a *default role* — and MariaDB allows one default role
 * per account. So the per-grant roles are not granted to the account directly but to one
 * per-account role `timebox_acct_<hash of user@host>`, which is granted to the account and made its
 * default role: a fresh connection has every grant the account holds at once. A default role the
 * account had before Timebox is granted to that per-account role too (so it keeps working), and
 * restored when the account's last grant ends, when the per-account role is dropped.
 *
 * Grant records (grant id, repository, expiry) live in a table of Timebox's own database
 * (`database` setting, default `timebox`), which also holds the one-shot expiry events.
 */
import mysql from "mysql2/promise";
import { createHash } from "node:crypto";
import type { Diagnostic } from "../../diagnostics.js";
import { remainingMs, throwIfPastDeadline } from "../deadline.js";
import { ProviderError, type ActiveGrant, type GrantResult, type ManagedGrant, type Provider } from "../types.js";
import { safeDecode } from "../redact.js";
import { Redactor, isSqlError } from "./errors.js";
import * as sql from "./sql.js";
import type { Dialect, Edge, Node } from "./sql.js";

export interface MysqlProviderConfig {
  /** Policy resource name, used in messages instead of anything from the URL. */
  resource: string;
  /** Name of the env var holding the URL (for messages) and its value (may be missing). */
  urlEnv: string;
  url: string | undefined;
  /** Timebox's own database: grant records and expiry events. */
  database: string;
  killSessions: boolean;
  /** Schedule the one-shot expiry event when the server's event scheduler is on. */
  expiryEvent: boolean;
  poolSize: number;
  timeouts?: Partial<MysqlTimeouts>;
}

/**
 * Every wait on the server is bounded (design rule 13):
 * - `connectMs`: TCP connect and handshake (mysql2's `connectTimeout`), and waiting for a pooled connection;
 * - `queryMs`: one query, client-side (mysql2's per-query `timeout`; the connection is then destroyed);
 * - `statementMs`: one statement, server-side (MariaDB `max_statement_time`, MySQL `max_execution_time`);
 * - `lockWaitMs`: waiting for Timebox's named lock and for metadata locks (`lock_wait_timeout`);
 * - `idleMs`: an idle pooled connection is closed.
 * Inside a call bounded by the provider pool's deadline (`currentDeadline`), no query is sent after
 * the deadline and each query's timeout is cut to the time left.
 */
export interface MysqlTimeouts {
  connectMs: number;
  queryMs: number;
  statementMs: number;
  lockWaitMs: number;
  idleMs: number;
}

const DEFAULT_TIMEOUTS: MysqlTimeouts = { connectMs: 10_000, queryMs: 15_000, statementMs: 10_000, lockWaitMs: 10_000, idleMs: 30_000 };

/** The timeouts for a call deadline of `callMs` (each request fits inside one call). */
export function timeoutsWithin(callMs: number | undefined): MysqlTimeouts {
  if (callMs === undefined) return DEFAULT_TIMEOUTS;
  const cap = (ms: number) => Math.max(1, Math.min(ms, callMs));
  const server = Math.max(1, Math.floor(callMs * 0.8));
  return {
    ...DEFAULT_TIMEOUTS,
    connectMs: cap(DEFAULT_TIMEOUTS.connectMs),
    queryMs: cap(DEFAULT_TIMEOUTS.queryMs),
    // Server-side below client-side, so a slow statement is ended by the server first.
    statementMs: Math.min(DEFAULT_TIMEOUTS.statementMs, server),
    lockWaitMs: Math.min(DEFAULT_TIMEOUTS.lockWaitMs, server),
  };
}

type Row = Record<string, unknown>;
type Query = ((text: string, params?: unknown[]) => Promise<Row[]>) & {
  /** Never put this connection back in the pool (e.g. it may still hold the named lock). */
  discard(): void;
};

interface ServerFacts {
  dialect: Dialect;
  /** Timebox's own account (CURRENT_USER()). */
  me: Node;
}

/** What a session knows about the server's role graph (read once, kept current by our own changes). */
interface Graph {
  roles: Node[];
  edges: Edge[];
}

interface GrantRecord {
  short_id: string;
  grant_id: string;
  repo: string;
  principal: string;
  target: string;
  expires_at: string;
}

export class MysqlProvider implements Provider {
  readonly id = "mysql";
  private pool: mysql.Pool | undefined;
  private readonly redact: Redactor;
  readonly timeouts: MysqlTimeouts;
  private facts: ServerFacts | undefined;
  private readonly setUp = new WeakSet<object>();
  private storeReady = false;

  constructor(private readonly config: MysqlProviderConfig) {
    this.redact = new Redactor(config.url);
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...config.timeouts };
  }

  async checkTarget(target: string, principal?: string): Promise<Diagnostic[]> {
    return this.session("check target", async (q, f) => {
      const out: Diagnostic[] = [];
      const d = f.dialect;
      const g = await readGraph(q, d);
      const t = d.roleNode(target);
      if (!hasNode(g.roles, t)) {
        out.push(diag("provider.target", `${serverName(d)} role \`${target}\` does not exist on ${this.config.resource}; create it or fix the role's target.`));
      } else if (!canGrant(g, f.me, t)) {
        out.push(
          diag(
            "provider.target",
            `Timebox's account \`${sql.nodeText(f.me)}\` cannot grant role \`${target}\` on ${this.config.resource}: it needs \`GRANT ${d.roleSql(t)} TO ${sql.accountSql(f.me)} WITH ADMIN OPTION\`.`,
          ),
        );
      }
      if (principal !== undefined) {
        const parsed = parseAccount(principal);
        const rule = typeof parsed === "string" ? parsed : await principalProblem(q, f, g, parsed, t);
        if (rule !== undefined)
          out.push(diag("provider.principal", `${serverName(d)} principal \`${principal}\` on ${this.config.resource} ${rule}. ${howToFix()}`));
      }
      return out;
    });
  }

  async grant(g: ActiveGrant): Promise<GrantResult> {
    const role = handleOf(g);
    return this.locked(`grant ${g.id}`, async (q, f) => {
      const d = f.dialect;
      const r = d.roleNode(role);
      const graph = await readGraph(q, d);
      const t = d.roleNode(g.target);
      if (!hasNode(graph.roles, t)) throw this.fatal(`target role \`${g.target}\` does not exist`, g);
      const account = parseAccount(g.principal);
      if (typeof account === "string") throw this.fatal(`principal \`${g.principal}\` ${account}. ${howToFix(g.requester)}`, g);
      // The principal must be one person's own account (as for PostgreSQL, issue #10).
      const rule = await principalProblem(q, f, graph, account, t);
      if (rule !== undefined) throw this.fatal(`principal \`${g.principal}\` ${rule}. ${howToFix(g.requester)}`, g);
      if (!canGrant(graph, f.me, t)) {
        throw this.fatal(
          `Timebox's account cannot grant role \`${g.target}\`: it needs \`GRANT ${d.roleSql(t)} TO ${sql.accountSql(f.me)} WITH ADMIN OPTION\``,
          g,
        );
      }
      await this.ensureStore(q);
      // Each step is skipped when already done, so re-running after a partial failure completes it.
      if (!hasNode(graph.roles, r)) await q(d.createRole(r));
      if (!hasEdge(graph, r, t)) await q(sql.grantRole(d, t, r, true));
      await q(sql.upsertRecord(this.config.database), [
        g.shortId,
        g.id,
        g.repo,
        g.pullRequest,
        g.requester,
        accountText(account),
        g.target,
        g.expiresAt.toISOString(),
      ]);
      const u = d.roleNode(accountRoleOf(account));
      if (!hasNode(graph.roles, u)) await q(d.createRole(u));
      if (!hasEdge(graph, u, r)) await q(sql.grantRole(d, r, u, true));
      if (!hasEdge(graph, account, u)) await q(sql.grantRole(d, u, account, false));
      await this.makeDefault(q, d, graph, account, u, g);
      const event = await this.scheduleExpiry(q, f, r, g);
      // Read back: resolve only when the access is really in effect for a new session.
      if (!(await grantedIn(q, d, g, role))) {
        throw new ProviderError(
          `mysql: grant ${g.id} on ${this.config.resource} did not take effect (\`${sql.nodeText(account)}\` does not get \`${g.target}\` through its default role)`,
        );
      }
      return {
        summary: `${serverName(d)} role \`${role}\` (granted \`${g.target}\`) given to \`${accountText(account)}\` through its default role \`${u.user}\` on ${this.config.resource}; ${event}`,
      };
    });
  }

  async revoke(g: ActiveGrant): Promise<void> {
    const role = handleOf(g);
    const toCheck = await this.locked(`revoke ${g.id}`, async (q, f) => {
      const d = f.dialect;
      const r = d.roleNode(role);
      const graph = await readGraph(q, d);
      // Who holds the per-grant role (the principal may have changed in `identities` since), and what it gives.
      const umbrellas = graph.edges.filter((e) => sql.sameNode(e.role, r)).map((e) => e.grantee);
      const accounts: Node[] = [];
      for (const u of umbrellas) for (const e of graph.edges) if (sql.sameNode(e.role, u) && !isRoleNode(graph, e.grantee)) addNode(accounts, e.grantee);
      const parsed = parseAccount(g.principal);
      if (typeof parsed !== "string" && !isRoleNode(graph, parsed)) addNode(accounts, parsed);
      const targets = graph.edges.filter((e) => sql.sameNode(e.grantee, r)).map((e) => e.role);
      if (g.target) addNode(targets, d.roleNode(g.target));

      await this.ensureStore(q);
      await q(sql.dropEvent(this.config.database, role));
      if (hasNode(graph.roles, r)) await q(sql.dropRole(d, r)); // removes its edges: the access through it is gone
      await q(sql.deleteRecord(this.config.database), [g.shortId]);
      const after = await readGraph(q, d);
      for (const a of accounts) await this.retireAccountRole(q, d, after, a);
      return { accounts, targets };
    });
    if (this.config.killSessions && toCheck.accounts.length > 0) await this.endSessionsIfNoAccess(g, toCheck.accounts, toCheck.targets);
  }

  async isGranted(g: ActiveGrant): Promise<boolean> {
    const role = handleOf(g);
    return this.session(`check grant ${g.id}`, (q, f) => grantedIn(q, f.dialect, g, role));
  }

  async listManaged(): Promise<ManagedGrant[]> {
    return this.session("list managed roles", async (q, f) => {
      const d = f.dialect;
      const graph = await readGraph(q, d);
      await this.ensureStore(q);
      const recs = new Map(((await q(sql.records(this.config.database))) as unknown as GrantRecord[]).map((r) => [r.short_id, r]));
      const out: ManagedGrant[] = [];
      for (const role of graph.roles) {
        const m = sql.PER_GRANT_ROLE.exec(role.user);
        if (!m || role.user.startsWith(sql.ACCOUNT_ROLE_PREFIX)) continue;
        const shortId = m[1]!;
        const rec = recs.get(shortId);
        const target = graph.edges.find((e) => sql.sameNode(e.grantee, role))?.role;
        const holder = graph.edges.find((e) => sql.sameNode(e.role, role))?.grantee;
        const account = holder ? graph.edges.find((e) => sql.sameNode(e.role, holder) && !isRoleNode(graph, e.grantee))?.grantee : undefined;
        const expires = rec ? new Date(rec.expires_at) : undefined;
        out.push({
          handle: role.user,
          shortId,
          ...(rec ? { grantId: rec.grant_id, repo: rec.repo } : {}),
          ...(account ? { principal: accountText(account) } : rec ? { principal: rec.principal } : {}),
          ...(target ? { target: sql.nodeText(target) } : rec ? { target: rec.target } : {}),
          ...(expires && !Number.isNaN(expires.getTime()) ? { expiresAt: expires } : {}),
        });
      }
      return out.sort((a, b) => a.handle.localeCompare(b.handle));
    });
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  /**
   * Make the per-account role `u` the account's default role, so a new session has it without
   * SET ROLE. MariaDB allows one: a default role the account had before is granted to `u` (so the
   * account keeps it) and restored when `u` is dropped. MySQL allows several: `u` is added.
   */
  private async makeDefault(q: Query, d: Dialect, graph: Graph, account: Node, u: Node, g: ActiveGrant): Promise<void> {
    const defaults = await defaultRoles(q, d, account);
    if (defaults.some((x) => sql.sameNode(x, u))) return;
    if (d.flavor === "mysql") {
      await q(d.setDefaultRoles(account, [...defaults, u]));
      return;
    }
    const prior = defaults[0];
    if (prior && hasNode(graph.roles, prior) && !hasEdge(graph, u, prior)) {
      try {
        await q(sql.grantRole(d, prior, u, true));
      } catch (err) {
        if (!isSqlError(err)) throw err;
        throw this.fatal(
          `account \`${accountText(account)}\` has default role \`${prior.user}\`, and MariaDB allows one default role per account: Timebox keeps the old one working by granting it to \`${u.user}\`, which needs \`GRANT ${d.roleSql(prior)} TO ${sql.accountSql((this.facts as ServerFacts).me)} WITH ADMIN OPTION\` (or clear the account's default role)`,
          g,
        );
      }
    }
    await q(d.setDefaultRoles(account, [u]));
  }

  /** Drop the account's per-account role when it holds no grant any more, restoring the default role it replaced. */
  private async retireAccountRole(q: Query, d: Dialect, graph: Graph, account: Node): Promise<void> {
    const u = d.roleNode(accountRoleOf(account));
    if (!hasNode(graph.roles, u)) return;
    const held = graph.edges.filter((e) => sql.sameNode(e.grantee, u)).map((e) => e.role);
    if (held.some((r) => sql.PER_GRANT_ROLE.test(r.user) && !r.user.startsWith(sql.ACCOUNT_ROLE_PREFIX))) return; // other grants remain
    const defaults = await defaultRoles(q, d, account);
    if (defaults.some((x) => sql.sameNode(x, u))) {
      const rest = defaults.filter((x) => !sql.sameNode(x, u));
      // MariaDB: the default role `u` replaced is the role granted to `u` that is not Timebox's; the
      // account must still hold it itself.
      const restore = d.flavor === "mariadb" ? held.filter((r) => !r.user.startsWith(sql.ROLE_PREFIX) && hasEdge(graph, account, r)).slice(0, 1) : rest;
      await q(d.setDefaultRoles(account, restore));
    }
    await q(sql.dropRole(d, u));
  }

  /** The expiry event (the target's own lock), or why there is none: a phrase for the summary. */
  private async scheduleExpiry(q: Query, f: ServerFacts, r: Node, g: ActiveGrant): Promise<string> {
    const db = this.config.database;
    await q(sql.dropEvent(db, r.user)); // an extension moves the expiry: replace the event
    if (!this.config.expiryEvent) return "no expiry event in the database (`expiry_event: false`): only Timebox revokes it";
    const scheduler = text((await q("SELECT @@global.event_scheduler AS s"))[0]?.s).toUpperCase();
    if (scheduler !== "ON" && scheduler !== "1") {
      return `no expiry event in the database: the server's event_scheduler is ${scheduler || "unknown"}, so only Timebox revokes it (turn it on for a second lock)`;
    }
    if (g.expiresAt.getTime() <= Date.now() + 1000) return "no expiry event in the database: the expiry has already passed by Timebox's clock";
    await q(sql.createEvent(f.dialect, db, r, g.shortId, g.expiresAt));
    return `the database itself ends it at ${g.expiresAt.toISOString()} (event \`${db}\`.\`${r.user}\`)`;
  }

  /**
   * Sessions keep privileges they already had (a global privilege, an open transaction, a role
   * chosen with SET ROLE) after the role is gone, so ending them makes a revoke immediate. Done
   * after the drop, and only for an account that no longer reaches any of the targets through any
   * role path (another grant, a role it held before Timebox): someone still entitled is not
   * disconnected. Sessions are found by user name (the process list does not say which account,
   * user@host, a session matched).
   */
  private async endSessionsIfNoAccess(g: ActiveGrant, accounts: Node[], targets: Node[]): Promise<void> {
    await this.locked(`end sessions after revoking ${g.id}`, async (q, f) => {
      const graph = await readGraph(q, f.dialect);
      for (const a of accounts) {
        if (a.user === f.me.user) continue; // never Timebox's own sessions
        if (targets.some((t) => reaches(graph, a, t))) continue;
        for (const row of await q(sql.sessionsOf, [a.user])) {
          try {
            await q(sql.kill(Number(row.id)));
          } catch (err) {
            if ((err as { errno?: unknown }).errno !== 1094) throw err; // gone already (ER_NO_SUCH_THREAD)
          }
        }
      }
    });
  }

  private async ensureStore(q: Query): Promise<void> {
    if (this.storeReady) return;
    await q(sql.createDatabase(this.config.database));
    await q(sql.createTable(this.config.database));
    this.storeReady = true;
  }

  private fatal(what: string, g: ActiveGrant): ProviderError {
    return new ProviderError(this.redact.scrub(`mysql: cannot grant ${g.id} on ${this.config.resource}: ${what}`), false);
  }

  private getPool(): mysql.Pool {
    if (this.pool) return this.pool;
    const { url, urlEnv, resource } = this.config;
    if (!url) throw new ProviderError(`mysql: environment variable ${urlEnv} (the connection URL for ${resource}) is not set`, false);
    const options = connectionOptions(url, urlEnv, resource);
    const t = this.timeouts;
    const pool = mysql.createPool({
      ...options,
      connectionLimit: this.config.poolSize,
      maxIdle: this.config.poolSize,
      idleTimeout: t.idleMs,
      connectTimeout: t.connectMs,
      enableKeepAlive: true,
      keepAliveInitialDelay: 10_000,
      waitForConnections: true,
      queueLimit: 100,
      multipleStatements: false,
      supportBigNumbers: true,
      dateStrings: true,
    });
    // An idle connection the server drops is reported here; without a listener it would crash the app.
    (pool as unknown as { on(event: string, fn: () => void): void }).on("error", () => undefined);
    this.pool = pool;
    return pool;
  }

  /** A pooled connection within the connect timeout (and the call's deadline); a late one is released. */
  private async connection(): Promise<mysql.PoolConnection> {
    const pool = this.getPool();
    throwIfPastDeadline();
    const ms = remainingMs(this.timeouts.connectMs);
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    const pending = pool.getConnection();
    try {
      return await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            late = true;
            reject(Object.assign(new Error("timeout waiting for a connection"), { code: "ETIMEDOUT" }));
          }, ms);
        }),
      ]);
    } catch (err) {
      if (late)
        pending.then(
          (c) => c.release(),
          () => undefined,
        );
      throw this.redact.connectError(this.config.resource, err, this.timeouts.connectMs);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Run `fn` on one pooled connection; map every failure to a safe ProviderError. */
  private async session<T>(action: string, fn: (q: Query, facts: ServerFacts) => Promise<T>): Promise<T> {
    const conn = await this.connection();
    let busy = false; // a query was sent and not answered (timed out, connection broke): destroy, never reuse
    const run = async (text: string, params?: unknown[]): Promise<Row[]> => {
      throwIfPastDeadline();
      busy = true;
      try {
        const options = { sql: text, timeout: remainingMs(this.timeouts.queryMs) };
        const [rows] = params ? await conn.execute(options, params as never) : await conn.query(options);
        busy = false;
        return Array.isArray(rows) ? (rows as Row[]) : [];
      } catch (err) {
        if (isSqlError(err)) busy = false; // the server answered: the connection works
        throw err;
      }
    };
    const query: Query = Object.assign(run, { discard: () => void (busy = true) });
    try {
      const facts = await this.prepare(conn, query);
      return await fn(query, facts);
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      throw this.redact.queryError(this.config.resource, action, err, this.timeouts.queryMs);
    } finally {
      if (busy) conn.destroy();
      else conn.release();
    }
  }

  /** A session holding Timebox's named lock (so "create if missing" and "still reachable?" are race-free). */
  private async locked<T>(action: string, fn: (q: Query, facts: ServerFacts) => Promise<T>): Promise<T> {
    return this.session(action, async (q, f) => {
      const seconds = Math.max(0.001, remainingMs(this.timeouts.lockWaitMs) / 1000);
      const got = (await q(sql.getLock, [sql.LOCK_NAME, seconds]))[0]?.got;
      if (Number(got) !== 1)
        throw new ProviderError(
          `mysql: ${action} on ${this.config.resource} failed (another Timebox instance held the lock for ${seconds.toFixed(1)} s)`,
          true,
        );
      try {
        return await fn(q, f);
      } finally {
        // A connection whose query hung, or that could not release the lock (past the deadline the
        // query is not even sent), is destroyed by `session`: the server then releases the lock.
        await q(sql.releaseLock, [sql.LOCK_NAME]).catch(() => q.discard());
      }
    });
  }

  /** Server facts (once per provider) and session settings (once per connection). */
  private async prepare(conn: mysql.PoolConnection, q: Query): Promise<ServerFacts> {
    if (!this.facts) {
      const row = (await q(sql.version))[0] ?? {};
      const dialect = /mariadb/i.test(text(row.v)) ? sql.mariadb : sql.mysql8;
      const me = text(row.me);
      const at = me.lastIndexOf("@");
      this.facts = { dialect, me: { user: me.slice(0, at), host: me.slice(at + 1) } };
    }
    const raw = (conn as unknown as { connection: object }).connection;
    if (!this.setUp.has(raw)) {
      await q(sql.sessionSetup(this.facts.dialect.flavor, this.timeouts.statementMs, this.timeouts.lockWaitMs));
      this.setUp.add(raw);
    }
    return this.facts;
  }
}

/** mysql2 options from `mysql://user:pass@host:port/[database][?ssl=true]`; anything else is refused. */
function connectionOptions(url: string, urlEnv: string, resource: string): mysql.PoolOptions {
  const bad = (why: string) => new ProviderError(`mysql: environment variable ${urlEnv} (the connection URL for ${resource}) ${why}`, false);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad("is not a URL (expected mysql://user:password@host:port/)");
  }
  if (u.protocol !== "mysql:" && u.protocol !== "mariadb:") throw bad("must start with mysql:// or mariadb://");
  const options: mysql.PoolOptions = {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port ? Number(u.port) : 3306,
    user: safeDecode(u.username),
    password: safeDecode(u.password),
  };
  for (const [key, value] of u.searchParams) {
    if (key === "ssl" && (value === "true" || value === "required")) options.ssl = { rejectUnauthorized: true };
    else if (key === "ssl" && value === "false") continue;
    else throw bad(`has an unsupported parameter \`${key}\` (only ssl=true is understood)`);
  }
  return options;
}

function handleOf(g: ActiveGrant): string {
  // shortId is a hex hash; checked anyway, since it becomes part of a role name.
  if (!/^[0-9a-z]{1,40}$/.test(g.shortId)) {
    throw new ProviderError(`mysql: grant ${g.id} has an invalid short id (expected lower-case letters and digits)`, false);
  }
  return `${sql.ROLE_PREFIX}${g.shortId}`;
}

/** The per-account role of `account`: a hash, so any user@host (quotes, long names) gives a short, safe name. */
export function accountRoleOf(account: Node): string {
  return `${sql.ACCOUNT_ROLE_PREFIX}${createHash("sha256").update(`${account.user}\n${account.host}`).digest("hex").slice(0, 16)}`;
}

/** `name@host` → the account (host `%` when none is given), or why it cannot be one. */
function parseAccount(principal: string): Node | string {
  const at = principal.lastIndexOf("@");
  const account = at < 0 ? { user: principal, host: "%" } : { user: principal.slice(0, at), host: principal.slice(at + 1) };
  if (account.user === "") return "is an anonymous account (no user name): anyone could be using it";
  if (account.host === "") return "has an empty host; write `name@host`, e.g. `dev1@%`";
  if (/\0/.test(principal) || account.user.length > 128 || account.host.length > 255) return "is not a valid account name";
  return account;
}

const accountText = (a: Node): string => `${a.user}@${a.host}`;
const serverName = (d: Dialect): string => (d.flavor === "mariadb" ? "MariaDB" : "MySQL");

/**
 * Why `account` may not be given `target`, or undefined when it may: it must be one person's own
 * account. Each rule is a way a name collision (a GitHub login used as the principal for want of an
 * `identities` entry) or a typo gives access nobody approved:
 * - not a Timebox role (`timebox_*`), not the target, not `PUBLIC`;
 * - an account, not a role (MariaDB roles have no host; a MySQL role is a locked, password-less
 *   account): every account holding the role would gain the target;
 * - not Timebox's own account, nor another account with its user name (its sessions are never
 *   ended, and the grant would give Timebox the target);
 * - not a superuser (SUPER: it needs no grant, and who uses it is not known);
 * - no other account may log in as it (PROXY).
 */
async function principalProblem(q: Query, f: ServerFacts, graph: Graph, account: Node, target: Node): Promise<string | undefined> {
  const d = f.dialect;
  if (account.user.startsWith(sql.ROLE_PREFIX)) return `is a role Timebox manages (${sql.ROLE_PREFIX}*), not a person's account`;
  if (account.user.toUpperCase() === "PUBLIC") return "is the PUBLIC role: every account would gain the target";
  if (account.user === target.user && (d.flavor === "mariadb" || account.host === target.host)) return "is the target role itself";
  if (account.user === f.me.user)
    return "is Timebox's own account (or shares its user name): the grant would give Timebox's own account the target, not a person";
  const row = (await q(d.account, [account.user, account.host]))[0];
  if (!row) {
    if (graph.roles.some((r) => r.user === account.user)) return "is a role, not an account: every account holding it would gain the target";
    return "does not exist";
  }
  if (Number(row.is_role) === 1) return "is a role, not an account: every account holding it would gain the target";
  if (Number(row.super) === 1) return "is a superuser (SUPER): it needs no grant, and who uses it is not known to be the requester";
  const proxies = Number((await q(sql.proxiedBy, [account.user, account.host]))[0]?.n ?? 0);
  if (proxies > 0) return `can be used by other accounts through PROXY (${proxies}): each of them would gain the target`;
  return undefined;
}

function howToFix(requester?: string): string {
  const who = requester ? requester.toLowerCase() : "<github login>";
  return `Map the person to their own account with \`identities: { ${who}: { mysql: "<user>@<host>" } }\` in the policy (without an entry the principal is \`<login>@%\`).`;
}

async function readGraph(q: Query, d: Dialect): Promise<Graph> {
  const roles = (await q(d.roles)).map((r) => ({ user: text(r.u), host: text(r.h) }));
  const edges = (await q(d.edges)).map((e) => ({
    grantee: { user: text(e.gu), host: text(e.gh) },
    role: { user: text(e.ru), host: text(e.rh) },
    admin: Number(e.admin) === 1,
  }));
  return { roles, edges };
}

async function defaultRoles(q: Query, d: Dialect, account: Node): Promise<Node[]> {
  return (await q(d.defaultRoles, [account.user, account.host])).map((r) => ({ user: text(r.ru), host: text(r.rh) }));
}

const hasNode = (nodes: readonly Node[], n: Node): boolean => nodes.some((x) => sql.sameNode(x, n));
const addNode = (nodes: Node[], n: Node): void => void (hasNode(nodes, n) || nodes.push(n));
const hasEdge = (g: Graph, grantee: Node, role: Node): boolean => g.edges.some((e) => sql.sameNode(e.grantee, grantee) && sql.sameNode(e.role, role));
const isRoleNode = (g: Graph, n: Node): boolean => hasNode(g.roles, n);

/** May Timebox's account grant `role`? (it holds it WITH ADMIN OPTION) */
function canGrant(g: Graph, me: Node, role: Node): boolean {
  return g.edges.some((e) => sql.sameNode(e.grantee, me) && sql.sameNode(e.role, role) && e.admin);
}

/** Does `from` hold `to` through any chain of role grants? */
function reaches(g: Graph, from: Node, to: Node): boolean {
  const seen: Node[] = [];
  const stack = [from];
  while (stack.length > 0) {
    const n = stack.pop()!;
    for (const e of g.edges) {
      if (!sql.sameNode(e.grantee, n) || hasNode(seen, e.role)) continue;
      if (sql.sameNode(e.role, to)) return true;
      seen.push(e.role);
      stack.push(e.role);
    }
  }
  return false;
}

/** The grant is in effect for a new session: role → target, account role → role, account → account role, and that is a default role. */
async function grantedIn(q: Query, d: Dialect, g: ActiveGrant, role: string): Promise<boolean> {
  const account = parseAccount(g.principal);
  if (typeof account === "string" || !g.target) return false;
  const graph = await readGraph(q, d);
  const r = d.roleNode(role);
  const u = d.roleNode(accountRoleOf(account));
  if (!hasEdge(graph, r, d.roleNode(g.target)) || !hasEdge(graph, u, r) || !hasEdge(graph, account, u)) return false;
  return (await defaultRoles(q, d, account)).some((x) => sql.sameNode(x, u));
}

/** A catalog value as text (mysql2 gives strings, numbers or Buffers). */
function text(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  return "";
}

function diag(rule: string, message: string): Diagnostic {
  return { path: "", line: 1, column: 1, message, rule, severity: "error" };
}

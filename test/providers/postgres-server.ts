/**
 * A PostgreSQL server for tests: the real one when TIMEBOX_TEST_POSTGRES_URL is set (CI always
 * sets it), otherwise an in-memory PGlite served over the wire protocol by pglite-socket, so the
 * code under test talks to it with plain `pg` exactly as it would in production.
 *
 * PGlite limits to keep in mind (see `realSessions` and `poolSize`):
 * - one backend: the socket server admits ONE client connection at a time (a second is refused
 *   with "Too many connections"), so providers must use `poolSize` (1) and be closed (then
 *   `await idle()`) before another provider connects. `admin` bypasses the socket and talks to
 *   PGlite directly, so it never takes that connection.
 * - the login user in the startup message is ignored (everyone is `postgres`), pg_stat_activity
 *   shows no per-login sessions, so session termination cannot be observed.
 *
 * Usage:
 *   const pgs = await startTestPostgres();
 *   await pgs.admin("CREATE ROLE ...");                       // as a superuser
 *   const provider = postgresProviderFactory.create({ resource, env: { DB_URL: pgs.url },
 *     settings: { url_env: "DB_URL", pool_size: pgs.poolSize } });
 *   ... await provider.close(); await pgs.idle();
 *   await pgs.stop();
 */
import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import pg from "pg";

/** A pg.Client-like query function, run as a superuser. */
type AdminQuery = <R extends Record<string, unknown> = Record<string, any>>(sql: string, params?: unknown[]) => Promise<{ rows: R[] }>;

export interface TestPostgres {
  mode: "server" | "pglite";
  /** Connection URL for the code under test (no password in either mode). */
  url: string;
  admin: AdminQuery;
  /** Pool size a provider must use here: 1 for PGlite. */
  poolSize: number;
  /** True when logins are real sessions (LOGIN as another role, pg_terminate_backend). */
  realSessions: boolean;
  /** Resolves once no client holds the single PGlite connection (a no-op on a real server). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const TEST_POSTGRES_ENV = "TIMEBOX_TEST_POSTGRES_URL";

/** Known synchronously, so tests can pick `test` or `test.skip` at definition time. */
export function testPostgresMode(): "server" | "pglite" {
  return process.env[TEST_POSTGRES_ENV] ? "server" : "pglite";
}

/** A random suffix for role names, so parallel runs against one real server never clash. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString("hex");
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const url = process.env[TEST_POSTGRES_ENV];
  return url ? startReal(url) : startPglite();
}

async function startReal(url: string): Promise<TestPostgres> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on("error", () => undefined); // idle admin connection dropped: the pool reconnects
  await pool.query("SELECT 1");
  return {
    mode: "server",
    url,
    admin: async (sql, params) => pool.query(sql, params),
    poolSize: 2,
    realSessions: true,
    idle: async () => undefined,
    stop: () => pool.end(),
  };
}

async function startPglite(): Promise<TestPostgres> {
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 1 });
  await server.start();
  return {
    mode: "pglite",
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    admin: async (sql, params) => db.query(sql, params) as Promise<{ rows: any[] }>,
    poolSize: 1,
    realSessions: false,
    // The server forgets a client only after its socket closes, a tick after pool.end() resolves;
    // connecting before then is refused, so wait for it.
    idle: async () => {
      for (let i = 0; i < 200 && server.getStats().activeConnections > 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}

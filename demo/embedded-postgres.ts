/**
 * The demo's PostgreSQL: PGlite (PostgreSQL compiled to WebAssembly, in memory) served over the
 * wire protocol by pglite-socket on 127.0.0.1, so the app process connects with plain `pg` as it
 * would to a real server. One client connection at a time (the app's provider uses pool_size 1);
 * the demo's own queries go to PGlite directly and never take that connection.
 *
 * PGlite is one session: a query of the demo's that runs between two statements of the app's
 * transaction runs inside it and sees its uncommitted, half-done state (a revoke that has removed
 * the membership but not yet dropped the role). `query` therefore answers only from outside a
 * transaction block: it waits while one is open, and asks again if one opened while it ran.
 */
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface EmbeddedPostgres {
  /** Connection URL for the app (no password: PGlite has none). */
  url: string;
  query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 1 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    query: async <R extends Record<string, unknown>>(sql: string, params?: unknown[]) => {
      for (;;) {
        if (!db.isInTransaction()) {
          const { rows } = await db.query<R>(sql, params);
          if (!db.isInTransaction()) return rows;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}

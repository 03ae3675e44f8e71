/**
 * The demo reads PostgreSQL's facts straight from PGlite, which is one session shared with the app's
 * connection: a read between two statements of the app's transaction would see its half-done state
 * (CI once saw a revoke's memberships gone but its role not yet dropped, and failed the demo).
 */
import pg from "pg";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../demo/embedded-postgres.js";

let db: EmbeddedPostgres;
beforeAll(async () => {
  db = await startEmbeddedPostgres();
});
afterAll(async () => db.stop());

test("the demo's reads wait for the app's open transaction and see only what it committed", async () => {
  const app = new pg.Client({ connectionString: db.url });
  await app.connect();
  try {
    await app.query("CREATE ROLE timebox_half");
    await app.query("BEGIN");
    await app.query("DROP ROLE timebox_half");
    const read = db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'timebox_half'");
    let answered = false;
    void read.then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answered).toBe(false); // not from inside the app's transaction
    await app.query("ROLLBACK");
    expect(await read).toEqual([{ n: 1 }]); // the role the rolled-back DROP never removed
  } finally {
    await app.end();
  }
});

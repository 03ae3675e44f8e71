import { POLICY, startAccessRepo, type AccessRepo } from "./access-repo.js";
import { startTestPostgres, uniqueSuffix, type TestPostgres } from "../providers/postgres-server.js";

export interface PostgresAccess extends AccessRepo {
  pg: TestPostgres;
  /** The database role the `prod-db/readonly` role grants, and dev1's login role. */
  target: string;
  login: string;
  hasAccess: () => Promise<boolean>;
}

/**
 * The access repository wired to a real PostgreSQL (the server when TIMEBOX_TEST_POSTGRES_URL is
 * set, else embedded PGlite over the wire protocol), with roles unique to this run.
 */
export async function startPostgresAccess(): Promise<PostgresAccess> {
  const pg = await startTestPostgres();
  const s = uniqueSuffix();
  const target = `analytics_read_${s}`;
  const login = `dev1_${s}`;
  await pg.admin(`CREATE ROLE "${target}" NOLOGIN`);
  await pg.admin(`CREATE ROLE "${login}" LOGIN`);
  const policy = POLICY.replace("target: analytics_read", `target: ${target}`)
    .replace("dev1: { postgres: dev1_login }", `dev1: { postgres: ${login} }`)
    .replace("settings: { url_env: PROD_DB_URL }", `settings: { url_env: PROD_DB_URL, pool_size: ${pg.poolSize} }`);
  const repo = await startAccessRepo({ policy, env: { PROD_DB_URL: pg.url } });
  const hasAccess = async () =>
    (await pg.admin<{ ok: boolean }>("SELECT pg_has_role($1, $2, 'MEMBER') AS ok", [login, target])).rows[0].ok;
  return {
    ...repo,
    pg,
    target,
    login,
    hasAccess,
    stop: async () => {
      await repo.stop();
      await pg.idle();
      await pg.admin(`DROP ROLE IF EXISTS "${login}"`).catch(() => undefined);
      await pg.admin(`DROP ROLE IF EXISTS "${target}"`).catch(() => undefined);
      await pg.stop();
    },
  };
}

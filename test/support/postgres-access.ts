import { POLICY, startAccessRepo, type AccessRepo } from "./access-repo.js";
import { startTestPostgres, uniqueSuffix, type TestPostgres } from "../providers/postgres-server.js";
import { shortIdOf } from "../../src/lifecycle/active-grant.js";
import type { ProviderPool } from "../../src/lifecycle/provider-pool.js";

export interface PostgresAccess extends AccessRepo {
  pg: TestPostgres;
  /** The database role the `prod-db/readonly` role grants, and dev1's login role. */
  target: string;
  login: string;
  hasAccess: () => Promise<boolean>;
  /** The per-grant role (`timebox_<short id>`) Timebox creates for a grant file of this repository. */
  grantRole: (path: string) => string;
  /** Does a role of that name exist? */
  roleExists: (role: string) => Promise<boolean>;
  /** The env the provider pool is built with (the connection URL of `prod-db`), for a second app instance. */
  providerEnv: Record<string, string>;
}

export interface PostgresAccessOptions {
  /**
   * Name of the access repository under `acme`. Default `access`; pass a unique one (e.g.
   * `access-${uniqueSuffix()}`) when the test may share a real server with other test files, since
   * Timebox's role names and drift detection are keyed by repository.
   */
  repo?: string;
  /** Builds the provider pool from the provider env (tests wrap providers to inject failures). */
  pool?: (env: Record<string, string>) => ProviderPool;
  /**
   * A server shared by the tests of a file (started in `beforeAll`, stopped in `afterAll`): starting
   * PGlite costs seconds, and each test still gets its own roles, repository, emulator and app.
   * Left running by `stop()`.
   */
  pg?: TestPostgres;
}

/**
 * The access repository wired to a real PostgreSQL (the server when TIMEBOX_TEST_POSTGRES_URL is
 * set, else embedded PGlite over the wire protocol), with roles unique to this run.
 */
export async function startPostgresAccess(options: PostgresAccessOptions = {}): Promise<PostgresAccess> {
  const pg = options.pg ?? (await startTestPostgres());
  const s = uniqueSuffix();
  const target = `analytics_read_${s}`;
  const login = `dev1_${s}`;
  await pg.admin(`CREATE ROLE "${target}" NOLOGIN`);
  await pg.admin(`CREATE ROLE "${login}" LOGIN`);
  const policy = POLICY.replace("target: analytics_read", `target: ${target}`)
    .replace("dev1: { postgres: dev1_login }", `dev1: { postgres: ${login} }`)
    .replace("settings: { url_env: PROD_DB_URL }", `settings: { url_env: PROD_DB_URL, pool_size: ${pg.poolSize} }`);
  const providerEnv = { PROD_DB_URL: pg.url };
  // A unique repository by default: role names are keyed by repository, and test files run in
  // parallel against one real server must never touch each other's roles.
  const repo = await startAccessRepo({ policy, env: providerEnv, repo: options.repo ?? `access-${s}`, pool: options.pool?.(providerEnv) });
  const hasAccess = async () => (await pg.admin<{ ok: boolean }>("SELECT pg_has_role($1, $2, 'MEMBER') AS ok", [login, target])).rows[0].ok;
  return {
    ...repo,
    pg,
    target,
    login,
    hasAccess,
    grantRole: (path) => `timebox_${shortIdOf(repo.fullName, path)}`,
    roleExists: async (role) => (await pg.admin("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])).rows.length === 1,
    providerEnv,
    stop: async () => {
      await repo.stop();
      await pg.idle();
      {
        // A test that failed half-way may leave per-grant roles behind on a shared server.
        const left = await pg
          .admin<{ rolname: string }>(
            "SELECT rolname FROM pg_roles WHERE starts_with(rolname, 'timebox_') AND strpos(coalesce(shobj_description(oid, 'pg_authid'), ''), $1) > 0",
            [JSON.stringify({ repo: repo.fullName }).slice(1, -1)],
          )
          .catch(() => ({ rows: [] as Array<{ rolname: string }> }));
        for (const { rolname } of left.rows) await pg.admin(`DROP ROLE IF EXISTS "${rolname}"`).catch(() => undefined);
      }
      await pg.admin(`DROP ROLE IF EXISTS "${login}"`).catch(() => undefined);
      await pg.admin(`DROP ROLE IF EXISTS "${target}"`).catch(() => undefined);
      if (!options.pg) await pg.stop();
    },
  };
}

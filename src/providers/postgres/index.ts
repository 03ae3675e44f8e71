/**
 * The `postgres` provider factory. Settings (from the policy resource):
 * - `url_env` (required): name of the environment variable holding the connection URL. The URL
 *   itself never appears in the repository, in messages, or in logs.
 * - `terminate_sessions` (default true): end the principal's open sessions on revoke when no
 *   other path still gives them the target role.
 * - `pool_size` (default 5): connections per resource; 1 is enough (and what a single-connection
 *   server such as PGlite over pglite-socket needs).
 * Timeouts are not policy settings: they follow the provider pool's call deadline
 * (TIMEBOX_PROVIDER_TIMEOUT_MS) — see `timeoutsWithin` and docs/providers/postgres.md.
 */
import { ProviderError, type ProviderFactory, type ProviderOptions } from "../types.js";
import { PostgresProvider, timeoutsWithin } from "./provider.js";

export { PostgresProvider, timeoutsWithin } from "./provider.js";
export type { PostgresTimeouts } from "./provider.js";

const SETTINGS = ["url_env", "terminate_sessions", "pool_size"] as const;

export const postgresProviderFactory = {
  id: "postgres",
  settingsKeys: SETTINGS,
  /**
   * Bad settings throw here (they are a policy mistake); a missing env var only fails when the
   * provider is first used, so building every resource's provider at start-up never crashes and
   * `checkTarget` reports the problem for that resource alone.
   */
  create({ resource, settings, env, timeoutMs }: ProviderOptions): PostgresProvider {
    const bad = (msg: string) => new ProviderError(`postgres: resource ${resource}: ${msg}`, false);
    const unknown = Object.keys(settings).filter((k) => !(SETTINGS as readonly string[]).includes(k));
    if (unknown.length > 0) throw bad(`unknown setting ${unknown.map((k) => `\`${k}\``).join(", ")}; allowed: ${SETTINGS.join(", ")}`);
    const urlEnv = settings.url_env;
    if (typeof urlEnv !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(urlEnv)) {
      throw bad("setting `url_env` must name the environment variable that holds the connection URL");
    }
    const terminate = settings.terminate_sessions ?? true;
    if (typeof terminate !== "boolean") throw bad("setting `terminate_sessions` must be true or false");
    const poolSize = settings.pool_size ?? 5;
    if (typeof poolSize !== "number" || !Number.isInteger(poolSize) || poolSize < 1 || poolSize > 100) {
      throw bad("setting `pool_size` must be a whole number from 1 to 100");
    }
    return new PostgresProvider({
      resource,
      urlEnv,
      url: env[urlEnv] || undefined,
      terminateSessions: terminate,
      poolSize,
      timeouts: timeoutsWithin(timeoutMs),
    });
  },
} satisfies ProviderFactory; // `satisfies`, not a type annotation: callers keep `create(): PostgresProvider`

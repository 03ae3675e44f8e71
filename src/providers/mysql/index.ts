/**
 * The `mysql` provider factory (MySQL 8, MariaDB 10.5+). Settings (from the policy resource):
 * - `url_env` (required): name of the environment variable holding the admin URL
 *   `mysql://user:password@host:port/`. The URL itself never appears in the repository, in
 *   messages, or in logs.
 * - `database` (default `timebox`): Timebox's own database, for its grant records and expiry events.
 * - `kill_sessions` (default true): end the account's open sessions on revoke when no other path
 *   still gives it the target role.
 * - `expiry_event` (default true): schedule a one-shot event at the expiry that revokes the grant
 *   inside the server (when its event scheduler is on).
 * - `pool_size` (default 2): connections per resource.
 * Timeouts are not policy settings: they follow the provider pool's call deadline
 * (TIMEBOX_PROVIDER_TIMEOUT_MS) — see `timeoutsWithin` and docs/providers/mysql.md.
 */
import { ProviderError, type ProviderFactory, type ProviderOptions } from "../types.js";
import { MysqlProvider, timeoutsWithin } from "./provider.js";

export type { MysqlProvider } from "./provider.js";

const SETTINGS = ["url_env", "database", "kill_sessions", "expiry_event", "pool_size"] as const;

export const mysqlProviderFactory = {
  id: "mysql",
  settingsKeys: SETTINGS,
  /**
   * Bad settings throw here (they are a policy mistake); a missing env var only fails when the
   * provider is first used, so building every resource's provider at start-up never crashes and
   * `checkTarget` reports the problem for that resource alone.
   */
  create({ resource, settings, env, timeoutMs }: ProviderOptions): MysqlProvider {
    const bad = (msg: string) => new ProviderError(`mysql: resource ${resource}: ${msg}`, false);
    const unknown = Object.keys(settings).filter((k) => !(SETTINGS as readonly string[]).includes(k));
    if (unknown.length > 0) throw bad(`unknown setting ${unknown.map((k) => `\`${k}\``).join(", ")}; allowed: ${SETTINGS.join(", ")}`);
    const urlEnv = settings.url_env;
    if (typeof urlEnv !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(urlEnv)) {
      throw bad("setting `url_env` must name the environment variable that holds the connection URL");
    }
    const database = settings.database ?? "timebox";
    if (typeof database !== "string" || !/^[A-Za-z0-9_$]{1,64}$/.test(database))
      throw bad("setting `database` must be a database name (letters, digits, _ and $, at most 64)");
    const kill = settings.kill_sessions ?? true;
    if (typeof kill !== "boolean") throw bad("setting `kill_sessions` must be true or false");
    const event = settings.expiry_event ?? true;
    if (typeof event !== "boolean") throw bad("setting `expiry_event` must be true or false");
    const poolSize = settings.pool_size ?? 2;
    if (typeof poolSize !== "number" || !Number.isInteger(poolSize) || poolSize < 1 || poolSize > 100) {
      throw bad("setting `pool_size` must be a whole number from 1 to 100");
    }
    return new MysqlProvider({
      resource,
      urlEnv,
      url: env[urlEnv] || undefined,
      database,
      killSessions: kill,
      expiryEvent: event,
      poolSize,
      timeouts: timeoutsWithin(timeoutMs),
    });
  },
} satisfies ProviderFactory;

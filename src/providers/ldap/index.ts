/**
 * The `ldap` provider factory: temporary membership of an LDAP / Active Directory group.
 *
 * Resource settings (from the policy):
 * - `url_env`, `bind_dn_env`, `bind_password_env` (required): names of the environment variables
 *   holding the server URL (`ldap://host:389` or `ldaps://host:636`), the DN Timebox binds as and
 *   its password. None of them appears in the repository, in messages, or in logs.
 * - `base_dn` (required, plain): where login-name principals are looked up (subtree).
 * - `uid_attribute` (default `uid`): the attribute holding login names (`sAMAccountName` on AD).
 * Role settings: `member_attribute` — `member` (default: groupOfNames, AD groups) or `memberUid`
 * (posixGroup). Role `target`: the group's DN. Principal: a DN, or a login name.
 * Timeouts are not settings: they follow the provider pool's call deadline
 * (TIMEBOX_PROVIDER_TIMEOUT_MS) — see docs/providers/ldap.md.
 */
import { ProviderError, type ProviderFactory, type ProviderOptions } from "../types.js";
import { timeoutsWithin } from "./client.js";
import { formatDn, parseDn } from "./dn.js";
import { LdapProvider } from "./provider.js";

export { LdapProvider } from "./provider.js";

const SETTINGS = ["url_env", "bind_dn_env", "bind_password_env", "base_dn", "uid_attribute"] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const ldapProviderFactory = {
  id: "ldap",
  settingsKeys: SETTINGS,
  /**
   * Bad settings throw here (a policy mistake); missing environment variables only fail when the
   * provider is first used, so `checkTarget` reports them for this resource alone.
   */
  create({ resource, settings, env, timeoutMs }: ProviderOptions): LdapProvider {
    const bad = (msg: string) => new ProviderError(`ldap: resource ${resource}: ${msg}`, false);
    const unknown = Object.keys(settings).filter((k) => !(SETTINGS as readonly string[]).includes(k));
    if (unknown.length > 0) throw bad(`unknown setting ${unknown.map((k) => `\`${k}\``).join(", ")}; allowed: ${SETTINGS.join(", ")}`);
    const envName = (key: "url_env" | "bind_dn_env" | "bind_password_env", what: string): string => {
      const v = settings[key];
      if (typeof v !== "string" || !ENV_NAME.test(v)) throw bad(`setting \`${key}\` must name the environment variable that holds ${what}`);
      return v;
    };
    const urlEnv = envName("url_env", "the server URL (ldap://host:389 or ldaps://host:636)");
    const bindDnEnv = envName("bind_dn_env", "the DN Timebox binds as");
    const passwordEnv = envName("bind_password_env", "the bind password");
    const base = settings.base_dn;
    if (typeof base !== "string") throw bad("setting `base_dn` must be the DN under which login names are looked up, e.g. ou=people,dc=example,dc=org");
    const parsed = parseDn(base);
    if (!parsed.ok) throw bad(`setting \`base_dn\` is not a valid DN: it ${parsed.error}`);
    const uidAttribute = settings.uid_attribute ?? "uid";
    if (typeof uidAttribute !== "string" || !/^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(uidAttribute)) {
      throw bad("setting `uid_attribute` must be an attribute name such as uid or sAMAccountName");
    }
    return new LdapProvider({
      resource,
      urlEnv,
      bindDnEnv,
      passwordEnv,
      url: env[urlEnv] || undefined,
      bindDn: env[bindDnEnv] || undefined,
      password: env[passwordEnv],
      baseDn: formatDn(parsed.rdns),
      uidAttribute,
      timeouts: timeoutsWithin(timeoutMs),
    });
  },
} satisfies ProviderFactory;

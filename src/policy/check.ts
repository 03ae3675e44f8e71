import { isError, type Diagnostic } from "../diagnostics.js";
import { code, plural } from "../markdown.js";
import { parseDuration } from "../duration.js";
import { parseYaml, type LocatedYaml, type PathSegment } from "../yaml/parse.js";
import { checkSchema } from "../yaml/schema.js";
import type { Policy, RoleSpec } from "./types.js";
import { scheduleOf } from "./principals.js";
import { checkNotifications } from "./notifications.js";

export interface PolicyVerdict {
  path: string;
  valid: boolean;
  diagnostics: Diagnostic[];
  /** The policy with defaults applied; present only when valid. */
  policy?: Policy;
}

export interface PolicyCheckOptions {
  /** Provider ids the app knows, with the settings keys each understands. */
  providers: ReadonlyMap<string, readonly string[]>;
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;
/** A value that looks like a credential rather than the name of one. */
const LOOKS_SECRET = /:\/\/[^/\s:@]+:[^/\s@]+@|^(?:ghp|gho|ghs|ghu|github_pat|xox[abp]|AKIA|sk)[-_A-Za-z0-9]{12,}|-----BEGIN/;

/** Parses and checks `.github/timebox.yml`: schema first, then what a schema cannot say. */
export function checkPolicyFile(path: string, input: string | Uint8Array, options: PolicyCheckOptions): PolicyVerdict {
  const parsed = parseYaml(path, input);
  if (!parsed.ok) return { path, valid: false, diagnostics: parsed.diagnostics };
  const schema = checkSchema("policy", path, parsed.yaml);
  if (schema.diagnostics.length > 0) return { path, valid: false, diagnostics: schema.diagnostics };
  const raw = parsed.yaml.value as RawPolicy;
  const diagnostics = checkSense(path, parsed.yaml, raw, options);
  if (diagnostics.some(isError)) return { path, valid: false, diagnostics };
  return { path, valid: true, diagnostics, policy: withDefaults(raw) };
}

type RawRole = Omit<RoleSpec, "approvals"> & { approvals?: number };
type RawPolicy = Omit<Policy, "grants_path" | "request_ttl" | "allow_on_behalf" | "identities" | "resources"> & {
  grants_path?: string;
  request_ttl?: string;
  allow_on_behalf?: boolean;
  identities?: Policy["identities"];
  resources: Record<string, { provider: string; description?: string; settings?: Record<string, string | number | boolean>; roles: Record<string, RawRole> }>;
};

function checkSense(path: string, yaml: LocatedYaml, raw: RawPolicy, options: PolicyCheckOptions): Diagnostic[] {
  const out: Diagnostic[] = [];
  const error = (at: PathSegment[], rule: string, message: string, key?: string) =>
    out.push({ path, ...yaml.locate(at, key), rule, message, severity: "error" });
  for (const at of secretLookingValues(raw, [])) {
    error(
      at,
      "policy.secret",
      `\`${at.join(".")}\` looks like a credential; the policy is public to everyone who can read the repository — keep secrets in environment variables on the app's side and name those here`,
    );
  }

  const duration = (at: PathSegment[], value: string | undefined) => {
    if (value === undefined) return;
    const d = parseDuration(value);
    if (!d.ok) error(at, "policy.duration", `\`${at.join(".")}\`: ${d.message}`);
  };
  duration(["request_ttl"], raw.request_ttl);

  if (raw.ticket_pattern !== undefined) {
    try {
      new RegExp(raw.ticket_pattern, "u");
    } catch (e) {
      error(["ticket_pattern"], "policy.ticket-pattern", `ticket_pattern is not a valid regular expression (${(e as Error).message})`);
    }
  }

  checkNotifications(raw.notifications, raw.resources, error);

  const known = [...options.providers.keys()].sort();
  for (const [name, resource] of Object.entries(raw.resources)) {
    const at = ["resources", name];
    const settingsKeys = options.providers.get(resource.provider);
    if (!settingsKeys) {
      error(
        [...at, "provider"],
        "policy.provider",
        `unknown provider ${code(resource.provider)} for resource \`${name}\`; must be one of: ${known.join(", ")}`,
      );
    }
    checkSettings(resource.settings, [...at, "settings"], settingsKeys, error);
    for (const [roleName, role] of Object.entries(resource.roles)) {
      const roleAt = [...at, "roles", roleName];
      duration([...roleAt, "max_duration"], role.max_duration);
      duration([...roleAt, "breakglass", "max_duration"], role.breakglass?.max_duration);
      duration([...roleAt, "breakglass", "review_within"], role.breakglass?.review_within);
      checkSettings(role.settings, [...roleAt, "settings"], undefined, error);
      const escalates = escalation(resource.provider, role, raw);
      if (role.privileged === true && escalates.length > 0) {
        const message = `role \`${name}/${roleName}\` is privileged: it ${escalates.map((e) => e.message).join("; ")}`;
        out.push({ path, ...yaml.locate([...roleAt, "privileged"]), rule: "policy.privileged-role", severity: "warning", message });
      } else {
        for (const e of escalates) {
          const message = `role \`${name}/${roleName}\` ${e.message}; a temporary grant must not hand out more than it can take back — if this is intended, say so with \`privileged: true\` on the role`;
          error([...roleAt, e.at], "policy.privileged-target", message);
        }
      }
      const approvals = role.approvals ?? 1;
      const teams = role.approvers.filter((a) => a.startsWith("@") || scheduleOf(a)); // groups: teams and on-call schedules
      if (teams.length === 0 && approvals > role.approvers.length) {
        error(
          [...roleAt, "approvals"],
          "policy.approvals-unreachable",
          `role \`${name}/${roleName}\` needs ${approvals} approvals but lists only ${plural(role.approvers.length, "approver")}; list more approvers or a team, or lower approvals`,
        );
      }
    }
  }
  out.push(...checkSchedules(path, yaml, raw));
  return out;
}

/**
 * An on-call schedule in a rule matches people through `identities.<login>.<pagerduty|opsgenie>`:
 * with no identity for that service, nobody on the schedule can ever be matched (the rule then
 * refuses everyone). A warning, located at the reference: the policy stays usable.
 */
function checkSchedules(path: string, yaml: LocatedYaml, raw: RawPolicy): Diagnostic[] {
  const out: Diagnostic[] = [];
  const mapped = new Set(Object.values(raw.identities ?? {}).flatMap((m) => Object.keys(m ?? {})));
  for (const [name, resource] of Object.entries(raw.resources)) {
    for (const [roleName, role] of Object.entries(resource.roles)) {
      const lists: Array<[PathSegment[], readonly string[] | undefined]> = [
        [["resources", name, "roles", roleName, "approvers"], role.approvers],
        [["resources", name, "roles", roleName, "breakglass", "requesters"], role.breakglass?.requesters],
      ];
      for (const [at, refs] of lists) {
        (refs ?? []).forEach((ref, i) => {
          const s = scheduleOf(ref);
          if (!s || mapped.has(s.provider)) return;
          out.push({
            path,
            ...yaml.locate([...at, i]),
            rule: "policy.oncall-unmapped",
            severity: "warning",
            message: `${code(ref)} names a ${s.provider} schedule, but no entry of \`identities\` has the key \`${s.provider}\`, so nobody on call can be matched to a GitHub login; add e.g. \`identities: { dev1: { ${s.provider}: dev1@example.com } }\``,
          });
        });
      }
    }
  }
  return out;
}

/**
 * PostgreSQL roles that are superusers or can act as the server itself on the usual platforms.
 * Checked by name only: whether a role *inherits* one of them (or is a role the Timebox account
 * holds) needs a query to the server, which policy validation does not make.
 */
const PG_SUPERUSER_ROLES = new Set([
  "postgres",
  "rds_superuser",
  "rdsadmin",
  "rds_password",
  "rds_replication",
  "cloudsqlsuperuser",
  "cloudsqladmin",
  "azure_pg_admin",
  "azuresu",
  "azure_superuser",
  "supabase_admin",
  "alloydbsuperuser",
  "timescaledb_admin",
]);

/** Active Directory's and common directories' built-in administrator groups (by CN). */
const LDAP_ADMIN_GROUPS = new Set([
  "domain admins",
  "enterprise admins",
  "schema admins",
  "administrators",
  "account operators",
  "backup operators",
  "server operators",
  "group policy creator owners",
  "dnsadmins",
  "key admins",
  "enterprise key admins",
]);

/** Why a role's target escalates beyond a temporary grant, where to point at (`target` or `settings`). Empty when it does not. */
function escalation(provider: string, role: RawRole, raw: Pick<RawPolicy, "owners" | "resources">): Array<{ at: string; message: string }> {
  const out: Array<{ at: string; message: string }> = [];
  const target = typeof role.target === "string" ? role.target.trim() : "";
  if (provider === "postgres") {
    const name = target.toLowerCase().replace(/^"|"$/g, "");
    if (PG_SUPERUSER_ROLES.has(name)) out.push({ at: "target", message: `targets \`${target}\`, a superuser-like PostgreSQL role` });
    else if (name.startsWith("pg_"))
      out.push({ at: "target", message: `targets \`${target}\`, a predefined PostgreSQL server role (pg_*: server files, signals, all data)` });
  }
  if (provider === "ldap") {
    const cn = /^\s*cn\s*=\s*([^,]+)/i.exec(target)?.[1]?.trim().toLowerCase();
    if (cn && LDAP_ADMIN_GROUPS.has(cn))
      out.push({ at: "target", message: `targets \`${target}\`, a directory administrators' group (its members administer the directory or the domain)` });
  }
  if (provider === "github") {
    const settings = role.settings ?? {};
    const permission = typeof settings.permission === "string" ? settings.permission.toLowerCase() : undefined;
    if (permission === "admin" || permission === "maintain")
      out.push({ at: "settings", message: `gives repository permission \`${permission}\` (it can change branch protection, settings or collaborators)` });
    if (typeof settings.team_role === "string" && settings.team_role.toLowerCase() === "maintainer")
      out.push({ at: "settings", message: "gives team_role `maintainer` (it can add members to the team)" });
    if (target.startsWith("@")) {
      const team = target.toLowerCase();
      const approverTeams = new Set<string>();
      for (const r of Object.values(raw.resources ?? {}))
        for (const rr of Object.values(r.roles ?? {})) for (const a of rr.approvers ?? []) approverTeams.add(String(a).toLowerCase());
      if ((raw.owners ?? []).some((o) => String(o).toLowerCase() === team))
        out.push({ at: "target", message: `targets \`${target}\`, a team that owns this policy (its members approve policy changes)` });
      else if (approverTeams.has(team))
        out.push({ at: "target", message: `targets \`${target}\`, a team that approves grants in this policy (a member could then approve access)` });
    }
  }
  return out;
}

type Report = (at: PathSegment[], rule: string, message: string, key?: string) => void;

/** Paths of every string in the policy that looks like a credential rather than the name of one. */
function secretLookingValues(value: unknown, at: PathSegment[]): PathSegment[][] {
  if (typeof value === "string") return LOOKS_SECRET.test(value) ? [at] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => secretLookingValues(v, [...at, i]));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => secretLookingValues(v, [...at, k]));
  return [];
}

function checkSettings(
  settings: Record<string, string | number | boolean> | undefined,
  at: PathSegment[],
  knownKeys: readonly string[] | undefined,
  error: Report,
): void {
  for (const [key, value] of Object.entries(settings ?? {})) {
    if (knownKeys && !knownKeys.includes(key)) {
      error(at, "policy.settings", `unknown setting \`${key}\`; this provider understands: ${knownKeys.join(", ") || "none"}`, key);
    } else if (typeof value === "string" && LOOKS_SECRET.test(value)) {
      continue; // reported once, by secretLookingValues
    } else if (key.endsWith("_env") && (typeof value !== "string" || !ENV_NAME.test(value))) {
      error([...at, key], "policy.settings", `setting \`${key}\` must name an environment variable (UPPER_CASE_WITH_UNDERSCORES)`);
    }
  }
}

function withDefaults(raw: RawPolicy): Policy {
  const grantsPath = (raw.grants_path ?? "grants/").replace(/^\.\//, "");
  const identities: Policy["identities"] = {};
  for (const [login, map] of Object.entries(raw.identities ?? {})) identities[login.toLowerCase()] = { ...map };
  const resources: Policy["resources"] = {};
  for (const [name, r] of Object.entries(raw.resources)) {
    const roles: Record<string, RoleSpec> = {};
    for (const [roleName, role] of Object.entries(r.roles)) roles[roleName] = { ...role, approvals: role.approvals ?? 1 };
    resources[name] = { provider: r.provider, description: r.description, settings: r.settings ?? {}, roles };
  }
  return {
    version: 1,
    grants_path: grantsPath.endsWith("/") ? grantsPath : `${grantsPath}/`,
    request_ttl: raw.request_ttl ?? "24h",
    ...(raw.max_extensions !== undefined ? { max_extensions: raw.max_extensions } : {}),
    owners: raw.owners,
    requesters: raw.requesters,
    allow_on_behalf: raw.allow_on_behalf ?? false,
    ticket_pattern: raw.ticket_pattern,
    identities,
    resources,
    ...(raw.notifications ? { notifications: raw.notifications } : {}),
  };
}

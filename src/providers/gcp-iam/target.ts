/**
 * Strict parsing of a `gcp-iam` role target (`<resource>#<role>`) and principal, before any API
 * call: nothing a policy says reaches a URL or a policy document unless it has one of these shapes.
 */

export interface GcpTarget {
  /** `projects/<id>`, `folders/<n>` or `organizations/<n>`. */
  resource: string;
  /** `roles/…`, `projects/<id>/roles/…` or `organizations/<n>/roles/…`. */
  role: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Project ids: 6–30 characters, lower-case letters, digits, hyphens; a letter first; no trailing hyphen. */
const PROJECT_ID = "[a-z][a-z0-9-]{4,28}[a-z0-9]";
const NUMBER = "[1-9][0-9]{0,19}";
const RESOURCE = new RegExp(`^(?:projects/${PROJECT_ID}|folders/${NUMBER}|organizations/${NUMBER})$`);
/** Predefined roles (`roles/cloudsql.client`) and custom roles of a project or an organisation. */
const ROLE = new RegExp(`^(?:roles/[A-Za-z][A-Za-z0-9_.]{0,127}|(?:projects/${PROJECT_ID}|organizations/${NUMBER})/roles/[A-Za-z0-9_.]{3,64})$`);
const EMAIL = /^[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62})@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
const PRINCIPAL_KINDS = ["user", "group", "serviceAccount"] as const;

const TARGET_HELP =
  "a target must be `<resource>#<role>`: projects/<id>, folders/<number> or organizations/<number>, then roles/<name>, projects/<id>/roles/<name> or organizations/<number>/roles/<name> (e.g. projects/acme-prod#roles/cloudsql.client)";

export function parseTarget(target: string): Parsed<GcpTarget> {
  if (typeof target !== "string" || target.length > 300) return { ok: false, error: TARGET_HELP };
  const parts = target.split("#");
  if (parts.length !== 2) return { ok: false, error: TARGET_HELP };
  const [resource, role] = parts as [string, string];
  if (!RESOURCE.test(resource))
    return { ok: false, error: `the resource part is not projects/<id>, folders/<number> or organizations/<number>; ${TARGET_HELP}` };
  if (!ROLE.test(role)) return { ok: false, error: `the role part is not roles/<name> or a custom role of a project or organization; ${TARGET_HELP}` };
  return { ok: true, value: { resource, role } };
}

const PRINCIPAL_HELP = "a principal must be user:<email>, group:<email> or serviceAccount:<email> (identities: { dev1: { gcp-iam: user:dev1@example.com } })";

/** `user:…`, `group:…` or `serviceAccount:…` with a plain e-mail address; returned unchanged. */
export function parsePrincipal(principal: string): Parsed<string> {
  if (typeof principal !== "string" || principal.length > 320) return { ok: false, error: PRINCIPAL_HELP };
  const colon = principal.indexOf(":");
  const kind = principal.slice(0, colon);
  const email = principal.slice(colon + 1);
  if (colon < 0 || !(PRINCIPAL_KINDS as readonly string[]).includes(kind) || !EMAIL.test(email)) return { ok: false, error: PRINCIPAL_HELP };
  return { ok: true, value: principal };
}

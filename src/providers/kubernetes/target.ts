/**
 * Strict parsing of a `kubernetes` role target and principal, before any API call. Anything that is
 * not exactly one of the documented shapes is refused: no URL-encoding, no `..`, no extra slashes.
 */

/** What a RoleBinding / ClusterRoleBinding made for a grant refers to. */
export type KubernetesTarget =
  { scope: "cluster"; kind: "ClusterRole"; name: string } | { scope: "namespace"; namespace: string; kind: "ClusterRole" | "Role"; name: string };

export interface KubernetesSubject {
  kind: "User" | "Group";
  name: string;
  apiGroup: "rbac.authorization.k8s.io";
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** A namespace name: an RFC 1123 DNS label. */
const NAMESPACE = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
/** A Role / ClusterRole name: lower-case DNS-subdomain characters plus `:` (as in `system:aggregate-to-view`). */
const ROLE_NAME = /^[a-z0-9](?:[-a-z0-9.:]{0,251}[a-z0-9])?$/;

export const TARGET_SHAPES = "`ClusterRole/<name>`, `<namespace>/ClusterRole/<name>` or `<namespace>/Role/<name>`";

function roleName(name: string): string | undefined {
  if (!ROLE_NAME.test(name) || name.includes("..")) return "a role name must be lower-case letters, digits, `-`, `.` or `:` (at most 253)";
  return undefined;
}

export function parseTarget(target: string): Parsed<KubernetesTarget> {
  const parts = target.split("/");
  if (parts.length === 2 && parts[0] === "ClusterRole") {
    const bad = roleName(parts[1]);
    return bad ? { ok: false, error: bad } : { ok: true, value: { scope: "cluster", kind: "ClusterRole", name: parts[1] } };
  }
  if (parts.length === 3 && (parts[1] === "ClusterRole" || parts[1] === "Role")) {
    if (!NAMESPACE.test(parts[0])) return { ok: false, error: "a namespace must be a DNS label: lower-case letters, digits and `-`, at most 63" };
    const bad = roleName(parts[2]);
    return bad ? { ok: false, error: bad } : { ok: true, value: { scope: "namespace", namespace: parts[0], kind: parts[1], name: parts[2] } };
  }
  return { ok: false, error: `it must be ${TARGET_SHAPES}` };
}

export function formatTarget(t: KubernetesTarget): string {
  return t.scope === "cluster" ? `${t.kind}/${t.name}` : `${t.namespace}/${t.kind}/${t.name}`;
}

/**
 * A principal: a user name, or `group:<name>`. Names Kubernetes reserves (`system:` — e.g.
 * `group:system:authenticated`, which is everyone) are refused, as are control characters,
 * surrounding spaces and names longer than 253.
 */
export function parsePrincipal(principal: string): Parsed<KubernetesSubject> {
  const isGroup = principal.startsWith("group:");
  const name = isGroup ? principal.slice("group:".length) : principal;
  if (name.length === 0 || name.length > 253) return { ok: false, error: "a user or `group:<name>` of 1 to 253 characters" };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name) || name.trim() !== name) return { ok: false, error: "no control characters or surrounding spaces" };
  if (name.toLowerCase().startsWith("system:")) return { ok: false, error: "names starting with `system:` are reserved by Kubernetes" };
  return { ok: true, value: { kind: isGroup ? "Group" : "User", name, apiGroup: "rbac.authorization.k8s.io" } };
}

/** The binding a grant makes: its name is `timebox-<short id>`. */
export function bindingName(shortId: string): string {
  if (!/^[a-f0-9]{6,40}$/.test(shortId)) throw new Error(`short id ${JSON.stringify(shortId)} is not lower-case hex`);
  return `timebox-${shortId}`;
}

/**
 * What a grant asks of the directory, and what the person had before: pure interpretation of
 * `ActiveGrant` fields and of the `priorAccess` record the lifecycle persisted.
 */
import { otherGrantsWanting, type OtherGrant } from "../overlap.js";
import { ProviderError, type ActiveGrant } from "../types.js";
import { dnKey, formatDn, parseDn, type Rdn } from "./dn.js";

/** Role-level settings (`roles.<name>.settings` in the policy) this provider understands. */
const ROLE_SETTINGS_KEYS = ["member_attribute"] as const;

/**
 * `member`: the group lists members by DN (groupOfNames, Active Directory `group`);
 * `memberUid`: by login name (posixGroup, RFC 2307).
 */
const MEMBER_ATTRIBUTES = ["member", "memberUid"] as const;
export type MemberAttribute = (typeof MEMBER_ATTRIBUTES)[number];

/** The object classes a group using each member attribute must have. */
export const GROUP_CLASSES: Record<MemberAttribute, readonly string[]> = {
  member: ["groupofnames", "group"],
  memberUid: ["posixgroup"],
};

/** Object classes of entries that are groups: never a principal (their members would get the access). */
export const ANY_GROUP_CLASSES = ["groupofnames", "groupofuniquenames", "posixgroup", "group", "groupofurls", "groupofentries"];

export type PrincipalName = { kind: "dn"; rdns: Rdn[]; dn: string; key: string; display: string } | { kind: "uid"; uid: string; key: string; display: string };

export interface Wanted {
  groupDn: string;
  groupKey: string;
  attribute: MemberAttribute;
  principal: PrincipalName;
}

/** Parses a target; a readable error for a malformed one. */
export function parseGroup(target: string): { ok: true; dn: string; key: string } | { ok: false; error: string } {
  const p = parseDn(target);
  if (!p.ok) return { ok: false, error: `target \`${target}\` is not a group DN: it ${p.error} (e.g. cn=ops,ou=groups,dc=example,dc=org)` };
  return { ok: true, dn: formatDn(p.rdns), key: dnKey(p.rdns) };
}

/**
 * A principal is a DN when it contains `=` (`uid=dev1,ou=people,dc=example,dc=org`), else a login
 * name resolved under the resource's `base_dn` (`dev1`).
 */
export function parsePrincipal(principal: string): { ok: true; value: PrincipalName } | { ok: false; error: string } {
  if (typeof principal !== "string" || principal.trim() === "") return { ok: false, error: "principal is empty" };
  if (principal.includes("=")) {
    const p = parseDn(principal);
    if (!p.ok) return { ok: false, error: `principal \`${principal}\` is not a valid DN: it ${p.error}` };
    const dn = formatDn(p.rdns);
    return { ok: true, value: { kind: "dn", rdns: p.rdns, dn, key: dnKey(p.rdns), display: `\`${dn}\`` } };
  }
  if (principal.length > 256) return { ok: false, error: "principal is longer than 256 characters" };
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(principal)) return { ok: false, error: "principal contains a control character" };
  return { ok: true, value: { kind: "uid", uid: principal, key: `uid:${principal}`, display: `\`${principal}\`` } };
}

/**
 * Reads what a grant asks for; throws a non-retryable ProviderError for a malformed target,
 * principal or role setting, before any request.
 */
export function wantedAccess(g: ActiveGrant): Wanted {
  const group = parseGroup(g.target);
  if (!group.ok) throw new ProviderError(`ldap: ${group.error}`, false);
  const principal = parsePrincipal(g.principal);
  if (!principal.ok) throw new ProviderError(`ldap: ${principal.error}`, false);
  const settings = g.roleSettings ?? {};
  const unknown = Object.keys(settings).filter((k) => !(ROLE_SETTINGS_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new ProviderError(
      `ldap: role "${g.role}": unknown LDAP role setting(s) ${unknown.map((k) => `\`${k}\``).join(", ")}; known: ${ROLE_SETTINGS_KEYS.join(", ")}`,
      false,
    );
  }
  const attribute = settings.member_attribute ?? "member";
  if (!(MEMBER_ATTRIBUTES as readonly unknown[]).includes(attribute)) {
    throw new ProviderError(
      `ldap: role "${g.role}": \`member_attribute\` must be member (groupOfNames, Active Directory) or memberUid (posixGroup), not ${JSON.stringify(attribute)}`,
      false,
    );
  }
  return { groupDn: group.dn, groupKey: group.key, attribute: attribute as MemberAttribute, principal: principal.value };
}

/** Another still-active grant on the same group through the same member attribute. */
function sameGroup(a: Wanted, b: Wanted): boolean {
  return a.groupKey === b.groupKey && a.attribute === b.attribute;
}

/** The other still-active grants of the same group and attribute (unreadable ones give nothing). */
export function candidates(g: ActiveGrant, wanted: Wanted, stillActive: readonly ActiveGrant[]): Array<OtherGrant<Wanted>> {
  return otherGrantsWanting(g, wanted, stillActive, wantedAccess, sameGroup);
}

/** The persisted prior access: was the person a member before Timebox's first grant? */
export interface PriorMembership {
  kind: "ldap-group";
  member: boolean;
}

/**
 * Reads the persisted prior access. Absent or unreadable means "not a member": the lifecycle
 * persists it before the first grant, so a grant without it is one Timebox alone put in place.
 */
export function readPrior(prior: Record<string, string> | undefined): PriorMembership {
  return { kind: "ldap-group", member: prior?.kind === "ldap-group" && prior.member === "true" };
}

export function priorRecord(member: boolean): Record<string, string> {
  return { kind: "ldap-group", member: member ? "true" : "false" };
}

import type { PrincipalRef } from "./types.js";

/**
 * Principals in the policy, once: a login (`sre1`) or a team (`@acme/sre`), compared
 * case-insensitively. Used by requester rules, approvals, break-glass and the PR commands alike.
 */

/** Membership lookup the caller prepared: true/false when checked, undefined when it could not be (offline). */
export type MembershipLookup = (login: string, team: string) => boolean | undefined;

export type Allowance = "yes" | "no" | "unchecked";

export const sameLogin = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Lower-case, trimmed reference (logins and team slugs compare case-insensitively). */
export const normaliseRef = (ref: PrincipalRef): string => ref.trim().toLowerCase();

/** A principal reference is a team when it starts with `@` (`@org/team`). */
const isTeamRef = (ref: PrincipalRef): boolean => ref.trim().startsWith("@");

/** The refs a rule lists, split into logins and teams (both normalised, deduplicated). */
export function splitRefs(refs: readonly PrincipalRef[]): { logins: Set<string>; teams: string[] } {
  const logins = new Set<string>();
  const teams: string[] = [];
  for (const ref of refs) {
    if (typeof ref !== "string" || ref.trim() === "") continue;
    const n = normaliseRef(ref);
    if (isTeamRef(n)) {
      if (!teams.includes(n)) teams.push(n);
    } else logins.add(n);
  }
  return { logins, teams };
}

/** Whether `login` is one of `refs`: by login, or as a member of a listed team. */
export function allows(refs: readonly PrincipalRef[], login: string, isMember?: MembershipLookup): Allowance {
  const { logins, teams } = splitRefs(refs);
  if (logins.has(normaliseRef(login))) return "yes";
  let unchecked = false;
  for (const team of teams) {
    const member = isMember?.(login, team);
    if (member === true) return "yes";
    if (member === undefined) unchecked = true;
  }
  return unchecked ? "unchecked" : "no";
}

/** The teams of `refs` that decide whether `login` is allowed (none when a login entry already does). */
export function teamsToCheck(refs: readonly PrincipalRef[], login: string): string[] {
  const { logins, teams } = splitRefs(refs);
  return logins.has(normaliseRef(login)) ? [] : teams;
}

/** `@acme/sre` → `{ org: "acme", slug: "sre" }`. */
export function parseTeam(ref: PrincipalRef): { org: string; slug: string } {
  const [org, slug] = ref.trim().slice(1).split("/");
  return { org, slug };
}

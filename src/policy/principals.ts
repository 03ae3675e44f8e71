import type { PrincipalRef } from "./types.js";

/** Membership lookup the caller prepared: true/false when checked, undefined when it could not be (offline). */
export type MembershipLookup = (login: string, team: string) => boolean | undefined;

export type Allowance = "yes" | "no" | "unchecked";

const isTeam = (ref: PrincipalRef): boolean => ref.startsWith("@");
export const sameLogin = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Whether `login` is one of `refs`: by login, or as a member of a listed team. */
export function allows(refs: readonly PrincipalRef[], login: string, isMember?: MembershipLookup): Allowance {
  if (refs.some((r) => !isTeam(r) && sameLogin(r, login))) return "yes";
  let unchecked = false;
  for (const team of refs.filter(isTeam)) {
    const member = isMember?.(login, team);
    if (member === true) return "yes";
    if (member === undefined) unchecked = true;
  }
  return unchecked ? "unchecked" : "no";
}

/** The teams of `refs` that decide whether `login` is allowed (none when a login entry already does). */
export function teamsToCheck(refs: readonly PrincipalRef[], login: string): string[] {
  if (refs.some((r) => !isTeam(r) && sameLogin(r, login))) return [];
  return refs.filter(isTeam);
}

/** `@acme/sre` → `{ org: "acme", slug: "sre" }`. */
export function parseTeam(ref: PrincipalRef): { org: string; slug: string } {
  const [org, slug] = ref.slice(1).split("/");
  return { org, slug };
}

import type { PrincipalRef } from "./types.js";

/**
 * Principals in the policy, once: a login (`sre1`) or a team (`@acme/sre`), compared
 * case-insensitively. Used by requester rules, approvals, break-glass and the PR commands alike.
 */

/** Membership lookup the caller prepared: true/false when checked, undefined when it could not be (offline). */
export type MembershipLookup = (login: string, team: string) => boolean | undefined;

export type Allowance = "yes" | "no" | "unchecked";

export const sameLogin = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** The on-call services a rule may name a schedule of. */
export type ScheduleProvider = "pagerduty" | "opsgenie";

/** An on-call schedule named by a rule: `pagerduty:<schedule id>` or `opsgenie:<schedule name>`. */
export interface ScheduleRef {
  provider: ScheduleProvider;
  /** The schedule's id (PagerDuty) or name (Opsgenie), as written: the services compare them exactly. */
  schedule: string;
  /** The canonical reference, `provider:schedule`. */
  ref: string;
}

const SCHEDULE_REF = /^(pagerduty|opsgenie):(.+)$/i;

/** The on-call schedule a reference names, or undefined for a login or a team. */
export function scheduleOf(ref: PrincipalRef): ScheduleRef | undefined {
  const m = typeof ref === "string" ? SCHEDULE_REF.exec(ref.trim()) : null;
  if (!m || m[2].trim() === "") return undefined;
  const provider = m[1].toLowerCase() as ScheduleProvider;
  const schedule = m[2].trim();
  return { provider, schedule, ref: `${provider}:${schedule}` };
}

/**
 * Normalised, trimmed reference: logins and team slugs compare case-insensitively; an on-call
 * schedule keeps its id's or name's case (the services compare those exactly).
 */
export const normaliseRef = (ref: PrincipalRef): string => scheduleOf(ref)?.ref ?? ref.trim().toLowerCase();

/** A group whose members are looked up, not listed: a team (`@org/team`) or an on-call schedule (`pagerduty:P1`). */
const isGroupRef = (ref: PrincipalRef): boolean => ref.trim().startsWith("@") || scheduleOf(ref) !== undefined;

/**
 * The refs a rule lists, split into logins and groups (both normalised, deduplicated). `teams`
 * holds every group whose membership is looked up: teams and on-call schedules alike.
 */
export function splitRefs(refs: readonly PrincipalRef[]): { logins: Set<string>; teams: string[] } {
  const logins = new Set<string>();
  const teams: string[] = [];
  for (const ref of refs) {
    if (typeof ref !== "string" || ref.trim() === "") continue;
    const n = normaliseRef(ref);
    if (isGroupRef(n)) {
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

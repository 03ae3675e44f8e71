/**
 * On-call facts and how a decision uses them (pure: no I/O, no clock).
 *
 * When is someone "on call" for a rule? At the moment of the event being judged, a time Timebox
 * can trust (design rule 11):
 * - a break-glass requester: at the moment Timebox started the break-glass grant (its own record's
 *   `grantedAt`), so judging the PR again later — after the shift ended, after a restart — gives
 *   the same answer and never revokes because a shift ended; before any record, at the moment of
 *   judging (`now`) for an open PR, at GitHub's `merged_at` for a merged one;
 * - an approver: at the moment GitHub says the review was submitted (`submitted_at`), so a review
 *   counts if its author was on call when they gave it, now and at any later re-judgement.
 */
import type { Review } from "../github/types.js";
import type { MembershipLookup } from "../policy/principals.js";
import { scheduleOf } from "../policy/principals.js";
import type { Policy } from "../policy/types.js";
import { readingKey, type ScheduleReading } from "./types.js";

/** The moments a judgement asks schedules about. ISO 8601 strings (plain data). */
export interface OnCallMoments {
  /** Per grant path: the break-glass start Timebox recorded, and for whom; it holds only for that requester. */
  requesters: Record<string, { at: string; requester: string }>;
  /** For grants without a record: `now` for an open PR, `merged_at` for a merged one. */
  otherwise: string;
  /** Per lower-case reviewer login: when their latest approving or blocking review was submitted. */
  reviewers: Record<string, string>;
}

/** What was read before the decision: each schedule's reading per minute, and the moments asked about. */
export interface OnCallFacts {
  moments: OnCallMoments;
  /** Keyed by {@link readingKey}. */
  readings: ReadonlyMap<string, ScheduleReading>;
}

/** The moments of one judgement: from break-glass records Timebox wrote, the PR's `merged_at`, the reviews' `submitted_at`, or `now`. */
export function onCallMoments(
  pr: { merged?: boolean; mergedAt?: string | null },
  reviews: readonly Review[],
  breakglassStarts: ReadonlyMap<string, { at: string; requester: string }>,
  now: Date,
): OnCallMoments {
  const reviewers: Record<string, string> = {};
  for (const r of reviews) {
    const state = String(r.state ?? "").toUpperCase();
    if (!r.user?.login || !r.submitted_at || (state !== "APPROVED" && state !== "CHANGES_REQUESTED")) continue;
    const key = r.user.login.toLowerCase();
    if (!Object.hasOwn(reviewers, key) || Date.parse(r.submitted_at) > Date.parse(reviewers[key])) reviewers[key] = r.submitted_at;
  }
  return {
    requesters: Object.fromEntries(breakglassStarts),
    otherwise: pr.merged && pr.mergedAt ? pr.mergedAt : now.toISOString(),
    reviewers,
  };
}

/**
 * When `login`, as requester of the grant at `path`, must have been on call: the recorded
 * break-glass start when the record is theirs (a file changed to another requester is judged
 * afresh), else `otherwise`.
 */
export function requesterMoment(m: OnCallMoments, path: string, login: string): string {
  const start = Object.hasOwn(m.requesters, path) ? m.requesters[path] : undefined;
  return start && start.requester.toLowerCase() === login.toLowerCase() ? start.at : m.otherwise;
}

/** Every moment a schedule may be asked about for `login` (as requester of any grant, or as reviewer). */
export function momentsFor(m: OnCallMoments, login: string): string[] {
  const key = login.toLowerCase();
  const starts = Object.values(m.requesters)
    .filter((s) => s.requester.toLowerCase() === key)
    .map((s) => s.at);
  return [...new Set([m.otherwise, ...starts, ...(Object.hasOwn(m.reviewers, key) ? [m.reviewers[key]] : [])])];
}

/**
 * Whether `login` was on call on schedule `ref` at `at`: the login's identity for that service
 * (`identities.<login>.pagerduty` / `.opsgenie`: an e-mail, a user id or user name) among the people
 * on call then. Undefined when the schedule was not read (the caller fails closed).
 */
function wasOnCall(facts: OnCallFacts, identities: Policy["identities"], login: string, ref: string, at: string): boolean | undefined {
  const schedule = scheduleOf(ref);
  const reading = schedule ? facts.readings.get(readingKey(schedule.ref, Date.parse(at))) : undefined;
  if (!schedule || !reading?.ok) return undefined;
  const key = login.toLowerCase();
  const mine = Object.hasOwn(identities, key) ? identities[key]?.[schedule.provider]?.toLowerCase() : undefined;
  if (!mine) return false;
  const t = Date.parse(at);
  return reading.shifts.some((s) => s.start <= t && t < s.end && s.who.some((w) => w.toLowerCase() === mine));
}

/**
 * A membership lookup that answers schedule references from the on-call facts at the moment
 * `at(login)` gives, and everything else (teams) from `isMember`. Without facts it is `isMember`.
 */
export function withOnCall(
  isMember: MembershipLookup,
  facts: OnCallFacts | undefined,
  identities: Policy["identities"],
  at: (login: string) => string | undefined,
): MembershipLookup {
  if (!facts) return isMember;
  return (login, ref) => {
    if (!scheduleOf(ref)) return isMember(login, ref);
    const moment = at(login);
    return moment === undefined ? undefined : wasOnCall(facts, identities, login, ref, moment);
  };
}

/** Why schedule `ref` could not be read for this judgement (the first problem met), or undefined. */
export function unreadable(facts: OnCallFacts | undefined, ref: string): string | undefined {
  const schedule = scheduleOf(ref);
  if (!facts || !schedule) return undefined;
  for (const [key, reading] of facts.readings) if (key.startsWith(`${schedule.ref}@`) && !reading.ok) return reading.problem;
  return undefined;
}

/** Every problem met reading schedules for this judgement (empty when all were read, or none were needed). */
export function unreadableProblems(facts: OnCallFacts | undefined): string[] {
  return facts ? [...new Set([...facts.readings.values()].flatMap((r) => (r.ok ? [] : [r.problem])))] : [];
}

/** Why `login` is not in schedule `ref` at `at`, in words for the check (undefined for a team). */
export function notOnCallReason(identities: Policy["identities"], login: string, ref: string, at: string): string | undefined {
  const schedule = scheduleOf(ref);
  if (!schedule) return undefined;
  const key = login.toLowerCase();
  const mine = Object.hasOwn(identities, key) ? identities[key]?.[schedule.provider] : undefined;
  if (!mine)
    return `\`${login}\` has no \`${schedule.provider}\` entry in the policy's identities, so no shift on \`${schedule.ref}\` can be theirs (add \`identities: { ${key}: { ${schedule.provider}: <their ${schedule.provider === "pagerduty" ? "PagerDuty e-mail or user id" : "Opsgenie user name"}> } }\`)`;
  return `\`${login}\` (${mine}) was not on call on \`${schedule.ref}\` at ${at.replace(/\.\d{3}Z$/, "Z")}`;
}

/**
 * The lifecycle's decision after the merge, pure: from the facts a reconcile read (or `timebox
 * plan` read from a clone) and a time, what must happen — revoke (and why), record, apply, report,
 * remind — and when to look again. The reconciler reads facts, calls this, and carries the actions
 * out; `timebox plan` renders them. One copy of the rules, so the dry run is the real run.
 */
import type { GrantVerdict } from "../grants/check.js";
import type { ReviewDecision } from "../pull-request/decide.js";
import { expiresAt } from "./active-grant.js";
import { reminderLeadMs, type RevokeReason } from "../records/comments.js";
import { isApproved, type ApprovedGrant, type TrackedGrant } from "./types.js";

/** What Timebox applied and has not revoked, as far as the decision needs it (a ledger entry). */
export interface AppliedGrant {
  path: string;
  /** Undefined when the expiry is not known (`timebox plan`'s view of a recent removal): then it is a removal. */
  expiresAt?: string;
  /** Applied by break-glass before (or without) a merge: its own pass revokes it while it follows the PR. */
  breakglass?: boolean;
}

export interface LifecycleFacts<A extends AppliedGrant = AppliedGrant> {
  /** Grant versions on the default branch's tip with their origins, and approved versions under unapproved changes. */
  tracked: readonly TrackedGrant[];
  /** What Timebox has put in effect and not yet revoked. */
  applied: readonly A[];
  /** Emergency grants in effect before (or without) a merge: live, whatever the tip says. */
  breakglass: readonly ApprovedGrant[];
  /** Whether the tip's policy is valid: nothing new is applied while it is not. */
  policyValid: boolean;
  /** Content GitHub may not have linked to its PR yet (a fresh merge): neither applied, revoked under, nor reported. */
  mayStillLink: (t: TrackedGrant) => boolean;
  /** Paths whose revoke was already attempted in this run (a failure is retried next time, not twice now). */
  attempted?: ReadonlySet<string>;
}

type RevokeAction<A extends AppliedGrant = AppliedGrant> =
  { kind: "revoke-tracked"; grant: ApprovedGrant; reason: RevokeReason; expiry: Date } | { kind: "revoke-applied"; entry: A; reason: RevokeReason };

export interface LifecycleDecision<A extends AppliedGrant = AppliedGrant> {
  /** Revokes, in order: expired grants still on the tip, then what left the branch. */
  revoke: Array<RevokeAction<A>>;
  /** Live grants: recorded before anything is applied, then applied where not in effect (when the policy is valid). */
  live: ApprovedGrant[];
  apply: ApprovedGrant[];
  /** Grants in effect for overlaps and drift: live versions on the tip and break-glass grants. */
  holding: ApprovedGrant[];
  /** Content on the tip that is never applied, to report. */
  report: TrackedGrant[];
  /** Live grants whose reminder is due. */
  remind: ApprovedGrant[];
  /** The next moment something is due (an expiry or a reminder), for the precise timer. */
  next?: Date;
}

/**
 * What ended from the applied set and the tip's blobs alone, before anything else is read: grants
 * expired whose file is gone from the tip or unchanged there, and grants whose file is gone from
 * the tip (removed, renamed, force-pushed away). A changed file may be an extension: it waits for
 * the full decision. Break-glass grants are left to their own pass.
 */
export function endedFromApplied<A extends AppliedGrant & { blobSha: string }>(
  applied: readonly A[],
  tipBlobOf: ReadonlyMap<string, string | undefined>,
  now: Date,
): Array<{ entry: A; onBranch: boolean; reason: "expired" | "removed" }> {
  const expired = (e: A) => e.expiresAt !== undefined && Date.parse(e.expiresAt) <= now.getTime();
  return applied
    .filter((e) => !e.breakglass && e.expiresAt !== undefined)
    .filter((e) => tipBlobOf.get(e.path) === undefined || (expired(e) && tipBlobOf.get(e.path) === e.blobSha))
    .map((e) => ({ entry: e, onBranch: tipBlobOf.get(e.path) !== undefined, reason: expired(e) ? "expired" : "removed" }));
}

export function decide<A extends AppliedGrant>(facts: LifecycleFacts<A>, now: Date): LifecycleDecision<A> {
  const attempted = facts.attempted ?? new Set<string>();
  const approved = facts.tracked.filter(isApproved);
  const live = approved.filter((t) => expiresAt(t) > now);
  const holding = [...live, ...facts.breakglass];
  const revoke: Array<RevokeAction<A>> = [];
  for (const t of approved.filter((t) => expiresAt(t) <= now && !attempted.has(t.path))) {
    revoke.push({ kind: "revoke-tracked", grant: t, reason: "expired", expiry: expiresAt(t) });
  }
  // Applied, and no longer approved content on the tip (deleted, moved, renamed, force-pushed away,
  // outside a changed grants_path, dropped by its break-glass PR): revoked, whatever the dates.
  const held = new Set([...holding.map((t) => t.path), ...revoke.map((r) => (r.kind === "revoke-tracked" ? r.grant.path : "")), ...attempted]);
  for (const e of facts.applied.filter((e) => !held.has(e.path))) {
    revoke.push({ kind: "revoke-applied", entry: e, reason: e.expiresAt !== undefined && Date.parse(e.expiresAt) <= now.getTime() ? "expired" : "removed" });
  }
  const report = facts.tracked.filter((t) => !isApproved(t) && !facts.mayStillLink(t));
  const reminders = live.map((t) => ({ t, at: new Date(expiresAt(t).getTime() - reminderLeadMs(t.origin.grant.durationMs)) }));
  const appliedExpiries = facts.applied.flatMap((e) => (e.expiresAt === undefined ? [] : [new Date(e.expiresAt)]));
  const upcoming = [...live.map(expiresAt), ...appliedExpiries, ...reminders.map((r) => r.at)].filter((d) => d > now);
  return {
    revoke,
    live,
    apply: facts.policyValid ? live : [],
    holding,
    report,
    remind: reminders.filter((r) => r.at <= now).map((r) => r.t),
    next: upcoming.sort((a, b) => a.getTime() - b.getTime())[0],
  };
}

/** What a break-glass PR says about one of its emergency grants, as read for the decision. */
export interface BreakglassFacts {
  /** The record's expiry (bounded by GitHub's creation time and the policy). */
  expiresAt: string;
  reviewDue: string;
  /** The record disagrees with the policy (principal, target, settings, or no break-glass on the role). */
  mismatch: boolean;
  /** Its PR merged and the default branch's approved grant took over (same clock). */
  takenOver: boolean;
  open: boolean;
  merged: boolean;
  /** Whether the open PR still asks for it: into the default branch, valid, emergency, same requester/resource/role. Undefined when not judged (closed). */
  stillAsked?: boolean;
  /** Timebox already said it revoked this grant (by command, or before a restart). */
  revokedBefore: boolean;
  /** The story of a PR closed unmerged is already recorded. */
  closeRecorded: boolean;
  /** The normal approval that came afterwards, if it did. */
  reviewed: boolean;
}

export type BreakglassStep =
  | { kind: "taken-over" }
  | { kind: "keep"; until: Date }
  | {
      kind: "revoke";
      reason: RevokeReason;
      /** A PR closed unmerged gets an empty Timebox commit telling the story: with the revoke, or after an earlier one. */
      recordClose: "with-revoke" | "after-earlier-revoke" | "no";
      /** Merged without its approval: the file is removed once the access has ended. */
      removeMergedFile: boolean;
    };

export type ReviewStep = { kind: "wait"; until: Date } | { kind: "open-unreviewed-issue" } | { kind: "close-unreviewed-issue" } | { kind: "none" };

/**
 * One emergency grant's transition: kept until its expiry while its PR is open and still asks for
 * it; revoked at expiry, when the PR closes unmerged, when withdrawn, or when its record disagrees
 * with the policy; handed over to the default branch's grant when merged with its approval.
 */
export function decideBreakglass(f: BreakglassFacts, now: Date): { step: BreakglassStep; review: ReviewStep } {
  const due = new Date(f.reviewDue);
  const review: ReviewStep =
    now < due
      ? f.reviewed
        ? { kind: "none" }
        : { kind: "wait", until: due }
      : f.reviewed
        ? { kind: "close-unreviewed-issue" }
        : { kind: "open-unreviewed-issue" };
  if (f.takenOver) return { step: { kind: "taken-over" }, review };
  const closedUnmerged = !f.open && !f.merged;
  const expired = now.getTime() >= Date.parse(f.expiresAt);
  const withdrawn = f.mismatch || f.stillAsked === false;
  if (!expired && !closedUnmerged && !withdrawn && !f.revokedBefore) return { step: { kind: "keep", until: new Date(f.expiresAt) }, review };
  const reason: RevokeReason = expired ? "expired" : closedUnmerged ? "pr-closed" : "removed";
  const recordClose = !closedUnmerged || f.closeRecorded ? "no" : f.revokedBefore ? "after-earlier-revoke" : "with-revoke";
  return { step: { kind: "revoke", reason, recordClose, removeMergedFile: f.merged }, review };
}

/** A valid emergency grant in an otherwise valid PR that changes no policy: break-glass, applied without waiting for review. */
export function startsBreakglass(decision: ReviewDecision): boolean {
  return (
    !decision.headPolicy &&
    decision.grants.length > 0 &&
    decision.grants.every((g) => g.valid) &&
    decision.grants.some((g) => g.grant?.emergency && g.role?.breakglass)
  );
}

/** The emergency grants of a judged PR into the default branch to start now (those without a record yet). */
export function breakglassToStart(decision: ReviewDecision, recorded: ReadonlySet<string>): GrantVerdict[] {
  return startsBreakglass(decision) ? decision.grants.filter((g) => g.grant?.emergency && !recorded.has(g.path)) : [];
}

export type StaleStep = { kind: "not-yet"; at: Date } | { kind: "judge" } | { kind: "close" } | { kind: "keep" };

/**
 * A request is stale when it has waited `request_ttl` since it was opened or last reopened and
 * still lacks its approvals: then it is closed. Before that, the timer waits for the moment; at it,
 * the request is judged afresh (`judged` undefined: judge it first), so one approved in time stays.
 */
export function decideStale(f: { since: string; ttlMs: number; judged?: { hasGrants: boolean; approved: boolean } }, now: Date): StaleStep {
  const at = Date.parse(f.since) + f.ttlMs;
  if (at > now.getTime()) return { kind: "not-yet", at: new Date(at) };
  if (!f.judged) return { kind: "judge" };
  return f.judged.hasGrants && !f.judged.approved ? { kind: "close" } : { kind: "keep" };
}

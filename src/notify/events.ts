/**
 * Timebox's events built from what the lifecycle and the PR handlers hold at the moment something
 * happens. Only values already visible to anyone who can read the repository: logins, names, the
 * grant's reason and ticket, GitHub links, Timebox's own summaries — never a provider's raw error,
 * a principal, a target or a setting.
 */
import { timeboxEvent, type EventName, type GrantEventData, type TimeboxEvent } from "../events/event.js";
import { expiresAt } from "../lifecycle/active-grant.js";
import type { ApprovedGrant } from "../lifecycle/types.js";
import type { JudgedPullRequest } from "../pull-request/run.js";
import type { BreakglassRecord } from "../records/breakglass.js";
import type { RevokeReason } from "../records/comments.js";
import type { ManagedGrant } from "../providers/types.js";
import type { TrackedGrant } from "../lifecycle/types.js";
import type { NotifyPort } from "./notifier.js";

/** An event about an approved grant version (applied, extended, expiring, revoked, stuck). */
export function grantEvent(name: EventName, repo: string, t: ApprovedGrant, at: Date, extra: Partial<GrantEventData> = {}): TimeboxEvent {
  const { grant, pull, approvedBy } = t.origin;
  const data: GrantEventData = {
    repository: repo,
    grant: t.path,
    requester: grant.requester,
    resource: grant.resource,
    role: grant.role,
    duration: grant.duration,
    ...(grant.reason ? { reason: grant.reason } : {}),
    ...(grant.ticket ? { ticket: grant.ticket } : {}),
    emergency: grant.emergency,
    pull_request: pull.number,
    ...(pull.htmlUrl ? { url: pull.htmlUrl } : {}),
    ...(approvedBy.length ? { approved_by: approvedBy } : {}),
    expires_at: expiresAt(t).toISOString(),
    ...extra,
  };
  // One version of one grant, brought by one PR: the same id as `timebox audit --format jsonl` gives it.
  return timeboxEvent(name, at, data, `pr-${pull.number}`);
}

/** Why access ended, in words. */
export function revokeDetail(reason: RevokeReason): string {
  if (reason.startsWith("revoked-by:")) return `revoked early by ${reason.slice("revoked-by:".length)}`;
  const words: Record<string, string> = {
    expired: "its time ran out",
    removed: "the grant file left the default branch",
    "pr-closed": "its pull request was closed without merging",
    drift: "the provider held access no grant explains",
  };
  return words[reason] ?? reason;
}

/** Grant content on the default branch that no approved, merged PR brought: never applied. */
export function unapprovedEvent(ref: { owner: string; repo: string }, t: TrackedGrant, pusher: string | undefined, at: Date): TimeboxEvent | undefined {
  if (t.origin.approved) return undefined;
  const { origin } = t;
  const data: GrantEventData = {
    repository: `${ref.owner}/${ref.repo}`,
    grant: t.path,
    ...(origin.pull ? { pull_request: origin.pull.number, url: origin.pull.htmlUrl } : {}),
    ...(pusher ? { actor: pusher } : {}),
    detail: origin.reason,
    commit: origin.commitSha,
  };
  return timeboxEvent("unapproved", at, data, `${t.blobSha.slice(0, 12)}@${origin.commitSha.slice(0, 12)}`);
}

/** Access a provider held for this repository that no live grant explains, revoked. */
export function driftEvent(repo: string, resource: string, m: ManagedGrant, at: Date): TimeboxEvent {
  const data: GrantEventData = {
    repository: repo,
    grant: m.grantId ?? `(unknown grant on ${resource})`,
    resource,
    detail: `Timebox revoked ${m.handle} on ${resource}: no active grant on the default branch explains it`,
  };
  return timeboxEvent("drift", at, data, `${resource}/${m.handle}@${at.toISOString()}`);
}

/** An event about a break-glass record (used, review overdue), from the record alone. */
export function breakglassEvent(name: EventName, repo: string, pr: number, r: BreakglassRecord, at: Date, extra: Partial<GrantEventData> = {}): TimeboxEvent {
  const data: GrantEventData = {
    repository: repo,
    grant: r.path,
    requester: r.requester,
    resource: r.resource,
    role: r.role,
    duration: r.duration,
    reason: r.reason,
    ...(r.ticket ? { ticket: r.ticket } : {}),
    emergency: true,
    pull_request: pr,
    expires_at: r.expiresAt,
    ...extra,
  };
  return timeboxEvent(name, at, data, `pr-${pr}`);
}

/**
 * A judged pull request's events: `requested` for each valid grant still awaiting approval (with
 * who may still give it), `approved` once its approval is complete on the head commit. Only for a
 * PR into the default branch, judged by the default branch's policy (the base's, read now): a PR
 * into another branch — whose policy its author may have written — notifies no one, and a policy
 * the PR itself changes never decides where its own notifications go.
 */
export function notifyJudged(notifier: NotifyPort | undefined, repo: string, defaultBranch: string | undefined, judged: JudgedPullRequest, at: Date): void {
  const { snapshot, decision } = judged;
  const policy = decision.basePolicy?.policy;
  if (!notifier || !policy || !defaultBranch || snapshot.pr.baseRef !== defaultBranch || snapshot.pr.draft) return;
  for (const v of decision.grants) {
    const g = v.grant;
    const approval = decision.approval.grants.find((a) => a.path === v.path);
    if (!v.valid || !g || !approval) continue;
    const approved = approval.satisfied && decision.approval.satisfied;
    const data: GrantEventData = {
      repository: repo,
      grant: v.path,
      requester: g.requester,
      resource: g.resource,
      role: g.role,
      duration: g.duration,
      reason: g.reason,
      ...(g.ticket ? { ticket: g.ticket } : {}),
      emergency: g.emergency,
      pull_request: snapshot.pr.number,
      url: snapshot.pr.htmlUrl,
      actor: snapshot.pr.author,
      ...(approval.counted.length ? { approved_by: approval.counted } : {}),
      ...(approved ? {} : { awaiting: awaitingOf(approval.missing, decision.approval.policyChange?.missing) }),
    };
    // A new head or a change in who still has to approve is a new state of the request.
    const unique = `${snapshot.pr.number}@${snapshot.pr.headSha.slice(0, 12)}${approved ? "" : `:${approval.counted.join(",")}`}`;
    notifier.notify(timeboxEvent(approved ? "approved" : "requested", at, data, unique), policy);
  }
}

function awaitingOf(...missing: Array<string | undefined>): string[] {
  return missing.filter((m): m is string => !!m);
}

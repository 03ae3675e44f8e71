import type { ActiveGrant } from "../providers/types.js";
import { formatDuration } from "../duration.js";
import { isoSecond } from "../util/clock.js";
import { tick } from "../markdown.js";
import { versionKey, type ApprovedGrant, type TrackedGrant } from "../lifecycle/types.js";

export type RevokeReason = "expired" | "removed" | `revoked-by:${string}` | "drift" | "pr-closed";

const iso = isoSecond;

export const appliedMarker = (t: TrackedGrant) => `<!-- timebox:applied ${versionKey(t)} -->`;
export const revokedMarker = (t: TrackedGrant) => `<!-- timebox:revoked ${versionKey(t)} -->`;
export const failedMarker = (t: TrackedGrant) => `<!-- timebox:apply-failed ${versionKey(t)} -->`;
const unapprovedMarker = (t: TrackedGrant) => `<!-- timebox:unapproved ${versionKey(t)} -->`;
export const stuckMarker = (t: TrackedGrant) => `<!-- timebox:stuck-revoke ${versionKey(t)} -->`;

export function appliedComment(t: ApprovedGrant, g: ActiveGrant, summary: string, now: Date): string {
  const left = formatDuration(Math.max(0, g.expiresAt.getTime() - now.getTime()));
  const ext = t.origin.extension;
  const headline = ext
    ? [
        `### ⏩ Access extended: ${tick(t.path)}`,
        `This is extension ${ext.count} of the grant first requested in #${ext.of}: ${tick(g.requester)} keeps ${tick(g.role)} on ${tick(g.resource)} (${summary}) until the new expiry, counted from this merge.`,
      ]
    : [`### ✅ Access granted: ${tick(t.path)}`, `${tick(g.requester)} now has ${tick(g.role)} on ${tick(g.resource)} (${summary}).`];
  return [
    appliedMarker(t),
    ...headline,
    "",
    `- **Granted at:** ${iso(g.grantedAt)}`,
    `- **Expires at:** ${iso(g.expiresAt)} (in ${left})`,
    `- **Approved by:** ${t.origin.approvedBy.map(tick).join(", ")}`,
    "",
    "At expiry Timebox revokes it and removes the file in a commit of its own.",
  ].join("\n");
}

export function applyFailedComment(t: ApprovedGrant, error: string): string {
  return [
    failedMarker(t),
    `### ⚠️ Access not applied yet: ${tick(t.path)}`,
    `The provider refused: ${error}`,
    "",
    "Timebox keeps retrying on every reconcile; this comment is not repeated.",
  ].join("\n");
}

export function revokedComment(t: ApprovedGrant, g: ActiveGrant, reason: RevokeReason, revokedAt: Date, where: string): string {
  const why =
    reason === "expired"
      ? "expired"
      : reason === "removed"
        ? t.origin.pull.mergeCommitSha
          ? "was removed from the default branch"
          : "was withdrawn from its pull request"
        : reason === "pr-closed"
          ? "ended because its pull request was closed unmerged"
          : reason.startsWith("revoked-by:")
            ? `was revoked by ${tick(reason.slice(11))}`
            : "was revoked";
  return [
    revokedMarker(t),
    `<!-- timebox:revoked-at ${versionKey(t)} ${iso(revokedAt)} ${reason} ${g.requester} -->`,
    `### ⏹️ Access revoked: ${tick(t.path)}`,
    `${tick(g.requester)}'s ${tick(g.role)} access to ${tick(g.resource)} ${why} and was revoked at ${iso(revokedAt)}.`,
    ...(where ? ["", where] : []),
    "",
    `@${g.requester}: did this access do its job? Reply \`/timebox outcome <what it solved, or why not>\` — Timebox records your answer in the repository's history for reviews and audits.`,
  ].join("\n");
}

/** The removal commit's message: a subject, a sentence, and the audit trailers. */
export function removalCommitMessage(t: ApprovedGrant, g: ActiveGrant, reason: RevokeReason, revokedAt: Date, runId: string): string {
  return [
    reason.startsWith("revoked-by:")
      ? `Revoke grant ${t.path} on request of ${reason.slice(11)}`
      : `Revoke ${reason === "expired" ? "expired" : "removed"} grant ${t.path}`,
    "",
    `${g.requester}'s ${g.role} access to ${g.resource} (${formatDuration(t.origin.grant.durationMs)}, PR #${g.pullRequest}) ended: ${reason}.`,
    "",
    ...recordTrailers(t, g, reason, revokedAt, runId),
  ].join("\n");
}

/** A trailer value on one line, bounded: no whitespace but spaces, no C0 or C1 control character (NEL among them). */
const oneLine = (s: string) =>
  s
    // eslint-disable-next-line no-control-regex -- control characters are what this pattern is for
    .replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, " ")
    .trim()
    .slice(0, 500);

/** The audit trailers of a revoked grant, in the order `timebox audit` documents. */
export function recordTrailers(t: ApprovedGrant, g: ActiveGrant, reason: RevokeReason, revokedAt: Date, runId: string): string[] {
  const { extension, breakglass } = t.origin;
  return [
    `Timebox-Grant: ${oneLine(t.path)}`,
    `Requested-by: ${g.requester}`,
    `Resource: ${g.resource}`,
    `Role: ${g.role}`,
    `Approved-by: ${t.origin.approvedBy.join(", ")}`,
    `Pull-Request: #${g.pullRequest}`,
    `Granted-at: ${iso(g.grantedAt)}`,
    `Expires-at: ${iso(g.expiresAt)}`,
    `Revoked-at: ${iso(revokedAt)}`,
    `Revoke-Reason: ${reason}`,
    ...(extension
      ? [
          `Extension-Of: #${extension.of}`,
          `Extensions: ${extension.count}`,
          ...(extension.earlier ?? []).map((e) => `Earlier-Version: #${e.pr} approved-by ${e.approvedBy.join(", ")}`),
        ]
      : []),
    ...(breakglass
      ? [
          "Emergency: true",
          `Review-Due: ${breakglass.reviewDue}`,
          ...(breakglass.reviewedBy?.length ? [`Reviewed-by: ${breakglass.reviewedBy.join(", ")}`, `Reviewed-at: ${breakglass.reviewedAt}`] : []),
        ]
      : []),
    ...(reason === "pr-closed" || !t.origin.pull.mergeCommitSha
      ? [`Reason: ${oneLine(t.origin.grant.reason)}`, ...(t.origin.grant.ticket ? [`Ticket: ${oneLine(t.origin.grant.ticket)}`] : [])]
      : []),
    `Timebox-Run: ${runId}`,
  ];
}

export function unapprovedIssue(t: TrackedGrant, branch: string, pusher?: string): { title: string; body: string } {
  if (t.origin.approved) throw new Error("not unapproved");
  const o = t.origin;
  return {
    title: `Unapproved grant content on ${branch}: ${t.path}`,
    body: [
      unapprovedMarker(t),
      `Timebox found ${tick(t.path)} on ${tick(branch)} but **did not apply it**: ${o.reason}.`,
      "",
      `- **Commit:** ${o.commitSha}`,
      `- **Pushed by:** ${pusher ? tick(pusher) : "unknown (Timebox did not see the push)"}`,
      `- **Committed by:** ${o.committer ? tick(o.committer) : "unknown"}`,
      o.pull ? `- **Pull request:** #${o.pull.number}` : "- **Pull request:** none",
      "",
      "Remove the file, or open a pull request for it and get it approved as the policy requires.",
    ].join("\n"),
  };
}

export const reminderMarker = (t: TrackedGrant) => `<!-- timebox:reminder ${versionKey(t)} -->`;

/** How long before expiry the reminder comes: 15 minutes, or 10% of the duration when that is shorter. */
export const reminderLeadMs = (durationMs: number) => Math.min(15 * 60_000, Math.round(durationMs / 10));

/** GitHub's web editor for the grant file on the default branch: a pre-filled extension PR is one edit away. */
export function extendUrl(t: ApprovedGrant, branch: string): string {
  const repoUrl = t.origin.pull.htmlUrl.replace(/\/pull\/\d+$/, "");
  return `${repoUrl}/edit/${encodeURIComponent(branch)}/${t.path.split("/").map(encodeURIComponent).join("/")}`;
}

export function reminderComment(t: ApprovedGrant, g: ActiveGrant, branch: string, now: Date): string {
  const left = formatDuration(Math.max(0, g.expiresAt.getTime() - now.getTime()));
  return [
    reminderMarker(t),
    `### ⏰ Access expires soon: ${tick(t.path)}`,
    `@${g.requester}: your ${tick(g.role)} access to ${tick(g.resource)} expires at **${iso(g.expiresAt)}** (in ${left}).`,
    "",
    `Need more time? [Extend it](${extendUrl(t, branch)}): change \`duration\` and propose the change as a pull request. It needs approval like a new grant, and the new duration counts from its merge.`,
  ].join("\n");
}

/** The empty commit that records what a grant's access achieved, in the requester's words. */
export function outcomeCommitMessage(path: string, pr: number, by: string, text: string, at: Date, runId: string): string {
  return [
    `Record outcome of ${path} (PR #${pr})`,
    "",
    `${by} reported what the access achieved.`,
    "",
    `Timebox-Grant: ${path}`,
    `Pull-Request: #${pr}`,
    `Outcome: ${oneLine(text)}`,
    `Outcome-By: ${by}`,
    `Recorded-at: ${iso(at)}`,
    `Timebox-Run: ${runId}`,
  ].join("\n");
}

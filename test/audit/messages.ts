/** Timebox's own commit messages as the trailer contract (docs/audit.md) spells them, for building histories. */

export interface RecordFields {
  path: string;
  requester: string;
  resource?: string;
  role?: string;
  approvedBy?: string[];
  pr: number;
  grantedAt: string;
  expiresAt: string;
  revokedAt: string;
  reason: string;
  emergency?: { reviewDue: string; reviewedBy?: string[]; reviewedAt?: string };
  extension?: { of: number; count: number };
  /** The grant's reason and ticket (written in a closed-unmerged record). */
  text?: { reason: string; ticket?: string };
}

function recordTrailers(f: RecordFields): string[] {
  return [
    `Timebox-Grant: ${f.path}`,
    `Requested-by: ${f.requester}`,
    `Resource: ${f.resource ?? "prod-db"}`,
    `Role: ${f.role ?? "readonly"}`,
    `Approved-by: ${(f.approvedBy ?? []).join(", ")}`,
    `Pull-Request: #${f.pr}`,
    `Granted-at: ${f.grantedAt}`,
    `Expires-at: ${f.expiresAt}`,
    `Revoked-at: ${f.revokedAt}`,
    `Revoke-Reason: ${f.reason}`,
    ...(f.extension ? [`Extension-Of: #${f.extension.of}`, `Extensions: ${f.extension.count}`] : []),
    ...(f.emergency
      ? [
          "Emergency: true",
          `Review-Due: ${f.emergency.reviewDue}`,
          ...(f.emergency.reviewedBy ? [`Reviewed-by: ${f.emergency.reviewedBy.join(", ")}`, `Reviewed-at: ${f.emergency.reviewedAt}`] : []),
        ]
      : []),
    ...(f.text ? [`Reason: ${f.text.reason}`, ...(f.text.ticket ? [`Ticket: ${f.text.ticket}`] : [])] : []),
    "Timebox-Run: 3f9a61c2",
  ];
}

/** The removal commit that takes the file off the default branch. */
export function removal(f: RecordFields): string {
  const subject = f.reason.startsWith("revoked-by:")
    ? `Revoke grant ${f.path} on request of ${f.reason.slice(11)}`
    : `Revoke ${f.reason === "expired" ? "expired" : "removed"} grant ${f.path}`;
  return [subject, "", `${f.requester}'s access ended: ${f.reason}.`, "", ...recordTrailers(f)].join("\n");
}

/** The empty commit recording a break-glass grant whose PR was closed unmerged. */
export function closedUnmerged(f: RecordFields): string {
  return [
    `Revoke emergency grant ${f.path} (PR #${f.pr} closed unmerged)`,
    "",
    `${f.requester}'s emergency access ended: ${f.reason}.`,
    "",
    ...recordTrailers(f),
  ].join("\n");
}

/** The empty commit recording a requester's `/timebox outcome`. */
export function outcome(f: { path: string; pr: number; text: string; by: string; at: string }): string {
  return [
    `Record outcome of ${f.path} (PR #${f.pr})`,
    "",
    `Timebox-Grant: ${f.path}`,
    `Pull-Request: #${f.pr}`,
    `Outcome: ${f.text}`,
    `Outcome-By: ${f.by}`,
    `Recorded-at: ${f.at}`,
    "Timebox-Run: 3f9a61c2",
  ].join("\n");
}

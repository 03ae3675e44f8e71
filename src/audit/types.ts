/** Where a grant version stands today. */
type AuditStatus =
  /** On the default branch and not yet expired. */
  | "active"
  /** Still on the default branch past its expiry: Timebox has not recorded a revoke (yet). */
  | "overdue"
  /** Revoked by Timebox: its removal commit (or, for a break-glass PR closed unmerged, its record) says when and why. */
  | "revoked"
  /** Removed by some other commit (a PR deleting the file, a direct push). */
  | "removed"
  /** Its content was changed on the default branch into a different grant; the next row is the new one. */
  | "replaced"
  /** Extended: a merged PR changed it while active, same requester, resource and role; the next row continues the access. */
  | "extended";

/** How a version came to exist. */
type AuditOrigin =
  /** Merged through a pull request (a merge commit, a squash `(#N)`, or a PR named in Timebox's trailers). */
  | "pull-request"
  /** Reached the default branch without a pull request Git can name (direct push, or a rebase merge). */
  | "direct-push"
  /** A break-glass grant whose PR was closed unmerged: it never reached the default branch; Timebox's empty record tells it. */
  | "closed-unmerged";

/** One version of one grant: one row of the audit report. */
export interface AuditRow {
  /** The grant's id: its repository path. */
  grant: string;
  requester: string | null;
  resource: string | null;
  role: string | null;
  reason: string | null;
  ticket: string | null;
  emergency: boolean;
  pull_request: number | null;
  origin: AuditOrigin;
  /** When the pull request was opened (`--github` only). */
  requested_at: string | null;
  approved_by: string[];
  /** When the last of those approvals was given (`--github` only). */
  approved_at: string | null;
  /** ISO 8601 UTC, to the second. */
  granted_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  revoke_reason: string | null;
  status: AuditStatus;
  /** The PR that first requested the grant this version extends. */
  extension_of: number | null;
  /** How many extensions the grant had up to and including this version (0 for the original). */
  extensions: number;
  /** Break-glass: when the normal approval was due. */
  review_due: string | null;
  /** Break-glass: who gave the normal approval afterwards. */
  reviewed_by: string[];
  /** Break-glass: when that approval was complete. */
  reviewed_at: string | null;
  /** The requester's answer to "did the access do its job?" (latest recorded). */
  outcome: string | null;
  outcome_by: string | null;
  outcome_at: string | null;
}

/** The columns, in report order (CSV header, JSON keys, table). */
export const AUDIT_COLUMNS = [
  "grant",
  "requester",
  "resource",
  "role",
  "reason",
  "ticket",
  "emergency",
  "pull_request",
  "origin",
  "requested_at",
  "approved_by",
  "approved_at",
  "granted_at",
  "expires_at",
  "revoked_at",
  "revoke_reason",
  "status",
  "extension_of",
  "extensions",
  "review_due",
  "reviewed_by",
  "reviewed_at",
  "outcome",
  "outcome_by",
  "outcome_at",
] as const satisfies ReadonlyArray<keyof AuditRow>;

export type AuditColumn = (typeof AUDIT_COLUMNS)[number];

/** A row with every optional field empty: the base the history builder fills. */
export function emptyRow(grant: string, grantedAt: string): AuditRow {
  return {
    grant,
    requester: null,
    resource: null,
    role: null,
    reason: null,
    ticket: null,
    emergency: false,
    pull_request: null,
    origin: "direct-push",
    requested_at: null,
    approved_by: [],
    approved_at: null,
    granted_at: grantedAt,
    expires_at: null,
    revoked_at: null,
    revoke_reason: null,
    status: "active",
    extension_of: null,
    extensions: 0,
    review_due: null,
    reviewed_by: [],
    reviewed_at: null,
    outcome: null,
    outcome_by: null,
    outcome_at: null,
  };
}

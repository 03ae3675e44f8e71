/** Where a grant version stands today. */
export type AuditStatus =
  /** On the default branch and not yet expired. */
  | "active"
  /** Still on the default branch past its expiry: Timebox has not recorded a revoke (yet). */
  | "overdue"
  /** Removed by Timebox's own removal commit; its trailers say when and why. */
  | "revoked"
  /** Removed by some other commit (a PR deleting the file, a direct push). */
  | "removed"
  /** Its content was changed on the default branch; the next row is the new version. */
  | "replaced";

/** One version of one grant file on the default branch: one row of the audit report. */
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
  approved_by: string[];
  /** ISO 8601 UTC, to the second. */
  granted_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  revoke_reason: string | null;
  status: AuditStatus;
}

/** The columns, in report order. */
export const AUDIT_COLUMNS = [
  "grant",
  "requester",
  "resource",
  "role",
  "reason",
  "ticket",
  "emergency",
  "pull_request",
  "approved_by",
  "granted_at",
  "expires_at",
  "revoked_at",
  "revoke_reason",
  "status",
] as const satisfies ReadonlyArray<keyof AuditRow>;

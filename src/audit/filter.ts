import type { AuditRow } from "./types.js";

/**
 * When a row's access ended, in ms (exclusive): Timebox's recorded Revoked-at when it revoked the
 * grant (the provider revoke, which can lag the expiry); otherwise the earlier of the expiry and
 * the file's removal, replacement or extension — Timebox enforces expiry whether or not the file
 * is still there. Infinity when neither is known (a file whose duration cannot be read, still present).
 */
export function accessEnd(row: AuditRow): number {
  const t = (s: string | null) => (s === null ? Number.POSITIVE_INFINITY : Date.parse(s));
  if (row.status === "revoked" && row.revoked_at !== null) return t(row.revoked_at);
  return Math.min(t(row.expires_at), t(row.revoked_at));
}

export interface AuditFilter {
  since?: Date;
  until?: Date;
  who?: string;
  resource?: string;
  at?: Date;
}

/**
 * Keeps the rows that match every filter. `since`/`until`: the access window
 * [granted_at, end) overlaps [since, until). `at`: granted_at <= at < end — at the exact second
 * of expiry (or revocation) access is over.
 */
export function filterRows(rows: readonly AuditRow[], f: AuditFilter): AuditRow[] {
  const who = f.who?.toLowerCase();
  return rows.filter((row) => {
    const start = Date.parse(row.granted_at);
    const end = accessEnd(row);
    if (who !== undefined && row.requester?.toLowerCase() !== who) return false;
    if (f.resource !== undefined && row.resource !== f.resource) return false;
    if (f.since && !(end > f.since.getTime())) return false;
    if (f.until && !(start < f.until.getTime())) return false;
    if (f.at && !(start <= f.at.getTime() && f.at.getTime() < end)) return false;
    return true;
  });
}

import { AUDIT_COLUMNS, type AuditRow } from "./types.js";

/**
 * When a row's access ended, in ms (exclusive): Timebox's recorded Revoked-at when it revoked the
 * grant (the provider revoke, which can lag the expiry); otherwise the earlier of the expiry and
 * the file's removal or replacement — Timebox enforces expiry whether or not the file is still
 * there. Infinity when neither is known (a file whose duration cannot be read, still present).
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

export type AuditFormat = "table" | "csv" | "json";

/** A cell as text, for CSV and the table: empty for none, logins separated by spaces. */
function cell(row: AuditRow, column: (typeof AUDIT_COLUMNS)[number]): string {
  const v = row[column];
  if (v === null) return "";
  if (Array.isArray(v)) return v.join(" ");
  return String(v);
}

export function formatRows(rows: readonly AuditRow[], format: AuditFormat): string {
  if (format === "json") {
    const grants = rows.map((r) => Object.fromEntries(AUDIT_COLUMNS.map((c) => [c, r[c]])));
    return `${JSON.stringify({ grants }, null, 2)}\n`;
  }
  if (format === "csv") {
    const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const lines = [AUDIT_COLUMNS.join(","), ...rows.map((r) => AUDIT_COLUMNS.map((c) => quote(cell(r, c))).join(","))];
    return lines.map((l) => `${l}\r\n`).join("");
  }
  return table(rows);
}

/** Plain aligned columns; control characters shown as spaces so one row is one line. */
function table(rows: readonly AuditRow[]): string {
  const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, " ");
  const body = rows.map((r) => AUDIT_COLUMNS.map((c) => clean(c === "pull_request" && r.pull_request !== null ? `#${r.pull_request}` : cell(r, c))));
  const all = [[...AUDIT_COLUMNS] as string[], ...body];
  const widths = AUDIT_COLUMNS.map((_, i) => Math.max(...all.map((line) => [...line[i]].length)));
  const render = (line: string[]) => line.map((s, i) => (i === line.length - 1 ? s : s + " ".repeat(widths[i] - [...s].length))).join("  ").trimEnd();
  const out = [render(all[0]), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(render)];
  out.push(`${rows.length} grant${rows.length === 1 ? "" : "s"}`);
  return `${out.join("\n")}\n`;
}

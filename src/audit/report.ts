import { plural } from "../markdown.js";
import type { Finding } from "./findings/index.js";
import { renderHtml, type HtmlContext } from "./html/page.js";
import { AUDIT_COLUMNS, type AuditColumn, type AuditRow } from "./types.js";

export type AuditFormat = "table" | "csv" | "json" | "html";

/** What a report shows: the rows after filters, and the patterns found in them. */
export interface AuditReport {
  rows: readonly AuditRow[];
  findings: readonly Finding[];
  /** For the HTML page's header: where and when the report was made. */
  context: HtmlContext;
}

/** A cell as text, for CSV and the table: empty for none, logins separated by spaces. */
function cell(row: AuditRow, column: AuditColumn): string {
  const v = row[column];
  if (v === null) return "";
  if (Array.isArray(v)) return v.join(" ");
  return String(v);
}

/** The grants with the columns in report order, as the JSON report holds them. */
const jsonRows = (rows: readonly AuditRow[]) => rows.map((r) => Object.fromEntries(AUDIT_COLUMNS.map((c) => [c, r[c]])));

export function formatReport(report: AuditReport, format: AuditFormat): string {
  if (format === "json") return `${JSON.stringify({ grants: jsonRows(report.rows), findings: report.findings }, null, 2)}\n`;
  if (format === "csv") return csv(report.rows);
  if (format === "html") return renderHtml(report);
  return `${table(report.rows)}\n${findingsText(report.findings)}`;
}

/** RFC 4180: a header row, fields with a comma, quote or line break quoted, CRLF line ends. */
function csv(rows: readonly AuditRow[]): string {
  const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [AUDIT_COLUMNS.join(","), ...rows.map((r) => AUDIT_COLUMNS.map((c) => quote(cell(r, c))).join(","))];
  return lines.map((l) => `${l}\r\n`).join("");
}

/** Control characters shown as spaces so one row is one line. */
// eslint-disable-next-line no-control-regex -- control characters are what this pattern is for
const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, " ");

/** Plain aligned columns (the row number first, which findings refer to), then a count. */
function table(rows: readonly AuditRow[]): string {
  const body = rows.map((r, i) => [
    String(i + 1),
    ...AUDIT_COLUMNS.map((c) => clean((c === "pull_request" || c === "extension_of") && r[c] !== null ? `#${r[c]}` : cell(r, c))),
  ]);
  const all = [["row", ...AUDIT_COLUMNS], ...body];
  const widths = all[0].map((_, i) => all.reduce((w, line) => Math.max(w, [...line[i]].length), 0));
  const render = (line: string[]) =>
    line
      .map((s, i) => (i === line.length - 1 ? s : s + " ".repeat(widths[i] - [...s].length)))
      .join("  ")
      .trimEnd();
  const out = [render(all[0]), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(render)];
  out.push(`${plural(rows.length, "grant")}`);
  return `${out.join("\n")}\n`;
}

const STATUS_TEXT: Record<Finding["status"], string> = { found: "FOUND", clear: "clear", "needs-github": "needs --github", off: "off" };

/** The findings section: each pattern, its rule, and each instance with the rows behind it. */
function findingsText(findings: readonly Finding[]): string {
  const out = ["Findings", "========"];
  for (const f of findings) {
    const count = f.status === "found" ? ` (${f.items.length})` : "";
    out.push(`[${STATUS_TEXT[f.status]}] ${f.title}${count}: ${f.rule}`);
    for (const item of f.items) {
      out.push(`  - ${clean(item.summary)}`);
      const refs = item.grants.map((g) => `row ${g.row} ${clean(g.grant)}${g.pull_request === null ? "" : ` #${g.pull_request}`}`);
      if (refs.length > 0) out.push(`    ${refs.join("; ")}`);
    }
  }
  return `${out.join("\n")}\n`;
}

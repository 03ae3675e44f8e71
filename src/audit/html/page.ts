import { plural } from "../../markdown.js";
import { isoSecond } from "../../util/clock.js";
import type { Finding } from "../findings/index.js";
import { groupBy } from "../group.js";
import { AUDIT_COLUMNS, type AuditRow } from "../types.js";
import { cut, esc } from "./escape.js";
import { MAX_BARS_PER_RESOURCE, roleColours, timeRange, timelineSvg, type TimelineBar } from "./timeline.js";
import { STYLE } from "./style.js";

/** Where and when a report was made, for the page's header. */
export interface HtmlContext {
  repository: string;
  commit: string;
  generatedAt: Date;
  /** The filters and thresholds in force, as the user would type them. */
  scope: string;
}

interface Page {
  rows: readonly AuditRow[];
  findings: readonly Finding[];
  context: HtmlContext;
}

/** Findings with more items than this show the first SHOW_FIRST and fold the rest. */
const FOLD_AFTER = 12;
const SHOW_FIRST = 8;

const STATUS_LABEL: Record<Finding["status"], string> = { found: "found", clear: "clear", "needs-github": "needs --github", off: "off" };

/**
 * One self-contained HTML file: inline CSS and SVG, no script, no external resource (a CSP that
 * forbids both), every recorded value escaped.
 */
export function renderHtml({ rows, findings, context }: Page): string {
  const found = findings.filter((f) => f.status === "found").length;
  const people = new Set(rows.map((r) => r.requester?.toLowerCase() ?? "?")).size;
  const resources = new Set(rows.map((r) => r.resource ?? "?")).size;
  const breakglass = rows.filter((r) => r.emergency && r.extensions === 0).length;
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Access audit — ${esc(context.repository)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    "<header>",
    "<h1>Temporary access audit</h1>",
    `<p class="meta">Repository <b>${esc(context.repository)}</b> at commit <code>${esc(context.commit.slice(0, 12) || "none")}</code> · generated ${esc(isoSecond(context.generatedAt))} by <code>timebox audit</code> · all times UTC</p>`,
    context.scope ? `<p class="meta">Scope: <code>${esc(context.scope)}</code></p>` : "",
    '<dl class="stats">',
    stat(rows.length, rows.length === 1 ? "grant version" : "grant versions"),
    stat(people, people === 1 ? "person" : "people"),
    stat(resources, resources === 1 ? "resource" : "resources"),
    stat(breakglass, "break-glass uses"),
    stat(found, found === 1 ? "pattern found" : "patterns found"),
    "</dl></header>",
    '<nav><a href="#timeline">Timeline</a> · <a href="#findings">Findings</a> · <a href="#grants">Grants</a></nav>',
    timelineSection(rows, context.generatedAt),
    findingsSection(findings),
    tableSection(rows),
    "<footer>Built from the default branch's history: grant files as merged and Timebox's commit trailers. See docs/audit.md for what each column and finding means.</footer>",
    "</body></html>",
    "",
  ].join("\n");
}

const stat = (n: number, what: string) => `<div><dt>${esc(what)}</dt><dd>${n}</dd></div>`;

function findingsSection(findings: readonly Finding[]): string {
  const out = ['<section id="findings"><h2>Findings</h2>'];
  for (const f of findings) {
    out.push(
      `<article class="finding ${f.status}" id="finding-${esc(f.id)}">`,
      `<h3><span class="badge ${f.status}">${esc(STATUS_LABEL[f.status])}${f.status === "found" ? ` · ${f.items.length}` : ""}</span> ${esc(f.title)}</h3>`,
      `<p class="rule">${esc(f.rule)}</p>`,
    );
    if (f.status === "needs-github")
      out.push('<p class="rule">Approval times are not in Git: run <code>timebox audit --github OWNER/REPO</code> with a token to check this.</p>');
    const li = (item: Finding["items"][number]) =>
      `<li>${esc(item.summary)}${item.grants.length > 0 ? ` <span class="refs">rows ${item.grants.map((g) => `<a href="#row-${g.row}">#${g.row}</a>`).join(" ")}</span>` : ""}</li>`;
    // A long list is folded after the first few (native <details>: no script).
    const shown = f.items.length > FOLD_AFTER ? f.items.slice(0, SHOW_FIRST) : f.items;
    if (shown.length > 0) out.push(`<ul>${shown.map(li).join("\n")}</ul>`);
    if (shown.length < f.items.length) {
      const rest = f.items.slice(shown.length);
      out.push(`<details><summary>Show the other ${rest.length}</summary><ul>${rest.map(li).join("\n")}</ul></details>`);
    }
    out.push("</article>");
  }
  out.push("</section>");
  return out.join("\n");
}

function timelineSection(rows: readonly AuditRow[], now: Date): string {
  const out = ['<section id="timeline"><h2>Timeline</h2>'];
  if (rows.length === 0) {
    out.push('<p class="empty">No grant in this report.</p></section>');
    return out.join("\n");
  }
  const colours = roleColours(rows);
  const range = timeRange(rows, now);
  const legend = [...colours].map(([role, colour]) => `<span><i style="background:${colour}"></i>${esc(role)}</span>`).join("");
  out.push(
    `<p class="legend">${legend}<span><i class="bg"></i>break-glass</span><span><i class="ongoing"></i>still active</span><span><i class="unapplied"></i>never applied (unapproved content)</span></p>`,
  );
  const byResource = groupBy(
    rows.map((row, i): TimelineBar => ({ row, index: i + 1 })),
    (bar) => bar.row.resource ?? "(unknown resource)",
  );
  [...byResource.keys()].sort().forEach((resource, id) => {
    const all = byResource.get(resource)!;
    const bars = all.slice(-MAX_BARS_PER_RESOURCE);
    out.push(`<h3 class="resource">${esc(resource)} <small>${plural(all.length, "version")}</small></h3>`);
    if (bars.length < all.length)
      out.push(
        `<p class="note">Showing the latest ${bars.length} of ${all.length}; narrow the report with --since/--until to see the rest here (the table has every row).</p>`,
      );
    out.push(`<div class="chart">${timelineSvg(resource, bars, range, colours, now, id)}</div>`);
  });
  out.push("</section>");
  return out.join("\n");
}

function tableSection(rows: readonly AuditRow[]): string {
  const head = `<tr><th>#</th>${AUDIT_COLUMNS.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>`;
  const body = rows.map((row, i) => {
    const cells = AUDIT_COLUMNS.map((c) => {
      const v = row[c];
      const text = v === null ? "" : Array.isArray(v) ? v.join(", ") : c === "pull_request" || c === "extension_of" ? `#${v}` : String(v);
      const cls = c === "status" ? ` class="status ${esc(String(v))}"` : c === "reason" || c === "outcome" ? ' class="text"' : "";
      return `<td${cls}${text.length > 300 ? ` title="${esc(cut(text, 2000))}"` : ""}>${esc(cut(text, 300))}</td>`;
    });
    return `<tr id="row-${i + 1}"${row.emergency ? ' class="breakglass"' : ""}><td>${i + 1}</td>${cells.join("")}</tr>`;
  });
  return ['<section id="grants"><h2>Grants</h2>', `<div class="table"><table><thead>${head}</thead><tbody>`, ...body, "</tbody></table></div></section>"].join(
    "\n",
  );
}

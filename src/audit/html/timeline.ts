import { isoSecond } from "../../util/clock.js";
import { accessEnd } from "../filter.js";
import { gaveAccess } from "../findings/stories.js";
import type { AuditRow } from "../types.js";
import { cut, esc } from "./escape.js";

/** Bars drawn per resource at most; older versions beyond it are left to the table. */
export const MAX_BARS_PER_RESOURCE = 2000;

const WIDTH = 1100;
const LABEL = 150;
const LANE = 20;
const AXIS = 28;
const PALETTE = ["#2563eb", "#059669", "#d97706", "#7c3aed", "#0891b2", "#65a30d", "#db2777", "#475569"];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const STEPS = [HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 365 * DAY];

export interface TimelineBar {
  row: AuditRow;
  /** 1-based position in the report, for the link to the table. */
  index: number;
}

/** The colour of each role, stable across resources (sorted role names). */
export function roleColours(rows: readonly AuditRow[]): Map<string, string> {
  const roles = [...new Set(rows.map((r) => r.role ?? "?"))].sort();
  return new Map(roles.map((role, i) => [role, PALETTE[i % PALETTE.length]]));
}

/** The time range every timeline shares: first start to last end (open ends at `now`). */
export function timeRange(rows: readonly AuditRow[], now: Date): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const r of rows) {
    const start = Date.parse(r.granted_at);
    const end = Math.min(accessEnd(r), Math.max(now.getTime(), start));
    lo = Math.min(lo, start);
    hi = Math.max(hi, end);
  }
  if (!Number.isFinite(lo)) return [now.getTime() - DAY, now.getTime()];
  const pad = Math.max((hi - lo) * 0.02, 60_000);
  return [lo - pad, hi + pad];
}

const label = (t: number, step: number) => {
  const iso = new Date(t).toISOString();
  return step < DAY ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10);
};

/**
 * One resource's timeline as inline SVG: a lane per requester, a bar per version coloured by
 * role, break-glass outlined in red and marked, ongoing access hatched; each bar links to its
 * table row and carries its facts in a tooltip.
 */
export function timelineSvg(
  resource: string,
  bars: readonly TimelineBar[],
  range: [number, number],
  colours: ReadonlyMap<string, string>,
  now: Date,
  id: number,
): string {
  const lanes = [...new Set(bars.map((b) => b.row.requester ?? "?"))].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const height = AXIS + lanes.length * LANE + 8;
  const [t0, t1] = range;
  const x = (t: number) => LABEL + ((t - t0) / (t1 - t0)) * (WIDTH - LABEL - 10);
  const step = STEPS.find((s) => (t1 - t0) / s <= 10) ?? 365 * DAY;
  const parts: string[] = [];
  parts.push(
    `<svg class="timeline" role="img" aria-label="${esc(`Timeline of ${resource}`)}" viewBox="0 0 ${WIDTH} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">`,
    `<defs><pattern id="ongoing-${id}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="6" fill="#ffffff" fill-opacity="0.55"/></pattern></defs>`,
  );
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    parts.push(
      `<line class="tick" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${AXIS - 6}" y2="${height - 4}"/>`,
      `<text class="tick-label" x="${x(t).toFixed(1)}" y="${AXIS - 10}" text-anchor="middle">${esc(label(t, step))}</text>`,
    );
  }
  lanes.forEach((lane, i) => {
    const y = AXIS + i * LANE;
    parts.push(
      `<rect class="lane${i % 2 ? " odd" : ""}" x="0" y="${y}" width="${WIDTH}" height="${LANE}"/>`,
      `<text class="lane-label" x="${LABEL - 8}" y="${y + LANE / 2 + 4}" text-anchor="end">${esc(cut(lane, 20))}</text>`,
    );
  });
  if (now.getTime() > t0 && now.getTime() < t1) {
    parts.push(
      `<line class="now" x1="${x(now.getTime()).toFixed(1)}" x2="${x(now.getTime()).toFixed(1)}" y1="${AXIS - 6}" y2="${height - 4}"><title>now</title></line>`,
    );
  }
  for (const { row, index } of bars) {
    const lane = lanes.indexOf(row.requester ?? "?");
    const start = Date.parse(row.granted_at);
    const rawEnd = accessEnd(row);
    const ongoing = rawEnd > now.getTime();
    const end = Math.min(rawEnd, Math.max(now.getTime(), start));
    const x0 = x(start);
    const w = Math.max(x(end) - x0, 2);
    const y = AXIS + lane * LANE + 4;
    const applied = gaveAccess(row);
    const fill = applied ? (colours.get(row.role ?? "?") ?? PALETTE[0]) : "#e2e8f0";
    const tip = [
      `${row.requester ?? "?"} · ${resource}/${row.role ?? "?"}${row.emergency ? " · BREAK-GLASS" : ""}`,
      `${row.granted_at} → ${Number.isFinite(rawEnd) ? isoSecond(new Date(rawEnd)) : "no expiry known"}`,
      `${row.pull_request === null ? "no PR" : `PR #${row.pull_request}`} · ${row.status}${row.revoke_reason ? ` (${row.revoke_reason})` : ""}`,
      applied ? "" : "never applied: no pull request, no Timebox record",
      row.reason ? `reason: ${cut(row.reason, 200)}` : "",
    ]
      .filter(Boolean)
      .join("\n");
    const cls = `bar${row.emergency ? " breakglass" : ""}${ongoing ? " ongoing" : ""}${applied ? "" : " unapplied"}`;
    parts.push(
      `<a href="#row-${index}"><g class="${cls}" data-row="${index}"><title>${esc(tip)}</title>`,
      `<rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${LANE - 8}" rx="2" fill="${fill}"/>`,
      ongoing ? `<rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${LANE - 8}" rx="2" fill="url(#ongoing-${id})"/>` : "",
      row.emergency ? `<path class="bg-mark" d="M${x0.toFixed(1)} ${y - 4} l5 0 l-5 7 z"/>` : "",
      `</g></a>`,
    );
  }
  parts.push("</svg>");
  return parts.join("");
}

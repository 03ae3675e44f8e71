import { DateTime } from "luxon";
import { formatDuration } from "../../duration.js";
import { access, gaveAccess, pr, who, window } from "./stories.js";
import type { Finding, FindingContext, FindingItem, WorkingHours } from "./types.js";

/** How far back working hours are evaluated: twenty years. */
const MAX_SPAN_MS = 20 * 366 * 86_400_000;
const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** "Mon–Fri 09:00–18:00 UTC". */
function describeHours(h: WorkingHours): string {
  const days = [...h.days].sort();
  const contiguous = days.every((d, i) => i === 0 || d === days[i - 1] + 1);
  const dayText = contiguous && days.length > 1 ? `${DAY_NAMES[days[0] - 1]}–${DAY_NAMES[days.at(-1)! - 1]}` : days.map((d) => DAY_NAMES[d - 1]).join(",");
  const hm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
  return `${dayText} ${hm(h.startMinute)}–${hm(h.endMinute)} ${h.zone}`;
}

/** A wall-clock minute of a local day (24:00 is the next midnight), DST included. */
const at = (day: DateTime, minute: number) =>
  (minute >= 1440 ? day.plus({ days: 1 }).startOf("day") : day.set({ hour: Math.floor(minute / 60), minute: minute % 60 })).toMillis();

/** The working intervals [start, end) in ms of the local days that overlap [from, to). */
function workingIntervals(from: number, to: number, h: WorkingHours): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let day = DateTime.fromMillis(from, { zone: h.zone }).startOf("day"); day.toMillis() < to; day = day.plus({ days: 1 }).startOf("day")) {
    if (h.days.has(day.weekday)) out.push([at(day, h.startMinute), at(day, h.endMinute)]);
  }
  return out;
}

/** How much of [start, end) (ms) falls outside working hours, given the working intervals (sorted) that cover it. */
export function outsideMs(start: number, end: number, h: WorkingHours, intervals = workingIntervals(start, end, h)): number {
  if (end <= start) return 0;
  // The first interval that ends after `start`, by binary search: the report's intervals are computed once.
  let lo = 0;
  let hi = intervals.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (intervals[mid][1] <= start) lo = mid + 1;
    else hi = mid;
  }
  let inside = 0;
  for (let i = lo; i < intervals.length && intervals[i][0] < end; i++) {
    inside += Math.max(0, Math.min(end, intervals[i][1]) - Math.max(start, intervals[i][0]));
  }
  return end - start - inside;
}

/** Access that was active outside the configured working hours (any part of its window). */
export function outOfHours(ctx: FindingContext): Finding {
  const h = ctx.options.workingHours;
  const base = { id: "out-of-hours" as const, title: "Access active outside working hours" };
  if (!h) return { ...base, rule: "off (--working-hours off)", status: "off", items: [] };
  const windows = ctx.rows.filter(gaveAccess).map((row) => ({ row, span: window(row, ctx.options.now) }));
  let to = Number.NEGATIVE_INFINITY;
  for (const { span } of windows) if (Number.isFinite(span[1])) to = Math.max(to, span[1]);
  // Working days are computed once for the whole report, over at most the last MAX_SPAN (a recorded time far in the past must not cost a loop per day since then).
  let from = to;
  for (const { span } of windows) from = Math.min(from, span[0]);
  from = Math.max(from, to - MAX_SPAN_MS);
  const intervals = Number.isFinite(to) ? workingIntervals(from, to, h) : [];
  const items: FindingItem[] = [];
  for (const { row, span } of windows) {
    const [start, end] = [Math.max(span[0], from), span[1]];
    if (!Number.isFinite(end) || end <= start) continue;
    const outside = outsideMs(start, end, h, intervals);
    if (outside < 1000) continue;
    items.push({
      summary: `${who(row)}'s ${access(row)} (${pr(row)}${row.emergency ? ", break-glass" : ""}) was active ${formatDuration(outside)} of ${formatDuration(end - start)} outside working hours, from ${row.granted_at}`,
      grants: [ctx.ref(row)],
    });
  }
  return { ...base, rule: `any part of the access window outside ${describeHours(h)}`, status: items.length > 0 ? "found" : "clear", items };
}

import { IANAZone } from "luxon";
import { parseDuration } from "../duration.js";
import { DEFAULT_FINDING_OPTIONS, type FindingOptions, type WorkingHours } from "../audit/findings/index.js";

/** The thresholds of the findings, as typed on the command line (all optional). */
export interface ThresholdFlags {
  repeatThreshold?: string;
  repeatWindow?: string;
  fastApproval?: string;
  dominantShare?: string;
  dominantMin?: string;
  workingHours?: string;
  workingDays?: string;
  timezone?: string;
  lagThreshold?: string;
}

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function count(flag: string, text: string | undefined, fallback: number): Parsed<number> {
  if (text === undefined) return { ok: true, value: fallback };
  return /^\d{1,6}$/.test(text.trim()) && Number(text) >= 1
    ? { ok: true, value: Number(text) }
    : { ok: false, message: `${flag} ${JSON.stringify(text)} is not a whole number of at least 1` };
}

function duration(flag: string, text: string | undefined, fallback: number): Parsed<number> {
  if (text === undefined) return { ok: true, value: fallback };
  const d = parseDuration(text);
  return d.ok ? { ok: true, value: d.ms } : { ok: false, message: `${flag}: ${d.message}` };
}

/** `Mon-Fri`, `Mon,Wed,Fri`, `Sat-Sun` (ISO weekdays, Monday first). */
function parseDays(text: string): Set<number> | undefined {
  const days = new Set<number>();
  for (const part of text
    .toLowerCase()
    .split(",")
    .map((s) => s.trim())) {
    const [a, b = a] = part.split("-").map((s) => DAYS.indexOf(s.slice(0, 3)));
    if (a < 0 || b < 0 || b < a || part.split("-").length > 2) return undefined;
    for (let d = a; d <= b; d++) days.add(d + 1);
  }
  return days.size > 0 ? days : undefined;
}

function hours(flags: ThresholdFlags): Parsed<WorkingHours | null> {
  const fallback = DEFAULT_FINDING_OPTIONS.workingHours!;
  if (flags.workingHours?.trim().toLowerCase() === "off") return { ok: true, value: null };
  let { startMinute, endMinute } = fallback;
  if (flags.workingHours !== undefined) {
    const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(flags.workingHours.trim());
    const [sh, sm, eh, em] = m ? m.slice(1).map(Number) : [];
    if (!m || sh > 23 || eh > 24 || sm > 59 || em > 59 || (eh === 24 && em > 0) || sh * 60 + sm >= eh * 60 + em) {
      return { ok: false, message: `--working-hours ${JSON.stringify(flags.workingHours)} is not a range like 09:00-18:00 (or off)` };
    }
    [startMinute, endMinute] = [sh * 60 + sm, eh * 60 + em];
  }
  const days = flags.workingDays === undefined ? fallback.days : parseDays(flags.workingDays);
  if (!days) return { ok: false, message: `--working-days ${JSON.stringify(flags.workingDays)} is not a list of days like Mon-Fri or Mon,Tue,Thu` };
  const zone = flags.timezone ?? fallback.zone;
  if (!IANAZone.isValidZone(zone))
    return { ok: false, message: `--timezone ${JSON.stringify(zone)} is not an IANA time zone (e.g. UTC, Europe/Paris, America/New_York)` };
  return { ok: true, value: { startMinute, endMinute, days, zone } };
}

/** The findings' options from the flags, defaults where not given; or the first flag that does not parse. */
export function findingOptions(flags: ThresholdFlags, now: Date): Parsed<FindingOptions> {
  const d = DEFAULT_FINDING_OPTIONS;
  const threshold = count("--repeat-threshold", flags.repeatThreshold, d.repeat.threshold);
  const windowMs = duration("--repeat-window", flags.repeatWindow, d.repeat.windowMs);
  const fast = duration("--fast-approval", flags.fastApproval, d.fastApprovalMs);
  const minApprovals = count("--dominant-min", flags.dominantMin, d.dominant.minApprovals);
  const lag = duration("--lag-threshold", flags.lagThreshold, d.lagMs);
  const wh = hours(flags);
  let share: Parsed<number> = { ok: true, value: d.dominant.share };
  if (flags.dominantShare !== undefined) {
    const pct = Number(flags.dominantShare.replace(/%$/, ""));
    share =
      /^\d{1,3}(\.\d+)?%?$/.test(flags.dominantShare.trim()) && pct > 0 && pct < 100
        ? { ok: true, value: pct / 100 }
        : { ok: false, message: `--dominant-share ${JSON.stringify(flags.dominantShare)} is not a percentage between 0 and 100` };
  }
  for (const p of [threshold, windowMs, fast, minApprovals, lag, wh, share]) if (!p.ok) return p;
  const v = <T>(p: Parsed<T>) => (p as { value: T }).value;
  return {
    ok: true,
    value: {
      now,
      repeat: { threshold: v(threshold), windowMs: v(windowMs) },
      fastApprovalMs: v(fast),
      dominant: { share: v(share), minApprovals: v(minApprovals) },
      workingHours: v(wh),
      lagMs: v(lag),
    },
  };
}

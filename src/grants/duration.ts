import { Duration } from "luxon";

/** The longest duration Timebox accepts anywhere (a grant, a TTL, a review window): one year. */
export const MAX_DURATION_MS = 366 * 24 * 3600 * 1000;

export type DurationParse = { ok: true; ms: number } | { ok: false; message: string };

const SHORTHAND = /^(?:(\d{1,6})d)?(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,6})s)?$/;
const HINT = "use ISO 8601 (PT2H, P1D) or shorthand (30m, 2h, 1h30m, 1d)";

/**
 * Parses a grant or policy duration. Shorthand is Timebox's own (`1d2h30m`); ISO 8601 is
 * parsed by luxon. Calendar units (years, months) are refused: their length depends on the date.
 */
export function parseDuration(text: string): DurationParse {
  const s = text.trim();
  if (s === "") return { ok: false, message: `empty duration; ${HINT}` };
  const short = SHORTHAND.exec(s);
  if (short) {
    const [d, h, m, sec] = short.slice(1).map((x) => Number(x ?? 0));
    return bounded(((d * 24 + h) * 60 + m) * 60_000 + sec * 1000, s);
  }
  if (/^P/i.test(s) && s.length <= 40) {
    const iso = Duration.fromISO(s.toUpperCase());
    if (iso.isValid) {
      if (iso.years || iso.quarters || iso.months) {
        return { ok: false, message: `\`${s}\` uses years or months, whose length varies; use days (P30D) instead` };
      }
      return bounded(iso.toMillis(), s);
    }
  }
  return { ok: false, message: `\`${truncate(s)}\` is not a duration; ${HINT}` };
}

function bounded(ms: number, s: string): DurationParse {
  if (!Number.isFinite(ms) || ms > MAX_DURATION_MS) {
    return { ok: false, message: `\`${truncate(s)}\` is longer than the 366 days Timebox allows` };
  }
  if (ms <= 0) return { ok: false, message: `\`${s}\` is not a positive duration` };
  return { ok: true, ms };
}

const truncate = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** Formats milliseconds as compact shorthand: 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join("") || "0s";
}

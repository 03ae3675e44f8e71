import { Duration } from "luxon";

/** The longest duration Timebox accepts anywhere (a grant, a TTL, a review window): one year. */
export const MAX_DURATION_MS = 366 * 24 * 3600 * 1000;

export type DurationParse = { ok: true; ms: number } | { ok: false; message: string };

const SHORTHAND = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
/** ISO 8601 durations, strictly: at least one component, and a `T` only before time components. */
const ISO =
  /^P(?=\d|T\d)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?(?:\d+(?:[.,]\d+)?D)?(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?$/;
const HINT = "use ISO 8601 (PT2H, P1D) or shorthand (30m, 2h, 1h30m, 1d)";

/**
 * Parses a grant or policy duration. Shorthand is Timebox's own (`1d2h30m`); ISO 8601 is
 * parsed by luxon. Calendar units (years, months) are refused: their length depends on the date.
 */
export function parseDuration(text: string): DurationParse {
  const s = text.trim();
  const lower = s.toLowerCase();
  if (s === "") return { ok: false, message: `empty duration; ${HINT}` };
  const short = SHORTHAND.exec(lower);
  if (short) {
    const [d, h, m, sec] = short.slice(1).map((x) => Number(x ?? 0));
    return bounded(((d * 24 + h) * 60 + m) * 60_000 + sec * 1000, s);
  }
  if (ISO.test(s.toUpperCase())) {
    const iso = Duration.fromISO(s.toUpperCase());
    if (/\d+(?:[.,]\d+)?[YM](?=.*T|[^T]*$)/i.test(s.split(/T/i)[0])) {
      return { ok: false, message: `\`${truncate(s)}\` uses years or months, whose length varies; use days (P30D) instead` };
    }
    // A well-formed duration luxon cannot represent is one with absurdly large numbers.
    return bounded(iso.isValid ? iso.toMillis() : Number.POSITIVE_INFINITY, s);
  }
  if (s.includes("-") && (SHORTHAND.test(lower.replace("-", "")) || ISO.test(s.replace("-", "").toUpperCase()))) {
    return { ok: false, message: `\`${truncate(s)}\` is not a positive duration` };
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
  for (const [unit, size] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join("") || "0s";
}

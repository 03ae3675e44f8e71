/** Grant and policy durations: ISO 8601 and shorthand, bounded, never calendar units. */
import { MAX_DURATION_MS, formatDuration, parseDuration } from "../../src/duration.js";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe("parseDuration accepts", () => {
  test.each([
    ["30m", 30 * M],
    ["2h", 2 * H],
    ["1h30m", 90 * M],
    ["1d", D],
    ["1d2h30m", D + 2 * H + 30 * M],
    ["45s", 45 * S],
    ["90m", 90 * M],
    ["PT2H", 2 * H],
    ["pt2h", 2 * H],
    ["PT30M", 30 * M],
    ["PT1H30M", 90 * M],
    ["P1D", D],
    ["P1DT2H", D + 2 * H],
    ["P1W", 7 * D],
    ["PT1.5H", 90 * M],
    ["  2h  ", 2 * H],
    ["366d", MAX_DURATION_MS],
    ["P366D", MAX_DURATION_MS],
    ["8784h", MAX_DURATION_MS],
  ])("%s", (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });
});

describe("parseDuration refuses", () => {
  test.each([
    ["", /empty/],
    ["   ", /empty/],
    ["0h", /positive/],
    ["0s", /positive/],
    ["P0D", /positive/],
    ["PT0S", /positive/],
    ["PT-2H", /positive/],
    ["-2h", /not a positive duration/],
    ["-PT2H", /not a positive duration/],
    ["367d", /366 days/],
    ["P367D", /366 days/],
    ["8785h", /366 days/],
    ["P53W", /366 days/],
    ["999999d", /366 days/],
    ["P1M", /years or months/],
    ["P1Y", /years or months/],
    ["P9999Y", /years or months/],
    ["P1Y0D", /years or months/],
    ["1.5h", /not a duration/],
    ["1e400h", /not a duration/],
    ["2 hours", /not a duration/],
    ["2h30", /not a duration/],
    ["1m2h", /not a duration/],
    ["h", /not a duration/],
    ["08:00", /not a duration/],
    ["٢h", /not a duration/],
    ["forever", /not a duration/],
    ["Infinity", /not a duration/],
    ["NaN", /not a duration/],
  ])("%s", (text, message) => {
    const r = parseDuration(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });

  test("messages quote the value and say how to write a duration", () => {
    const r = parseDuration("two hours");
    expect(r).toEqual({ ok: false, message: expect.stringMatching(/`two hours`.*PT2H.*2h/) });
  });

  test("long junk is clipped in the message", () => {
    const r = parseDuration(`${"x".repeat(500)}h`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message.length).toBeLessThan(150);
  });

  test("huge shorthand numbers are called too long, not 'not a duration'", () => {
    for (const text of ["99999999999h", "1000000h", "PT100000000000000000000H"]) {
      const r = parseDuration(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect([text, r.message]).toEqual([text, expect.stringMatching(/366 days/)]);
    }
  });

  test("bare P / PT are not durations (not 'not positive')", () => {
    for (const text of ["P", "PT"]) {
      const r = parseDuration(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect([text, r.message]).toEqual([text, expect.stringMatching(/not a duration/)]);
    }
  });

  test("never throws", () => {
    for (const text of ["\u0000", "P".repeat(1000), "9".repeat(10_000), "PT1e308H", "P\uD800D", "1d".repeat(100)]) {
      expect(() => parseDuration(text)).not.toThrow();
      expect(parseDuration(text).ok).toBe(false);
    }
  });
});

describe("formatDuration", () => {
  test.each([
    [90 * M, "1h30m"],
    [2 * H, "2h"],
    [D + 2 * H + 30 * M + 5 * S, "1d2h30m5s"],
    [45 * S, "45s"],
    [0, "0s"],
    [MAX_DURATION_MS, "366d"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test("round-trips through parseDuration", () => {
    for (const ms of [M, 90 * M, 8 * H, D + S, MAX_DURATION_MS]) {
      expect(parseDuration(formatDuration(ms))).toEqual({ ok: true, ms });
    }
  });
});

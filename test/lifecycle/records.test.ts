/**
 * Records Timebox reads back from its own check runs and comments (the apply record, break-glass
 * markers) are validated before use: anything of the wrong shape, type or size is ignored, as
 * malformed JSON always was, and never reaches a provider as prior access or a grant to revoke.
 */
import { describe, expect, it } from "@jest/globals";
import { parseApplyRecord } from "../../src/records/apply-record.js";
import { markersIn } from "../../src/github/issues.js";
import { recordMarker, recordsOf, reviewedMarker, reviewedOf, type BreakglassRecord } from "../../src/records/breakglass.js";

const HUGE = "x".repeat(100_000);
const PREFIX = "Timebox's apply record (machine-readable):\n";
const applyText = (value: unknown) => `${PREFIX}${JSON.stringify(value)}`;

describe("the apply record", () => {
  it("reads entries Timebox wrote", () => {
    const entries = {
      "grants/a.yaml@0123456789ab": { state: "granting", priorAccess: { team: "member" } },
      "grants/b.yaml@0123456789ab": { state: "applied", summary: "done" },
    };
    expect(parseApplyRecord(applyText(entries))).toEqual(entries);
  });

  it("is empty for no text, malformed JSON, or JSON that is not an object", () => {
    for (const text of [undefined, null, "", `${PREFIX}{"a": `, `${PREFIX}[1, 2]`, `${PREFIX}"text"`, `${PREFIX}null`, `${PREFIX}{}`]) {
      expect(parseApplyRecord(text)).toEqual({});
    }
  });

  it("ignores an entry of the wrong shape and keeps the others", () => {
    const good = { state: "applied", priorAccess: { repo: "read" } };
    const bad: unknown[] = [
      null,
      "applied",
      [good],
      { state: "done" }, // not a state
      { priorAccess: { repo: "read" } }, // no state
      { state: "applied", priorAccess: "none" }, // wrong type
      { state: "applied", priorAccess: { repo: { nested: "read" } } }, // extra nesting
      { state: "applied", priorAccess: { repo: ["read"] } },
      { state: "applied", priorAccess: { repo: HUGE } }, // huge string
      { state: "applied", priorAccess: { [HUGE]: "read" } },
      { state: "applied", priorAccess: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, "v"])) },
      { state: "applied", summary: HUGE },
      { state: "applied", summary: 42 },
      { state: ["applied"] },
    ];
    const record = { "grants/good.yaml@0123456789ab": good, ...Object.fromEntries(bad.map((b, i) => [`grants/bad-${i}.yaml@0123456789ab`, b])) };
    expect(parseApplyRecord(applyText(record))).toEqual({ "grants/good.yaml@0123456789ab": good });
    expect(parseApplyRecord(applyText({ [HUGE]: good }))).toEqual({});
  });

  it("reads a long text without a closing brace in linear time", () => {
    const started = performance.now();
    expect(parseApplyRecord(`${PREFIX}{"k": "${"x".repeat(65_000)}`)).toEqual({});
    expect(parseApplyRecord(`${PREFIX}${"{".repeat(65_000)}`)).toEqual({});
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("drops keys it does not know, and a `__proto__` key stays a plain key", () => {
    const parsed = parseApplyRecord(`${PREFIX}{"__proto__": {"state": "applied"}, "k": {"state": "failed", "extra": {"deep": 1}}}`);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed).sort()).toEqual(["__proto__", "k"]);
    expect(parsed.k).toEqual({ state: "failed" });
    expect(({} as Record<string, unknown>).state).toBeUndefined();
  });
});

const RECORD: BreakglassRecord = {
  path: "grants/dev1.yaml",
  requester: "dev1",
  principal: "dev1_login",
  resource: "prod-db",
  role: "readonly",
  target: "analytics_read",
  roleSettings: {},
  duration: "1h",
  durationMs: 3600_000,
  reason: "INC-1 outage",
  ticket: "INC-1",
  grantedAt: "2026-03-02T09:00:00Z",
  expiresAt: "2026-03-02T10:00:00Z",
  reviewDue: "2026-03-02T11:00:00Z",
};
const POSTED = "2026-03-02T09:00:05Z";
/** A comment of this app's carrying the break-glass marker with `fields` changed (undefined removes a key). */
/** A comment of this app's posted at POSTED whose markers all carry a valid seal (sealing: test/github/seal.test.ts). */
const own = (body: string) => ({ body, createdAt: POSTED, markers: markersIn(body) });
const recordComment = (fields: Record<string, unknown>) => {
  const value: Record<string, unknown> = { ...RECORD, ...fields };
  for (const [k, v] of Object.entries(fields)) if (v === undefined) delete value[k];
  return own(`${recordMarker(value as BreakglassRecord)}\nBreak-glass`);
};

describe("break-glass record markers", () => {
  it("reads a record Timebox wrote, bounded by when GitHub says it was posted", () => {
    const r = recordsOf([recordComment({})]).get(RECORD.path);
    expect(r).toEqual({ ...RECORD, grantedAt: "2026-03-02T09:00:00Z", expiresAt: "2026-03-02T10:00:00Z" });
    const later = recordsOf([recordComment({ grantedAt: "2026-03-02T12:00:00Z", expiresAt: "2026-03-03T12:00:00Z" })]).get(RECORD.path);
    expect(later?.grantedAt).toBe("2026-03-02T09:00:05Z");
    expect(later?.expiresAt).toBe("2026-03-02T10:00:05Z");
  });

  it("fills in roleSettings missing from an older record, and drops keys it does not know", () => {
    const r = recordsOf([recordComment({ roleSettings: undefined, future: { deep: [1, 2] } })]).get(RECORD.path);
    expect(r?.roleSettings).toEqual({});
    expect(r && "future" in r).toBe(false);
  });

  it.each<[string, Record<string, unknown>]>([
    ["a missing path", { path: undefined }],
    ["an empty requester", { requester: "" }],
    ["a principal that is a number", { principal: 42 }],
    ["a target that is an object", { target: { name: "analytics_read" } }],
    ["a role in an array", { role: ["readonly"] }],
    ["a huge target", { target: "x".repeat(1001) }],
    ["a huge reason", { reason: "x".repeat(5001) }],
    ["a reason that is not text", { reason: { text: "why" } }],
    ["a ticket that is a number", { ticket: 1234 }],
    ["a negative duration", { durationMs: -1 }],
    ["a zero duration", { durationMs: 0 }],
    ["a duration in words", { durationMs: "1h" }],
    ["a time that is not one", { expiresAt: "soon" }],
    ["a time that is a number", { grantedAt: 1_772_442_000_000 }],
    ["role settings nested too deep", { roleSettings: { permission: { level: "admin" } } }],
    ["role settings that are a list", { roleSettings: ["push"] }],
    ["prior access that is not text", { priorAccess: { team: 1 } }],
    ["prior access nested", { priorAccess: { team: { role: "member" } } }],
  ])("ignores a record with %s", (_, fields) => {
    expect(recordsOf([recordComment(fields)]).size).toBe(0);
  });

  it("ignores markers that are not JSON objects, and a bad first record does not hide a good one", () => {
    const comments = [
      own("<!-- timebox:breakglass {not json} -->"),
      own('<!-- timebox:breakglass {"path": ["grants/dev1.yaml"]} -->'),
      recordComment({ durationMs: "forever" }),
      recordComment({}),
    ];
    expect([...recordsOf(comments).keys()]).toEqual([RECORD.path]);
  });

  it("reads reviewed markers and ignores malformed ones", () => {
    const good = { path: RECORD.path, by: ["alice"], at: "2026-03-02T09:30:00Z" };
    /** A reviewed marker with any JSON in it, as a comment of this app's. */
    const marked = (value: unknown) => own(`<!-- timebox:breakglass-reviewed ${JSON.stringify(value)} -->`);
    const comments = [
      marked({ ...good, by: [42] }),
      marked({ ...good, by: "alice" }),
      marked({ ...good, by: [HUGE] }),
      marked({ ...good, by: Array.from({ length: 101 }, () => "alice") }),
      marked({ ...good, at: "yesterday" }),
      marked({ ...good, path: "" }),
      marked([good]),
      own(reviewedMarker({ ...good }).replace("-->", "extra -->")),
      marked({ ...good, extra: { deep: true } }),
    ];
    expect(reviewedOf(comments).get(RECORD.path)).toEqual(good);
    expect(reviewedOf(comments.slice(0, -1)).size).toBe(0);
  });
});

/** Each finding, triggered and not, on rows built in memory; thresholds from the CLI flags. */
import { DEFAULT_FINDING_OPTIONS, findPatterns, type Finding, type FindingId, type FindingOptions, type GithubFacts } from "../../src/audit/findings/index.js";
import { outsideMs } from "../../src/audit/findings/hours.js";
import { emptyRow, type AuditRow } from "../../src/audit/types.js";
import { findingOptions } from "../../src/cli/audit-options.js";

const NOW = new Date("2026-03-20T00:00:00Z");
const options = (o: Partial<FindingOptions> = {}): FindingOptions => ({ ...DEFAULT_FINDING_OPTIONS, now: NOW, ...o });

let pr = 100;
/** A revoked, approved, in-hours grant (Monday 2026-03-02 10:00–11:00 UTC) unless told otherwise. */
function g(fields: Partial<AuditRow> = {}): AuditRow {
  const granted = fields.granted_at ?? "2026-03-02T10:00:00Z";
  const base = emptyRow(fields.grant ?? `grants/g${pr}.yaml`, granted);
  const expires = new Date(Date.parse(granted) + 3_600_000).toISOString().replace(/\.000Z$/, "Z");
  return {
    ...base,
    requester: "dev1",
    resource: "prod-db",
    role: "readonly",
    pull_request: pr++,
    origin: "pull-request",
    approved_by: ["alice"],
    expires_at: expires,
    revoked_at: expires,
    revoke_reason: "expired",
    status: "revoked",
    outcome: "ok",
    ...fields,
  };
}

const find = (id: FindingId, rows: AuditRow[], o?: Partial<FindingOptions>, github?: GithubFacts): Finding =>
  findPatterns(rows, options(o), github).find((f) => f.id === id)!;
const rowsOf = (f: Finding) => f.items.map((i) => i.grants.map((r) => r.row));

test("every finding is reported, in a fixed order, each with its rule", () => {
  const all = findPatterns([g()], options());
  expect(all.map((f) => f.id)).toEqual([
    "repeated-access",
    "break-glass",
    "fast-approval",
    "dominant-approver",
    "out-of-hours",
    "revocation-lag",
    "no-outcome",
    "unapproved-content",
    "untrusted-records",
  ]);
  expect(all.map((f) => f.status)).toEqual(["clear", "clear", "needs-github", "clear", "clear", "clear", "clear", "clear", "clear"]);
  for (const f of all) expect(f.rule.length).toBeGreaterThan(10);
});

describe("repeated-access: more than N grants of the same access to one person within the window", () => {
  const day = (d: number) => `2026-03-${String(d).padStart(2, "0")}T10:00:00Z`;
  test("four in 30 days is found (default N = 3), naming the four grants", () => {
    const f = find("repeated-access", [
      g({ granted_at: day(1) }),
      g({ granted_at: day(5) }),
      g({ granted_at: day(9) }),
      g({ granted_at: day(13), requester: "DEV1" }),
    ]);
    expect(f.status).toBe("found");
    expect(rowsOf(f)).toEqual([[1, 2, 3, 4]]);
    expect(f.items[0].summary).toMatch(/^dev1 needed prod-db\/readonly 4 times \(up to 4 within 30d\)/);
  });
  test("three is not; nor four spread so that no 30 days hold more than three; nor another role", () => {
    expect(find("repeated-access", [g({ granted_at: day(1) }), g({ granted_at: day(5) }), g({ granted_at: day(9) })]).status).toBe("clear");
    const spread = [
      g({ granted_at: "2026-03-01T10:00:00Z" }),
      g({ granted_at: "2026-03-11T10:00:00Z" }),
      g({ granted_at: "2026-03-21T10:00:00Z" }),
      g({ granted_at: "2026-03-31T10:00:00Z" }),
    ];
    expect(find("repeated-access", spread).status).toBe("clear");
    expect(
      find("repeated-access", [g({ granted_at: day(1) }), g({ granted_at: day(2) }), g({ granted_at: day(3) }), g({ granted_at: day(4), role: "admin" })])
        .status,
    ).toBe("clear");
  });
  test("extensions are not new requests", () => {
    const first = g({ granted_at: day(1), status: "extended" });
    const ext = g({ grant: first.grant, granted_at: day(1).replace("10:00", "10:30"), extension_of: first.pull_request, extensions: 1 });
    expect(find("repeated-access", [first, ext, g({ granted_at: day(2) }), g({ granted_at: day(3) })]).status).toBe("clear");
  });
  test("--repeat-threshold and --repeat-window change the rule", () => {
    const o = findingOptions({ repeatThreshold: "1", repeatWindow: "2d" }, NOW);
    expect(o.ok).toBe(true);
    const { repeat } = (o as { value: FindingOptions }).value;
    expect(find("repeated-access", [g({ granted_at: day(1) }), g({ granted_at: day(2) })], { repeat }).status).toBe("found");
    expect(find("repeated-access", [g({ granted_at: day(1) }), g({ granted_at: day(3) })], { repeat }).status).toBe("clear");
  });
});

describe("break-glass: every use, reviewed in time, late, never", () => {
  const bg = (f: Partial<AuditRow>) => g({ emergency: true, review_due: "2026-03-02T10:15:00Z", ...f });
  test("each use is listed with where its review stands", () => {
    const f = find("break-glass", [
      bg({ reviewed_by: ["bob"], reviewed_at: "2026-03-02T10:15:00Z" }),
      bg({ reviewed_by: ["bob"], reviewed_at: "2026-03-02T10:15:01Z" }),
      bg({}),
      bg({ review_due: "2026-03-25T00:00:00Z", status: "active", revoked_at: null }),
      bg({ review_due: null }),
    ]);
    expect(f.status).toBe("found");
    const state = (s: string) => /: (reviewed in time|reviewed late|not reviewed|review pending|no review record)\b/.exec(s)?.[1];
    expect(f.items.map((i) => state(i.summary))).toEqual(["reviewed in time", "reviewed late", "not reviewed", "review pending", "no review record"]);
    expect(f.items[1].summary).toContain("1s after it was due");
  });
  test("a break-glass story that was extended is one use, with every version behind it", () => {
    const first = bg({ status: "extended" });
    const ext = g({
      grant: first.grant,
      extension_of: first.pull_request,
      extensions: 1,
      emergency: true,
      reviewed_at: "2026-03-02T10:10:00Z",
      review_due: "2026-03-02T10:15:00Z",
    });
    const f = find("break-glass", [first, ext]);
    expect(rowsOf(f)).toEqual([[1, 2]]);
    expect(f.items[0].summary).toContain("reviewed in time");
  });
  test("no emergency grant: clear", () => {
    expect(find("break-glass", [g(), g()]).status).toBe("clear");
  });
});

describe("fast-approval: approvals right after the request (needs --github)", () => {
  test("without --github it says what it needs", () => {
    expect(find("fast-approval", [g()])).toMatchObject({ status: "needs-github", items: [] });
  });
  test("an approval 30 s after the PR opened is found; 60 s is not (default 1m)", () => {
    const a = g({ requested_at: "2026-03-02T09:00:00Z" });
    const b = g({ requested_at: "2026-03-02T09:00:00Z" });
    const github: GithubFacts = {
      approvals: new Map([
        [a.pull_request!, [{ login: "alice", at: "2026-03-02T09:00:30Z" }]],
        [b.pull_request!, [{ login: "alice", at: "2026-03-02T09:01:00Z" }]],
      ]),
    };
    const f = find("fast-approval", [a, b], {}, github);
    expect(f.status).toBe("found");
    expect(rowsOf(f)).toEqual([[1]]);
    expect(f.items[0].summary).toContain("approved by alice after 30s");
    expect(find("fast-approval", [b], {}, github).status).toBe("clear");
  });
});

describe("dominant-approver: one approver on most of a resource's approvals", () => {
  test("3 of 5 (60%) is found", () => {
    const rows = [g(), g(), g({ approved_by: ["Alice", "bob"] }), g({ approved_by: ["bob"] }), g({ approved_by: ["carol"] })];
    const f = find("dominant-approver", rows);
    expect(f.items.map((i) => i.summary)).toEqual(["alice approved 3 of the 5 approved grants for prod-db (60%)"]);
    expect(rowsOf(f)).toEqual([[1, 2, 3]]);
  });
  test("exactly half is not; nor a resource with fewer than 5 approved grants; --dominant-min lowers that", () => {
    expect(find("dominant-approver", [g(), g(), g(), g({ approved_by: ["bob"] }), g({ approved_by: ["bob"] }), g({ approved_by: ["bob"] })]).status).toBe(
      "clear",
    );
    expect(find("dominant-approver", [g(), g(), g(), g()]).status).toBe("clear");
    expect(find("dominant-approver", [g(), g(), g(), g()], { dominant: { share: 0.5, minApprovals: 4 } }).status).toBe("found");
  });
});

describe("out-of-hours: access active outside working hours", () => {
  test("the default is Mon–Fri 09:00–18:00 UTC; a window crossing 18:00 is found with the time outside", () => {
    const f = find("out-of-hours", [g({ granted_at: "2026-03-02T17:30:00Z" }), g()]);
    expect(f.rule).toBe("any part of the access window outside Mon–Fri 09:00–18:00 UTC");
    expect(rowsOf(f)).toEqual([[1]]);
    expect(f.items[0].summary).toContain("active 30m of 1h outside working hours");
  });
  test("Saturday is outside; a time zone moves the hours (Paris is UTC+1 in March)", () => {
    expect(find("out-of-hours", [g({ granted_at: "2026-03-07T10:00:00Z" })]).status).toBe("found");
    const early = [g({ granted_at: "2026-03-02T08:00:00Z" })];
    expect(find("out-of-hours", early).status).toBe("found");
    const paris = (findingOptions({ timezone: "Europe/Paris" }, NOW) as { value: FindingOptions }).value.workingHours;
    expect(find("out-of-hours", early, { workingHours: paris }).status).toBe("clear");
  });
  test("daylight saving: New York working hours on the day clocks change", () => {
    const ny = { startMinute: 540, endMinute: 1080, days: new Set([1, 2, 3, 4, 5]), zone: "America/New_York" };
    // Monday 2026-03-09 (after the switch to EDT, UTC-4): 09:00–18:00 local is 13:00–22:00 UTC.
    expect(outsideMs(Date.parse("2026-03-09T13:00:00Z"), Date.parse("2026-03-09T22:00:00Z"), ny)).toBe(0);
    expect(outsideMs(Date.parse("2026-03-09T12:00:00Z"), Date.parse("2026-03-09T13:00:00Z"), ny)).toBe(3_600_000);
  });
  test("--working-hours off turns it off; content never applied (a direct push) is not access", () => {
    expect(find("out-of-hours", [g({ granted_at: "2026-03-07T10:00:00Z" })], { workingHours: null }).status).toBe("off");
    expect(find("out-of-hours", [g({ granted_at: "2026-03-07T10:00:00Z", origin: "direct-push", pull_request: null, status: "removed" })]).status).toBe(
      "clear",
    );
  });
});

describe("revocation-lag: access that outlived its expiry", () => {
  const lagged = (seconds: number) => g({ revoked_at: new Date(Date.parse("2026-03-02T11:00:00Z") + seconds * 1000).toISOString().replace(/\.000Z$/, "Z") });
  test("revoked 5m01s after expiry is found; exactly 5m is not (default 5m)", () => {
    const f = find("revocation-lag", [lagged(301), lagged(300)]);
    expect(rowsOf(f)).toEqual([[1]]);
    expect(f.items[0].summary).toContain("revoked 5m1s after its expiry (2026-03-02T11:00:00Z → 2026-03-02T11:05:01Z)");
  });
  test("a grant still on the branch past its expiry (overdue) is found once past the threshold", () => {
    const overdue = g({ granted_at: "2026-03-19T22:00:00Z", status: "overdue", revoked_at: null, revoke_reason: null });
    expect(find("revocation-lag", [overdue]).status).toBe("found"); // expired 23:00, now is 00:00
    expect(find("revocation-lag", [overdue], { lagMs: 2 * 3_600_000 }).status).toBe("clear");
  });
});

describe("no-outcome: grants whose access ended without a recorded outcome", () => {
  test("revoked and removed grants without an outcome are found; one finding item lists them all", () => {
    const f = find("no-outcome", [g({ outcome: null }), g({ outcome: null, status: "removed", revoke_reason: "removed" }), g()]);
    expect(rowsOf(f)).toEqual([[1, 2]]);
    expect(f.items[0].summary).toBe("2 grants ended without an outcome");
  });
  test("an outcome on the last version covers the whole extended story; active grants are not asked yet", () => {
    const first = g({ outcome: null, status: "extended" });
    const ext = g({ grant: first.grant, extension_of: first.pull_request, extensions: 1 });
    expect(find("no-outcome", [first, ext, g({ outcome: null, status: "active", revoked_at: null })]).status).toBe("clear");
  });
});

describe("unapproved-content: grant content that reached the default branch without approval", () => {
  const pushed = g({ origin: "direct-push", pull_request: null, approved_by: [], status: "removed", revoke_reason: "removed" });
  test("a direct push Timebox never recorded is found; PR merges and Timebox-revoked grants are not (offline)", () => {
    const f = find("unapproved-content", [pushed, g(), g({ approved_by: [], status: "removed" })]);
    expect(rowsOf(f)).toEqual([[1]]);
    expect(f.items[0].summary).toContain("without a pull request");
  });
  test("with --github, a PR merged without any approving review is found too", () => {
    const merged = g({ approved_by: [], status: "removed" });
    const approved = g({ approved_by: [], status: "removed" });
    const github: GithubFacts = {
      approvals: new Map([
        [merged.pull_request!, []],
        [approved.pull_request!, [{ login: "bob", at: "2026-03-02T09:00:00Z" }]],
      ]),
    };
    const f = find("unapproved-content", [merged, approved], {}, github);
    expect(rowsOf(f)).toEqual([[1]]);
    expect(f.items[0].summary).toContain(`merged in PR #${merged.pull_request} without an approving review`);
  });
});

describe("threshold flags", () => {
  test.each([
    [{ repeatThreshold: "0" }, /--repeat-threshold "0" is not a whole number/],
    [{ repeatWindow: "forever" }, /--repeat-window: `forever` is not a duration/],
    [{ dominantShare: "100" }, /--dominant-share "100" is not a percentage/],
    [{ workingHours: "18:00-09:00" }, /--working-hours "18:00-09:00" is not a range/],
    [{ workingDays: "Fri-Mon" }, /--working-days "Fri-Mon"/],
    [{ timezone: "Mars/Olympus" }, /--timezone "Mars\/Olympus" is not an IANA time zone/],
    [{ lagThreshold: "-5m" }, /--lag-threshold/],
  ])("%j is refused", (flags, message) => {
    const r = findingOptions(flags, NOW);
    expect(r.ok).toBe(false);
    expect((r as { message: string }).message).toMatch(message);
  });
  test("accepted forms", () => {
    const r = findingOptions({ dominantShare: "75%", workingHours: "08:30-17:00", workingDays: "Mon,Wed-Thu", lagThreshold: "PT10M", fastApproval: "2m" }, NOW);
    expect(r.ok && r.value).toMatchObject({
      dominant: { share: 0.75 },
      workingHours: { startMinute: 510, endMinute: 1020, days: new Set([1, 3, 4]) },
      lagMs: 600_000,
      fastApprovalMs: 120_000,
    });
  });
});

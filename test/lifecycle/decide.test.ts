/**
 * The lifecycle's decision after the merge, as a table: facts and a time in, actions out. No
 * GitHub, no provider: the reconciler and `timebox plan` both carry out (or show) exactly this.
 */
import { describe, expect, test } from "@jest/globals";
import { decide, decideBreakglass, decideStale, endedFromApplied, type AppliedGrant, type LifecycleFacts } from "../../src/lifecycle/decide.js";
import type { ApprovedGrant, TrackedGrant } from "../../src/lifecycle/types.js";
import type { Policy } from "../../src/policy/types.js";

const H = 3600_000;
const T0 = Date.parse("2026-03-02T09:00:00Z");
const at = (ms: number) => new Date(T0 + ms);
const policy = { resources: { "prod-db": { provider: "postgres", settings: {}, roles: {} } }, identities: {}, owners: [] } as unknown as Policy;

function approved(path: string, opts: { grantedAt?: number; durationMs?: number; pull?: number } = {}): ApprovedGrant {
  const durationMs = opts.durationMs ?? 2 * H;
  return {
    path,
    blobSha: `blob-${path}`,
    origin: {
      approved: true,
      pull: {
        number: opts.pull ?? 1,
        author: "dev1",
        headSha: "h",
        baseRef: "main",
        mergedAt: at(opts.grantedAt ?? 0).toISOString(),
        mergeCommitSha: `m-${path}`,
        htmlUrl: "",
      },
      approvedBy: ["alice"],
      grant: { path, requester: "dev1", resource: "prod-db", role: "readonly", duration: "2h", durationMs, reason: "r", emergency: false },
      role: { target: "t", max_duration: "8h", approvers: ["alice"], approvals: 1 },
      policy,
      activatedAt: at(opts.grantedAt ?? 0).toISOString(),
    },
  };
}

function unapproved(path: string, commitSha = `c-${path}`): TrackedGrant {
  return { path, blobSha: `blob-${path}`, origin: { approved: false, reason: "pushed without a PR", commitSha, transient: true } };
}

const applied = (path: string, expires: number, extra: Partial<AppliedGrant> = {}): AppliedGrant => ({ path, expiresAt: at(expires).toISOString(), ...extra });

function facts(f: Partial<LifecycleFacts>): LifecycleFacts {
  return { tracked: [], applied: [], breakglass: [], policyValid: true, mayStillLink: () => false, ...f };
}

const paths = (xs: Array<{ path: string }>) => xs.map((x) => x.path);
const revoked = (d: ReturnType<typeof decide>) => d.revoke.map((r) => `${r.kind === "revoke-tracked" ? r.grant.path : r.entry.path}:${r.reason}`);

describe("decide", () => {
  test.each([
    ["a live grant is recorded and applied", facts({ tracked: [approved("a")] }), at(H), { live: ["a"], apply: ["a"], revoke: [] as string[] }],
    [
      "at the exact second of expiry a grant is expired",
      facts({ tracked: [approved("a")], applied: [applied("a", 2 * H)] }),
      at(2 * H),
      { live: [], apply: [], revoke: ["a:expired"] },
    ],
    [
      "nothing new is applied while the policy is invalid; expiry still revokes",
      facts({ tracked: [approved("a"), approved("b", { grantedAt: -3 * H })], policyValid: false }),
      at(H),
      { live: ["a"], apply: [], revoke: ["b:expired"] },
    ],
    ["applied, gone from the tip, not expired: removed", facts({ applied: [applied("a", 5 * H)] }), at(H), { live: [], apply: [], revoke: ["a:removed"] }],
    ["applied, gone from the tip, past expiry: expired", facts({ applied: [applied("a", H)] }), at(2 * H), { live: [], apply: [], revoke: ["a:expired"] }],
    [
      "unapproved content over an applied path whose version ended: revoked, and the content never applied",
      facts({ tracked: [unapproved("a")], applied: [applied("a", 5 * H)] }),
      at(H),
      { live: [], apply: [], revoke: ["a:removed"] },
    ],
    [
      "a break-glass grant in effect holds its path",
      facts({ breakglass: [approved("a")], applied: [applied("a", 5 * H, { breakglass: true })] }),
      at(H),
      { live: [], apply: [], revoke: [] },
    ],
    [
      "a path already attempted in this run is not revoked twice",
      facts({ tracked: [approved("a", { grantedAt: -3 * H })], attempted: new Set(["a"]) }),
      at(H),
      { live: [], apply: [], revoke: [] },
    ],
  ])("%s", (_name, f, now, want) => {
    const d = decide(f, now);
    expect(paths(d.live)).toEqual(want.live);
    expect(paths(d.apply)).toEqual(want.apply);
    expect(revoked(d)).toEqual(want.revoke);
  });

  test("unapproved content is reported, unless GitHub may still link it to its PR", () => {
    const d = decide(
      facts({ tracked: [unapproved("a", "fresh"), unapproved("b", "old")], mayStillLink: (t) => !t.origin.approved && t.origin.commitSha === "fresh" }),
      at(0),
    );
    expect(paths(d.report)).toEqual(["b"]);
  });

  test("reminders: due at expiry minus 15 minutes (or 10% of the duration), and the timer wakes for the next one", () => {
    const long = approved("long", { durationMs: 8 * H });
    const short = approved("short", { durationMs: H });
    expect(paths(decide(facts({ tracked: [long, short] }), at(H - 6 * 60_000)).remind)).toEqual(["short"]);
    expect(paths(decide(facts({ tracked: [long, short] }), at(8 * H - 15 * 60_000)).remind)).toEqual(["long"]);
    expect(decide(facts({ tracked: [long, short] }), at(0)).next).toEqual(at(H - 6 * 60_000));
  });

  test("the timer also wakes for an applied grant's expiry that the tip no longer shows", () => {
    expect(decide(facts({ applied: [applied("a", 3 * H)], breakglass: [approved("a", { durationMs: 3 * H })] }), at(H)).next).toEqual(at(3 * H));
  });
});

describe("endedFromApplied", () => {
  const entry = (path: string, expires: number, blobSha = `blob-${path}`, breakglass?: boolean) => ({
    ...applied(path, expires),
    blobSha,
    ...(breakglass ? { breakglass } : {}),
  });
  test.each([
    ["expired, unchanged on the tip: revoked and its file removed", [entry("a", H)], { a: "blob-a" }, ["a:on-branch:expired"]],
    ["expired, gone from the tip: revoked", [entry("a", H)], { a: undefined }, ["a:gone:expired"]],
    ["expired but changed on the tip (maybe an extension): waits for the full decision", [entry("a", H)], { a: "other" }, []],
    ["not expired: nothing", [entry("a", 3 * H)], { a: "blob-a" }, []],
    ["not expired, gone from the tip: removed, before any origin is read", [entry("a", 3 * H)], { a: undefined }, ["a:gone:removed"]],
    ["not expired, changed on the tip: waits for the full decision", [entry("a", 3 * H)], { a: "other" }, []],
    ["break-glass: left to its own pass", [entry("a", H, "blob-a", true)], { a: undefined }, []],
  ])("%s", (_name, entries, tip, want) => {
    const out = endedFromApplied(entries, new Map(Object.entries(tip)), at(2 * H));
    expect(out.map((o) => `${o.entry.path}:${o.onBranch ? "on-branch" : "gone"}:${o.reason}`)).toEqual(want);
  });
});

describe("decideBreakglass", () => {
  const base = {
    expiresAt: at(H).toISOString(),
    reviewDue: at(2 * H).toISOString(),
    mismatch: false,
    takenOver: false,
    open: true,
    merged: false,
    stillAsked: true,
    revokedBefore: false,
    closeRecorded: false,
    reviewed: false,
  };
  type F = typeof base & { stillAsked?: boolean };
  const step = (f: Partial<F>, now: Date) => {
    const { step } = decideBreakglass({ ...base, ...f }, now);
    return step.kind === "revoke" ? `revoke:${step.reason}:${step.recordClose}${step.removeMergedFile ? ":remove-file" : ""}` : step.kind;
  };
  test.each([
    ["open and asked: kept until its expiry", {}, at(0), "keep"],
    ["at its expiry: revoked", {}, at(H), "revoke:expired:no"],
    ["withdrawn from its PR: revoked", { stillAsked: false }, at(0), "revoke:removed:no"],
    ["a record that disagrees with the policy: revoked", { mismatch: true }, at(0), "revoke:removed:no"],
    ["closed unmerged: revoked, and the story recorded with it", { open: false }, at(0), "revoke:pr-closed:with-revoke"],
    [
      "closed unmerged after a revoke by command: the story recorded afterwards",
      { open: false, revokedBefore: true },
      at(0),
      "revoke:pr-closed:after-earlier-revoke",
    ],
    [
      "closed unmerged, story already recorded: nothing more to record",
      { open: false, revokedBefore: true, closeRecorded: true },
      at(0),
      "revoke:pr-closed:no",
    ],
    ["revoked once (by command): stays revoked", { revokedBefore: true }, at(0), "revoke:removed:no"],
    ["merged with its approval: the default branch's grant takes over", { takenOver: true, open: false, merged: true }, at(0), "taken-over"],
    [
      "merged without its approval: revoked at expiry and its file removed",
      { open: false, merged: true, stillAsked: undefined },
      at(H),
      "revoke:expired:no:remove-file",
    ],
  ])("%s", (_name, f, now, want) => {
    expect(step(f as Partial<F>, now)).toBe(want);
  });

  test("the review: waited for until due, then an issue, closed once the approval arrives", () => {
    expect(decideBreakglass(base, at(0)).review).toEqual({ kind: "wait", until: at(2 * H) });
    expect(decideBreakglass({ ...base, reviewed: true }, at(0)).review).toEqual({ kind: "none" });
    expect(decideBreakglass(base, at(2 * H)).review).toEqual({ kind: "open-unreviewed-issue" });
    expect(decideBreakglass({ ...base, reviewed: true }, at(3 * H)).review).toEqual({ kind: "close-unreviewed-issue" });
  });
});

describe("decideStale", () => {
  const since = at(0).toISOString();
  test.each([
    ["before its TTL: the timer waits for the moment", { since, ttlMs: 24 * H }, at(H), "not-yet"],
    ["at its TTL, not judged yet: judge it afresh", { since, ttlMs: 24 * H }, at(24 * H), "judge"],
    ["at its TTL, still unapproved: closed", { since, ttlMs: 24 * H, judged: { hasGrants: true, approved: false } }, at(24 * H), "close"],
    ["approved just in time: stays open", { since, ttlMs: 24 * H, judged: { hasGrants: true, approved: true } }, at(24 * H), "keep"],
    ["no grant files: not an access request", { since, ttlMs: 24 * H, judged: { hasGrants: false, approved: false } }, at(30 * H), "keep"],
  ])("%s", (_name, f, now, want) => {
    expect(decideStale(f, now).kind).toBe(want);
  });
});

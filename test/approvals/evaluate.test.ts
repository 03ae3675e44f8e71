import { evaluateApprovals, membershipQueries } from "../../src/approvals/index.js";
import type { ApprovalInput, IgnoredKind, RequirementResult } from "../../src/approvals/types.js";
import { HEAD, OLD, ORG, grant, input, spec, teams } from "./helpers.js";

const DBA = spec(["@acme/dba", "sre1"]);
const DBA2 = spec(["@acme/dba", "sre1"], 2);
const G = "grants/dev1-prod-db.yaml";
const G2 = "grants/dev1-prod-cache.yaml";

interface Expect {
  satisfied?: boolean;
  counted?: string[];
  blockedBy?: string[];
  missing?: string | RegExp;
  ignored?: Array<[string, IgnoredKind]>;
  reason?: string;
}

interface Scenario {
  name: string;
  input: ApprovalInput;
  members?: Record<string, string[]>;
  satisfied: boolean;
  nothingToApprove?: boolean;
  grants?: Expect[];
  policyChange?: Expect;
  warning?: RegExp;
}

const scenarios: Scenario[] = [
  {
    name: "on behalf: the requester's own approval never counts (issue #10 item 4)",
    input: input({ author: "dev1", grants: [{ ...grant(G, DBA), requester: "DBA1" }], reviews: [["dba1", "APPROVED"]] }),
    satisfied: false,
    grants: [{ counted: [], missing: "needs 1 more approval from @acme/dba or sre1" }],
  },
  {
    name: "on behalf: another eligible approver counts; the requester is not offered as one",
    input: input({
      author: "dev1",
      grants: [{ ...grant(G, spec(["sre1", "dba1"])), requester: "sre1" }],
      reviews: [
        ["sre1", "APPROVED"],
        ["dba1", "APPROVED"],
      ],
    }),
    satisfied: true,
    grants: [{ counted: ["dba1"] }],
  },
  {
    name: "on behalf: the requester as the only other listed approver leaves nobody eligible",
    input: input({ author: "dev1", grants: [{ ...grant(G, spec(["sre1"])), requester: "sre1" }], reviews: [["sre1", "APPROVED"]] }),
    satisfied: false,
    grants: [{ counted: [], missing: /nobody else is eligible/ }],
  },
  {
    name: "the requester's changes requested still blocks",
    input: input({
      author: "dev1",
      grants: [{ ...grant(G, DBA), requester: "dba1" }],
      reviews: [
        ["dba1", "CHANGES_REQUESTED"],
        ["sre1", "APPROVED"],
      ],
    }),
    satisfied: false,
    grants: [{ counted: ["sre1"], blockedBy: ["dba1"] }],
  },
  {
    name: "approver listed by login approves the head commit",
    input: input({ grants: [grant(G, DBA)], reviews: [["sre1", "APPROVED"]] }),
    satisfied: true,
    grants: [{ satisfied: true, counted: ["sre1"], missing: "" }],
  },
  {
    name: "active member of a listed team approves",
    input: input({ grants: [grant(G, DBA)], reviews: [["dba1", "APPROVED"]] }),
    satisfied: true,
    grants: [{ counted: ["dba1"] }],
  },
  {
    name: "no reviews at all",
    input: input({ grants: [grant(G, DBA)] }),
    satisfied: false,
    grants: [{ satisfied: false, counted: [], missing: "needs 1 more approval from @acme/dba or sre1" }],
  },
  {
    name: "approvals: 2 met by two distinct eligible approvers",
    input: input({
      grants: [grant(G, DBA2)],
      reviews: [
        ["dba1", "APPROVED"],
        ["dba2", "APPROVED"],
      ],
    }),
    satisfied: true,
    grants: [{ counted: ["dba1", "dba2"] }],
  },
  {
    name: "approvals: 2 with one eligible approval",
    input: input({ grants: [grant(G, DBA2)], reviews: [["dba1", "APPROVED"]] }),
    satisfied: false,
    grants: [{ counted: ["dba1"], missing: "needs 1 more approval from @acme/dba or sre1" }],
  },
  {
    name: "approvals: 2 met by a login approver and a team member",
    input: input({
      grants: [grant(G, DBA2)],
      reviews: [
        ["sre1", "APPROVED"],
        ["dba3", "APPROVED"],
      ],
    }),
    satisfied: true,
    grants: [{ counted: ["sre1", "dba3"] }],
  },
  {
    name: "a COMMENTED review after an approval does not cancel it",
    input: input({
      grants: [grant(G, DBA)],
      reviews: [
        ["dba1", "APPROVED"],
        ["dba1", "COMMENTED"],
      ],
    }),
    satisfied: true,
    grants: [{ counted: ["dba1"] }],
  },
  {
    name: "approval then changes requested by the same reviewer: blocked",
    input: input({
      grants: [grant(G, DBA)],
      reviews: [
        ["dba1", "APPROVED"],
        ["dba1", "CHANGES_REQUESTED"],
      ],
    }),
    satisfied: false,
    grants: [{ counted: [], blockedBy: ["dba1"], missing: /changes requested by dba1/ }],
  },
  {
    name: "changes requested then approved on head: the latest wins",
    input: input({
      grants: [grant(G, DBA)],
      reviews: [
        ["dba1", "CHANGES_REQUESTED"],
        ["dba1", "APPROVED"],
      ],
    }),
    satisfied: true,
    grants: [{ counted: ["dba1"], blockedBy: [] }],
  },
  {
    name: "changes requested on an older commit still blocks",
    input: input({
      grants: [grant(G, DBA)],
      reviews: [
        ["dba1", "CHANGES_REQUESTED", { commit: OLD }],
        ["sre1", "APPROVED"],
      ],
    }),
    satisfied: false,
    grants: [{ counted: ["sre1"], blockedBy: ["dba1"] }],
  },
  {
    name: "changes requested by someone not eligible does not block",
    input: input({
      grants: [grant(G, DBA)],
      reviews: [
        ["fe1", "CHANGES_REQUESTED"],
        ["sre1", "APPROVED"],
      ],
    }),
    satisfied: true,
    grants: [{ blockedBy: [], ignored: [["fe1", "not-eligible"]], reason: "requested changes but is not eligible" }],
  },
  {
    name: "a dismissed block no longer blocks",
    input: input({
      grants: [grant(G, DBA)],
      reviews: [
        ["dba1", "CHANGES_REQUESTED"],
        ["dba1", "DISMISSED"],
        ["dba2", "APPROVED"],
      ],
    }),
    satisfied: true,
    grants: [{ counted: ["dba2"], blockedBy: [], ignored: [["dba1", "dismissed"]] }],
  },
  {
    name: "approval of an older commit is stale",
    input: input({ grants: [grant(G, DBA)], reviews: [["dba1", "APPROVED", { commit: OLD }]] }),
    satisfied: false,
    grants: [{ counted: [], ignored: [["dba1", "stale"]], reason: "approved an older commit abc1234; re-approval needed" }],
  },
  {
    name: "stale approval followed by a re-approval on head",
    input: input({
      grants: [grant(G, DBA)],
      reviews: [
        ["dba1", "APPROVED", { commit: OLD }],
        ["dba1", "APPROVED"],
      ],
    }),
    satisfied: true,
    grants: [{ counted: ["dba1"] }],
  },
  {
    name: "approver logins compare case-insensitively",
    input: input({ grants: [grant(G, spec(["SRE1"]))], reviews: [["sre1", "APPROVED"]] }),
    satisfied: true,
    grants: [{ counted: ["sre1"] }],
  },
  {
    name: "the author compares case-insensitively",
    input: input({ grants: [grant(G, spec(["dev1", "sre1"]))], author: "Dev1", lastPusher: "sre9", reviews: [["dev1", "APPROVED"]] }),
    satisfied: false,
    grants: [{ counted: [], ignored: [["dev1", "author"]], missing: "needs 1 more approval from sre1" }],
  },
  {
    name: "one reviewer satisfies two grants",
    input: input({ grants: [grant(G, DBA), grant(G2, spec(["@acme/dba"]))], reviews: [["dba1", "APPROVED"]] }),
    satisfied: true,
    grants: [{ counted: ["dba1"] }, { counted: ["dba1"] }],
  },
  {
    name: "two grants, only one approved",
    input: input({ grants: [grant(G, DBA), grant(G2, spec(["@acme/sre"]))], reviews: [["dba1", "APPROVED"]] }),
    satisfied: false,
    grants: [{ satisfied: true }, { satisfied: false, missing: "needs 1 more approval from @acme/sre", ignored: [["dba1", "not-eligible"]] }],
  },
  {
    name: "an invalid grant next to a valid one",
    input: input({ grants: [grant(G, DBA), grant(G2, DBA, false)], reviews: [["dba1", "APPROVED"]] }),
    satisfied: false,
    grants: [{ satisfied: true }, { satisfied: false, counted: [], missing: "fails timebox/validate; fix it first" }],
  },
  {
    name: "policy change approved by an owner",
    input: input({ owners: ["@acme/owners"], reviews: [["owner1", "APPROVED"]] }),
    satisfied: true,
    policyChange: { satisfied: true, counted: ["owner1"] },
  },
  {
    name: "policy change without owner approval",
    input: input({ owners: ["@acme/owners", "alice"], reviews: [["dba1", "APPROVED"]] }),
    satisfied: false,
    policyChange: {
      satisfied: false,
      missing: "needs 1 more approval from @acme/owners or alice",
      ignored: [["dba1", "not-eligible"]],
      reason: "not a policy owner",
    },
  },
  {
    name: "grant approved but the policy change in the same PR is not",
    input: input({ grants: [grant(G, DBA)], owners: ["@acme/owners"], reviews: [["dba1", "APPROVED"]] }),
    satisfied: false,
    grants: [{ satisfied: true }],
    policyChange: { satisfied: false },
  },
  {
    name: "grant and policy change approved by different people",
    input: input({
      grants: [grant(G, DBA)],
      owners: ["@acme/owners"],
      reviews: [
        ["dba1", "APPROVED"],
        ["owner2", "APPROVED"],
      ],
    }),
    satisfied: true,
    grants: [{ counted: ["dba1"] }],
    policyChange: { counted: ["owner2"] },
  },
  {
    name: "an owner's changes requested blocks the policy change",
    input: input({
      owners: ["@acme/owners"],
      reviews: [
        ["owner1", "APPROVED"],
        ["owner2", "CHANGES_REQUESTED"],
      ],
    }),
    satisfied: false,
    policyChange: { counted: ["owner1"], blockedBy: ["owner2"] },
  },
  {
    name: "no grants and no policy change: nothing to approve",
    input: input({ reviews: [["dba1", "APPROVED"]] }),
    satisfied: true,
    nothingToApprove: true,
  },
  {
    name: "list order is not trusted: sorted by submitted_at",
    input: input({
      grants: [grant(G, DBA)],
      reviews: [
        ["dba1", "APPROVED", { at: "2025-01-01T12:00:00Z", id: 5 }],
        ["dba1", "CHANGES_REQUESTED", { at: "2025-01-01T11:00:00Z", id: 9 }],
      ],
    }),
    satisfied: true,
    grants: [{ counted: ["dba1"], blockedBy: [] }],
  },
  {
    name: "equal submitted_at: the higher id is later",
    input: input({
      grants: [grant(G, DBA)],
      reviews: [
        ["dba1", "CHANGES_REQUESTED", { at: "2025-01-01T12:00:00Z", id: 9 }],
        ["dba1", "APPROVED", { at: "2025-01-01T12:00:00Z", id: 5 }],
      ],
    }),
    satisfied: false,
    grants: [{ blockedBy: ["dba1"] }],
  },
  {
    name: "lower-case webhook states are understood",
    input: input({ grants: [grant(G, DBA)], reviews: [["sre1", "approved"]] }),
    satisfied: true,
    grants: [{ counted: ["sre1"] }],
  },
  {
    name: "a deleted account's approval never counts",
    input: input({ grants: [grant(G, DBA)], reviews: [[null, "APPROVED"]] }),
    satisfied: false,
    grants: [{ counted: [], ignored: [["ghost", "deleted-account"]] }],
  },
  {
    name: "a pending (unsubmitted) review is not an approval",
    input: input({ grants: [grant(G, DBA)], reviews: [["dba1", "PENDING"]] }),
    satisfied: false,
    grants: [{ ignored: [["dba1", "pending"]] }],
  },
  {
    name: "a pending review after an approval does not cancel it",
    input: input({
      grants: [grant(G, DBA)],
      reviews: [
        ["dba1", "APPROVED"],
        ["dba1", "PENDING"],
      ],
    }),
    satisfied: true,
    grants: [{ counted: ["dba1"] }],
  },
  {
    name: "unknown last pusher fails closed",
    input: input({ grants: [grant(G, DBA)], lastPusher: null, reviews: [["dba1", "APPROVED"]] }),
    satisfied: false,
    grants: [{ satisfied: false, counted: ["dba1"], missing: /who pushed head commit 1111111 is unknown/ }],
    warning: /push a new commit/,
  },
  {
    name: "approvals: 0 in a role is treated as 1",
    input: input({ grants: [grant(G, spec(["@acme/dba"], 0))] }),
    satisfied: false,
    grants: [{ missing: "needs 1 more approval from @acme/dba" }],
  },
  {
    name: "a role whose only approver is the author cannot be met",
    input: input({ grants: [grant(G, spec(["dev1"]))], reviews: [["dev1", "APPROVED"]] }),
    satisfied: false,
    grants: [{ missing: /nobody else is eligible/, ignored: [["dev1", "author"]] }],
  },
  {
    name: "approvals: 2 with a single listed login says the policy must change",
    input: input({ grants: [grant(G, spec(["sre1"], 2))], reviews: [["sre1", "APPROVED"]] }),
    satisfied: false,
    grants: [{ counted: ["sre1"], missing: /^needs 1 more approval, but nobody else is eligible \(approvers: sre1;.*the policy must change$/ }],
  },
  {
    name: "approvals: 3 with two listed logins left says the policy must change",
    input: input({ grants: [grant(G, spec(["sre1", "sre2"], 3))], reviews: [["sre1", "APPROVED"]] }),
    satisfied: false,
    grants: [{ missing: "needs 2 more approvals from sre2 (only 1 eligible approver left; the policy must change)" }],
  },
  {
    name: "a valid grant whose role is missing from the base policy",
    input: input({ grants: [grant(G, undefined)], reviews: [["dba1", "APPROVED"]] }),
    satisfied: false,
    grants: [{ missing: /not defined in the base branch's policy/ }],
  },
  {
    name: "an approval without a commit id is treated as stale",
    input: input({ grants: [grant(G, DBA)], reviews: [["sre1", "APPROVED", { commit: null }]] }),
    satisfied: false,
    grants: [{ ignored: [["sre1", "stale"]] }],
  },
  {
    name: "team refs compare case-insensitively",
    input: input({ grants: [grant(G, spec(["@Acme/DBA"]))], reviews: [["DBA2", "APPROVED"]] }),
    satisfied: true,
    grants: [{ counted: ["DBA2"] }],
  },
  {
    name: "the last pusher's changes requested still blocks",
    input: input({
      grants: [grant(G, DBA)],
      lastPusher: "dba1",
      reviews: [
        ["dba1", "CHANGES_REQUESTED"],
        ["dba2", "APPROVED"],
      ],
    }),
    satisfied: false,
    grants: [{ counted: ["dba2"], blockedBy: ["dba1"] }],
  },
  {
    name: "changes requested blocks only the grants the reviewer is eligible for",
    input: input({
      grants: [grant(G, DBA), grant(G2, spec(["@acme/sre"]))],
      reviews: [
        ["dba1", "CHANGES_REQUESTED"],
        ["sre-a", "APPROVED"],
        ["sre1", "APPROVED"],
      ],
    }),
    satisfied: false,
    grants: [
      { satisfied: false, blockedBy: ["dba1"], counted: ["sre1"] },
      { satisfied: true, blockedBy: [], counted: ["sre-a"] },
    ],
  },
  {
    name: "a reviewer counts once however many approvals",
    input: input({
      grants: [grant(G, DBA)],
      reviews: [
        ["dba1", "APPROVED"],
        ["dba1", "APPROVED"],
        ["DBA1", "APPROVED"],
      ],
    }),
    satisfied: true,
    grants: [{ counted: ["DBA1"] }],
  },
  {
    name: "an unknown review state is treated like a comment",
    input: input({
      grants: [grant(G, DBA)],
      reviews: [
        ["dba1", "APPROVED"],
        ["dba1", "SOMETHING_NEW"],
      ],
    }),
    satisfied: true,
    grants: [{ counted: ["dba1"] }],
  },
];

function check(r: RequirementResult, e: Expect): void {
  if (e.satisfied !== undefined) expect(r.satisfied).toBe(e.satisfied);
  if (e.counted) expect(r.counted).toEqual(e.counted);
  if (e.blockedBy) expect(r.blockedBy).toEqual(e.blockedBy);
  if (e.missing !== undefined) {
    if (typeof e.missing === "string") expect(r.missing).toBe(e.missing);
    else expect(r.missing).toMatch(e.missing);
  }
  for (const [login, kind] of e.ignored ?? []) {
    expect(r.ignored).toContainEqual(expect.objectContaining({ login, kind }));
  }
  if (e.reason) expect(r.ignored.map((i) => i.reason).join("\n")).toContain(e.reason);
  if (r.satisfied) expect(r.missing).toBe("");
  else expect(r.missing).not.toBe("");
}

describe("evaluateApprovals: scenarios", () => {
  test("there are at least 30 scenarios", () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(30);
  });

  test.each(scenarios.map((s) => [s.name, s] as const))("%s", (_name, s) => {
    const isMember = teams(s.members ?? ORG);
    const result = evaluateApprovals(s.input, isMember);
    expect(result.satisfied).toBe(s.satisfied);
    expect(result.nothingToApprove).toBe(s.nothingToApprove ?? false);
    expect(result.headSha).toBe(s.input.pr.headSha);
    if (s.grants) {
      expect(result.grants).toHaveLength(s.grants.length);
      s.grants.forEach((e, i) => check(result.grants[i]!, e));
    }
    if (s.policyChange) {
      expect(result.policyChange).toBeDefined();
      check(result.policyChange!, s.policyChange);
    } else {
      expect(result.policyChange).toBeUndefined();
    }
    if (s.warning) expect(result.warnings.join("\n")).toMatch(s.warning);
    else expect(result.warnings).toEqual([]);

    // The evaluator only asks about pairs the handler was told to pre-fetch, each at most once listed.
    const queries = membershipQueries(s.input);
    const keys = queries.map((q) => `${q.login} ${q.team}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const call of isMember.calls) expect(keys).toContain(`${call.login} ${call.team}`);
  });

  test("does not mutate its input and is deterministic", () => {
    const s = input({
      grants: [grant(G, DBA2)],
      reviews: [
        ["dba1", "APPROVED", { at: "2025-01-01T12:00:00Z" }],
        ["sre1", "APPROVED", { at: "2025-01-01T11:00:00Z" }],
      ],
    });
    const before = JSON.stringify(s);
    const a = evaluateApprovals(s, teams(ORG));
    const b = evaluateApprovals(s, teams(ORG));
    expect(JSON.stringify(s)).toBe(before);
    expect(a).toEqual(b);
    expect(a.grants[0]!.counted).toEqual(["sre1", "dba1"]); // chronological, not list order
  });

  test("a membership lookup that throws never counts, but still blocks", () => {
    const throwing = () => {
      throw new Error("not pre-fetched");
    };
    const approve = evaluateApprovals(input({ grants: [grant(G, DBA)], reviews: [["dba1", "APPROVED"]] }), throwing);
    expect(approve.satisfied).toBe(false);
    expect(approve.grants[0]!.ignored).toContainEqual(expect.objectContaining({ login: "dba1", kind: "membership-unknown" }));
    const block = evaluateApprovals(
      input({
        grants: [grant(G, DBA)],
        reviews: [
          ["sre1", "APPROVED"],
          ["dba1", "CHANGES_REQUESTED"],
        ],
      }),
      throwing,
    );
    expect(block.satisfied).toBe(false);
    expect(block.grants[0]!.blockedBy).toEqual(["dba1"]);
  });

  test("stale reason uses the short sha of the reviewed commit", () => {
    const r = evaluateApprovals(input({ grants: [grant(G, DBA)], reviews: [["sre1", "APPROVED", { commit: OLD }]] }), teams(ORG));
    expect(r.grants[0]!.ignored).toEqual([{ login: "sre1", kind: "stale", reason: "approved an older commit abc1234; re-approval needed" }]);
    expect(HEAD.startsWith("1111111")).toBe(true);
  });
});

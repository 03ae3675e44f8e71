/**
 * Named attacks: every one must leave the result unsatisfied.
 */
import { evaluateApprovals, membershipQueries } from "../../src/approvals/index.js";
import type { ApprovalInput, ApprovalResult } from "../../src/approvals/types.js";
import { OLD, ORG, grant, input, spec, teams } from "./helpers.js";

const G = "grants/mallory-prod-db.yaml";

function run(i: ApprovalInput, members: Record<string, string[]> = ORG): ApprovalResult {
  const result = evaluateApprovals(i, teams(members));
  expect(result.satisfied).toBe(false);
  expect(result.nothingToApprove).toBe(false);
  return result;
}

describe("attacks that must not be approved", () => {
  test("self-approval by the author (even when the author is a listed approver and team member)", () => {
    const r = run(input({ author: "mallory", grants: [grant(G, spec(["mallory", "@acme/dba"]))], reviews: [["mallory", "APPROVED"]] }), {
      ...ORG,
      "@acme/dba": ["mallory"],
    });
    expect(r.grants[0]!.counted).toEqual([]);
    expect(r.grants[0]!.ignored).toContainEqual(expect.objectContaining({ login: "mallory", kind: "author" }));
  });

  test("with allow_on_behalf, the requester (an eligible approver) approves their own grant opened by a colleague", () => {
    // dev1 opens a grant for dba1; dba1 is in @acme/dba, an approver of the role, and approves it.
    const r = run(input({ author: "dev1", grants: [{ ...grant(G, spec(["@acme/dba"])), requester: "dba1" }], reviews: [["dba1", "APPROVED"]] }));
    expect(r.grants[0]!.counted).toEqual([]);
    expect(r.grants[0]!.ignored).toContainEqual(expect.objectContaining({ login: "dba1", kind: "requester" }));
  });

  test("approval by whoever pushed the head commit", () => {
    // trent (an approver) pushes a change to dev1's grant, then approves it.
    const r = run(input({ author: "dev1", lastPusher: "trent", grants: [grant(G, spec(["trent", "@acme/dba"]))], reviews: [["trent", "APPROVED"]] }));
    expect(r.grants[0]!.counted).toEqual([]);
    expect(r.grants[0]!.ignored).toContainEqual(expect.objectContaining({ login: "trent", kind: "last-pusher" }));
    expect(r.grants[0]!.missing).toBe("needs 1 more approval from @acme/dba");
  });

  test("approval of an older commit, followed by a new push", () => {
    const r = run(
      input({
        author: "mallory",
        headSha: "f00dbabe".padEnd(40, "0"),
        grants: [grant(G, spec(["@acme/dba"]))],
        reviews: [["dba1", "APPROVED", { commit: OLD }]],
      }),
    );
    expect(r.grants[0]!.ignored).toEqual([{ login: "dba1", kind: "stale", reason: "approved an older commit abc1234; re-approval needed" }]);
  });

  test("approval by a member of a team that is not listed", () => {
    const r = run(input({ author: "mallory", grants: [grant(G, spec(["@acme/dba"]))], reviews: [["fe1", "APPROVED"]] }));
    expect(r.grants[0]!.ignored).toContainEqual(
      expect.objectContaining({ login: "fe1", kind: "not-eligible", reason: "not eligible for this role (eligible: @acme/dba)" }),
    );
  });

  test("approval by a pending team invitee (isMember is false for pending invitations)", () => {
    // pending-dba was invited to @acme/dba but has not accepted: not in the active member list.
    const r = run(input({ author: "mallory", grants: [grant(G, spec(["@acme/dba"]))], reviews: [["pending-dba", "APPROVED"]] }));
    expect(r.grants[0]!.counted).toEqual([]);
    expect(r.grants[0]!.ignored).toContainEqual(expect.objectContaining({ login: "pending-dba", kind: "not-eligible" }));
  });

  test("approval by a bot, by type or by [bot] login, even when listed", () => {
    const r = run(
      input({
        author: "mallory",
        grants: [grant(G, spec(["timebox-helper", "renovate[bot]", "@acme/dba"]))],
        reviews: [
          ["timebox-helper", "APPROVED", { type: "Bot" }],
          ["renovate[bot]", "APPROVED", { type: "User" }],
          ["dba-bot", "APPROVED", { type: "Bot" }],
        ],
      }),
      { ...ORG, "@acme/dba": ["dba-bot"] },
    );
    expect(r.grants[0]!.counted).toEqual([]);
    expect(r.grants[0]!.ignored.map((i) => i.kind)).toEqual(["bot", "bot", "bot"]);
  });

  test("one approver approving twice to reach approvals: 2", () => {
    const r = run(
      input({
        author: "mallory",
        grants: [grant(G, spec(["@acme/dba"], 2))],
        reviews: [
          ["dba1", "APPROVED"],
          ["dba1", "APPROVED"],
          ["DBA1", "APPROVED"],
        ],
      }),
    );
    expect(r.grants[0]!.counted).toHaveLength(1);
    expect(r.grants[0]!.missing).toBe("needs 1 more approval from @acme/dba");
  });

  test("a PR that lowers approvals in the same PR is judged by the base spec", () => {
    const base = spec(["@acme/dba"], 2);
    const head = spec(["@acme/dba"], 1); // what the PR's own policy says — never passed in
    const reviews: Array<[string, string]> = [["dba1", "APPROVED"]];
    // The same reviews would satisfy the lax head spec...
    expect(evaluateApprovals(input({ author: "mallory", grants: [grant(G, head)], reviews }), teams(ORG)).grants[0]!.satisfied).toBe(true);
    // ...but the evaluator is given the base spec, and that is not satisfied.
    const r = run(input({ author: "mallory", owners: ["@acme/owners"], grants: [grant(G, base)], reviews }));
    expect(r.grants[0]!.needed).toBe(2);
    expect(r.policyChange!.satisfied).toBe(false);
  });

  test("a PR that adds the author (or a friend) to approvers in the same PR is judged by the base spec", () => {
    const base = spec(["@acme/dba"]);
    const head = spec(["@acme/dba", "mallory", "friend"]);
    const reviews: Array<[string, string]> = [
      ["friend", "APPROVED"],
      ["mallory", "APPROVED"],
    ];
    expect(evaluateApprovals(input({ author: "mallory", grants: [grant(G, head)], reviews }), teams(ORG)).grants[0]!.satisfied).toBe(true);
    const r = run(input({ author: "mallory", owners: ["@acme/owners"], grants: [grant(G, base)], reviews }));
    expect(r.grants[0]!.counted).toEqual([]);
    expect(r.grants[0]!.ignored).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ login: "friend", kind: "not-eligible" }),
        expect.objectContaining({ login: "mallory", kind: "author" }),
      ]),
    );
    expect(r.policyChange!.ignored).toContainEqual(expect.objectContaining({ login: "friend", kind: "not-eligible" }));
  });

  test("a grant that fails validation but has approvals", () => {
    const r = run(
      input({
        author: "mallory",
        grants: [grant(G, spec(["@acme/dba"]), false)],
        reviews: [
          ["dba1", "APPROVED"],
          ["dba2", "APPROVED"],
        ],
      }),
    );
    expect(r.grants[0]!.missing).toBe("fails timebox/validate; fix it first");
    expect(r.grants[0]!.counted).toEqual([]);
  });

  test("an eligible reviewer's CHANGES_REQUESTED after another's approval", () => {
    const r = run(
      input({
        author: "mallory",
        grants: [grant(G, spec(["@acme/dba"]))],
        reviews: [
          ["dba1", "APPROVED"],
          ["dba2", "CHANGES_REQUESTED"],
        ],
      }),
    );
    expect(r.grants[0]!.counted).toEqual(["dba1"]);
    expect(r.grants[0]!.blockedBy).toEqual(["dba2"]);
  });

  test("a dismissed approval", () => {
    const r = run(
      input({
        author: "mallory",
        grants: [grant(G, spec(["@acme/dba"]))],
        reviews: [
          ["dba1", "APPROVED"],
          ["dba1", "DISMISSED"],
        ],
      }),
    );
    expect(r.grants[0]!.ignored).toContainEqual(expect.objectContaining({ login: "dba1", kind: "dismissed" }));
  });

  test("an approval the REST list now shows as COMMENTED", () => {
    const r = run(input({ author: "mallory", grants: [grant(G, spec(["@acme/dba"]))], reviews: [["dba1", "COMMENTED"]] }));
    expect(r.grants[0]!.ignored).toEqual([{ login: "dba1", kind: "commented-only", reason: "commented only; a comment is not an approval" }]);
  });

  test("a requester impersonating another login: the author's approval never counts, whoever the grant names", () => {
    // mallory opens a PR whose grant names alice as requester; mallory is a listed approver.
    // (Whether mallory may request for alice is timebox/validate's business.)
    const g = { ...grant("grants/alice-prod-db.yaml", spec(["mallory", "@acme/dba"])), requester: "alice" };
    const r = run(input({ author: "mallory", lastPusher: "mallory", grants: [g], reviews: [["mallory", "APPROVED"]] }));
    expect(r.grants[0]!.ignored).toContainEqual(expect.objectContaining({ login: "mallory", kind: "author" }));
    expect(r.grants[0]!.missing).toBe("needs 1 more approval from @acme/dba");
  });

  test("the author's approval never counts towards the policy change either", () => {
    const r = run(input({ author: "owner1", owners: ["owner1", "@acme/owners"], reviews: [["owner1", "APPROVED"]] }));
    expect(r.policyChange!.counted).toEqual([]);
  });

  test("an unknown pusher never lets an approval through", () => {
    const r = run(input({ author: "mallory", lastPusher: null, grants: [grant(G, spec(["@acme/dba"]))], reviews: [["dba1", "APPROVED"]] }));
    expect(r.grants[0]!.satisfied).toBe(false);
  });

  test("attack inputs ask for no memberships of excluded reviewers", () => {
    const q = membershipQueries(
      input({
        author: "mallory",
        lastPusher: "trent",
        grants: [grant(G, spec(["@acme/dba"]))],
        reviews: [
          ["mallory", "APPROVED"],
          ["trent", "APPROVED"],
          ["x[bot]", "APPROVED"],
          ["dba1", "APPROVED", { commit: OLD }],
        ],
      }),
    );
    expect(q).toEqual([]);
  });
});

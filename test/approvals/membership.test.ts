import { membershipQueries } from "../../src/approvals/index.js";
import { OLD, grant, input, spec } from "./helpers.js";

const G = "grants/a.yaml";
const G2 = "grants/b.yaml";

describe("membershipQueries", () => {
  test("one pair per (reviewer, team), however many reviews and grants", () => {
    const q = membershipQueries(
      input({
        grants: [grant(G, spec(["@acme/dba"])), grant(G2, spec(["@Acme/DBA", "@acme/sre"]))],
        owners: ["@acme/dba"],
        reviews: [
          ["Dba1", "APPROVED"],
          ["dba1", "COMMENTED"],
          ["DBA1", "APPROVED"],
        ],
      }),
    );
    expect(q).toEqual([
      { login: "dba1", team: "@acme/dba" },
      { login: "dba1", team: "@acme/sre" },
    ]);
  });

  test("nothing for the author, the last pusher's approval, bots, stale, commented, pending or dismissed reviews", () => {
    const q = membershipQueries(
      input({
        author: "dev1",
        lastPusher: "pusher",
        grants: [grant(G, spec(["@acme/dba"]))],
        owners: ["@acme/owners"],
        reviews: [
          ["dev1", "APPROVED"],
          ["dev1", "CHANGES_REQUESTED"],
          ["pusher", "APPROVED"],
          ["helper", "APPROVED", { type: "Bot" }],
          ["deps[bot]", "CHANGES_REQUESTED"],
          ["old", "APPROVED", { commit: OLD }],
          ["chatty", "COMMENTED"],
          ["drafty", "PENDING"],
          ["gone", "APPROVED"],
          ["gone", "DISMISSED"],
          [null, "APPROVED"],
        ],
      }),
    );
    expect(q).toEqual([]);
  });

  test("nothing for a team when the reviewer is listed by login for that requirement", () => {
    const q = membershipQueries(
      input({
        grants: [grant(G, spec(["@acme/dba", "SRE1"]))],
        owners: ["@acme/owners"],
        reviews: [["sre1", "APPROVED"]],
      }),
    );
    // Listed by login for the grant; the policy change still needs to know about @acme/owners.
    expect(q).toEqual([{ login: "sre1", team: "@acme/owners" }]);
  });

  test("changes requested on any commit needs a lookup (it may block); so does the last pusher's", () => {
    const q = membershipQueries(
      input({
        lastPusher: "pusher",
        grants: [grant(G, spec(["@acme/dba"]))],
        reviews: [
          ["dba1", "CHANGES_REQUESTED", { commit: OLD }],
          ["pusher", "CHANGES_REQUESTED"],
        ],
      }),
    );
    expect(q).toEqual([
      { login: "dba1", team: "@acme/dba" },
      { login: "pusher", team: "@acme/dba" },
    ]);
  });

  test("nothing for invalid grants, grants without a role, or a PR with nothing to approve", () => {
    const reviews: Array<[string, string]> = [["dba1", "APPROVED"]];
    expect(membershipQueries(input({ grants: [grant(G, spec(["@acme/dba"]), false)], reviews }))).toEqual([]);
    expect(membershipQueries(input({ grants: [grant(G, undefined)], reviews }))).toEqual([]);
    expect(membershipQueries(input({ reviews }))).toEqual([]);
  });

  test("only the latest review matters: an approval replaced by a dismissal asks nothing", () => {
    expect(
      membershipQueries(
        input({
          grants: [grant(G, spec(["@acme/dba"]))],
          reviews: [
            ["dba1", "APPROVED"],
            ["dba1", "DISMISSED"],
          ],
        }),
      ),
    ).toEqual([]);
  });
});

/** Every story the audit tells, from one generated history, with exact rows. */
import { auditRepository, type AuditRow } from "../../src/audit/index.js";
import { recordTrailers } from "../../src/records/comments.js";
import type { ApprovedGrant } from "../../src/lifecycle/types.js";
import type { ActiveGrant } from "../../src/providers/types.js";
import { cli } from "../cli/repo.js";
import { GitRepo, grantYaml, removeGitRepos, testTrust, TRUST } from "./git-repo.js";
import { STORIES_NOW, STORY_ROWS, storiesRepo } from "./stories.js";

afterAll(removeGitRepos);

let repo: GitRepo;
let rows: AuditRow[];
beforeAll(async () => {
  repo = storiesRepo();
  rows = (await auditRepository(repo.root, { trust: await testTrust(), now: STORIES_NOW })).rows;
});

const rowsOf = async (root: string, now = STORIES_NOW) => (await auditRepository(root, { trust: await testTrust(), now })).rows;

describe("every story, exact rows", () => {
  test("expired, removed early, revoked by command, extended twice, replaced, break-glass reviewed / unreviewed / closed unmerged, unapproved push, drift, outcomes", async () => {
    expect(rows).toEqual(STORY_ROWS);
  });

  test.each(STORY_ROWS.map((r, i) => [i, `${r.grant} (${r.pull_request === null ? "no PR" : `#${r.pull_request}`}, ${r.status})`] as const))(
    "row %i: %s",
    (i) => {
      // The same rows one at a time, so a failure names the story that broke.
      expect(rows[i]).toEqual(STORY_ROWS[i]);
    },
  );

  test("an extension links to the PR that first requested the grant and counts the extensions", () => {
    const dev4 = rows.filter((r) => r.grant === "grants/dev4.yaml");
    expect(dev4.map((r) => [r.pull_request, r.status, r.extension_of, r.extensions])).toEqual([
      [25, "extended", null, 0],
      [26, "extended", 25, 1],
      [27, "revoked", 25, 2],
    ]);
  });

  test("a change of requester is a replacement, not an extension; so is a change after the old version expired", async () => {
    const other = new GitRepo();
    other.write({ "grants/a.yaml": grantYaml({ requester: "dev1", duration: "1h", reason: "a" }) }).commit("One (#1)", "2026-03-02T09:00:00Z");
    other.write({ "grants/a.yaml": grantYaml({ requester: "dev1", duration: "1h", reason: "b" }) }).commit("Two (#2)", "2026-03-02T10:00:00Z");
    other.write({ "grants/a.yaml": grantYaml({ requester: "dev1", duration: "1h", reason: "c" }) }).commit("Three (#3)", "2026-03-02T10:59:59Z");
    other
      .write({ "grants/a.yaml": grantYaml({ requester: "dev1", role: "readwrite", duration: "1h", reason: "d" }) })
      .commit("Four (#4)", "2026-03-02T11:30:00Z");
    const rows = await rowsOf(other.root, new Date("2026-03-02T11:40:00Z"));
    expect(rows.map((r) => [r.pull_request, r.status, r.extension_of, r.extensions])).toEqual([
      [1, "replaced", null, 0], // #2 arrived at the second of #1's expiry: access was already over
      [2, "extended", null, 0],
      [3, "replaced", 2, 1], // a new role is a new grant
      [4, "active", null, 0],
    ]);
  });

  test("an outcome for a PR no version has is ignored; one for an extension's first PR goes to the newest version", async () => {
    const other = new GitRepo();
    other.write({ "grants/a.yaml": grantYaml({ requester: "dev1", duration: "1h", reason: "a" }) }).commit("One (#1)", "2026-03-02T09:00:00Z");
    other.write({ "grants/a.yaml": grantYaml({ requester: "dev1", duration: "2h", reason: "a" }) }).commit("Longer (#2)", "2026-03-02T09:30:00Z");
    other.commitAsTimebox(
      [
        "Record outcome of grants/a.yaml (PR #1)",
        "",
        "Timebox-Grant: grants/a.yaml",
        "Pull-Request: #1",
        "Outcome: done",
        "Outcome-By: dev1",
        "Recorded-at: 2026-03-02T12:00:00Z",
      ].join("\n"),
      "2026-03-02T12:00:00Z",
    );
    other.commitAsTimebox(
      [
        "Record outcome of grants/a.yaml (PR #9)",
        "",
        "Timebox-Grant: grants/a.yaml",
        "Pull-Request: #9",
        "Outcome: elsewhere",
        "Outcome-By: dev9",
        "Recorded-at: 2026-03-02T12:01:00Z",
      ].join("\n"),
      "2026-03-02T12:01:00Z",
    );
    const rows = await rowsOf(other.root, new Date("2026-03-02T13:00:00Z"));
    expect(rows.map((r) => [r.pull_request, r.outcome, r.outcome_by])).toEqual([
      [1, null, null],
      [2, "done", "dev1"],
    ]);
  });

  test("Timebox's own record writer (src/lifecycle/messages.ts) is read back field for field", async () => {
    const other = new GitRepo();
    other
      .write({ "grants/bg.yaml": grantYaml({ requester: "oncall1", role: "admin", duration: "30m", reason: "x", emergency: true }) })
      .commit("Merge pull request #7 from org/bg", "2026-03-02T10:20:00Z");
    const t = {
      path: "grants/bg.yaml",
      origin: {
        approvedBy: ["bob"],
        pull: { number: 7, mergeCommitSha: "b".repeat(40) },
        grant: { durationMs: 1_800_000, reason: "x" },
        extension: { of: 5, count: 3 },
        breakglass: { grantedAt: "2026-03-02T10:00:00Z", reviewDue: "2026-03-02T10:15:00Z", reviewedBy: ["bob", "carol"], reviewedAt: "2026-03-02T10:16:00Z" },
      },
    } as unknown as ApprovedGrant;
    const g = {
      requester: "oncall1",
      role: "admin",
      resource: "prod-db",
      pullRequest: 7,
      grantedAt: new Date("2026-03-02T10:00:00Z"),
      expiresAt: new Date("2026-03-02T10:30:00Z"),
    } as unknown as ActiveGrant;
    other
      .rm("grants/bg.yaml")
      .commitAsTimebox(
        ["Revoke expired grant grants/bg.yaml", "", "ended", "", ...recordTrailers(t, g, "expired", new Date("2026-03-02T10:30:04Z"), "run-1")].join("\n"),
        "2026-03-02T10:30:05Z",
      );
    const [row] = await rowsOf(other.root);
    expect(row).toMatchObject({
      requester: "oncall1",
      resource: "prod-db",
      role: "admin",
      emergency: true,
      pull_request: 7,
      approved_by: ["bob"],
      granted_at: "2026-03-02T10:00:00Z",
      expires_at: "2026-03-02T10:30:00Z",
      revoked_at: "2026-03-02T10:30:04Z",
      revoke_reason: "expired",
      status: "revoked",
      extension_of: 5,
      extensions: 3,
      review_due: "2026-03-02T10:15:00Z",
      reviewed_by: ["bob", "carol"],
      reviewed_at: "2026-03-02T10:16:00Z",
    });
  });
});

describe("--at on the boundaries of the stories", () => {
  const at = async (time: string) => {
    const r = await cli(["audit", ...TRUST(), "--repo", repo.root, "--format", "json", "--at", time], "/");
    return (JSON.parse(r.stdout).grants as Array<{ grant: string; pull_request: number | null }>).map((g) => `${g.grant}#${g.pull_request}`);
  };

  test("break-glass counts from its apply (Granted-at), before the merge, to Revoked-at", async () => {
    expect(await at(`2026-03-02T01:59:59Z`)).toEqual([]);
    expect(await at(`2026-03-02T02:00:00Z`)).toEqual(["grants/oncall1-admin.yaml#28"]);
    expect(await at(`2026-03-02T02:30:01Z`)).toEqual(["grants/oncall1-admin.yaml#28"]);
    expect(await at(`2026-03-02T02:30:02Z`)).toEqual([]);
  });

  test("an extension hands over in the same second: exactly one version matches", async () => {
    expect(await at(`2026-03-02T11:44:59Z`)).toContain("grants/dev4.yaml#25");
    expect((await at(`2026-03-02T11:45:00Z`)).filter((g) => g.startsWith("grants/dev4"))).toEqual(["grants/dev4.yaml#26"]);
    expect((await at(`2026-03-02T13:00:00Z`)).filter((g) => g.startsWith("grants/dev4"))).toEqual(["grants/dev4.yaml#27"]);
  });

  test("a closed-unmerged break-glass grant gave access until Timebox revoked it", async () => {
    expect(await at(`2026-03-02T16:20:00Z`)).toEqual(["grants/oncall1-admin.yaml#30"]);
    expect(await at(`2026-03-02T16:20:01Z`)).toEqual([]);
  });

  test("a grant never revoked ends at the second of its expiry", async () => {
    expect(await at(`2026-03-02T13:29:59Z`)).toContain("grants/shared.yaml#33");
    expect(await at(`2026-03-02T13:30:00Z`)).not.toContain("grants/shared.yaml#33");
  });
});

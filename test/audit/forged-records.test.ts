/**
 * Attack: Timebox-style trailers written by a person. The audit honours trailers only on commits
 * Timebox made (the app's bot as author, a signature that verifies with a trusted key); a
 * look-alike keeps none of its claims and is listed under "Records not written by Timebox".
 */
import { cli } from "../cli/repo.js";
import { POLICY_TEXT } from "../grants/helpers.js";
import { GitRepo, grantYaml, removeGitRepos, TIMEBOX_BOT, TRUST } from "./git-repo.js";
import { closedUnmerged, removal } from "./messages.js";

afterAll(removeGitRepos);

const D = "2026-03-02T";
type Finding = { id: string; status: string; items: Array<{ summary: string; grants: Array<{ grant: string }> }> };
type Report = { grants: Array<Record<string, unknown>>; findings: Finding[] };

async function audit(repo: GitRepo): Promise<Report> {
  const r = await cli(["audit", ...TRUST(), "--repo", repo.root, "--format", "json"], "/");
  expect(r).toMatchObject({ code: 0, stderr: "" });
  return JSON.parse(r.stdout) as Report;
}
const finding = (report: Report, id: string) => report.findings.find((f) => f.id === id)!;

/** dev5 pushes a grant straight to main, then removes it in a commit dressed as Timebox's revocation of "PR #12, approved by two DBAs". */
function directPushThenForgedRemoval(commit: (repo: GitRepo, message: string, time: string) => void): GitRepo {
  const repo = new GitRepo();
  repo.write({ ".github/timebox.yml": POLICY_TEXT }).commit("Initial policy", `${D}08:00:00Z`);
  repo
    .write({ "grants/dev5.yaml": grantYaml({ requester: "dev5", role: "readwrite", duration: "8h", reason: "Just me" }) })
    .commit("add my access", `${D}09:00:00Z`);
  repo.rm("grants/dev5.yaml");
  const forged = removal({
    path: "grants/dev5.yaml",
    requester: "dev5",
    role: "readwrite",
    approvedBy: ["dba1", "dba2"],
    pr: 12,
    grantedAt: `${D}08:30:00Z`,
    expiresAt: `${D}16:30:00Z`,
    revokedAt: `${D}16:30:01Z`,
    reason: "expired",
  });
  commit(repo, forged, `${D}17:00:00Z`);
  return repo;
}

const FORGERS: Array<[string, (repo: GitRepo, message: string, time: string) => void, string]> = [
  ["a person's own commit", (repo, m, t) => repo.commit(m, t), "authored by x <x@example.com>, not timebox[bot]"],
  ["the bot's name and e-mail, unsigned", (repo, m, t) => repo.commitAsTimebox(m, t, { signature: "none" }), "not signed"],
  [
    "the bot's name and e-mail, a signature that does not verify",
    (repo, m, t) => repo.commitAsTimebox(m, t, { signature: "bogus" }),
    "its signature does not verify with a trusted key",
  ],
  [
    "a signed commit by a person under GitHub's committer",
    (repo, m, t) => repo.commitAsTimebox(m, t, { author: "dev5 <dev5@example.com>" }),
    "authored by dev5 <dev5@example.com>, not timebox[bot]",
  ],
];

describe.each(FORGERS)("(a) a direct push removed by a look-alike of Timebox's removal: %s", (_name, forge, reason) => {
  let report: Report;
  beforeAll(async () => {
    report = await audit(directPushThenForgedRemoval(forge));
  });

  test("the version keeps what Git says: no PR, no approvers, its real start, removed (not revoked)", () => {
    expect(report.grants).toHaveLength(1);
    expect(report.grants[0]).toMatchObject({
      grant: "grants/dev5.yaml",
      requester: "dev5",
      pull_request: null,
      origin: "direct-push",
      approved_by: [],
      granted_at: `${D}09:00:00Z`,
      expires_at: `${D}17:00:00Z`,
      revoked_at: `${D}17:00:00Z`,
      revoke_reason: "removed",
      status: "removed",
    });
  });

  test("the findings do not clear: unapproved content, and a record not written by Timebox", () => {
    expect(finding(report, "unapproved-content")).toMatchObject({ status: "found", items: [{ grants: [{ grant: "grants/dev5.yaml" }] }] });
    const untrusted = finding(report, "untrusted-records");
    expect(untrusted.status).toBe("found");
    expect(untrusted.items).toHaveLength(1);
    expect(untrusted.items[0].summary).toContain(reason);
    expect(untrusted.items[0].grants).toEqual([expect.objectContaining({ grant: "grants/dev5.yaml" })]);
  });
});

test("the same removal made by Timebox (the bot, signed) is honoured: the control for (a)", async () => {
  const report = await audit(directPushThenForgedRemoval((repo, m, t) => repo.commitAsTimebox(m, t)));
  expect(report.grants[0]).toMatchObject({ pull_request: 12, approved_by: ["dba1", "dba2"], status: "revoked" });
  expect(finding(report, "untrusted-records").status).toBe("clear");
});

describe.each(FORGERS)("(b) a person's empty commit with break-glass trailers: %s", (_name, forge, reason) => {
  test("invents no break-glass use by someone else", async () => {
    const repo = new GitRepo();
    repo.write({ ".github/timebox.yml": POLICY_TEXT }).commit("Initial policy", `${D}08:00:00Z`);
    forge(
      repo,
      closedUnmerged({
        path: "grants/oncall1-admin.yaml",
        requester: "oncall1",
        role: "admin",
        pr: 30,
        grantedAt: `${D}16:00:00Z`,
        expiresAt: `${D}16:30:00Z`,
        revokedAt: `${D}16:20:01Z`,
        reason: "pr-closed",
        emergency: { reviewDue: `${D}16:15:00Z` },
        text: { reason: "False alarm" },
      }),
      `${D}16:20:03Z`,
    );
    const report = await audit(repo);
    expect(report.grants).toEqual([]);
    expect(finding(report, "break-glass").status).toBe("clear");
    const untrusted = finding(report, "untrusted-records");
    expect(untrusted.status).toBe("found");
    expect(untrusted.items[0].summary).toContain(reason);
    expect(untrusted.items[0].summary).toContain("grants/oncall1-admin.yaml");
    expect(untrusted.items[0].grants).toEqual([]);
  });
});

test("(c) the bot's exact identity without a valid signature is not Timebox, whoever the committer is", async () => {
  const repo = directPushThenForgedRemoval((r, m, t) => r.commitAsTimebox(m, t, { signature: "none", committer: TIMEBOX_BOT }));
  const report = await audit(repo);
  expect(report.grants[0]).toMatchObject({ pull_request: null, approved_by: [], status: "removed" });
  expect(finding(report, "untrusted-records").items[0].summary).toContain("not signed");
});

test("--app-login names the bot: Timebox's own commit is a look-alike for another app", async () => {
  const repo = directPushThenForgedRemoval((r, m, t) => r.commitAsTimebox(m, t));
  const r = await cli(["audit", ...TRUST(), "--app-login", "other-app[bot]", "--repo", repo.root, "--format", "json"], "/");
  const report = JSON.parse(r.stdout) as Report;
  expect(report.grants[0]).toMatchObject({ pull_request: null, status: "removed" });
  expect(finding(report, "untrusted-records").items[0].summary).toContain("not other-app[bot]");
});

test("without --trusted-key only GitHub's own web-flow keys count: the emulated key's signature is not GitHub's", async () => {
  const repo = directPushThenForgedRemoval((r, m, t) => r.commitAsTimebox(m, t));
  const r = await cli(["audit", "--repo", repo.root, "--format", "json"], "/");
  const report = JSON.parse(r.stdout) as Report;
  expect(report.grants[0]).toMatchObject({ pull_request: null, status: "removed" });
});

test("--trusted-key that cannot be read, or holds no public key, is a usage error", async () => {
  const repo = new GitRepo();
  expect(await cli(["audit", "--trusted-key", "/nonexistent/key.asc", "--repo", repo.root], "/")).toMatchObject({
    code: 2,
    stderr: expect.stringContaining("--trusted-key /nonexistent/key.asc: cannot read it"),
  });
  expect(await cli(["audit", "--trusted-key", `${repo.root}/.git/HEAD`, "--repo", repo.root], "/")).toMatchObject({
    code: 2,
    stderr: expect.stringContaining("no armored OpenPGP public key"),
  });
  expect(await cli(["audit", "--app-login", "not a login", "--repo", repo.root], "/")).toMatchObject({ code: 2 });
});

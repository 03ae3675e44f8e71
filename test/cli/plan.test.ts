/** `timebox plan` over real Git repositories, in process: sections, boundaries, pending changes, exit codes. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { Plan } from "../../src/plan/types.js";
import { GitRepo, removalMessage, tempDir } from "../audit/git-repo.js";
import { POLICY_TEXT } from "../grants/helpers.js";
import { GRANT, POLICY_WITH_CAP, T, accessRepo, deleteUnstaged, mergePr, removeGitRepos, squashPr, writeUnstaged } from "../plan/repo.js";
import { cli, fingerprint } from "./repo.js";

afterAll(removeGitRepos);

async function plan(repo: string, at: string, ...args: string[]) {
  const r = await cli(["plan", "--repo", repo, "--at", at, "--format", "json", ...args], "/");
  expect(r.stderr).toBe("");
  return { code: r.code, plan: JSON.parse(r.stdout) as Plan };
}

/**
 * 08:00 policy; PR #2 dev2 1h merged 08:30; PR #1 dev1 2h merged 09:00; contractor1 pushed
 * directly 09:15; PR #3 merged a 9h grant (over the 8h max) 09:20; oncall1's break-glass squash
 * "(#4)" 09:50 (30m). Working tree: dev1 asks for 4h (extension), dev2 asks again, oncall1 another
 * break-glass.
 */
function morning(): GitRepo {
  const repo = accessRepo();
  mergePr(repo, 2, { "grants/dev2-prod-db.yaml": GRANT.dev2 }, T("08:30:00"));
  mergePr(repo, 1, { "grants/dev1-prod-db.yaml": GRANT.dev1 }, T("09:00:00"));
  repo.write({ "grants/contractor1.yaml": GRANT.contractor }).commit("Add contractor access", T("09:15:00"));
  mergePr(repo, 3, { "grants/too-long.yaml": GRANT.tooLong }, T("09:20:00"));
  squashPr(repo, 4, { "grants/oncall1-admin.yaml": GRANT.breakglass }, T("09:50:00"), "Break-glass for oncall1");
  writeUnstaged(repo, "grants/dev1-prod-db.yaml", GRANT.dev1Longer);
  writeUnstaged(repo, "grants/dev2-again.yaml", GRANT.dev2);
  writeUnstaged(repo, "grants/oncall1-admin-2.yaml", GRANT.breakglass.replace("duration: 30m", "duration: 20m"));
  return repo;
}

describe("a morning in an access repository, planned at 10:00", () => {
  let repo: GitRepo;
  let result: { code: number; plan: Plan };
  beforeAll(async () => {
    repo = morning();
    result = await plan(repo.root, T("10:00:00"));
  });

  test("exit 1: a file on the default branch fails validation", () => {
    expect(result.code).toBe(1);
    expect(result.plan.valid).toBe(false);
  });

  test("active: grants merged through a PR, expiry = merge commit + duration, soonest first", () => {
    expect(result.plan.active.map((a) => [a.path, a.pull_request, a.granted_at, a.expires_at, a.seconds_left, a.emergency, a.action])).toEqual([
      ["grants/oncall1-admin.yaml", 4, T("09:50:00"), T("10:20:00"), 1200, true, "ensure applied"],
      ["grants/dev1-prod-db.yaml", 1, T("09:00:00"), T("11:00:00"), 3600, false, "ensure applied"],
    ]);
    expect(result.plan.active[1]).toMatchObject({
      requester: "dev1",
      resource: "prod-db",
      role: "readonly",
      extensions: 0,
      max_extensions: null,
      approval: { approvals: 1, approvers: ["@acme/sre", "sre1"] },
    });
    expect(result.plan.next_expiry).toEqual({ path: "grants/oncall1-admin.yaml", expires_at: T("10:20:00") });
  });

  test("would revoke: the expired grant still on the branch", () => {
    expect(result.plan.revoke).toEqual([
      {
        path: "grants/dev2-prod-db.yaml",
        requester: "dev2",
        resource: "prod-db",
        role: "readonly",
        pull_request: 2,
        reason: "expired",
        since: T("09:30:00"),
        expires_at: T("09:30:00"),
        action: "revoke at the provider, then remove the file in a Timebox commit (Revoke-Reason: expired)",
      },
    ]);
  });

  test("would report, never apply: a direct push, and a merged grant that fails validation", () => {
    expect(result.plan.report.map((r) => [r.path, r.pull_request, r.committed_at])).toEqual([
      ["grants/contractor1.yaml", null, T("09:15:00")],
      ["grants/too-long.yaml", 3, T("09:20:00")],
    ]);
    expect(result.plan.report[0].why).toMatch(/^pushed to the default branch without a pull request/);
    expect(result.plan.report[1].why).toBe("PR #3 merged a grant that fails validation (see Invalid)");
  });

  test("invalid: located diagnostics, as `timebox validate` gives them", () => {
    expect(result.plan.invalid).toEqual([
      {
        path: "grants/too-long.yaml",
        where: "default branch",
        diagnostics: [expect.objectContaining({ line: 4, column: 11, rule: "policy.max-duration", severity: "error" })],
      },
    ]);
  });

  test("pending in the working tree: an extension, a new request and a break-glass request", () => {
    expect(result.plan.pending_source).toBe("working tree");
    const [extension, fresh, breakglass] = result.plan.pending;
    expect(result.plan.pending.map((p) => [p.path, p.change, p.valid])).toEqual([
      ["grants/dev1-prod-db.yaml", "extension", true],
      ["grants/dev2-again.yaml", "new request", true],
      ["grants/oncall1-admin-2.yaml", "new request", true],
    ]);
    expect(extension.extension).toEqual({ of_pull_request: 1, number: 1, max_extensions: null, current_expires_at: T("11:00:00") });
    expect(extension.on_merge).toMatch(
      /^needs 1 approval from @acme\/sre, sre1; on merge the grant of PR #1 runs until the merge \+ 4h \(now it ends 2026-03-02T11:00:00Z\); extension 1;/,
    );
    expect(fresh.on_merge).toBe("needs 1 approval from @acme/sre, sre1; active from the merge for 1h; an unapproved PR is closed after request_ttl 24h");
    expect(breakglass.breakglass).toEqual({ max_duration: "30m", review_within: "24h" });
    expect(breakglass.approval).toEqual({ approvals: 2, approvers: ["@acme/dba"] });
    expect(breakglass.on_merge).toBe(
      "break-glass: applied as soon as its PR is open and timebox/validate passes, before any review, for 20m (at most 30m); 2 approvals from @acme/dba due within 24h afterwards",
    );
  });

  test("the table shows every section and says provider state is not checked", async () => {
    const r = await cli(["plan", "--at", T("10:00:00")], repo.root);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("Provider state is not checked (no credentials, no network)");
    expect(r.stdout).toMatch(/^Active \(2\)$/m);
    expect(r.stdout).toMatch(
      /│ grants\/dev1-prod-db\.yaml +│ dev1 +│ prod-db\/readonly +│ #1 +│ 2026-03-02T09:00:00Z │ 2026-03-02T11:00:00Z │ 1h +│ 0 +│ ensure applied/,
    );
    expect(r.stdout).toMatch(/^Would revoke \(1\)$/m);
    expect(r.stdout).toMatch(/^Would report, never apply \(2\)$/m);
    expect(r.stdout).toMatch(
      /^Invalid \(1\)\ngrants\/too-long\.yaml \(default branch\):\n {2}grants\/too-long\.yaml:4:11 error duration 9h exceeds max_duration 8h .*\[policy\.max-duration\]$/m,
    );
    expect(r.stdout).toMatch(/^Pending in the working tree \(3\)$/m);
    expect(r.stdout).toMatch(
      /^Next expiry: grants\/oncall1-admin\.yaml at 2026-03-02T10:20:00Z \(in 20m\)\n2 active, 1 to revoke, 2 to report, 1 invalid, 3 pending$/m,
    );
  });

  test("planning changes nothing in the repository", async () => {
    const before = fingerprint(repo.root);
    await cli(["plan", "--repo", repo.root], "/");
    expect(fingerprint(repo.root)).toBe(before);
  });
});

describe("--at", () => {
  let repo: GitRepo;
  beforeAll(() => {
    repo = accessRepo();
    mergePr(repo, 1, { "grants/dev1-prod-db.yaml": GRANT.dev1 }, T("09:00:00"));
  });

  test("one second before expiry the grant is active; at the exact second it would be revoked", async () => {
    const before = await plan(repo.root, T("10:59:59"));
    expect(before.code).toBe(0);
    expect(before.plan.active.map((a) => [a.path, a.seconds_left])).toEqual([["grants/dev1-prod-db.yaml", 1]]);
    expect(before.plan.revoke).toEqual([]);

    const at = await plan(repo.root, T("11:00:00"));
    expect(at.code).toBe(0);
    expect(at.plan.active).toEqual([]);
    expect(at.plan.revoke.map((r) => [r.path, r.reason, r.since])).toEqual([["grants/dev1-prod-db.yaml", "expired", T("11:00:00")]]);
  });

  test("a time with an offset is read as such; the plan's time is printed in UTC", async () => {
    const r = await plan(repo.root, "2026-03-02T11:30:00+01:00");
    expect(r.plan.at).toBe(T("10:30:00"));
    expect(r.plan.active[0].seconds_left).toBe(1800);
  });

  test("run from a folder inside the work tree, --repo defaults to it and finds the top", async () => {
    const r = await cli(["plan", "--at", T("10:00:00"), "--format", "json"], join(repo.root, "grants"));
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Plan).active.map((a) => a.path)).toEqual(["grants/dev1-prod-db.yaml"]);
  });

  test("exit 0 and empty sections when nothing is invalid", async () => {
    const r = await cli(["plan", "--at", T("10:00:00")], repo.root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Would revoke: none$/m);
    expect(r.stdout).toMatch(/^Invalid: none$/m);
    expect(r.stdout).toMatch(/^Pending in the working tree: none$/m);
  });
});

describe("extensions", () => {
  test("counted from the history; beyond the role's max_extensions a pending extension is invalid", async () => {
    const repo = accessRepo(POLICY_WITH_CAP);
    mergePr(repo, 1, { "grants/dev1-prod-db.yaml": GRANT.dev1 }, T("09:00:00"));
    mergePr(repo, 2, { "grants/dev1-prod-db.yaml": GRANT.dev1Longer }, T("10:30:00"));
    writeUnstaged(repo, "grants/dev1-prod-db.yaml", GRANT.dev1Longer.replace("duration: 4h", "duration: 6h"));
    const r = await plan(repo.root, T("11:00:00"));
    expect(r.plan.policy.valid).toBe(true);
    expect(r.plan.active.map((a) => [a.path, a.pull_request, a.granted_at, a.expires_at, a.extensions, a.max_extensions])).toEqual([
      ["grants/dev1-prod-db.yaml", 2, T("10:30:00"), T("14:30:00"), 1, 1],
    ]);
    expect(r.code).toBe(1);
    expect(r.plan.pending).toEqual([expect.objectContaining({ path: "grants/dev1-prod-db.yaml", change: "extension", valid: false })]);
    expect(r.plan.invalid).toEqual([
      {
        path: "grants/dev1-prod-db.yaml",
        where: "checkout",
        diagnostics: [expect.objectContaining({ line: 4, column: 11, rule: "policy.max-extensions", severity: "error" })],
      },
    ]);
  });

  test("a second extension names the PR that first requested the grant and counts on from the history", async () => {
    const repo = accessRepo();
    mergePr(repo, 1, { "grants/dev1-prod-db.yaml": GRANT.dev1 }, T("09:00:00"));
    mergePr(repo, 2, { "grants/dev1-prod-db.yaml": GRANT.dev1Longer }, T("10:30:00"));
    writeUnstaged(repo, "grants/dev1-prod-db.yaml", GRANT.dev1Longer.replace("duration: 4h", "duration: 6h"));
    const r = await plan(repo.root, T("11:00:00"));
    expect(r.code).toBe(0);
    expect(r.plan.pending).toEqual([
      expect.objectContaining({
        change: "extension",
        valid: true,
        extension: { of_pull_request: 1, number: 2, max_extensions: null, current_expires_at: T("14:30:00") },
      }),
    ]);
  });

  test("a change of requester, resource or role is not an extension: invalid, at the changed key", async () => {
    const repo = accessRepo();
    mergePr(repo, 1, { "grants/dev1-prod-db.yaml": GRANT.dev1 }, T("09:00:00"));
    writeUnstaged(repo, "grants/dev1-prod-db.yaml", GRANT.dev1.replace("requester: dev1", "requester: dev2"));
    const r = await plan(repo.root, T("10:00:00"));
    expect(r.code).toBe(1);
    expect(r.plan.invalid[0].diagnostics).toEqual([expect.objectContaining({ line: 1, column: 12, rule: "grant.extension-changes-identity" })]);
    expect(r.plan.pending[0]).toMatchObject({
      change: "extension",
      valid: false,
      on_merge: "refused: timebox/validate fails (see Invalid); nothing is applied",
    });
  });
});

describe("pending changes", () => {
  test("deleting an active grant in the working tree: revoked at once on merge", async () => {
    const repo = accessRepo();
    mergePr(repo, 1, { "grants/dev1-prod-db.yaml": GRANT.dev1 }, T("09:00:00"));
    deleteUnstaged(repo, "grants/dev1-prod-db.yaml");
    const r = await plan(repo.root, T("10:00:00"));
    expect(r.plan.pending).toEqual([
      expect.objectContaining({
        path: "grants/dev1-prod-db.yaml",
        change: "removal",
        valid: true,
        on_merge: "revoked at once when the PR merges (Revoke-Reason: removed); it would otherwise expire at 2026-03-02T11:00:00Z",
      }),
    ]);
  });

  test("an invalid new file in the working tree: located diagnostic, exit 1; README.md and .gitkeep are housekeeping", async () => {
    const repo = accessRepo();
    writeUnstaged(repo, "grants/dev1.yaml", GRANT.dev1.replace("ticket: INC-1234", "ticket: JIRA-7"));
    writeUnstaged(repo, "grants/README.md", "# Grants\n");
    writeUnstaged(repo, "grants/.gitkeep", "");
    const r = await plan(repo.root, T("10:00:00"));
    expect(r.code).toBe(1);
    expect(r.plan.invalid).toEqual([
      { path: "grants/dev1.yaml", where: "checkout", diagnostics: [expect.objectContaining({ line: 6, column: 9, rule: "policy.ticket-pattern" })] },
    ]);
    expect(r.plan.pending.map((p) => [p.path, p.change, p.valid])).toEqual([["grants/dev1.yaml", "new request", false]]);
  });

  test("any other file under grants_path (a dot-file grant, another extension) is shown pending and refused, as timebox/validate does", async () => {
    const repo = accessRepo();
    writeUnstaged(repo, "grants/dev1.yaml", GRANT.dev1);
    writeUnstaged(repo, "grants/.x.yaml", GRANT.dev1);
    writeUnstaged(repo, "grants/notes.txt", "hello\n");
    const r = await plan(repo.root, T("10:00:00"));
    expect(r.code).toBe(1);
    expect(r.plan.pending.map((p) => [p.path, p.change, p.valid])).toEqual([
      ["grants/.x.yaml", "new request", false],
      ["grants/dev1.yaml", "new request", true],
      ["grants/notes.txt", "new request", false],
    ]);
    expect(r.plan.invalid).toEqual([
      {
        path: "grants/.x.yaml",
        where: "checkout",
        diagnostics: [expect.objectContaining({ line: 1, column: 1, rule: "grant.not-a-grant", message: expect.stringMatching(/dot-file/) })],
      },
      { path: "grants/notes.txt", where: "checkout", diagnostics: [expect.objectContaining({ rule: "grant.not-a-grant" })] },
    ]);
  });

  test("a dot-file grant already on the default branch is not an active grant (the reconciler never applies it)", async () => {
    const repo = accessRepo();
    mergePr(repo, 1, { "grants/.x.yaml": GRANT.dev1 }, T("09:00:00"));
    const r = await plan(repo.root, T("10:00:00"));
    expect(r.plan.active).toEqual([]);
  });

  test("a clone: the default branch is origin/HEAD, the feature branch's commits are pending, and files Timebox removed since the branch started are not", async () => {
    const origin = accessRepo();
    mergePr(origin, 1, { "grants/dev1-prod-db.yaml": GRANT.dev1 }, T("09:00:00"));
    const clone = join(tempDir(), "clone");
    execFileSync("git", ["clone", "-q", origin.root, clone]);
    const g = (...a: string[]) =>
      execFileSync("git", ["-c", "user.name=x", "-c", "user.email=x@example.com", "-c", "commit.gpgsign=false", ...a], { cwd: clone });
    g("checkout", "-q", "-b", "dev2-access");
    writeUnstaged({ root: clone }, "grants/dev2-prod-db.yaml", GRANT.dev2);
    g("add", "-A");
    g("commit", "-q", "-m", "Request access for dev2");
    // Meanwhile Timebox revokes dev1's grant on the default branch; the clone fetches it.
    origin.rm("grants/dev1-prod-db.yaml").commit(
      removalMessage({
        path: "grants/dev1-prod-db.yaml",
        requester: "dev1",
        approvedBy: "sre1",
        pr: 1,
        grantedAt: T("09:00:00"),
        expiresAt: T("11:00:00"),
        revokedAt: T("11:00:02"),
        reason: "expired",
      }),
      T("11:00:05"),
    );
    g("fetch", "-q", "origin");

    const r = await plan(clone, T("11:30:00"));
    expect(r.plan.default_branch.ref).toBe("origin/HEAD");
    expect(r.plan.default_branch.commit).toBe(origin.git(["rev-parse", "HEAD"]).trim());
    expect(r.plan.active).toEqual([]);
    expect(r.plan.revoke).toEqual([]); // removed by Timebox itself: nothing left to do
    expect(r.plan.pending.map((p) => [p.path, p.change])).toEqual([["grants/dev2-prod-db.yaml", "new request"]]);
  });

  test("a bare clone has no working tree: its HEAD is the default branch, so nothing is pending", async () => {
    const origin = accessRepo();
    mergePr(origin, 1, { "grants/dev1-prod-db.yaml": GRANT.dev1 }, T("09:00:00"));
    const bare = join(tempDir(), "bare.git");
    execFileSync("git", ["clone", "-q", "--bare", origin.root, bare]);
    const r = await plan(bare, T("10:00:00"));
    expect(r.plan.pending_source).toBe("HEAD");
    expect(r.plan.pending).toEqual([]);
    expect(r.plan.active.map((a) => a.path)).toEqual(["grants/dev1-prod-db.yaml"]);
  });
});

describe("what else a reconcile would do", () => {
  test("a grant removed by a merged PR within the history window: ensure revoked; Timebox's own removals are done", async () => {
    const repo = accessRepo();
    mergePr(repo, 1, { "grants/dev1-prod-db.yaml": GRANT.dev1 }, T("09:00:00"));
    mergePr(repo, 2, { "grants/dev2-prod-db.yaml": GRANT.dev2 }, T("09:05:00"));
    mergePr(repo, 5, { "grants/dev1-prod-db.yaml": null }, T("09:30:00"));
    repo.rm("grants/dev2-prod-db.yaml").commit(
      removalMessage({
        path: "grants/dev2-prod-db.yaml",
        requester: "dev2",
        approvedBy: "sre1",
        pr: 2,
        grantedAt: T("09:05:00"),
        expiresAt: T("10:05:00"),
        revokedAt: T("10:05:01"),
        reason: "expired",
      }),
      T("10:05:02"),
    );
    const r = await plan(repo.root, T("10:30:00"));
    expect(r.plan.revoke).toEqual([
      expect.objectContaining({
        path: "grants/dev1-prod-db.yaml",
        pull_request: 1,
        reason: "removed",
        since: T("09:30:00"),
        action: "ensure revoked at the provider: the file was removed by PR #5",
      }),
    ]);
    // The window is the policy's longest max_duration (8h) plus 24 h.
    const later = await plan(repo.root, "2026-03-03T17:30:01Z");
    expect(later.plan.revoke).toEqual([]);
  });

  test("a merge whose content differs from the PR's head is reported, never applied", async () => {
    const repo = accessRepo();
    repo.branch("pr-7").write({ "grants/dev1-prod-db.yaml": GRANT.dev1 }).commit("Request", T("08:50:00"));
    repo.checkout("main");
    repo.git(["merge", "-q", "--no-ff", "--no-commit", "pr-7"]);
    repo.write({ "grants/dev1-prod-db.yaml": GRANT.dev1.replace("duration: 2h", "duration: 8h") });
    repo.commit("Merge pull request #7 from acme/pr-7", T("09:00:00"));
    const r = await plan(repo.root, T("10:00:00"));
    expect(r.code).toBe(0);
    expect(r.plan.active).toEqual([]);
    expect(r.plan.report).toEqual([
      expect.objectContaining({
        path: "grants/dev1-prod-db.yaml",
        pull_request: 7,
        why: "the content on the default branch differs from what PR #7 had at its head",
      }),
    ]);
  });

  test("a grant is judged by the policy at its merge's base: a stricter policy later does not make it invalid", async () => {
    const repo = accessRepo();
    mergePr(repo, 1, { "grants/dev1-prod-db.yaml": GRANT.dev1Longer }, T("09:00:00"));
    mergePr(repo, 2, { ".github/timebox.yml": POLICY_TEXT.replace("max_duration: 8h", "max_duration: 1h") }, T("09:10:00"));
    const r = await plan(repo.root, T("10:00:00"));
    expect(r.code).toBe(0);
    expect(r.plan.active.map((a) => [a.path, a.expires_at])).toEqual([["grants/dev1-prod-db.yaml", T("13:00:00")]]);
  });

  test("an invalid policy on the default branch: exit 1, applying paused, expired grants still revoked", async () => {
    const repo = accessRepo();
    mergePr(repo, 1, { "grants/dev1-prod-db.yaml": GRANT.dev1 }, T("09:00:00"));
    mergePr(repo, 2, { "grants/dev2-prod-db.yaml": GRANT.dev2 }, T("09:01:00"));
    mergePr(repo, 3, { ".github/timebox.yml": POLICY_TEXT.replace("approvals: 1", "approvals: 0") }, T("09:10:00"));
    const r = await plan(repo.root, T("10:30:00"));
    expect(r.code).toBe(1);
    expect(r.plan.policy).toMatchObject({ present: true, valid: false });
    expect(r.plan.invalid.map((i) => [i.path, i.where])).toEqual([[".github/timebox.yml", "default branch"]]);
    expect(r.plan.active.map((a) => [a.path, a.action])).toEqual([["grants/dev1-prod-db.yaml", "none: applying is paused while the policy is invalid"]]);
    expect(r.plan.revoke.map((a) => [a.path, a.reason])).toEqual([["grants/dev2-prod-db.yaml", "expired"]]);
  });

  test("no policy on the default branch: a reconcile does nothing; grant files cannot be judged", async () => {
    const repo = new GitRepo();
    repo.write({ "grants/dev1.yaml": GRANT.dev1 }).commit("Grant without policy (#1)", T("09:00:00"));
    const r = await cli(["plan", "--at", T("10:00:00")], repo.root);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("Policy .github/timebox.yml: missing on the default branch: a reconcile does nothing in this repository");
    expect(r.stdout).toMatch(/grants\/dev1\.yaml:1:1 error cannot be checked against the policy.*\[grant\.no-policy\]/);
    expect(r.stdout).toMatch(/^Active: none$/m);
  });
});

describe("usage errors exit 2", () => {
  test.each([
    [["plan", "--at", "tomorrow-ish"], /--at "tomorrow-ish" is not a date or time/],
    [["plan", "--format", "csv"], /argument 'csv' is invalid/],
    [["plan", "--bogus"], /unknown option/],
  ])("%j", async (args, message) => {
    const repo = accessRepo();
    const r = await cli(args, repo.root);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
  });

  test("a folder that is not a Git repository", async () => {
    const r = await cli(["plan", "--repo", tempDir()], "/");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^timebox plan: .* is not a Git repository/);
  });
});

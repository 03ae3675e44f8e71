/** `timebox audit --github OWNER/REPO`: approvals, request times and outcomes from the API, against nock. */
import nock from "nock";
import { auditOctokit } from "../../src/audit/github.js";
import { runAudit } from "../../src/cli/audit.js";
import { runCli } from "../../src/cli/program.js";
import { GitRepo, grantYaml, removeGitRepos, TRUST } from "./git-repo.js";
import { outcome, removal } from "./messages.js";

const API = "https://ghe.example.com/api/v3";
const REPO = "/repos/acme/access";
const TOKEN = "ghp_SECRETSECRETSECRET0123456789abcdef";
const HEAD = "1111111111111111111111111111111111111111";

afterAll(removeGitRepos);
beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

const D = "2026-03-02T";
const merge = (repo: GitRepo, n: number, files: Record<string, string>, at: string) => {
  repo.branch(`pr-${n}`).write(files).commit(`PR ${n}`, `${D}08:00:00Z`);
  repo.checkout("main").merge(`pr-${n}`, `Merge pull request #${n} from acme/pr-${n}`, at);
};

/**
 * #1 dev1, merged 10:00, no Timebox record yet; #2 dev2 merged without approval; #3 oncall1
 * break-glass, revoked with Review-Due and no review in Git; #5 dev5 with an outcome in Git;
 * #4 dev4, a PR GitHub no longer has.
 */
function repoWithPrs(): GitRepo & { records: string[] } {
  const repo = new GitRepo();
  repo.write({ "README.md": "access\n" }).commit("init", `${D}07:00:00Z`);
  merge(repo, 1, { "grants/dev1.yaml": grantYaml({ requester: "dev1", duration: "8h", reason: "r1" }) }, `${D}10:00:00Z`);
  merge(repo, 2, { "grants/dev2.yaml": grantYaml({ requester: "dev2", duration: "8h", reason: "r2" }) }, `${D}10:10:00Z`);
  merge(
    repo,
    3,
    { "grants/oncall1.yaml": grantYaml({ requester: "oncall1", role: "admin", duration: "30m", reason: "r3", emergency: true }) },
    `${D}10:20:00Z`,
  );
  const revoked = repo.rm("grants/oncall1.yaml").commitAsTimebox(
    removal({
      path: "grants/oncall1.yaml",
      requester: "oncall1",
      role: "admin",
      pr: 3,
      grantedAt: `${D}10:05:00Z`,
      expiresAt: `${D}10:35:00Z`,
      revokedAt: `${D}10:35:01Z`,
      reason: "expired",
      emergency: { reviewDue: `${D}10:15:00Z` },
    }),
    `${D}10:35:02Z`,
  );
  merge(repo, 4, { "grants/dev4.yaml": grantYaml({ requester: "dev4", duration: "8h", reason: "r4" }) }, `${D}10:40:00Z`);
  merge(repo, 5, { "grants/dev5.yaml": grantYaml({ requester: "dev5", duration: "8h", reason: "r5" }) }, `${D}10:50:00Z`);
  const recorded = repo.commitAsTimebox(outcome({ path: "grants/dev5.yaml", pr: 5, text: "from git", by: "dev5", at: `${D}11:00:00Z` }), `${D}11:00:01Z`);
  return Object.assign(repo, { records: [revoked, recorded] });
}

/** GitHub's view of a commit: verified or not, and the accounts it links author and committer to. */
const commitView = (sha: string, o: { verified?: boolean; author?: string; committer?: string } = {}) => ({
  sha,
  commit: {
    message: "m",
    author: { name: "timebox[bot]", email: "4242+timebox[bot]@users.noreply.github.com", date: `${D}10:00:00Z` },
    committer: { name: "GitHub", email: "noreply@github.com", date: `${D}10:00:00Z` },
    verification: { verified: o.verified ?? true, reason: o.verified === false ? "unknown_key" : "valid", signature: null, payload: null, verified_at: null },
  },
  author: user(o.author ?? "timebox[bot]", "Bot"),
  committer: user(o.committer ?? "web-flow"),
  parents: [],
});

/** GitHub confirms each of Timebox's commits (one GET /commits/{sha} each). */
function mockCommits(scope: nock.Scope, shas: readonly string[], o: { verified?: boolean; author?: string; committer?: string } = {}): nock.Scope {
  for (const sha of shas) scope.get(`${REPO}/commits/${sha}`).query(true).reply(200, commitView(sha, o));
  return scope;
}

const user = (login: string, type = "User") => ({ login, id: login.length * 1000, node_id: `U_${login}`, type, site_admin: false });
const pull = (n: number, author: string, createdAt: string, mergedAt: string, head = HEAD) => ({
  url: `${API}${REPO}/pulls/${n}`,
  id: 9000 + n,
  number: n,
  state: "closed",
  title: `Access for ${author}`,
  user: user(author),
  body: "Please",
  created_at: createdAt,
  updated_at: mergedAt,
  closed_at: mergedAt,
  merged_at: mergedAt,
  merge_commit_sha: "c".repeat(40),
  draft: false,
  head: { label: `acme:pr-${n}`, ref: `pr-${n}`, sha: head },
  base: { label: "acme:main", ref: "main", sha: "d".repeat(40) },
  author_association: "MEMBER",
});
let reviewId = 100;
const review = (login: string, state: string, submittedAt: string, type = "User", commit = HEAD) => ({
  id: reviewId++,
  node_id: `PRR_${reviewId}`,
  user: user(login, type),
  body: "",
  state,
  html_url: `https://ghe.example.com/acme/access/pull/1#pullrequestreview-${reviewId}`,
  pull_request_url: `${API}${REPO}/pulls/1`,
  author_association: "MEMBER",
  submitted_at: submittedAt,
  commit_id: commit,
});
let commentId = 500;
const comment = (login: string, body: string, createdAt: string, type = "User") => ({
  id: commentId++,
  node_id: `IC_${commentId}`,
  user: user(login, type),
  body,
  created_at: createdAt,
  updated_at: createdAt,
  author_association: "MEMBER",
  html_url: `https://ghe.example.com/acme/access/pull/1#issuecomment-${commentId}`,
});

const TIMEBOX_APP = { id: 4242, slug: "timebox" };
const GITHUB_ACTIONS = { id: 15368, slug: "github-actions" };
let runId = 700;
/** A `timebox/validate` (or `name`) check run on `head` by `app`, naming the pusher of `head` as Timebox records it. */
const validateRun = (head: string, pusher: string, app = TIMEBOX_APP, name = "timebox/validate") => ({
  id: runId++,
  name,
  head_sha: head,
  external_id: `pusher:${pusher}`,
  status: "completed",
  conclusion: "success",
  app: { id: app.id, slug: app.slug, name: app.slug, owner: user("acme", "Organization") },
});
/** GitHub's answer to the check runs (all of them, every name) on `head`, `times` times. */
function mockValidateRuns(scope: nock.Scope, head: string, runs: object[], times = 1): nock.Scope {
  return scope
    .get(`${REPO}/commits/${head}/check-runs`)
    .query((q) => q.filter === "all" && q.check_name === undefined)
    .times(times)
    .reply(200, { total_count: runs.length, check_runs: runs });
}

function mockGithub(): nock.Scope {
  const scope = nock(API, { reqheaders: { authorization: `token ${TOKEN}` } });
  scope
    .get(`${REPO}/pulls/1`)
    .reply(200, pull(1, "dev1", `${D}09:00:00Z`, `${D}10:00:00Z`))
    .get(`${REPO}/pulls/1/reviews`)
    .query({ per_page: 100 })
    .reply(200, [
      review("bob", "APPROVED", `${D}09:00:20Z`),
      review("carol", "COMMENTED", `${D}09:05:00Z`),
      review("dev1", "APPROVED", `${D}09:06:00Z`), // the author never counts
      review("renovate[bot]", "APPROVED", `${D}09:07:00Z`, "Bot"),
      review("alice", "CHANGES_REQUESTED", `${D}09:10:00Z`),
      review("alice", "APPROVED", `${D}09:30:00Z`),
      review("erin", "APPROVED", `${D}10:30:00Z`), // after the merge
    ])
    .get(`${REPO}/issues/1/comments`)
    .query({ per_page: 100 })
    .reply(200, [comment("dev1", "/timebox outcome Found the bug", `${D}12:00:00Z`), comment("mallory", "/timebox outcome It was useless", `${D}12:01:00Z`)], {
      Link: `<${API}${REPO}/issues/1/comments?per_page=100&page=2>; rel="next", <${API}${REPO}/issues/1/comments?per_page=100&page=2>; rel="last"`,
    })
    .get(`${REPO}/issues/1/comments`)
    .query({ per_page: 100, page: 2 })
    .reply(200, [
      comment("dev1", "/timebox outcome Fixed it for good\nmore text", `${D}12:05:00Z`),
      comment("timebox[bot]", "/timebox outcome bot", `${D}12:06:00Z`, "Bot"),
    ])
    .get(`${REPO}/pulls/2`)
    .reply(200, pull(2, "dev2", `${D}10:00:00Z`, `${D}10:10:00Z`))
    .get(`${REPO}/pulls/2/reviews`)
    .query({ per_page: 100 })
    .reply(200, [])
    .get(`${REPO}/issues/2/comments`)
    .query({ per_page: 100 })
    .reply(200, [])
    .get(`${REPO}/pulls/3`)
    .reply(200, pull(3, "oncall1", `${D}10:05:00Z`, `${D}10:20:00Z`))
    .get(`${REPO}/pulls/3/reviews`)
    .query({ per_page: 100 })
    .reply(200, [review("bob", "APPROVED", `${D}10:18:00Z`)])
    .get(`${REPO}/issues/3/comments`)
    .query({ per_page: 100 })
    .reply(200, [])
    .get(`${REPO}/pulls/4`)
    .reply(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest/pulls/pulls#get-a-pull-request" })
    .get(`${REPO}/pulls/5`)
    // A request PR (`/timebox request`): opened by Timebox's bot for dev5, whose own review never counts.
    .reply(200, pull(5, "timebox[bot]", `${D}10:45:00Z`, `${D}10:50:00Z`))
    .get(`${REPO}/pulls/5/reviews`)
    .query({ per_page: 100 })
    .reply(200, [review("dev5", "APPROVED", `${D}10:46:00Z`), review("carol", "APPROVED", `${D}10:48:00Z`)])
    .get(`${REPO}/issues/5/comments`)
    .query({ per_page: 100 })
    .reply(200, [comment("dev5", "/timebox outcome from a comment", `${D}11:30:00Z`)]);
  // Who pushed the head, as Timebox recorded it: read for PRs 1, 3 and 5, whose heads were approved (#2 has no review, #4 is gone).
  return mockValidateRuns(scope, HEAD, [validateRun(HEAD, "dev1")], 3);
}

async function audit(args: string[], env: NodeJS.ProcessEnv) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(["audit", ...TRUST(), ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: "/", env });
  return { code, stdout, stderr };
}

const ENV = { GITHUB_API_URL: API, TIMEBOX_GITHUB_TOKEN: TOKEN };

test("rows gain request times, approvers and approval times, late reviews and outcomes from comments; Git wins where it has them", async () => {
  const repo = repoWithPrs();
  const scope = mockCommits(mockGithub(), repo.records);
  const r = await audit(["--repo", repo.root, "--format", "json", "--github", "acme/access"], ENV);
  expect(scope.pendingMocks()).toEqual([]);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe("timebox audit: PR #4 was not found on acme/access; its rows keep what Git says\n");
  const { grants, findings } = JSON.parse(r.stdout);
  const pick = (g: Record<string, unknown>) => [
    g.pull_request,
    g.requested_at,
    g.approved_by,
    g.approved_at,
    g.reviewed_by,
    g.reviewed_at,
    g.outcome,
    g.outcome_by,
    g.outcome_at,
  ];
  expect(grants.map(pick)).toEqual([
    [1, `${D}09:00:00Z`, ["bob", "alice"], `${D}09:30:00Z`, [], null, "Fixed it for good", "dev1", `${D}12:05:00Z`],
    [3, `${D}10:05:00Z`, ["bob"], `${D}10:18:00Z`, ["bob"], `${D}10:18:00Z`, null, null, null],
    [2, `${D}10:00:00Z`, [], null, [], null, null, null, null],
    [4, null, [], null, [], null, null, null, null],
    [5, `${D}10:45:00Z`, ["carol"], `${D}10:48:00Z`, [], null, "from git", "dev5", `${D}11:00:00Z`],
  ]);
  const byId = Object.fromEntries(findings.map((f: { id: string }) => [f.id, f]));
  expect(byId["fast-approval"].status).toBe("found");
  expect(byId["fast-approval"].items.map((i: { summary: string }) => i.summary)).toEqual([
    `PR #1 (dev1, prod-db/readonly) opened ${D}09:00:00Z, approved by bob after 20s`,
  ]);
  expect(byId["unapproved-content"].items.map((i: { grants: Array<{ pull_request: number }> }) => i.grants[0].pull_request)).toEqual([2]);
  expect(byId["break-glass"].items[0].summary).toContain(`reviewed late by bob at ${D}10:18:00Z`);
  expect(r.stdout + r.stderr).not.toContain(TOKEN);
});

test("GITHUB_TOKEN is used when TIMEBOX_GITHUB_TOKEN is absent", async () => {
  const repo = new GitRepo();
  repo.write({ "README.md": "access\n" }).commit("init", `${D}07:00:00Z`);
  merge(repo, 2, { "grants/dev2.yaml": grantYaml({ requester: "dev2", duration: "8h", reason: "r2" }) }, `${D}10:10:00Z`);
  const scope = nock(API, { reqheaders: { authorization: `token ${TOKEN}` } })
    .get(`${REPO}/pulls/2`)
    .reply(200, pull(2, "dev2", `${D}10:00:00Z`, `${D}10:10:00Z`))
    .get(`${REPO}/pulls/2/reviews`)
    .query(true)
    .reply(200, [])
    .get(`${REPO}/issues/2/comments`)
    .query(true)
    .reply(200, []);
  const r = await audit(["--repo", repo.root, "--format", "csv", "--github", "acme/access"], { GITHUB_API_URL: API, GITHUB_TOKEN: TOKEN });
  expect(r.code).toBe(0);
  expect(scope.pendingMocks()).toEqual([]);
  expect(r.stdout.split("\r\n")[1]).toContain(`,2,pull-request,${D}10:00:00Z,,,${D}10:10:00Z,`);
});

test("a request PR merged with only its requester's own approval is reported as merged without an approving review", async () => {
  // `/timebox request`: the PR is the app's, so GitHub let dev6 approve it, and its branch rule
  // (one approving review) let it merge. Timebox never counted dev6's review; nor may the audit.
  const repo = new GitRepo();
  repo.write({ "README.md": "access\n" }).commit("init", `${D}07:00:00Z`);
  merge(repo, 6, { "grants/dev6.yaml": grantYaml({ requester: "dev6", duration: "8h", reason: "r6" }) }, `${D}10:10:00Z`);
  const scope = nock(API, { reqheaders: { authorization: `token ${TOKEN}` } })
    .get(`${REPO}/pulls/6`)
    .reply(200, pull(6, "timebox[bot]", `${D}10:00:00Z`, `${D}10:10:00Z`))
    .get(`${REPO}/pulls/6/reviews`)
    .query(true)
    .reply(200, [review("dev6", "APPROVED", `${D}10:00:10Z`)])
    .get(`${REPO}/issues/6/comments`)
    .query(true)
    .reply(200, []);
  // Timebox made the PR's commit: its own bot pushed it.
  mockValidateRuns(scope, HEAD, [validateRun(HEAD, "timebox[bot]")]);
  const r = await audit(["--repo", repo.root, "--format", "json", "--github", "acme/access"], ENV);
  expect(r.code).toBe(0);
  expect(scope.pendingMocks()).toEqual([]);
  const { grants, findings } = JSON.parse(r.stdout);
  expect(grants[0]).toMatchObject({ pull_request: 6, approved_by: [], approved_at: null });
  const byId = Object.fromEntries(findings.map((f: { id: string }) => [f.id, f]));
  expect(byId["unapproved-content"].items.map((i: { summary: string }) => i.summary)).toEqual([
    expect.stringContaining("grants/dev6.yaml (dev6, prod-db/readonly) was merged in PR #6 without an approving review"),
  ]);
  // The requester's own review is no approval at all, fast or slow.
  expect(byId["fast-approval"].items).toEqual([]);
});

/** PR #7 by dev7, merged at 10:10, with head `head` and these reviews; Timebox's and others' validate runs on the head. */
function mergedPr7(reviews: object[], runs: object[], head = "7".repeat(40)) {
  const repo = new GitRepo();
  repo.write({ "README.md": "access\n" }).commit("init", `${D}07:00:00Z`);
  merge(repo, 7, { "grants/dev7.yaml": grantYaml({ requester: "dev7", duration: "8h", reason: "r7" }) }, `${D}10:10:00Z`);
  const scope = nock(API, { reqheaders: { authorization: `token ${TOKEN}` } })
    .get(`${REPO}/pulls/7`)
    .reply(200, pull(7, "dev7", `${D}09:00:00Z`, `${D}10:10:00Z`, head))
    .get(`${REPO}/pulls/7/reviews`)
    .query(true)
    .reply(200, reviews)
    .get(`${REPO}/issues/7/comments`)
    .query(true)
    .reply(200, []);
  return { repo, scope: mockValidateRuns(scope, head, runs) };
}

const unapprovedPrs = (findings: Array<{ id: string; items: Array<{ grants: Array<{ pull_request: number }> }> }>) =>
  findings.find((f) => f.id === "unapproved-content")!.items.map((i) => i.grants[0].pull_request);

test("an approval of an older commit, or by whoever pushed the head, is no approval to the audit either", async () => {
  // bob approved the first commit; carol then pushed a new head and approved it herself. Timebox
  // counted neither (only reviews on the head count; the last pusher never counts).
  const head = "7".repeat(40);
  const older = "6".repeat(40);
  const { repo, scope } = mergedPr7(
    [review("bob", "APPROVED", `${D}09:10:00Z`, "User", older), review("carol", "APPROVED", `${D}09:40:00Z`, "User", head)],
    // A workflow's look-alike run naming someone else as the pusher is not Timebox's record.
    [validateRun(head, "dev9", GITHUB_ACTIONS), validateRun(head, "carol")],
  );
  const r = await audit(["--repo", repo.root, "--format", "json", "--github", "acme/access"], ENV);
  expect(r.code).toBe(0);
  const { grants, findings } = JSON.parse(r.stdout);
  expect(grants[0]).toMatchObject({ pull_request: 7, approved_by: [], approved_at: null });
  expect(unapprovedPrs(findings)).toEqual([7]);
  expect(findings.find((f: { id: string }) => f.id === "fast-approval").items).toEqual([]);
  expect(scope.pendingMocks()).toEqual([]);
  expect(r.stderr).toBe("");
});

test("an approval of the head by someone other than its pusher counts", async () => {
  const head = "7".repeat(40);
  const { repo, scope } = mergedPr7(
    [review("bob", "APPROVED", `${D}09:10:00Z`, "User", head), review("carol", "APPROVED", `${D}09:40:00Z`, "User", head)],
    [validateRun(head, "carol")],
  );
  const r = await audit(["--repo", repo.root, "--format", "json", "--github", "acme/access"], ENV);
  expect(r.code).toBe(0);
  expect(scope.pendingMocks()).toEqual([]);
  const { grants, findings } = JSON.parse(r.stdout);
  expect(grants[0]).toMatchObject({ pull_request: 7, approved_by: ["bob"], approved_at: `${D}09:10:00Z` });
  expect(unapprovedPrs(findings)).toEqual([]);
});

test("with no validate run naming the pusher, Timebox's first push record does, as in the app: a later one (a racing replica's) or another app's is not", async () => {
  const head = "7".repeat(40);
  const { repo, scope } = mergedPr7(
    [review("bob", "APPROVED", `${D}09:10:00Z`, "User", head), review("carol", "APPROVED", `${D}09:40:00Z`, "User", head)],
    [
      validateRun(head, "bob", GITHUB_ACTIONS, "timebox/push"),
      validateRun(head, "carol", TIMEBOX_APP, "timebox/push"),
      validateRun(head, "bob", TIMEBOX_APP, "timebox/push"),
    ],
  );
  const r = await audit(["--repo", repo.root, "--format", "json", "--github", "acme/access"], ENV);
  expect(r.code).toBe(0);
  expect(scope.pendingMocks()).toEqual([]);
  const { grants } = JSON.parse(r.stdout);
  expect(grants[0]).toMatchObject({ pull_request: 7, approved_by: ["bob"], approved_at: `${D}09:10:00Z` });
  expect(r.stderr).toBe("");
});

test("when Timebox recorded no pusher of the head, no approval counts, as in the app, and the audit says why", async () => {
  const head = "7".repeat(40);
  const { repo, scope } = mergedPr7([review("bob", "APPROVED", `${D}09:10:00Z`, "User", head)], [validateRun(head, "dev9", GITHUB_ACTIONS)]);
  const r = await audit(["--repo", repo.root, "--format", "json", "--github", "acme/access"], ENV);
  expect(r.code).toBe(0);
  expect(scope.pendingMocks()).toEqual([]);
  const { grants, findings } = JSON.parse(r.stdout);
  expect(grants[0]).toMatchObject({ pull_request: 7, approved_by: [], approved_at: null });
  expect(unapprovedPrs(findings)).toEqual([7]);
  expect(r.stderr).toBe(
    `timebox audit: PR #7: who pushed its head commit ${head.slice(0, 7)} is unknown (no timebox/validate or timebox/push run by timebox[bot] on it names one), so none of its approvals counts, as in Timebox\n`,
  );
});

test("a commit the offline check took as Timebox's but GitHub does not verify as the app's loses its claims", async () => {
  const repo = repoWithPrs();
  const [revoked, recorded] = repo.records;
  for (const [view, why] of [
    [{ verified: false }, "GitHub does not verify its signature (unknown_key)"],
    [{ author: "dev5" }, "GitHub links its author to dev5, not timebox[bot]"],
    [{ committer: "dev5" }, "GitHub did not commit it (committer dev5, not web-flow)"],
  ] as const) {
    const scope = mockCommits(mockCommits(mockGithub(), [revoked], view), [recorded]);
    const r = await audit(["--repo", repo.root, "--format", "json", "--github", "acme/access"], ENV);
    expect(r.code).toBe(0);
    scope.done();
    const { grants, findings } = JSON.parse(r.stdout);
    // The break-glass record is gone: its start, revoke and review-due times were the commit's claims.
    const oncall = grants.find((g: { grant: string }) => g.grant === "grants/oncall1.yaml");
    expect(oncall).toMatchObject({ granted_at: `${D}10:20:00Z`, revoked_at: `${D}10:35:02Z`, revoke_reason: "removed", status: "removed", review_due: null });
    const untrusted = findings.find((f: { id: string }) => f.id === "untrusted-records");
    expect(untrusted.status).toBe("found");
    expect(untrusted.items.map((i: { summary: string }) => i.summary)).toEqual([expect.stringContaining(why)]);
    nock.cleanAll();
  }
});

describe("usage errors, and the token is never printed", () => {
  test("no token: a clear message, exit 2, nothing fetched", async () => {
    const repo = repoWithPrs();
    const r = await audit(["--repo", repo.root, "--github", "acme/access"], { GITHUB_API_URL: API });
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr: "timebox audit: --github needs a token: set TIMEBOX_GITHUB_TOKEN or GITHUB_TOKEN (read access to the repository's pull requests)\n",
    });
  });

  test("not OWNER/REPO", async () => {
    const r = await audit(["--github", "https://github.com/acme/access"], ENV);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--github "https:\/\/github.com\/acme\/access" is not OWNER\/REPO/);
  });

  test("a refused token is exit 2 with GitHub's status, and the token appears nowhere", async () => {
    const repo = repoWithPrs();
    nock(API).get(/./).reply(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" }).persist();
    const r = await audit(["--repo", repo.root, "--github", "acme/access"], ENV);
    expect(r).toEqual({ code: 2, stdout: "", stderr: "timebox audit: GitHub refused the token (401)\n" });
  });

  test("an unreachable API is exit 2 and the message holds no token (even one that ended up in the URL)", async () => {
    const repo = repoWithPrs();
    // Retries off: the production client retries network errors with backoff, which only slows this test.
    const r = await runAudit({ repo: repo.root, format: "table", github: "acme/access" }, "/", {
      env: { ...ENV, GITHUB_API_URL: `https://${TOKEN}.invalid` },
      octokit: (token, baseUrl) => auditOctokit(token, baseUrl, { retry: false }),
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^timebox audit: GitHub could not be read: /);
    expect(r.stderr).not.toContain(TOKEN);
  });
});

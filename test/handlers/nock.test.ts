/**
 * The pull_request handler driven through `probot.receive` with every GitHub call mocked by nock:
 * the exact request sequence of one `pull_request.opened` (see src/review/run.ts, gather.ts and
 * src/github/gateway.ts), and the bodies Timebox writes. The emulated-GitHub tests in this folder
 * cover the behaviour in depth; these pin the wire contract.
 */
import nock from "nock";
import type { Probot } from "probot";
import { createTimebox } from "../../src/index.js";
import { grantYaml, POLICY, VALID_GRANT } from "../support/access-repo.js";
import { privateKey, testProbot } from "../support/probot.js";
import { pullRequestPayload } from "../support/webhooks.js";

const API = "https://api.github.com";
const REPO = "/repos/acme/access";
const NUMBER = 7;
const HEAD = "1111111111111111111111111111111111111111";
const BASE = "2222222222222222222222222222222222222222";
const ROOT_TREE = "3333333333333333333333333333333333333333";
const GRANTS_TREE = "4444444444444444444444444444444444444444";
const BLOB = "5555555555555555555555555555555555555555";
const GRANT_PATH = "grants/dev-prod-db.yaml";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

let probot: Probot;

beforeEach(() => {
  nock.disableNetConnect();
  // No expiry scheduler: these tests drive one webhook and must leave no timer behind.
  probot = testProbot(createTimebox({ env: { TIMEBOX_SCHEDULER: "off", PRIVATE_KEY: privateKey } }));
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

/** Every read Timebox makes for a PR with one added grant file, in the order it makes them. */
function mockReads(scope: nock.Scope, author: string, grant: string, existingRuns: { validate?: number; approval?: number } = {}): void {
  const runs = (name: string, id?: number) =>
    id === undefined
      ? { total_count: 0, check_runs: [] }
      : {
          total_count: 1,
          check_runs: [{ id, name, app: { id: 123 }, status: "in_progress", conclusion: null, external_id: "", output: { title: null, summary: null } }],
        };
  scope
    // Who Timebox is (read once per process): its own records are recognised by this app's id.
    .get("/app")
    .optionally()
    .reply(200, { id: 123, slug: "timebox" })
    .post("/app/installations/1/access_tokens")
    .reply(201, { token: "ghs_test", expires_at: "2999-01-01T00:00:00Z", permissions: {}, repository_selection: "all" })
    .get(`${REPO}/pulls/${NUMBER}`)
    .reply(200, {
      number: NUMBER,
      state: "open",
      merged: false,
      merged_at: null,
      merge_commit_sha: null,
      draft: false,
      user: { login: author, type: "User" },
      head: { sha: HEAD, ref: "request-access" },
      base: { sha: BASE, ref: "main" },
      html_url: `https://github.com/acme/access/pull/${NUMBER}`,
    })
    // The base branch's current tip, not the payload's base.sha.
    .get(`${REPO}/git/ref/heads%2Fmain`)
    .reply(200, { ref: "refs/heads/main", object: { sha: BASE, type: "commit" } })
    // The trusted policy at the base: its newest version is BASE itself, with no earlier one (the first version, trusted).
    .get(`${REPO}/commits`)
    .query({ sha: BASE, path: ".github/timebox.yml", per_page: 1 })
    .reply(200, [{ sha: BASE, parents: [], commit: { message: "Policy", committer: { date: "2026-03-01T09:00:00Z" } }, author: { login: "sec1" } }])
    .get(`${REPO}/contents/.github%2Ftimebox.yml`)
    .query({ ref: BASE })
    .reply(200, { type: "file", path: ".github/timebox.yml", encoding: "base64", content: b64(POLICY) })
    .get(`${REPO}/pulls/${NUMBER}/files`)
    .query({ per_page: 100 })
    .reply(200, [{ filename: GRANT_PATH, status: "added", sha: BLOB, additions: 7, deletions: 0, changes: 7 }])
    .get(`${REPO}/pulls/${NUMBER}/reviews`)
    .query({ per_page: 100 })
    .reply(200, [])
    // Git modes of the grants folder at the head: a symlink must not pass for a file.
    .get(`${REPO}/git/commits/${HEAD}`)
    .reply(200, { sha: HEAD, tree: { sha: ROOT_TREE } })
    .get(`${REPO}/git/trees/${ROOT_TREE}`)
    .reply(200, { sha: ROOT_TREE, truncated: false, tree: [{ path: "grants", mode: "040000", type: "tree", sha: GRANTS_TREE }] })
    .get(`${REPO}/git/trees/${GRANTS_TREE}`)
    .query({ recursive: "1" })
    .reply(200, { sha: GRANTS_TREE, truncated: false, tree: [{ path: "dev-prod-db.yaml", mode: "100644", type: "blob", sha: BLOB }] })
    .get(`${REPO}/git/blobs/${BLOB}`)
    .reply(200, { sha: BLOB, encoding: "base64", content: b64(grant) })
    .get(`${REPO}/commits/${HEAD}/check-runs`)
    .query({ check_name: "timebox/validate", app_id: 123, filter: "latest", per_page: 10 })
    .reply(200, runs("timebox/validate", existingRuns.validate))
    .get(`${REPO}/commits/${HEAD}/check-runs`)
    .query({ check_name: "timebox/approval", app_id: 123, filter: "latest", per_page: 10 })
    .reply(200, runs("timebox/approval", existingRuns.approval));
}

test("pull_request.opened with one valid grant: two check runs and one sticky comment", async () => {
  const written: Record<string, any> = {};
  const scope = nock(API);
  mockReads(scope, "dev1", VALID_GRANT);
  scope
    // Who pushed the head: this process saw no push and no validate run names one, so this app's push record is read (none).
    .get(`${REPO}/commits/${HEAD}/check-runs`)
    .query({ check_name: "timebox/push", app_id: 123, filter: "all", per_page: 100 })
    .reply(200, { total_count: 0, check_runs: [] })
    .post(`${REPO}/check-runs`, (body) => body.name === "timebox/validate" && ((written.validate = body), true))
    .reply(201, { id: 101 })
    .post(`${REPO}/check-runs`, (body) => body.name === "timebox/approval" && ((written.approval = body), true))
    .reply(201, { id: 102 })
    .get(`${REPO}/issues/${NUMBER}/comments`)
    .query({ per_page: 100 })
    .reply(200, [])
    .post(`${REPO}/issues/${NUMBER}/comments`, (body) => ((written.comment = body), true))
    .reply(201, { id: 201 });

  await probot.receive({
    id: "delivery-1",
    name: "pull_request",
    payload: pullRequestPayload("opened", { owner: "acme", repo: "access", number: NUMBER, author: "dev1", headSha: HEAD, baseSha: BASE }) as any,
  });

  expect(written.validate).toMatchObject({
    head_sha: HEAD,
    name: "timebox/validate",
    status: "completed",
    conclusion: "success",
    output: { title: "1 of 1 grant file valid", annotations: [] },
  });
  // The sender of `opened` is never assumed to have pushed the head commit: no push webhook was
  // seen here, so the pusher is unknown and nothing is remembered on the check run.
  expect(written.validate.external_id).toBeUndefined();
  expect(written.validate.output.summary).toContain(
    `| \`${GRANT_PATH}\` | \`dev1\` | \`prod-db\` | \`readonly\` | 2h | 1 of \`@acme/sre\`, \`sre1\` | ✅ valid |`,
  );
  expect(written.approval).toMatchObject({
    head_sha: HEAD,
    name: "timebox/approval",
    status: "completed",
    conclusion: "action_required",
    output: { title: expect.stringContaining("needs 1 more approval") },
  });
  expect(written.comment.body).toMatch(/^<!-- timebox:plan -->/);
  expect(written.comment.body).toContain("### ⏳ Timebox plan");
  expect(written.comment.body).toContain("**Validation:** 1 of 1 grant file valid");
  expect(written.comment.body).toContain(`| \`${GRANT_PATH}\` | \`dev1\` |`);
  expect(written.comment.body).toContain("**On merge**");
  expect(scope.pendingMocks()).toEqual([]);
  expect(nock.pendingMocks()).toEqual([]);
});

test("a requester allowed only through a team is looked up once; existing check runs and comment are updated in place", async () => {
  const written: Record<string, any> = {};
  const scope = nock(API);
  // dev3 is not listed by login in the policy's requesters, only through @acme/engineering.
  mockReads(scope, "dev3", grantYaml({ requester: "dev3" }), { validate: 301, approval: 302 });
  scope
    .get("/orgs/acme/teams/engineering/memberships/dev3")
    .reply(200, { state: "active", role: "member", url: `${API}/teams/1/memberships/dev3` })
    .patch(`${REPO}/check-runs/301`, (body) => ((written.validate = body), true))
    .reply(200, { id: 301 })
    .patch(`${REPO}/check-runs/302`, (body) => ((written.approval = body), true))
    .reply(200, { id: 302 })
    .get(`${REPO}/issues/${NUMBER}/comments`)
    .query({ per_page: 100 })
    .reply(200, [
      { id: 900, body: "LGTM", user: { login: "dev3", type: "User" } },
      { id: 901, body: "<!-- timebox:plan -->\nold plan", user: { login: "timebox[bot]", type: "Bot" } },
    ])
    .patch(`${REPO}/issues/comments/901`, (body) => ((written.comment = body), true))
    .reply(200, { id: 901 });

  await probot.receive({
    id: "delivery-2",
    name: "pull_request",
    payload: pullRequestPayload("synchronize", { owner: "acme", repo: "access", number: NUMBER, author: "dev3", headSha: HEAD, baseSha: BASE }) as any,
  });

  expect(written.validate).toMatchObject({ conclusion: "success", external_id: "pusher:dev3", output: { title: "1 of 1 grant file valid" } });
  expect(written.validate.head_sha).toBeUndefined();
  expect(written.approval).toMatchObject({ conclusion: "action_required" });
  expect(written.comment.body).toContain("<!-- timebox:plan -->");
  expect(written.comment.body).toContain("| `dev3` |");
  expect(nock.pendingMocks()).toEqual([]);
});

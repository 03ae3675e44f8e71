/**
 * Editing Timebox's own comments. On GitHub anyone with write access can edit any comment of the
 * repository, this app's included: the edited comment keeps its author and
 * `performed_via_github_app`, so "only this app's comments" cannot tell the edit from the
 * original. Every marker Timebox reads back from its comments is edited here by `mallory`
 * (write access, not the requester) to keep access past expiry, silence an alert, or hide the
 * story — and each attempt must shorten the grant or change nothing.
 */
import { expect, jest } from "@jest/globals";
import { startAccessRepo, type AccessRepo } from "../support/access-repo.js";
import { policyWithGithubResource, startGithubAccess } from "../support/github-access.js";

jest.setTimeout(60_000);

const POLICY_WITH_TEAM = policyWithGithubResource(
  "prod-admins",
  `      admins:
        target: "@acme/prod-admins"
        max_duration: 8h
        approvers: ["@acme/sre", "sre1"]
        approvals: 1
        breakglass: { max_duration: 1h, review_within: 4h, requesters: ["dev2", "dev3"] }
`,
);

let env: AccessRepo;
beforeEach(async () => {
  env = await startGithubAccess(POLICY_WITH_TEAM, (gh) => {
    gh.createTeam({ org: "acme", slug: "prod-admins", members: ["dev3"] });
    gh.repo().addCollaborator("mallory", "write");
  });
});
afterEach(async () => {
  await env.stop();
});

const PATH = "grants/dev2-admins.yaml";
const isMember = (login: string) => env.gh.teamMembers("acme", "prod-admins").some((m) => m.login === login && m.state === "active");
const grant = (fields: Record<string, string> = {}) =>
  Object.entries({
    requester: "dev2",
    resource: "prod-admins",
    role: "admins",
    duration: "30m",
    reason: "Rotate the deploy key",
    ticket: "INC-1234",
    emergency: "true",
    ...fields,
  })
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n") + "\n";
const reconcile = () => env.runtime.reconcileRepo({ installationId: 1, owner: "acme", repo: "access" });

/** dev2 breaks glass for 30 minutes (09:00–09:30): a member at once. Returns the PR number. */
async function breakGlass(): Promise<number> {
  const { gh, probot } = env;
  const pr = gh.openPullRequest({ author: "dev2", files: { [PATH]: grant() } });
  await gh.deliver(probot, pr);
  expect(isMember("dev2")).toBe(true);
  return pr.number!;
}

/** Timebox's comment on `pr` that carries `marker`. */
function appComment(pr: number, marker: string) {
  const c = env.gh
    .repo()
    .comments(pr)
    .find((x) => x.viaApp === "timebox" && x.body.includes(marker));
  if (!c) throw new Error(`no Timebox comment with ${marker} on #${pr}`);
  return c;
}

/** `mallory` rewrites the JSON of the break-glass record in Timebox's comment on `pr`. */
async function editRecord(pr: number, change: (r: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  const c = appComment(pr, "<!-- timebox:breakglass {");
  const body = c.body.replace(/^(<!-- timebox:breakglass )(\{.*\})(.*-->)$/m, (_, head: string, json: string, tail: string) => {
    const r = JSON.parse(json) as Record<string, unknown>;
    return `${head}${JSON.stringify(change(r))}${tail}`;
  });
  expect(body).not.toBe(c.body);
  await env.gh.deliver(env.probot, env.gh.repo().editComment(c.id, { by: "mallory", body }));
}

/** `mallory` adds `line` at the top of Timebox's comment on `pr` that carries `marker`. */
async function addLine(pr: number, marker: string, line: string): Promise<void> {
  const c = appComment(pr, marker);
  await env.gh.deliver(env.probot, env.gh.repo().editComment(c.id, { by: "mallory", body: `${line}\n${c.body}` }));
}

test("the emulated GitHub lets someone with write access edit Timebox's comment, which stays Timebox's", async () => {
  const pr = await breakGlass();
  const c = appComment(pr, "<!-- timebox:breakglass {");
  const created = c.createdAt;
  env.clock.advance(60_000);
  const events = env.gh.repo().editComment(c.id, { by: "mallory", body: "edited" });
  expect(events[0].event).toBe("issue_comment");
  const payload = events[0].payload as { action: string; changes: { body: { from: string } }; sender: { login: string }; comment: Record<string, any> };
  expect(payload.action).toBe("edited");
  expect(payload.changes.body.from).toContain("timebox:breakglass");
  expect(payload.sender.login).toBe("mallory");
  expect(payload.comment.user.login).toBe(env.gh.state.botLogin);
  expect(payload.comment.performed_via_github_app?.id).toBe(env.gh.state.app.id);
  expect(payload.comment.updated_at).not.toBe(created);
  // Someone with read access only cannot.
  expect(() => env.gh.repo().editComment(c.id, { by: "outsider", body: "x" })).toThrow(/may not edit/);
});

test("an edited priorAccess in the break-glass record does not keep the membership after expiry", async () => {
  const pr = await breakGlass();
  // "dev2 was already an active maintainer before Timebox": the revoke would leave the membership.
  await editRecord(pr, (r) => ({ ...r, priorAccess: { kind: "team", state: "active", role: "maintainer" } }));
  env.clock.advance(30 * 60_000);
  await reconcile();
  expect(isMember("dev2")).toBe(false);
});

test("an edited priorAccess carried into the merged grant does not keep the membership after expiry", async () => {
  const { gh, probot, clock } = env;
  const pr = await breakGlass();
  await gh.deliver(probot, gh.submitReview(pr, { reviewer: "alice", state: "APPROVED" }));
  clock.advance(5 * 60_000);
  // Edited just before the merge: the merge is the first event to read the record back.
  await editRecord(pr, (r) => ({ ...r, priorAccess: { kind: "team", state: "active", role: "maintainer" } }));
  await gh.deliver(probot, gh.merge(pr, { by: "alice" }));
  clock.set("2026-03-02T11:00:00Z");
  await reconcile();
  expect(isMember("dev2")).toBe(false);
});

test("after a restart that reads the PR's comments in GraphQL batches, an edited priorAccess still keeps nothing; a workflow's look-alike record neither", async () => {
  const { gh, probot, clock } = env;
  const pr = await breakGlass();
  await gh.deliver(probot, gh.submitReview(pr, { reviewer: "alice", state: "APPROVED" }));
  clock.advance(5 * 60_000);
  await editRecord(pr, (r) => ({ ...r, priorAccess: { kind: "team", state: "active", role: "maintainer" } }));
  const record = gh.comments(pr).find((c) => c.body.includes("<!-- timebox:breakglass {"))!;
  // A workflow copies the edited record into a comment of its own (any bot can write any text).
  const forged = record.body.replace(/<!-- seal [^>]*-->/g, "");
  gh.repo().comment(pr, { author: "github-actions", body: forged, app: { id: 15368, slug: "github-actions" } });
  gh.merge(pr, { by: "alice" });
  // A fresh process (a deploy) at the expiry: the PR's comments come with its GraphQL facts.
  const fresh = await startAccessRepo({
    gh,
    clock,
    policy: POLICY_WITH_TEAM,
    env: { GH_PROVIDER_TOKEN: gh.providerToken, GH_PROVIDER_URL: gh.baseUrl, TIMEBOX_GITHUB_GRAPHQL: "always" },
  });
  try {
    clock.set("2026-03-02T11:00:00Z");
    gh.resetRequests();
    await fresh.runtime.reconcileRepo({ installationId: 1, owner: "acme", repo: "access" });
    expect(gh.requests.some((r) => r.route?.endsWith("/graphql"))).toBe(true);
    expect(gh.requests.filter((r) => r.route === "/repos/{owner}/{repo}/issues/{issue_number}/comments" && r.method === "GET")).toEqual([]);
    expect(isMember("dev2")).toBe(false);
  } finally {
    await fresh.stop();
  }
});

test("a longer duration written into the record (within the role's break-glass maximum) does not outlast the 30 minutes asked", async () => {
  const pr = await breakGlass();
  await editRecord(pr, (r) => ({
    ...r,
    duration: "1h",
    durationMs: 3_600_000,
    expiresAt: new Date(Date.parse(r.grantedAt as string) + 3_600_000).toISOString().replace(/\.\d+Z$/, "Z"),
  }));
  env.clock.advance(45 * 60_000);
  await reconcile();
  expect(isMember("dev2")).toBe(false);
});

test("a record removed from Timebox's comment is no reason to record Timebox's own grant as the person's prior access", async () => {
  const { gh, clock } = env;
  const pr = await breakGlass();
  const c = appComment(pr, "<!-- timebox:breakglass {");
  // Without a record the PR looks like a break-glass not yet started: a new start would read the
  // membership Timebox gave as dev2's own, and never take it away.
  await gh.deliver(env.probot, gh.repo().editComment(c.id, { by: "mallory", body: c.body.replace(/^<!-- timebox:breakglass .*-->$/m, "") }));
  clock.advance(5 * 60_000);
  await reconcile();
  clock.advance(5 * 60_000);
  await reconcile();
  // Whatever was started again ends by the break-glass maximum of its own start.
  clock.set("2026-03-02T10:30:00Z");
  await reconcile();
  clock.advance(5 * 60_000);
  await reconcile();
  expect(isMember("dev2")).toBe(false);
});

test("a reviewed marker written into Timebox's comment does not silence the overdue-review alert", async () => {
  const { gh, clock } = env;
  const pr = await breakGlass();
  const reviewed = `<!-- timebox:breakglass-reviewed ${JSON.stringify({ path: PATH, by: ["alice"], at: "2026-03-02T09:05:00Z" })} -->`;
  await addLine(pr, "<!-- timebox:breakglass {", reviewed);
  clock.set("2026-03-02T13:01:00Z");
  await reconcile();
  expect(gh.repo().issues({ labels: ["timebox:breakglass-unreviewed"], state: "open" })).toHaveLength(1);
});

test("a closed marker written into Timebox's comment does not keep the story of a PR closed unmerged out of Git", async () => {
  const { gh, probot, clock } = env;
  const pr = await breakGlass();
  await addLine(pr, "<!-- timebox:breakglass {", `<!-- timebox:breakglass-closed ${PATH} -->`);
  clock.advance(10 * 60_000);
  await gh.deliver(probot, gh.close(pr, { by: "dev2" }));
  expect(isMember("dev2")).toBe(false);
  expect(gh.repo().log("main")[0].message).toContain("Revoke-Reason: pr-closed");
});

test("a requester written into Timebox's revoke comment does not let someone else record the grant's outcome", async () => {
  const { gh, probot, clock } = env;
  const pr = await breakGlass();
  clock.advance(30 * 60_000);
  await reconcile();
  expect(isMember("dev2")).toBe(false);
  const c = appComment(pr, "<!-- timebox:revoked-at ");
  const body = c.body.replace(/^(<!-- timebox:revoked-at \S+ \S+ \S+ )dev2( -->)/m, "$1mallory$2");
  expect(body).not.toBe(c.body);
  await gh.deliver(probot, gh.repo().editComment(c.id, { by: "mallory", body }));
  const before = gh.repo().log("main").length;
  await gh.deliver(probot, gh.comment(pr, { author: "mallory", body: "/timebox outcome nothing was wrong, all fine" }));
  expect(gh.repo().log("main").length).toBe(before);
});

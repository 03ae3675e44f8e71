/**
 * `/timebox request` and the request issue form, through the app against the emulated GitHub:
 * Timebox opens the grant PR itself, for the commenter only, and the PR is judged like any other —
 * the app being its author is no way around the requester and approval rules.
 */
import type { Probot } from "probot";
import type { GitHubEmulator } from "../harness/github/index.js";
import { grantYaml, startAccessRepo } from "../support/access-repo.js";
import { commentBodies, formBody, openIssue, pulls } from "./request-support.js";

let gh: GitHubEmulator;
let probot: Probot;
let stop: () => Promise<void>;

beforeEach(async () => {
  ({ gh, probot, stop } = await startAccessRepo());
});
afterEach(async () => {
  expect(gh.unknownRequests()).toEqual([]);
  await stop();
});

const run = (name: string, sha: string) => gh.checkRuns(sha, name).at(-1);
const REQUEST = "/timebox request prod-db readonly 2h investigate slow checkout queries ticket:INC-1234";

async function deliverOk(events: Parameters<GitHubEmulator["deliver"]>[1]): Promise<void> {
  const results = await gh.deliver(probot, events);
  expect(results.filter((r) => r.status !== 200).map((r) => String(r.error))).toEqual([]);
}

/** dev1 (by default) asks on a new issue; the PR Timebox opened for it. */
async function requestOnIssue(body = REQUEST, author = "dev1") {
  const issue = openIssue(gh, { author, body: "I need to look at the checkout database." });
  await deliverOk(issue);
  await deliverOk(gh.comment(issue.number!, { author, body }));
  return { issue: issue.number!, pr: pulls(gh).find((p) => p.user === "timebox[bot]") };
}

test("a comment opens a PR with the grant file, the commenter as requester, linking the issue, and the checks run on it", async () => {
  const { issue, pr } = await requestOnIssue();
  expect(pr).toBeDefined();
  const path = gh
    .repo()
    .files(pr!.headSha)
    .find((f: string) => f.startsWith("grants/"))!;
  expect(path).toMatch(/^grants\/dev1-prod-db-readonly-[0-9a-f]{8}\.yaml$/);
  expect(pr!.headRef).toMatch(/^timebox\/request\/dev1\/prod-db\/readonly\/[0-9a-f]{8}$/);
  const text = gh.fileAt(pr!.headSha, path)!;
  expect(text).toContain('requester: "dev1"');
  expect(text).toContain('resource: "prod-db"');
  expect(text).toContain('role: "readonly"');
  expect(text).toContain('duration: "2h"');
  expect(text).toContain('reason: "investigate slow checkout queries"');
  expect(text).toContain('ticket: "INC-1234"');
  expect(pr!.body).toContain(`Closes #${issue}`);
  expect(pr!.baseRef).toBe("main");
  // Timebox's own record of whose request it is, and the usual checks.
  expect(run("timebox/request", pr!.headSha)?.externalId).toBe("requested-by:dev1");
  expect(run("timebox/validate", pr!.headSha)?.conclusion).toBe("success");
  expect(run("timebox/approval", pr!.headSha)?.conclusion).toBe("action_required");
  expect(commentBodies(gh, pr!.number).some((b) => b.includes("<!-- timebox:plan -->"))).toBe(true);
  const reply = commentBodies(gh, issue).at(-1)!;
  expect(reply).toContain(`Timebox opened #${pr!.number}`);
  expect(reply).toContain("1 of `@acme/sre`, `sre1`");
});

test("the requester's own review never approves the request; an eligible approver's does", async () => {
  const { pr } = await requestOnIssue();
  await deliverOk(gh.submitReview(pr!.number, { reviewer: "dev1", state: "APPROVED" }));
  const approval = run("timebox/approval", pr!.headSha)!;
  expect(approval.conclusion).toBe("action_required");
  // dev1 is the author whose rights count (through Timebox's record) and the grant's requester.
  expect(approval.output.summary).toContain("`dev1`: is the PR author; the author's own review never counts");
  await deliverOk(gh.submitReview(pr!.number, { reviewer: "sre1", state: "APPROVED" }));
  expect(run("timebox/approval", pr!.headSha)?.conclusion).toBe("success");
});

test.each([
  [
    "an unknown role",
    "/timebox request prod-db superuser 1h look around ticket:INC-1",
    ["unknown role `superuser`", "| `prod-db` | `readonly` | 8h |", "| `prod-db` | `admin` | 1h |"],
  ],
  ["an unknown resource", "/timebox request billing readonly 1h look ticket:INC-1", ["unknown resource `billing`", "| `prod-db` | `readonly` | 8h |"]],
  ["a duration over the role's maximum", "/timebox request prod-db readonly 9h long night ticket:INC-1", ["exceeds max_duration 8h", "ask for at most 8h"]],
  ["a missing ticket", "/timebox request prod-db readonly 1h look around", ["a ticket is required", "`ticket:<id>`"]],
  ["a ticket that does not match", "/timebox request prod-db readonly 1h look around ticket:JIRA-1", ["does not match the policy's ticket_pattern"]],
  ["a bad duration", "/timebox request prod-db readonly soon look around ticket:INC-1", ["is not a duration"]],
])("a request with %s is answered with why and what is allowed, and no PR", async (_what, body, expected) => {
  const { issue, pr } = await requestOnIssue(body);
  expect(pr).toBeUndefined();
  expect(gh.repo().repo.refs.size).toBe(1);
  const reply = commentBodies(gh, issue).at(-1)!;
  expect(reply).toContain("Timebox did not open a pull request");
  expect(reply).toContain("What the policy allows");
  for (const e of expected) expect(reply).toContain(e);
});

test("someone who may not request is refused with who may", async () => {
  const { issue, pr } = await requestOnIssue(REQUEST, "outsider");
  expect(pr).toBeUndefined();
  const reply = commentBodies(gh, issue).at(-1)!;
  expect(reply).toContain("`outsider` may not request access");
  expect(reply).toContain("Who may request: `@acme/engineering`");
});

test("a command Timebox cannot read gets the usage, and a too-long reason is refused", async () => {
  const { issue } = await requestOnIssue("/timebox request prod-db");
  expect(commentBodies(gh, issue).at(-1)).toContain("Usage: `/timebox request <resource> <role> <duration> <reason…> [ticket:INC-1234]`");
  await deliverOk(gh.comment(issue, { author: "dev1", body: `/timebox request prod-db readonly 1h ${"x".repeat(501)} ticket:INC-1` }));
  expect(commentBodies(gh, issue).at(-1)).toContain("keep it to 500");
  expect(pulls(gh)).toHaveLength(0);
});

test("a second request for the same role while one is open gets the open PR's link; a redelivery adds nothing", async () => {
  const issue = openIssue(gh, { author: "dev1", body: "x" });
  await deliverOk(issue);
  const first = gh.comment(issue.number!, { author: "dev1", body: REQUEST });
  await deliverOk(first);
  const mine = () => pulls(gh).filter((p) => p.user === "timebox[bot]");
  expect(mine()).toHaveLength(1);
  const answered = gh.comments(issue.number!).length;
  // The same comment delivered again: its PR exists and was answered.
  await deliverOk(first);
  expect(gh.comments(issue.number!)).toHaveLength(answered);
  await deliverOk(gh.comment(issue.number!, { author: "dev1", body: REQUEST.replace("2h", "1h") }));
  expect(commentBodies(gh, issue.number!).at(-1)).toContain(`you already have an open request for \`prod-db\` / \`readonly\`: #${mine()[0].number}`);
  expect(mine()).toHaveLength(1);
});

test("an edited comment never requests anything", async () => {
  const issue = openIssue(gh, { author: "dev1", body: "x" });
  await deliverOk(issue);
  const comment = gh.comment(issue.number!, { author: "dev1", body: REQUEST });
  await deliverOk(comment.map((e) => ({ ...e, payload: { ...e.payload, action: "edited", changes: { body: { from: "hello" } } } })));
  expect(pulls(gh)).toHaveLength(0);
  expect(gh.comments(issue.number!)).toHaveLength(1);
});

test("a push by another person to the request branch does not inherit the commenter's rights", async () => {
  const { pr } = await requestOnIssue();
  const path = gh
    .repo()
    .files(pr!.headSha)
    .find((f: string) => f.startsWith("grants/"))!;
  const push = gh.pushToPullRequest(pr!.number, { pusher: "dev2", files: { [path]: grantYaml({ duration: "8h" }) } });
  await deliverOk(push);
  const head = gh.pull(pr!.number).headSha;
  // A workflow's check run of the same name is not Timebox's record.
  gh.repo().foreignCheckRun(head, { app: { id: 15368, slug: "github-actions" }, name: "timebox/request", externalId: "requested-by:dev1" });
  await deliverOk(gh.submitReview(pr!.number, { reviewer: "sre1", state: "APPROVED" }));
  const validate = run("timebox/validate", head)!;
  expect(validate.conclusion).toBe("failure");
  expect(validate.output.summary).toContain("requester 'dev1' is not the pull request's author 'dev2'");
  expect(run("timebox/approval", head)?.conclusion).not.toBe("success");
});

test("a pusher who makes the request their own is judged as its author: valid for them, and their own review never counts", async () => {
  const { pr } = await requestOnIssue();
  const path = gh
    .repo()
    .files(pr!.headSha)
    .find((f: string) => f.startsWith("grants/"))!;
  await deliverOk(gh.pushToPullRequest(pr!.number, { pusher: "dev2", files: { [path]: grantYaml({ requester: "dev2" }) } }));
  const head = gh.pull(pr!.number).headSha;
  expect(run("timebox/validate", head)?.conclusion).toBe("success");
  await deliverOk(gh.submitReview(pr!.number, { reviewer: "dev2", state: "APPROVED" }));
  expect(run("timebox/approval", head)?.conclusion).toBe("action_required");
  await deliverOk(gh.submitReview(pr!.number, { reviewer: "sre1", state: "APPROVED" }));
  expect(run("timebox/approval", head)?.conclusion).toBe("success");
});

test("a pusher who may not request cannot take the request over", async () => {
  const { pr } = await requestOnIssue();
  const path = gh
    .repo()
    .files(pr!.headSha)
    .find((f: string) => f.startsWith("grants/"))!;
  await deliverOk(gh.pushToPullRequest(pr!.number, { pusher: "alice", files: { [path]: grantYaml({ requester: "alice" }) } }));
  const head = gh.pull(pr!.number).headSha;
  expect(run("timebox/validate", head)?.output.summary).toContain("'alice' may not request access");
});

test("a PR a person opens imitating Timebox's request PR gets no special treatment", async () => {
  const issue = openIssue(gh, { author: "dev1", body: "x" });
  await deliverOk(issue);
  const pr = gh.openPullRequest({
    author: "mallory",
    branch: "timebox/request/dev1/prod-db/readonly/0badc0de",
    files: { "grants/dev1-prod-db-readonly-0badc0de.yaml": grantYaml() },
    title: "Access request: prod-db/readonly for dev1, 2h",
    body: `Access request by \`dev1\`, opened by Timebox from #${issue.number}.\n\nCloses #${issue.number}`,
  });
  gh.repo().foreignCheckRun(pr.sha!, { app: { id: 15368, slug: "github-actions" }, name: "timebox/request", externalId: "requested-by:dev1" });
  await deliverOk(pr);
  const validate = run("timebox/validate", pr.sha!)!;
  expect(validate.conclusion).toBe("failure");
  expect(validate.output.summary).toContain("requester 'dev1' is not the pull request's author 'mallory'");
});

test("the issue form opens the same PR, with the issue's author as requester", async () => {
  const issue = openIssue(gh, {
    author: "dev2",
    body: formBody({ resource: "prod-db", role: "readonly", duration: "1h30m", reason: "Look at\nthe slow queries", ticket: "CHG-7" }),
  });
  await deliverOk(issue);
  const pr = pulls(gh).find((p) => p.user === "timebox[bot]")!;
  expect(pr).toBeDefined();
  const path = gh
    .repo()
    .files(pr.headSha)
    .find((f: string) => f.startsWith("grants/"))!;
  const text = gh.fileAt(pr.headSha, path)!;
  expect(text).toContain('requester: "dev2"');
  expect(text).toContain('reason: "Look at the slow queries"');
  expect(text).toContain('ticket: "CHG-7"');
  expect(pr.body).toContain(`Closes #${issue.number}`);
  expect(run("timebox/validate", pr.headSha)?.conclusion).toBe("success");
  expect(commentBodies(gh, issue.number!).at(-1)).toContain(`Timebox opened #${pr.number}`);
});

test("an issue someone else moves here (a transfer) never requests access for its author", async () => {
  // mallory, with write access here and in another repository, rewrites dev2's old issue there as a
  // request form and transfers it: GitHub sends `issues.opened` with dev2 as the issue's author.
  const form = formBody({ resource: "prod-db", role: "readonly", duration: "8h", reason: "look at the slow queries", ticket: "INC-1234" });
  const moved = openIssue(gh, { author: "dev2", body: form, transferredBy: "mallory" });
  await deliverOk(moved);
  expect(pulls(gh)).toHaveLength(0);
  expect(gh.repo().repo.refs.size).toBe(1);
  // Even moved by its own author: it was not opened here with the form (its body may have been edited there by others).
  const own = openIssue(gh, { author: "dev2", body: form, transferredBy: "dev2" });
  await deliverOk(own);
  expect(pulls(gh)).toHaveLength(0);
  // The same form opened here by dev2 is a request.
  await deliverOk(openIssue(gh, { author: "dev2", body: form }));
  expect(pulls(gh).filter((p) => p.user === "timebox[bot]")).toHaveLength(1);
});

test("an issue form without a ticket is refused on the issue; an ordinary issue is left alone", async () => {
  const form = openIssue(gh, { author: "dev2", body: formBody({ resource: "prod-db", role: "readonly", duration: "1h", reason: "look" }) });
  await deliverOk(form);
  expect(commentBodies(gh, form.number!).at(-1)).toContain("a ticket is required");
  const plain = openIssue(gh, { author: "dev2", body: "### Resource\n\nthe wiki is down" });
  await deliverOk(plain);
  expect(gh.comments(plain.number!)).toHaveLength(0);
  expect(pulls(gh)).toHaveLength(0);
});

test("/timebox request on a pull request is answered with where to ask", async () => {
  const pr = gh.openPullRequest({ author: "dev1", files: { "README.md": "# changed\n" } });
  await deliverOk(pr);
  await deliverOk(gh.comment(pr.number!, { author: "dev1", body: REQUEST }));
  expect(commentBodies(gh, pr.number!).at(-1)).toContain("requests are made from an issue");
  expect(pulls(gh)).toHaveLength(1);
});

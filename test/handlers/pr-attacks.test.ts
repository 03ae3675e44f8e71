/**
 * Pull-request-side attacks of issue #10, end to end through the emulated GitHub: each must leave
 * the PR failing (or unapproved), and cost a bounded number of API calls.
 */
import type { Probot } from "probot";
import type { GitHubEmulator } from "../harness/github/index.js";
import { grantYaml, startAccessRepo, VALID_GRANT } from "../support/access-repo.js";

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

const run = (name: string, sha: string) => gh.checkRuns(sha, name).at(-1)!;
const plan = (n: number) => gh.comments(n).find((c: { body: string }) => c.body.includes("<!-- timebox:plan -->"))?.body ?? "";
const blobReads = () => gh.callCount({ method: "GET", route: /git\/blobs/ });

describe("the last pusher is whoever pushed the head commit (item 6)", () => {
  test("an approver who pushed the branch before someone else opened the PR does not count", async () => {
    // sre1 (an approver of prod-db/readonly) pushes dev1's grant to a branch; dev1 opens the PR.
    const push = gh.pushCommit({ branch: "sre1/for-dev1", files: { "grants/dev1-prod-db.yaml": VALID_GRANT }, author: "sre1", pusher: "sre1" });
    await gh.deliver(probot, push);
    const pr = gh.openPullRequest({ author: "dev1", branch: "sre1/for-dev1" });
    await gh.deliver(probot, pr);
    expect(run("timebox/validate", pr.sha!).externalId).toBe("pusher:sre1");
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "sre1", state: "APPROVED" }));
    const approval = run("timebox/approval", pr.sha!);
    expect(approval.conclusion).toBe("action_required");
    expect(approval.output.summary).toMatch(/sre1.*pushed the head commit/);
  });

  test("the opener who did not push is never named the pusher; with no push seen, no approval counts", async () => {
    // The branch was pushed while Timebox was not listening (no push webhook delivered).
    gh.pushCommit({ branch: "feature", files: { "grants/dev1-prod-db.yaml": VALID_GRANT }, author: "dev1", pusher: "dev1" });
    const pr = gh.openPullRequest({ author: "dev1", branch: "feature" });
    await gh.deliver(probot, pr);
    expect(run("timebox/validate", pr.sha!).externalId ?? null).toBeNull();
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "sre1", state: "APPROVED" }));
    const approval = run("timebox/approval", pr.sha!);
    expect(approval.conclusion).toBe("action_required");
    expect(approval.output.summary).toMatch(/who pushed head commit .* is unknown/);
  });

  test("the pusher remembered from a branch push survives to later events (on the check run), and an eligible approval then counts", async () => {
    const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": VALID_GRANT } });
    await gh.deliver(probot, pr);
    expect(run("timebox/validate", pr.sha!).externalId).toBe("pusher:dev1");
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "sre1", state: "APPROVED" }));
    expect(run("timebox/approval", pr.sha!).conclusion).toBe("success");
  });
});

describe("one definition of a grant file (items 5 and 8)", () => {
  test("a dot-file next to a normal grant fails validate and is listed in the plan comment", async () => {
    const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": VALID_GRANT, "grants/.x.yaml": grantYaml({ duration: "8h" }) } });
    await gh.deliver(probot, pr);
    const check = run("timebox/validate", pr.sha!);
    expect(check.conclusion).toBe("failure");
    expect(check.output.annotations).toContainEqual(expect.objectContaining({ path: "grants/.x.yaml", start_line: 1, title: "grant.not-a-grant" }));
    expect(plan(pr.number!)).toContain("grants/.x.yaml");
    expect(plan(pr.number!)).toMatch(/dot-file/);
    expect(run("timebox/approval", pr.sha!).conclusion).not.toBe("success");
  });

  test.each([
    ["grants/dev1 prod.yaml", /outside the safe set/],
    ["grants/-rf.yaml", /starting with `-`/],
    ["grants/notes.txt", /ends in `.yaml` or `.yml`/],
    ["grants/d\u00e9v1.yaml", /non-ASCII/],
  ])("%j is refused with a located message", async (path, message) => {
    const pr = gh.openPullRequest({ author: "dev1", files: { [path]: VALID_GRANT } });
    await gh.deliver(probot, pr);
    const check = run("timebox/validate", pr.sha!);
    expect(check.conclusion).toBe("failure");
    const annotation = check.output.annotations.find((a: { path: string }) => a.path === path);
    expect(annotation).toMatchObject({ start_line: 1, title: "grant.not-a-grant" });
    expect(annotation!.message).toMatch(message);
  });

  test("the grants folder's README.md is housekeeping: not shown, not failing", async () => {
    const pr = gh.openPullRequest({ author: "dev1", files: { "grants/README.md": "# Grants\n" } });
    await gh.deliver(probot, pr);
    expect(run("timebox/validate", pr.sha!).conclusion).toBe("neutral");
  });
});

describe("a PR cannot spend the app's API budget or memory (item 12, PR side)", () => {
  test("a 3,000-file PR is refused without reading a single blob, in a bounded number of calls", async () => {
    const files = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`grants/dev1-${i}.yaml`, grantYaml({ reason: `r${i} looking at things` })]));
    const pr = gh.openPullRequest({ author: "dev1", files });
    gh.resetRequests();
    await gh.deliver(probot, pr);
    const calls = gh.callCount();
    const check = run("timebox/validate", pr.sha!);
    expect(check.conclusion).toBe("failure");
    expect(check.output.summary).toMatch(/3000 files under .grants\/., more than the 100 /);
    expect(blobReads()).toBe(0);
    // Listing 3,000 files is 30 pages; the rest is a handful (PR, base, policy, reviews, checks, comment).
    expect(calls).toBeLessThanOrEqual(60);
    console.log(`3,000-file PR opened: ${calls} API calls, ${blobReads()} blob reads`);
  });

  test("a grant blob over 64 KiB is refused from its tree entry's size, never downloaded", async () => {
    const huge = `requester: dev1\nreason: "${"x".repeat(8 * 1024 * 1024)}"\n`;
    const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": VALID_GRANT, "grants/dev1-huge.yaml": huge } });
    gh.resetRequests();
    await gh.deliver(probot, pr);
    const check = run("timebox/validate", pr.sha!);
    expect(check.conclusion).toBe("failure");
    expect(check.output.annotations).toContainEqual(expect.objectContaining({ path: "grants/dev1-huge.yaml", title: "yaml.too-large" }));
    expect(blobReads()).toBe(1); // the normal grant only
  });

  test("editing the title or body costs no API call; a base change is judged again", async () => {
    const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": VALID_GRANT } });
    await gh.deliver(probot, pr);
    gh.resetRequests();
    await gh.deliver(probot, gh.editPullRequest(pr.number!, { title: "new title", body: "new body" }));
    const calls = gh.callCount();
    expect(calls).toBe(0);
    console.log(`title/body edit: ${calls} API calls`);
  });
});

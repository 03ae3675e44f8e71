import type { Probot } from "probot";
import type { GitHubEmulator } from "../harness/github/index.js";
import { grantYaml, POLICY, startAccessRepo, VALID_GRANT } from "../support/access-repo.js";

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
const planComments = (n: number) => gh.comments(n).filter((c: { body: string }) => c.body.includes("<!-- timebox:plan -->"));

describe("timebox/validate on pull_request events", () => {
  test("a valid grant gets a green check with the plan, and one sticky comment", async () => {
    const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": VALID_GRANT } });
    await gh.deliver(probot, pr);

    const check = run("timebox/validate", pr.sha!);
    expect(check.conclusion).toBe("success");
    expect(check.output.title).toBe("1 of 1 grant file valid");
    expect(check.output.summary).toContain("| `grants/dev1-prod-db.yaml` | `dev1` | `prod-db` | `readonly` | 2h |");
    expect(check.externalId).toBe("pusher:dev1");
    expect(run("timebox/approval", pr.sha!).conclusion).toBe("action_required");
    const comments = planComments(pr.number!);
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toContain("needs 1 more approval");
  });

  test("an invalid grant fails with annotations at the offending lines", async () => {
    const bad = "requester: dev1\nresource: prod-db\nrole: readonly\nduration: 9h\nreason: look at things\nticket: INC-9\ncolour: blue\n";
    const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-bad.yaml": bad } });
    await gh.deliver(probot, pr);

    const check = run("timebox/validate", pr.sha!);
    expect(check.conclusion).toBe("failure");
    const annotations = check.output.annotations.map((a: any) => [a.path, a.start_line, a.start_column, a.title]);
    expect(annotations).toEqual(
      expect.arrayContaining([
        ["grants/dev1-bad.yaml", 7, 1, "schema.additionalProperties"],
        ["grants/dev1-bad.yaml", 4, 11, "policy.max-duration"],
      ]),
    );
    expect(check.output.summary).toContain("duration 9h exceeds max_duration 8h for prod-db/readonly");
  });

  test("the policy is read from the base branch even when the PR's head changes it", async () => {
    const laxer = POLICY.replace("max_duration: 8h", "max_duration: 48h");
    const pr = gh.openPullRequest({
      author: "dev1",
      files: { ".github/timebox.yml": laxer, "grants/dev1-prod-db.yaml": grantYaml({ duration: "24h" }) },
    });
    await gh.deliver(probot, pr);

    const check = run("timebox/validate", pr.sha!);
    expect(check.conclusion).toBe("failure");
    expect(check.output.summary).toContain("duration 24h exceeds max_duration 8h");
    expect(check.output.title).toContain("policy change valid");
    const approval = run("timebox/approval", pr.sha!);
    expect(approval.output.summary).toContain("@acme/security");
  });

  test("the newest base tip is used, not the payload's stale base sha", async () => {
    const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": grantYaml({ duration: "10h" }) } });
    // The base branch moves on after the PR was opened: the policy now allows 12h (a change a policy owner approved).
    const change = gh.openPullRequest({ author: "dev2", files: { ".github/timebox.yml": POLICY.replace("max_duration: 8h", "max_duration: 12h") } });
    await gh.deliver(probot, change);
    await gh.deliver(probot, gh.submitReview(change.number!, { reviewer: "sec1", state: "APPROVED" }));
    gh.merge(change.number!, { by: "sec1" });
    await gh.deliver(
      probot,
      pr.filter((e: { event: string }) => e.event === "pull_request"),
    );
    expect(run("timebox/validate", pr.sha!).conclusion).toBe("success");
  });

  test("a redelivered webhook edits nothing and never adds a second comment", async () => {
    const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": VALID_GRANT } });
    await gh.deliver(probot, pr);
    const writes = () => gh.callCount({ method: "POST" }) + gh.callCount({ method: "PATCH" });
    const before = writes();
    await gh.deliver(probot, pr);
    await gh.deliver(probot, pr);
    expect(writes()).toBe(before);
    expect(planComments(pr.number!)).toHaveLength(1);
  });

  test("a new push edits the sticky comment in place", async () => {
    const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": VALID_GRANT } });
    await gh.deliver(probot, pr);
    const push = gh.pushToPullRequest(pr.number!, { pusher: "dev1", files: { "grants/dev1-prod-db.yaml": grantYaml({ duration: "99h" }) } });
    await gh.deliver(probot, push);
    const comments = planComments(pr.number!);
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toContain("exceeds max_duration 8h");
    expect(run("timebox/validate", push.sha!).conclusion).toBe("failure");
  });

  test("file lists over 100 entries are read page by page", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 130; i++) files[`docs/page-${i}.md`] = `page ${i}\n`;
    files["grants/zz-dev1.yaml"] = VALID_GRANT;
    const pr = gh.openPullRequest({ author: "dev1", files });
    await gh.deliver(probot, pr);
    expect(run("timebox/validate", pr.sha!).output.title).toBe("1 of 1 grant file valid");
    expect(gh.callCount({ method: "GET", route: "/repos/{owner}/{repo}/pulls/{pull_number}/files" })).toBe(2);
  });

  test("a PR without grant files gets a neutral one-line check", async () => {
    const pr = gh.openPullRequest({ author: "dev1", files: { "README.md": "# changed\n" } });
    await gh.deliver(probot, pr);
    const check = run("timebox/validate", pr.sha!);
    expect(check.conclusion).toBe("neutral");
    expect(check.output.title).toBe("No grant files in this pull request");
  });

  test("a symlinked grant is refused, not followed", async () => {
    const pr = gh.openPullRequest({
      author: "dev1",
      files: { "grants/dev1-prod-db.yaml": VALID_GRANT, "grants/link.yaml": { content: "dev1-prod-db.yaml", mode: "120000" } },
    });
    await gh.deliver(probot, pr);
    const check = run("timebox/validate", pr.sha!);
    expect(check.conclusion).toBe("failure");
    expect(check.output.summary).toContain("is a symbolic link");
  });

  test("requesters through a team are checked through the API; a pending invitation is not membership", async () => {
    const pr = gh.openPullRequest({ author: "bob", files: { "grants/bob.yaml": grantYaml({ requester: "bob" }) } });
    await gh.deliver(probot, pr);
    const check = run("timebox/validate", pr.sha!);
    expect(check.conclusion).toBe("failure");
    expect(check.output.summary).toContain("may not request access");

    const ok = gh.openPullRequest({ author: "dev3", branch: "dev3", files: { "grants/dev3.yaml": grantYaml({ requester: "dev3" }) } });
    await gh.deliver(probot, ok);
    expect(run("timebox/validate", ok.sha!).conclusion).toBe("success");
  });

  test("a grant naming someone else than the author fails", async () => {
    const pr = gh.openPullRequest({ author: "mallory", files: { "grants/dev1.yaml": VALID_GRANT } });
    await gh.deliver(probot, pr);
    expect(run("timebox/validate", pr.sha!).output.summary).toContain("is not the pull request's author");
  });
});

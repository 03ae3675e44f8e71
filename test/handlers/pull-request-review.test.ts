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

const approval = (sha: string) => gh.checkRuns(sha, "timebox/approval").at(-1)!;
const plan = (n: number) => gh.comments(n).find((c: { body: string }) => c.body.includes("<!-- timebox:plan -->"))!.body as string;

async function openGrant(author = "dev1", files: Record<string, string> = { "grants/dev1-prod-db.yaml": VALID_GRANT }) {
  const pr = gh.openPullRequest({ author, files });
  await gh.deliver(probot, pr);
  return pr;
}

describe("timebox/approval on review events", () => {
  test("an eligible team member's approval turns the check green and the comment says so", async () => {
    const pr = await openGrant();
    expect(approval(pr.sha!).conclusion).toBe("action_required");
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
    expect(approval(pr.sha!).conclusion).toBe("success");
    expect(plan(pr.number!)).toContain("Approved");
  });

  test("a dismissed approval turns it back", async () => {
    const pr = await openGrant();
    const review = gh.submitReview(pr.number!, { reviewer: "sre1", state: "APPROVED" });
    await gh.deliver(probot, review);
    expect(approval(pr.sha!).conclusion).toBe("success");
    await gh.deliver(probot, gh.dismissReview(pr.number!, review.reviewId!, { by: "sec1" }));
    expect(approval(pr.sha!).conclusion).toBe("action_required");
  });

  test("a new push makes earlier approvals stale", async () => {
    const pr = await openGrant();
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
    const push = gh.pushToPullRequest(pr.number!, { pusher: "dev1", files: { "grants/dev1-prod-db.yaml": grantYaml({ duration: "3h" }) } });
    await gh.deliver(probot, push);
    const check = approval(push.sha!);
    expect(check.conclusion).toBe("action_required");
    expect(check.output.summary).toContain("older commit");
  });

  test("approval by someone who pushed to the PR does not count for their own push", async () => {
    const pr = await openGrant();
    const push = gh.pushToPullRequest(pr.number!, { pusher: "alice", author: "alice", files: { "grants/dev1-prod-db.yaml": grantYaml({ duration: "3h" }) } });
    await gh.deliver(probot, push);
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
    expect(approval(push.sha!).conclusion).toBe("action_required");
    expect(approval(push.sha!).output.summary).toMatch(/pushed/);
  });

  test("an approver outside the listed teams does not count", async () => {
    const pr = await openGrant();
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "dba1", state: "APPROVED" }));
    expect(approval(pr.sha!).conclusion).toBe("action_required");
  });

  test("an eligible CHANGES_REQUESTED blocks even after another approval", async () => {
    const pr = await openGrant();
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "sre1", state: "CHANGES_REQUESTED" }));
    expect(approval(pr.sha!).conclusion).toBe("action_required");
  });

  test("a PR changing the policy also needs an owner's approval (owners from the base)", async () => {
    const pr = await openGrant("dev1", { ".github/timebox.yml": POLICY.replace('owners: ["@acme/security"]', 'owners: ["dev1"]') });
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
    expect(approval(pr.sha!).conclusion).toBe("action_required");
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "sec1", state: "APPROVED" }));
    expect(approval(pr.sha!).conclusion).toBe("success");
  });

  test("membership is read once per (reviewer, team) pair per event", async () => {
    const pr = await openGrant();
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "dba1", state: "APPROVED" }));
    gh.resetRequests();
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "COMMENTED", body: "looking" }));
    const lookups = gh.requestsMatching({ route: "/orgs/{org}/teams/{team_slug}/memberships/{username}" }).map((r) => r.path);
    expect(new Set(lookups).size).toBe(lookups.length);
  });
});

/**
 * Replicas behind one webhook URL: the push of a PR's branch reaches one replica, the PR's other
 * webhooks another. Who pushed the head decides whose approval counts (the last pusher never
 * approves), and only the push webhook says it — so the replica that got the push records it on
 * GitHub (this app's `timebox/push` check run), and the one judging the PR reads it there. A
 * look-alike run by another app names nobody.
 */
import { POLICY, grantYaml, startAccessRepo, type AccessRepo } from "../support/access-repo.js";
import { MemoryPool, MemoryProvider } from "../support/memory-provider.js";

const TARGET = { installationId: 1, owner: "acme", repo: "access" };
const path = "grants/dev1-split.yaml";

let a: AccessRepo;
let b: AccessRepo;
let provider: MemoryProvider;

beforeEach(async () => {
  provider = new MemoryProvider();
  a = await startAccessRepo({ pool: new MemoryPool(provider) });
  b = await startAccessRepo({ gh: a.gh, clock: a.clock, pool: new MemoryPool(provider), policy: POLICY });
});
afterEach(async () => {
  expect(a.gh.unknownRequests()).toEqual([]);
  await b.stop();
  await a.stop();
});

const approval = (sha: string) => a.gh.checkRuns(sha, "timebox/approval").at(-1);

test("the push reaches one replica and the PR's webhooks another: the approval counts, and the grant is applied at merge", async () => {
  const { gh, clock } = a;
  const pr = gh.openPullRequest({ author: "dev1", files: { [path]: grantYaml({ reason: "Investigate INC-4711" }) } });
  await gh.deliver(a.probot, pr, { only: ["push"] });
  await gh.deliver(b.probot, pr, { only: ["pull_request"] });
  await gh.deliver(b.probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));

  expect(gh.checkRuns(pr.sha!, "timebox/push").map((r: { externalId: string | null }) => r.externalId)).toEqual(["pusher:dev1"]);
  expect(approval(pr.sha!)?.conclusion).toBe("success");

  clock.advance(60_000);
  gh.merge(pr.number!, { by: "alice" });
  const report = await b.runtime.reconcileRepo(TARGET);
  expect(report?.applied).toEqual([path]);
  expect(provider.held.size).toBe(1);
});

test("the replica that got the push names its sender; another app's timebox/push run naming someone else is never read", async () => {
  const { gh } = a;
  // alice (an approver) pushes dev1's request; a workflow claims dev1 pushed it, so that alice's approval would count.
  const pr = gh.openPullRequest({ author: "dev1", branch: "alice-pushed", files: { [path]: grantYaml({ reason: "Investigate INC-4711" }) } });
  const push = pr.filter((e) => e.event === "push").map((e) => ({ ...e, payload: { ...e.payload, sender: { ...e.payload.sender, login: "alice" } } }));
  gh.repo().foreignCheckRun(pr.sha!, { app: { id: 15368, slug: "github-actions" }, name: "timebox/push", conclusion: "neutral", externalId: "pusher:dev1" });
  await gh.deliver(a.probot, push);
  await gh.deliver(b.probot, pr, { only: ["pull_request"] });
  // alice pushed the head: her approval never counts, on whichever replica it is judged.
  await gh.deliver(b.probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  expect(approval(pr.sha!)?.conclusion).not.toBe("success");
  expect(gh.checkRuns(pr.sha!, "timebox/validate").at(-1)?.externalId).toBe("pusher:alice");
});

/** alice (an approver) pushes dev1's request to her own branch; dev1 points his branch at the same commit and opens the PR. */
function aliceWritesDev1Pushes() {
  const { gh } = a;
  const aliceBranch = gh
    .repo()
    .pushCommit({ branch: "alice-x", author: "dev1", pusher: "alice", files: { [path]: grantYaml({ reason: "Investigate INC-4711" }) } });
  const sha = aliceBranch.sha!;
  gh.repo().setBranch("dev1-x", sha);
  const dev1Push = aliceBranch
    .filter((e) => e.event === "push")
    .map((e) => ({ ...e, payload: { ...e.payload, ref: "refs/heads/dev1-x", sender: { ...e.payload.sender, login: "dev1" } } }));
  return { aliceBranch, dev1Push, sha };
}

test("the approver pushed the commit first, to her own branch, via one replica: the requester's push of it via another names her still, and her approval never counts", async () => {
  const { gh } = a;
  const { aliceBranch, dev1Push, sha } = aliceWritesDev1Pushes();
  await gh.deliver(a.probot, aliceBranch);
  await gh.deliver(b.probot, dev1Push);
  const pr = gh.openPullRequest({ author: "dev1", branch: "dev1-x" });
  await gh.deliver(b.probot, pr);
  await gh.deliver(b.probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  expect(gh.checkRuns(sha, "timebox/push").map((r: { externalId: string | null }) => r.externalId)).toEqual(["pusher:alice"]);
  expect(gh.checkRuns(sha, "timebox/validate").at(-1)?.externalId).toBe("pusher:alice");
  expect(approval(sha)?.conclusion).not.toBe("success");
});

test("two replicas raced and both recorded a push of the same commit: the first record names the pusher, not the latest", async () => {
  const { gh } = a;
  const { aliceBranch, sha } = aliceWritesDev1Pushes();
  await gh.deliver(a.probot, aliceBranch);
  // The replica that lost the race wrote its record of dev1's push a moment later, as this app.
  gh.repo().foreignCheckRun(sha, {
    app: { id: gh.state.app.id, slug: gh.state.app.slug },
    name: "timebox/push",
    conclusion: "neutral",
    externalId: "pusher:dev1",
  });
  const pr = gh.openPullRequest({ author: "dev1", branch: "dev1-x" });
  await gh.deliver(b.probot, pr);
  await gh.deliver(b.probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  expect(gh.checkRuns(sha, "timebox/validate").at(-1)?.externalId).toBe("pusher:alice");
  expect(approval(sha)?.conclusion).not.toBe("success");
});

/**
 * After the merge, a PR Timebox opened for `/timebox request` is judged again as at merge time
 * (lifecycle/origin.ts) through the same record: applied for the requester when approved, never
 * when someone else pushed to its branch.
 */
import { jest } from "@jest/globals";
import { grantYaml } from "../support/access-repo.js";
import { deliverOk, postgresAccessPerTest } from "../support/lifecycle-flow.js";
import { openIssue, pulls } from "../commands/request-support.js";

jest.setTimeout(60_000);

const env = postgresAccessPerTest();

/** dev1 asks with a comment; the PR Timebox opened. */
async function requested() {
  const { gh } = env();
  const issue = openIssue(gh, { author: "dev1", body: "Checkout is slow." });
  await deliverOk(env(), issue);
  await deliverOk(env(), gh.comment(issue.number!, { author: "dev1", body: "/timebox request prod-db readonly 2h slow checkout ticket:INC-1234" }));
  const pr = pulls(gh).find((p) => p.user === "timebox[bot]");
  expect(pr).toBeDefined();
  return pr!;
}

test("an approved request PR merges and dev1 gets the access", async () => {
  const { gh, clock } = env();
  const pr = await requested();
  await deliverOk(env(), gh.submitReview(pr.number, { reviewer: "sre1", state: "APPROVED" }));
  expect(gh.checkRuns(pr.headSha, "timebox/approval").at(-1)?.conclusion).toBe("success");
  clock.advance(60_000);
  await deliverOk(env(), gh.merge(pr.number, { by: "sre1" }));
  expect(await env().hasAccess()).toBe(true);
});

test("a request PR someone else pushed to is never applied, even when merged past its checks", async () => {
  const { gh, clock } = env();
  const pr = await requested();
  const path = gh
    .repo()
    .files(pr.headSha)
    .find((f: string) => f.startsWith("grants/"))!;
  await deliverOk(env(), gh.pushToPullRequest(pr.number, { pusher: "dev2", files: { [path]: grantYaml({ duration: "8h" }) } }));
  const head = gh.pull(pr.number).headSha;
  expect(gh.checkRuns(head, "timebox/validate").at(-1)?.conclusion).toBe("failure");
  await deliverOk(env(), gh.submitReview(pr.number, { reviewer: "sre1", state: "APPROVED" }));
  clock.advance(60_000);
  await deliverOk(env(), gh.merge(pr.number, { by: "sre1" }));
  expect(await env().hasAccess()).toBe(false);
});

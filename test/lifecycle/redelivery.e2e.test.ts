/**
 * GitHub delivers webhooks more than once: a redelivered review or merge event changes nothing
 * (no new comment, check run, commit or provider call) — issue 4, "Failures"; design §4.
 */
import { jest } from "@jest/globals";
import { grantYaml } from "../support/access-repo.js";
import { appWrites, commentsWith, deliverOk, postgresAccessPerTest } from "../support/lifecycle-flow.js";
import type { PostgresAccess } from "../support/postgres-access.js";

jest.setTimeout(60_000);

const current = postgresAccessPerTest();
let env: PostgresAccess;
beforeEach(() => {
  env = current();
});

const PATH = "grants/dev1-prod-db.yaml";

test("review and merge webhooks delivered twice: the second delivery writes nothing", async () => {
  const { gh, clock } = env;
  const pr = gh.openPullRequest({ author: "dev1", files: { [PATH]: grantYaml() } });
  await deliverOk(env, pr);

  const review = gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" });
  await deliverOk(env, review);
  expect(gh.checkRuns(pr.sha!, "timebox/approval").at(-1)?.conclusion).toBe("success");
  let before = appWrites(env);
  await deliverOk(env, review);
  expect(appWrites(env).slice(before.length)).toEqual([]);
  expect(commentsWith(env, pr.number!, "timebox:plan")).toHaveLength(1);

  clock.advance(60_000);
  const merge = gh.merge(pr.number!, { by: "alice" });
  await deliverOk(env, merge);
  expect(await env.hasAccess()).toBe(true);
  const comments = gh.comments(pr.number!).length;
  const mainHead = gh.branchHead("main");

  before = appWrites(env);
  await deliverOk(env, merge);
  await deliverOk(env, review); // a late, out-of-order redelivery of the review
  expect(appWrites(env).slice(before.length)).toEqual([]);
  expect(gh.comments(pr.number!)).toHaveLength(comments);
  expect(commentsWith(env, pr.number!, "timebox:applied")).toHaveLength(1);
  expect(gh.checkRuns(merge.sha!, "timebox/apply")).toHaveLength(1);
  expect(gh.branchHead("main")).toBe(mainHead);
  expect(await env.hasAccess()).toBe(true);
});

/**
 * Grant content that reaches the default branch without an approved merged PR is never applied,
 * and Timebox says so loudly (design §2 rule 4; issue 4, "Direct pushes" and "Apply on merge").
 */
import { jest } from "@jest/globals";
import { grantYaml } from "../support/access-repo.js";
import { appWrites, commentsWith, deliverOk, postgresAccessPerTest, reconcile } from "../support/lifecycle-flow.js";
import type { PostgresAccess } from "../support/postgres-access.js";

jest.setTimeout(60_000);

const current = postgresAccessPerTest();
let env: PostgresAccess;
beforeEach(() => {
  env = current();
});

const PATH = "grants/dev1-prod-db.yaml";

test("a grant pushed straight to main is never applied; one timebox:unapproved issue names the commit and who pushed it", async () => {
  const { gh, clock } = env;
  const push = gh.pushCommit({ branch: "main", files: { [PATH]: grantYaml() }, author: "mallory", message: "give dev1 prod access" });
  await deliverOk(env, push);
  expect(await env.hasAccess()).toBe(false);

  // GitHub links a merge commit to its PR a moment after the push, so Timebox gives a fresh commit a
  // short grace before calling it unapproved; the next tick after that reports it.
  clock.advance(3 * 60_000);
  await reconcile(env);
  expect(await env.hasAccess()).toBe(false);
  expect(await env.roleExists(env.grantRole(PATH))).toBe(false);
  const issues = gh.issues({ labels: ["timebox:unapproved"] });
  expect(issues).toHaveLength(1);
  expect(issues[0].state).toBe("open");
  expect(issues[0].title).toContain(PATH);
  expect(issues[0].body).toContain(push.sha!);
  expect(issues[0].body).toContain("`mallory`");
  expect(issues[0].body).toMatch(/did not apply it/);
  expect(issues[0].body).toMatch(/without a pull request/);

  // Later reconciles (tick, timer, another push) neither apply it nor open or edit the issue.
  const writes = appWrites(env).length;
  const report = await reconcile(env);
  expect(report.applied).toEqual([]);
  await reconcile(env);
  expect(await env.hasAccess()).toBe(false);
  expect(gh.issues({ labels: ["timebox:unapproved"] })).toHaveLength(1);
  expect(appWrites(env).slice(writes)).toEqual([]);
});

test("the timebox:unapproved issue names who pushed, not only who authored the commit", async () => {
  // Issue 4 §3: "opens or updates a timebox:unapproved issue naming the commit and the pusher". Git
  // records the author (here the requester, dev1), but mallory pushed it; only the push webhook says so.
  const { gh, clock } = env;
  const push = gh.pushCommit({ branch: "main", files: { [PATH]: grantYaml() }, author: "dev1", pusher: "mallory" });
  await deliverOk(env, push);
  clock.advance(3 * 60_000);
  await reconcile(env);
  const issues = gh.issues({ labels: ["timebox:unapproved"] });
  expect(issues).toHaveLength(1);
  expect(issues[0].body).toContain(push.sha!);
  expect(issues[0].body).toContain("mallory");
});

test("a restarted app finds the existing timebox:unapproved issue instead of opening another", async () => {
  const { gh, clock } = env;
  await deliverOk(env, gh.pushCommit({ branch: "main", files: { [PATH]: grantYaml() }, author: "mallory" }));
  clock.advance(3 * 60_000);
  await reconcile(env);
  expect(gh.issues({ labels: ["timebox:unapproved"] })).toHaveLength(1);

  // A fresh process (no in-memory state) reconciles the same repository.
  await env.pool.close();
  await env.pg.idle();
  const { startAccessRepo } = await import("../support/access-repo.js");
  const again = await startAccessRepo({ gh, clock: env.clock, env: env.providerEnv, repo: env.fullName.split("/")[1] });
  try {
    await reconcile(again);
    expect(gh.issues({ labels: ["timebox:unapproved"] })).toHaveLength(1);
    expect(await env.hasAccess()).toBe(false);
  } finally {
    await again.stop();
    await env.pg.idle();
  }
});

test("an admin merge without approvals applies nothing; the PR and a timebox:unapproved issue say so", async () => {
  const { gh, clock } = env;
  const pr = gh.openPullRequest({ author: "dev1", files: { [PATH]: grantYaml() } });
  await deliverOk(env, pr);
  expect(gh.checkRuns(pr.sha!, "timebox/approval").at(-1)?.conclusion).not.toBe("success");

  clock.advance(60_000);
  const merge = gh.merge(pr.number!, { by: "alice" });
  await deliverOk(env, merge);

  expect(await env.hasAccess()).toBe(false);
  expect(await env.roleExists(env.grantRole(PATH))).toBe(false);
  expect(commentsWith(env, pr.number!, "timebox:applied")).toHaveLength(0);
  const issues = gh.issues({ labels: ["timebox:unapproved"] });
  expect(issues).toHaveLength(1);
  expect(issues[0].body).toContain(`#${pr.number}`);
  expect(issues[0].body).toMatch(/without the approvals the policy requires/);
  const said = commentsWith(env, pr.number!, "timebox:unapproved");
  expect(said).toHaveLength(1);
  expect(said[0].body).toMatch(/did not apply it/);
  expect(said[0].body).toContain(`#${issues[0].number}`);

  // Redelivery and later ticks repeat nothing.
  await deliverOk(env, merge);
  await reconcile(env);
  expect(gh.issues({ labels: ["timebox:unapproved"] })).toHaveLength(1);
  expect(commentsWith(env, pr.number!, "timebox:unapproved")).toHaveLength(1);
  expect(await env.hasAccess()).toBe(false);
});

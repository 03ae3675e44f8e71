import { jest } from "@jest/globals";
import type { PostgresAccess } from "../support/postgres-access.js";
import { postgresAccessPerTest } from "../support/lifecycle-flow.js";
import { VALID_GRANT } from "../support/access-repo.js";

jest.setTimeout(60_000);

// One PostgreSQL server for the file; each test its own roles, repository, emulator and app.
const current = postgresAccessPerTest();
let env: PostgresAccess;
beforeEach(() => {
  env = current();
});

const HOUR = 3600_000;

test("merge applies the grant in PostgreSQL; expiry revokes it, removes the file with trailers and closes the story", async () => {
  const { gh, probot, clock } = env;
  const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": VALID_GRANT } });
  await gh.deliver(probot, pr);
  expect(gh.checkRuns(pr.sha!, "timebox/validate").at(-1)!.conclusion).toBe("success");
  await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  expect(gh.checkRuns(pr.sha!, "timebox/approval").at(-1)!.conclusion).toBe("success");
  expect(await env.hasAccess()).toBe(false);

  clock.advance(60_000);
  const merge = gh.merge(pr.number!, { by: "alice" });
  await gh.deliver(probot, merge);
  expect(await env.hasAccess()).toBe(true);
  const applied = gh.comments(pr.number!).filter((c: { body: string }) => c.body.includes("timebox:applied"));
  expect(applied).toHaveLength(1);
  expect(applied[0].body).toContain("Expires at:** 2026-03-02T11:01:00Z (in 2h)");
  expect(gh.checkRuns(merge.sha!, "timebox/apply").at(-1)!.conclusion).toBe("success");

  // A redelivered merge webhook changes nothing.
  await gh.deliver(probot, merge);
  expect(gh.comments(pr.number!).filter((c: { body: string }) => c.body.includes("timebox:applied"))).toHaveLength(1);

  clock.advance(2 * HOUR);
  await env.runtime.reconcileAll();
  expect(await env.hasAccess()).toBe(false);
  expect(gh.fileAt("main", "grants/dev1-prod-db.yaml")).toBeUndefined();
  const head = gh.commit(gh.branchHead("main")!)!;
  expect(head.message).toMatch(/^Revoke expired grant grants\/dev1-prod-db.yaml/);
  for (const trailer of [
    "Timebox-Grant: grants/dev1-prod-db.yaml",
    "Requested-by: dev1",
    "Approved-by: alice",
    `Pull-Request: #${pr.number}`,
    "Granted-at: 2026-03-02T09:01:00Z",
    "Expires-at: 2026-03-02T11:01:00Z",
    "Revoked-at: 2026-03-02T11:01:00Z",
    "Revoke-Reason: expired",
  ]) {
    expect(head.message).toContain(trailer);
  }
  expect(gh.comments(pr.number!).filter((c: { body: string }) => c.body.includes("timebox:revoked"))).toHaveLength(1);

  // Nothing more happens on later ticks.
  const commits = gh.branchHead("main");
  await env.runtime.reconcileAll();
  expect(gh.branchHead("main")).toBe(commits);
  expect(gh.comments(pr.number!).filter((c: { body: string }) => c.body.includes("timebox:revoked"))).toHaveLength(1);
});

test("a GitHub without the commit → pull requests endpoint still gets merged grants applied", async () => {
  const { gh, probot } = env;
  gh.failNext({ route: "/repos/{owner}/{repo}/commits/{commit_sha}/pulls", status: 404, times: Number.POSITIVE_INFINITY });
  const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": VALID_GRANT } });
  await gh.deliver(probot, pr);
  await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  await gh.deliver(probot, gh.merge(pr.number!, { by: "alice" }));
  expect(await env.hasAccess()).toBe(true);
  expect(gh.requestsMatching({ route: "/repos/{owner}/{repo}/commits/{commit_sha}/pulls" }).map((r) => r.status)).toContain(404);
});

import { expect, jest, test } from "@jest/globals";
import { grantYaml } from "../support/access-repo.js";
import { commentsWith, deliverOk, postgresAccessPerTest, reconcile } from "../support/lifecycle-flow.js";

jest.setTimeout(60_000);

// The fixture policy's request_ttl is 24h; requests open at 09:00.
const env = postgresAccessPerTest();
const PATH = "grants/dev1-prod-db.yaml";

async function openRequest(): Promise<number> {
  const pr = env().gh.openPullRequest({ author: "dev1", files: { [PATH]: grantYaml() } });
  await deliverOk(env(), pr);
  return pr.number!;
}

test("a request without approval after request_ttl is closed with why and how to reopen; reopening restarts the clock", async () => {
  const { gh, clock } = env();
  const n = await openRequest();
  clock.set("2026-03-03T08:59:59Z");
  await reconcile(env());
  expect(gh.pull(n).state).toBe("open");

  clock.set("2026-03-03T09:00:00Z");
  const report = await reconcile(env());
  expect(report.closedStale).toEqual([n]);
  expect(gh.pull(n).state).toBe("closed");
  expect(gh.pull(n).merged).toBe(false);
  const [notice] = commentsWith(env(), n, "Request closed: no approval within 24h");
  expect(notice.body).toContain("Reopen this pull request");
  expect(notice.body).toContain(`\`${PATH}\``);
  expect(await env().hasAccess()).toBe(false);

  // Reopened at 10:00 the next day: not closed again until 24h after that.
  clock.set("2026-03-03T10:00:00Z");
  await deliverOk(env(), gh.reopen(n, { by: "dev1" }));
  clock.set("2026-03-04T09:59:00Z");
  await reconcile(env());
  expect(gh.pull(n).state).toBe("open");
  clock.set("2026-03-04T10:00:00Z");
  await reconcile(env());
  expect(gh.pull(n).state).toBe("closed");
  expect(commentsWith(env(), n, "Request closed")).toHaveLength(2);
});

test("a request approved just before the TTL stays open; a PR without grant files is never closed", async () => {
  const { gh, clock } = env();
  const n = await openRequest();
  const docs = gh.openPullRequest({ author: "dev2", files: { "README.md": "# Access\n" } });
  await deliverOk(env(), docs);
  clock.set("2026-03-03T08:59:00Z");
  await deliverOk(env(), gh.submitReview(n, { reviewer: "sre1", state: "APPROVED" }));
  clock.set("2026-03-03T09:30:00Z");
  const report = await reconcile(env());
  expect(report.closedStale).toEqual([]);
  expect(gh.pull(n).state).toBe("open");
  expect(gh.pull(docs.number!).state).toBe("open");
  // Judged once per state: the next reconcile does not read those PRs again.
  const before = gh.requests.length;
  await reconcile(env());
  expect(gh.requests.slice(before).filter((r: { path: string }) => /\/pulls\/\d+$/.test(r.path))).toEqual([]);
});

test("the precise timer is armed for the moment an open request goes stale", async () => {
  const { clock } = env();
  await openRequest();
  clock.set("2026-03-02T10:00:00Z");
  const report = await reconcile(env());
  expect(report.nextExpiry?.toISOString()).toBe("2026-03-03T09:00:00.000Z");
});

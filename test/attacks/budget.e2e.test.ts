/**
 * Revocation cannot be starved (issue #10, item 12): a person who can open and edit pull requests
 * cannot spend the GitHub API budget an expiry needs. The emulated GitHub enforces the hourly
 * limit here (403 `API rate limit exceeded`, as GitHub answers).
 */
import { expect, jest, test } from "@jest/globals";
import { grantYaml } from "../support/access-repo.js";
import { mergeApprovedGrant, postgresAccessPerTest, reconcile } from "../support/lifecycle-flow.js";

jest.setTimeout(90_000);

const env = postgresAccessPerTest();

test("PR activity that would exhaust the installation's budget leaves the reserve for revocation: the expired grant is revoked on time", async () => {
  const { gh, clock } = env();
  clock.set("2026-03-02T09:00:00Z");
  await mergeApprovedGrant(env(), { path: "grants/dev1-prod-db.yaml", content: grantYaml({ duration: "30m" }) });
  expect(await env().hasAccess()).toBe(true);

  // Other traffic has used most of this hour's budget: 150 calls are left (the reserve is 10%: 500).
  const limits = gh.state.rateLimits;
  limits.enforce = true;
  const now = clock.now().getTime();
  limits.spend("installation:1", limits.remaining("installation:1", now) - 150, now);

  // A person opens pull requests and keeps pushing to them.
  for (let i = 0; i < 15; i++) {
    const pr = gh.openPullRequest({ author: "mallory", files: { [`grants/mallory-${i}.yaml`]: grantYaml({ requester: "mallory" }) } });
    const results = await gh.deliver(env().probot, pr);
    expect(results.every((r) => r.status === 200 || r.status === 500)).toBe(true);
  }
  expect(limits.remaining("installation:1", clock.now().getTime())).toBeGreaterThan(20);

  clock.set("2026-03-02T09:31:00Z");
  const report = await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
  // Said so: the reconcile ran in saving mode (timebox_reconciles_saving_budget_total counts it).
  expect(report.saving).toBe(true);
});

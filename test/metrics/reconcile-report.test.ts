/** The fields of ReconcileReport the metrics read: revocation lag of expired grants, failed revokes, active grants by resource. */
import { jest } from "@jest/globals";
import { startPostgresAccess, type PostgresAccess } from "../support/postgres-access.js";
import { mergeApprovedGrant, reconcile } from "../support/lifecycle-flow.js";
import { VALID_GRANT } from "../support/access-repo.js";
import { TimeboxMetrics } from "../../src/metrics/index.js";

jest.setTimeout(60_000);

let env: PostgresAccess;
beforeEach(async () => {
  env = await startPostgresAccess();
});
afterEach(async () => {
  await env.stop();
});

test("an expired grant revoked 90 s late reports a 90 s revocation lag, which the histogram observes", async () => {
  await mergeApprovedGrant(env, { path: "grants/dev1-prod-db.yaml", content: VALID_GRANT });
  const applied = await reconcile(env);
  expect(applied.active).toBe(1);
  // Every resource of the policy is reported, with its active grants (the fixture policy has one).
  expect(applied.activeByResource).toEqual({ "prod-db": 1 });
  expect(applied.revocationLagsMs).toEqual([]);
  expect(await env.hasAccess()).toBe(true);

  env.clock.advance(2 * 3600_000 + 90_000);
  const report = await reconcile(env);
  expect(report.revoked).toEqual(["grants/dev1-prod-db.yaml"]);
  expect(report.revocationLagsMs).toEqual([90_000]);
  expect(report.failedRevokes).toBe(0);
  expect(report.active).toBe(0);
  expect(report.activeByResource).toEqual({ "prod-db": 0 });

  const m = new TimeboxMetrics({ processMetrics: false });
  m.reconciled(report, 0.2);
  const text = await m.registry.metrics();
  expect(text).toContain('timebox_revocation_lag_seconds_bucket{le="60"} 0');
  expect(text).toContain('timebox_revocation_lag_seconds_bucket{le="120"} 1');
  expect(text).toContain('timebox_grant_operations_total{operation="revoke",outcome="ok"} 1');
  expect(text).toContain(`timebox_grants_active{repo="${env.fullName}"} 0`);
  expect(text).toContain(`timebox_grants_active_by_resource{repo="${env.fullName}",resource="prod-db"} 0`);
});

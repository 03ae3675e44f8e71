/**
 * The dry run is the real run: scenarios played by the app on the emulated GitHub, the repository
 * then cloned with the real `git`, and what `timebox plan` says a reconcile would do at that moment
 * compared with what the reconciler then does (issue #11: one decision for both).
 */
import { expect, jest, test } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planRepository, type Plan } from "../../src/plan/index.js";
import { knownProviders } from "../../src/policy/providers.js";
import { cloneRepository, exportBareRepository } from "../harness/github/git-export.js";
import { grantYaml } from "../support/access-repo.js";
import { deliverOk, mergeApprovedGrant, postgresAccessPerTest, reconcile } from "../support/lifecycle-flow.js";

jest.setTimeout(90_000);

const env = postgresAccessPerTest();

/** `timebox plan` over a fresh clone of the access repository, as of the emulator's clock. */
async function planNow(): Promise<Plan> {
  const dir = mkdtempSync(join(tmpdir(), "timebox-plan-agrees-"));
  try {
    const repo = env().gh.repo(env().fullName).repo;
    exportBareRepository(repo.git, repo.refs, repo.defaultBranch, join(dir, "bare.git"));
    cloneRepository(join(dir, "bare.git"), join(dir, "clone"));
    return await planRepository(join(dir, "clone"), { at: env().clock.now(), providers: knownProviders() });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Plans, reconciles, and checks that the reconcile did what the plan said. Offline, a file removed
 * by a recent PR is "ensure revoked" (a clone cannot tell whether the app already did): such an
 * entry the reconcile does not revoke again must already have no access at the provider.
 */
async function planThenReconcile(): Promise<{ plan: Plan }> {
  const plan = await planNow();
  const report = await reconcile(env());
  const planned = plan.revoke.map((r) => r.path);
  expect(planned).toEqual(expect.arrayContaining(report.revoked));
  for (const extra of plan.revoke.filter((r) => !report.revoked.includes(r.path))) {
    expect(extra.reason).toBe("removed");
    expect(await env().roleExists(env().grantRole(extra.path))).toBe(false);
  }
  // Reported once: a later reconcile finds the report already open.
  expect(plan.report.map((r) => r.path)).toEqual(expect.arrayContaining(report.unapproved));
  const open = env()
    .gh.issues({ labels: ["timebox:unapproved"], state: "open" })
    .map((i) => i.title);
  for (const r of plan.report) expect(open.some((title) => title.endsWith(r.path))).toBe(true);
  expect(report.active).toBe(plan.active.length);
  return { plan };
}

test("expiries, an early removal by PR, a direct push and live grants: the plan and the reconcile agree at each step", async () => {
  const { gh, clock } = env();
  clock.set("2026-03-02T09:00:00Z");
  await mergeApprovedGrant(env(), { path: "grants/dev1-short.yaml", content: grantYaml({ duration: "1h" }) });
  await mergeApprovedGrant(env(), { path: "grants/dev1-long.yaml", content: grantYaml({ duration: "6h" }) });
  await mergeApprovedGrant(env(), { path: "grants/dev1-removed.yaml", content: grantYaml({ duration: "6h" }) });

  // Nothing due yet.
  clock.set("2026-03-02T09:30:00Z");
  let { plan } = await planThenReconcile();
  expect(plan.active.map((a) => a.path).sort()).toEqual(["grants/dev1-long.yaml", "grants/dev1-removed.yaml", "grants/dev1-short.yaml"]);

  // Someone pushes a grant straight to main (the app sees the push); later a PR removes one grant
  // (merged, not yet reconciled), and one grant expires.
  await deliverOk(env(), gh.pushCommit({ author: "dev2", files: { "grants/dev2-direct.yaml": grantYaml({ requester: "dev2" }) }, message: "add my access" }));
  clock.set("2026-03-02T10:05:00Z");
  const removal = gh.openPullRequest({ author: "dev1", deletes: ["grants/dev1-removed.yaml"], title: "Done early" });
  gh.merge(removal.number!, { by: "dev1" });
  clock.set("2026-03-02T10:10:00Z");
  ({ plan } = await planThenReconcile());
  expect(plan.revoke.map((r) => `${r.path}:${r.reason}`).sort()).toEqual(["grants/dev1-removed.yaml:removed", "grants/dev1-short.yaml:expired"]);
  expect(plan.report.map((r) => r.path)).toEqual(["grants/dev2-direct.yaml"]);

  // Later: the long grant expires; what was revoked stays revoked.
  clock.set("2026-03-02T15:10:00Z");
  ({ plan } = await planThenReconcile());
  expect(plan.revoke.filter((r) => r.reason === "expired").map((r) => r.path)).toEqual(["grants/dev1-long.yaml"]);
  expect(await env().hasAccess()).toBe(false);
});

/**
 * The end-to-end story for the `gcp-iam` provider, on the emulated GitHub and the emulated
 * Resource Manager IAM endpoint: PRs add grants for a project role → approve → merge → the
 * project's IAM policy holds a binding for each person whose condition ends at the grant's expiry
 * (read from the emulator as an administrator would, not through the provider) → the clock passes
 * expiry → reconcile → the bindings are gone, Timebox commits remove the files, the PRs get their
 * closing comments. dev3's own unconditioned binding, and an unrelated one, stay.
 */
import { jest } from "@jest/globals";
import { FakeClock } from "../harness/clock.js";
import { startResourceManager, type ResourceManagerEmulator } from "../harness/gcp/resource-manager.js";
import { startAccessRepo, type AccessRepo } from "../support/access-repo.js";
import { markedComments, mergeApprovedGrant } from "../support/lifecycle-stage.js";
import { expectAppliedOnce, expectNextReconcileCommitsNothing, expectRemovedAtExpiry, policyWithResource } from "../support/provider-story.js";

jest.setTimeout(60_000);

const HOUR = 3600_000;
const PROJECT = "projects/acme-prod";
const ROLE = "roles/cloudsql.client";
const DEV1 = "user:dev1@acme.example";
const DEV3 = "user:dev3@acme.example";

function policyWithGcp(): string {
  return policyWithResource(
    `  dev1: { postgres: dev1_login, gcp-iam: "${DEV1}" }\n  dev3: { gcp-iam: "${DEV3}" }\n`,
    `  gcp-prod:
    provider: gcp-iam
    settings: { credentials_env: GCP_TIMEBOX_KEY, endpoint_env: GCP_RM_ENDPOINT }
    roles:
      sql-client:
        target: "${PROJECT}#${ROLE}"
        max_duration: 8h
        approvers: ["@acme/sre", "sre1"]
        approvals: 1
`,
  );
}

describe("gcp-iam provider, end to end", () => {
  let rm: ResourceManagerEmulator;
  let env: AccessRepo;
  beforeEach(async () => {
    rm = await startResourceManager();
    rm.addResource(PROJECT);
    for (const p of [DEV1, DEV3, "group:dba@acme.example"]) rm.addPrincipal(p);
    rm.addBinding(PROJECT, { role: ROLE, members: [DEV3] });
    rm.addBinding(PROJECT, { role: "roles/viewer", members: ["group:dba@acme.example"] });
    // IAM evaluates conditions against Google's clock: the app's clock starts at the real time.
    env = await startAccessRepo({
      policy: policyWithGcp(),
      env: { GCP_TIMEBOX_KEY: rm.keyJson, GCP_RM_ENDPOINT: rm.url },
      clock: new FakeClock(new Date(Math.floor(Date.now() / 1000) * 1000).toISOString()),
    });
  });
  afterEach(async () => {
    await env?.stop();
    expect(rm.violations).toEqual([]);
    await rm?.stop();
  });

  test("conditioned bindings appear on merge, end at expiry at Google's side, and are removed at expiry", async () => {
    const { gh, probot, clock } = env;
    const before = rm.bindings(PROJECT);
    const dev1 = await mergeApprovedGrant(gh, probot, {
      requester: "dev1",
      path: "grants/dev1-sql.yaml",
      fields: { resource: "gcp-prod", role: "sql-client" },
    });
    const dev3 = await mergeApprovedGrant(gh, probot, {
      requester: "dev3",
      path: "grants/dev3-sql.yaml",
      fields: { resource: "gcp-prod", role: "sql-client" },
      advanceMs: 0,
    });
    expectAppliedOnce(gh, [dev1, dev3]);
    expect(markedComments(gh, dev1.number, "applied")[0].body).toContain(`\`${DEV1}\` has \`${ROLE}\` on \`${PROJECT}\``);

    // Read as an administrator: one conditioned binding per grant, ending 2 h after the merge.
    const timebox = rm.bindings(PROJECT).filter((b) => b.condition?.title?.startsWith("timebox "));
    expect(timebox.map((b) => b.members).sort()).toEqual([[DEV1], [DEV3]]);
    const expiry = new Date(timebox.find((b) => b.members[0] === DEV1)!.condition!.expression.match(/"(.+)"/)![1]!);
    expect(expiry.getTime()).toBe(clock.now().getTime() + 2 * HOUR);
    expect(timebox[0]!.condition!.description).toContain("acme/access");
    expect(rm.hasAccess(DEV1, PROJECT, ROLE, new Date(expiry.getTime() - 1))).toBe(true);
    // The second lock: even if Timebox never ran again, Google would end the access here.
    expect(rm.hasAccess(DEV1, PROJECT, ROLE, expiry)).toBe(false);

    clock.advance(2 * HOUR);
    await env.runtime.reconcileAll();
    expect(rm.bindings(PROJECT)).toEqual(before);
    expect(rm.hasAccess(DEV3, PROJECT, ROLE)).toBe(true);
    expectRemovedAtExpiry(gh, [dev1, dev3]);
    await expectNextReconcileCommitsNothing(env);
  });
});

/**
 * The end-to-end story for the `aws-identity-center` provider, on the emulated GitHub and moto's
 * server: PRs add grants of an AWS account through a permission set → approve → merge → the
 * Identity Store users really hold the account assignments (read back by the administrator's
 * client, not the provider) → the clock passes expiry → reconcile → the assignments are gone,
 * Timebox commits remove the files. dev3, assigned before Timebox, keeps the assignment. The
 * permission set's 12 h session duration is longer than the grants: the apply comment says so.
 */
import { jest } from "@jest/globals";
import { startAccessRepo, type AccessRepo } from "../support/access-repo.js";
import { markedComments, mergeApprovedGrant, removalCommits } from "../support/lifecycle-stage.js";
import { expectAppliedOnce, expectNextReconcileCommitsNothing, policyWithResource } from "../support/provider-story.js";
import { describeWithMoto, startTestMoto, type TestMoto } from "../providers/moto-server.js";

jest.setTimeout(60_000);

const HOUR = 3600_000;
const ACCOUNT = "210987654321";
const PERMISSION_SET = "ProdReadOnly";

function policyWithAws(moto: TestMoto): string {
  const s = moto.settings;
  return policyWithResource(
    `  dev1: { postgres: dev1_login, aws-identity-center: "dev1@example.com" }\n  dev3: { aws-identity-center: "dev3@example.com" }\n`,
    `  aws-prod:
    provider: aws-identity-center
    settings: { instance_arn: "${s.instance_arn}", identity_store_id: "${s.identity_store_id}", region: ${s.region}, endpoint_env: ${s.endpoint_env} }
    roles:
      readonly:
        target: "${ACCOUNT}/${PERMISSION_SET}"
        max_duration: 8h
        approvers: ["@acme/sre", "sre1"]
        approvals: 1
`,
  );
}

describeWithMoto("aws-identity-center provider, end to end", () => {
  let moto: TestMoto;
  let env: AccessRepo;
  beforeEach(async () => {
    moto = await startTestMoto();
    for (const user of ["dev1@example.com", "dev3@example.com"]) await moto.addUser(user);
    await moto.addPermissionSet(PERMISSION_SET, "PT12H");
    await moto.assign(ACCOUNT, PERMISSION_SET, moto.userId("dev3@example.com"));
    env = await startAccessRepo({ policy: policyWithAws(moto), env: moto.env });
  });
  afterEach(async () => {
    await env?.stop();
    await moto?.stop();
  });

  test("account assignments appear on merge and disappear at expiry; a prior assignment stays", async () => {
    const { gh, probot, clock } = env;
    const dev1 = await mergeApprovedGrant(gh, probot, { requester: "dev1", path: "grants/dev1-aws.yaml", fields: { resource: "aws-prod", role: "readonly" } });
    const dev3 = await mergeApprovedGrant(gh, probot, {
      requester: "dev3",
      path: "grants/dev3-aws.yaml",
      fields: { resource: "aws-prod", role: "readonly" },
      advanceMs: 0,
    });
    expectAppliedOnce(gh, [dev1, dev3]);
    const applied = markedComments(gh, dev1.number, "applied")[0].body;
    expect(applied).toContain(`assigned permission set ${PERMISSION_SET} in account ${ACCOUNT} to dev1@example.com`);
    expect(applied).toContain("session duration (12 h) is longer than the grant");

    // Read back by the administrator's client, not through the provider.
    expect((await moto.assignedUserIds(ACCOUNT, PERMISSION_SET)).sort()).toEqual([moto.userId("dev1@example.com"), moto.userId("dev3@example.com")].sort());

    clock.advance(9 * HOUR);
    await env.runtime.reconcileAll();
    expect(await moto.assignedUserIds(ACCOUNT, PERMISSION_SET)).toEqual([moto.userId("dev3@example.com")]);
    for (const [p, path] of [
      [dev1.number, "grants/dev1-aws.yaml"],
      [dev3.number, "grants/dev3-aws.yaml"],
    ] as const) {
      expect(gh.fileAt("main", path)).toBeUndefined();
      const commits = removalCommits(gh, path);
      expect(commits).toHaveLength(1);
      expect(commits[0].message).toContain("Revoke-Reason: expired");
      expect(markedComments(gh, p, "revoked")).toHaveLength(1);
    }

    await expectNextReconcileCommitsNothing(env);
    expect(await moto.assignedUserIds(ACCOUNT, PERMISSION_SET)).toEqual([moto.userId("dev3@example.com")]);
  });
});

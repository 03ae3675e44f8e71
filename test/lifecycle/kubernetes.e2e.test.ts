/**
 * The end-to-end story for the `kubernetes` provider, on the emulated GitHub and the emulated
 * Kubernetes API server (test/harness/kubernetes/; no real API server can be installed here): PRs
 * add grants for a namespaced Role (dev1, mapped to an e-mail user in `identities`) and a
 * cluster-wide ClusterRole (dev2, by GitHub login) → approve → merge → the RoleBinding and
 * ClusterRoleBinding exist, labelled and annotated (read from the emulator's store, not through
 * the provider) → the clock passes expiry → reconcile → the bindings are gone, Timebox commits
 * remove the files, the PRs get their closing comments. An administrator's own binding for dev1
 * stays throughout.
 */
import { jest } from "@jest/globals";
import { startEmulatedKubernetes, type EmulatedKubernetes } from "../harness/kubernetes/api-server.js";
import { startAccessRepo, type AccessRepo } from "../support/access-repo.js";
import { markedComments, mergeApprovedGrant } from "../support/lifecycle-stage.js";
import { expectAppliedOnce, expectNextReconcileCommitsNothing, expectRemovedAtExpiry, policyWithResource } from "../support/provider-story.js";

jest.setTimeout(60_000);

const HOUR = 3600_000;
const DEV1 = "dev1@example.com";

function policyWithKubernetes(): string {
  return policyWithResource(
    `  dev1: { postgres: dev1_login, kubernetes: "${DEV1}" }\n`,
    `  prod-cluster:
    provider: kubernetes
    settings: { kubeconfig_env: PROD_KUBECONFIG }
    roles:
      payments-db:
        target: "payments/Role/db-reader"
        max_duration: 8h
        approvers: ["@acme/sre", "sre1"]
        approvals: 1
      viewer:
        target: "ClusterRole/view"
        max_duration: 8h
        approvers: ["@acme/sre", "sre1"]
        approvals: 1
`,
  );
}

describe("kubernetes provider, end to end", () => {
  let k8s: EmulatedKubernetes;
  let env: AccessRepo;
  beforeEach(async () => {
    k8s = await startEmulatedKubernetes();
    k8s.addNamespace("payments");
    k8s.addRole("payments", "db-reader");
    k8s.addBinding({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "oncall-dev1", namespace: "payments" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "db-reader" },
      subjects: [{ kind: "User", name: DEV1, apiGroup: "rbac.authorization.k8s.io" }],
    });
    env = await startAccessRepo({ policy: policyWithKubernetes(), env: { PROD_KUBECONFIG: k8s.kubeconfig() } });
  });
  afterEach(async () => {
    await env?.stop();
    expect(k8s.violations).toEqual([]);
    await k8s?.stop();
  });

  test("bindings appear on merge and disappear at expiry; an administrator's binding stays", async () => {
    const { gh, probot, clock } = env;
    const dev1 = await mergeApprovedGrant(gh, probot, {
      requester: "dev1",
      path: "grants/dev1-payments.yaml",
      fields: { resource: "prod-cluster", role: "payments-db" },
    });
    const dev2 = await mergeApprovedGrant(gh, probot, {
      requester: "dev2",
      path: "grants/dev2-viewer.yaml",
      fields: { resource: "prod-cluster", role: "viewer" },
      advanceMs: 0,
    });
    expectAppliedOnce(gh, [dev1, dev2]);
    expect(markedComments(gh, dev1.number, "applied")[0].body).toContain(`user \`${DEV1}\` is bound to Role \`db-reader\``);

    const managed = () => k8s.bindings().filter((b) => b.metadata.labels?.["app.kubernetes.io/managed-by"] === "timebox");
    const made = managed();
    expect(made.map((b) => [b.kind, b.metadata.namespace, b.roleRef.name, b.subjects[0].name]).sort()).toEqual([
      ["ClusterRoleBinding", undefined, "view", "dev2"],
      ["RoleBinding", "payments", "db-reader", DEV1],
    ]);
    for (const b of made) {
      expect(b.metadata.name).toMatch(/^timebox-[0-9a-f]{12}$/);
      expect(b.metadata.annotations["timebox.io/repo"]).toMatch(/^[\w.-]+\/[\w.-]+$/);
      expect(["grants/dev1-payments.yaml", "grants/dev2-viewer.yaml"]).toContain(b.metadata.annotations["timebox.io/grant-id"]);
      expect(b.metadata.annotations["timebox.io/expires-at"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }

    clock.advance(2 * HOUR);
    await env.runtime.reconcileAll();
    expect(managed()).toEqual([]);
    expect(k8s.bindings().map((b) => b.metadata.name)).toEqual(["oncall-dev1"]);
    expectRemovedAtExpiry(gh, [dev1, dev2]);

    await expectNextReconcileCommitsNothing(env);
  });
});

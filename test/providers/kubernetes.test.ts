/**
 * The `kubernetes` provider beyond the shared contract: strict target and principal parsing (hostile
 * names never reach the API server), the bindings it writes (labels, annotations, namespaced vs
 * cluster-wide), listManaged by label selector, settings, deadlines against a hung API server, and
 * the emulated API server's own honesty checks against the generated RBAC models.
 */
import { withDeadline } from "../../src/providers/deadline.js";
import { kubernetesProviderFactory } from "../../src/providers/kubernetes/index.js";
import { bindingName, parsePrincipal, parseTarget } from "../../src/providers/kubernetes/target.js";
import { ProviderError } from "../../src/providers/types.js";
import { startEmulatedKubernetes, type EmulatedKubernetes } from "../harness/kubernetes/api-server.js";
import { checkModel } from "../harness/kubernetes/model-check.js";
import { makeActiveGrant } from "./contract.js";
import { buildProvider, holds } from "./kubernetes-fixture.js";

describe("kubernetes target and principal parsing", () => {
  test.each([
    ["ClusterRole/view", { scope: "cluster", kind: "ClusterRole", name: "view" }],
    ["ClusterRole/system:aggregate-to-view", { scope: "cluster", kind: "ClusterRole", name: "system:aggregate-to-view" }],
    ["payments/ClusterRole/edit", { scope: "namespace", namespace: "payments", kind: "ClusterRole", name: "edit" }],
    ["payments/Role/db-reader.v2", { scope: "namespace", namespace: "payments", kind: "Role", name: "db-reader.v2" }],
  ])("accepts %s", (target, value) => {
    expect(parseTarget(target)).toEqual({ ok: true, value });
  });

  test.each([
    "",
    "view",
    "ClusterRole/",
    "ClusterRole/View",
    "clusterrole/view",
    "Role/view",
    "payments/Role/",
    "payments/role/x",
    "payments/RoleBinding/x",
    "../kube-system/Role/x",
    "payments/Role/../x",
    "payments/Role/a/b",
    "payments%2Fx/Role/r",
    "Payments/Role/r",
    "-payments/Role/r",
    "payments/Role/r?watch=1",
    "payments/Role/r b",
    " ClusterRole/view",
    "ClusterRole/view\n",
    "ClusterRole/a..b",
    `ClusterRole/${"a".repeat(254)}`,
    `${"n".repeat(64)}/Role/r`,
  ])("rejects target %j", (target) => {
    expect(parseTarget(target).ok).toBe(false);
  });

  test("principals: users and groups; reserved and control characters refused", () => {
    expect(parsePrincipal("dev1@example.com")).toEqual({ ok: true, value: { kind: "User", name: "dev1@example.com", apiGroup: "rbac.authorization.k8s.io" } });
    expect(parsePrincipal("group:sre")).toEqual({ ok: true, value: { kind: "Group", name: "sre", apiGroup: "rbac.authorization.k8s.io" } });
    for (const bad of [
      "",
      "group:",
      "group:system:masters",
      "group:system:authenticated",
      "system:admin",
      "System:admin",
      "dev1\n",
      " dev1",
      "a\u0000b",
      "x".repeat(254),
    ]) {
      expect({ bad, ok: parsePrincipal(bad).ok }).toEqual({ bad, ok: false });
    }
  });

  test("binding names come from the short id only", () => {
    expect(bindingName("ab12cd34ef56")).toBe("timebox-ab12cd34ef56");
    expect(() => bindingName("../x")).toThrow();
  });
});

describe("kubernetes provider against the emulated API server", () => {
  let emu: EmulatedKubernetes;
  beforeEach(async () => {
    emu = await startEmulatedKubernetes();
    emu.addNamespace("payments");
    emu.addRole("payments", "db-reader");
  });
  afterEach(async () => {
    expect(emu.violations).toEqual([]);
    await emu.stop();
  });

  test("a namespaced grant is a labelled, annotated RoleBinding in the namespace; revoke deletes it", async () => {
    const provider = buildProvider(emu);
    const g = makeActiveGrant("dev1@example.com", "payments/Role/db-reader", { requester: "dev1", repo: "acme/access", pullRequest: 7 });
    const result = await provider.grant(g);
    expect(result.summary).toBe(`user \`dev1@example.com\` is bound to Role \`db-reader\` (RoleBinding in namespace \`payments\` \`timebox-${g.shortId}\`)`);
    const [b] = emu.bindings();
    expect(b).toMatchObject({
      kind: "RoleBinding",
      metadata: {
        name: `timebox-${g.shortId}`,
        namespace: "payments",
        labels: { "app.kubernetes.io/managed-by": "timebox", "timebox.io/short-id": g.shortId },
        annotations: {
          "timebox.io/grant-id": g.id,
          "timebox.io/repo": "acme/access",
          "timebox.io/requester": "dev1",
          "timebox.io/pull-request": "7",
          "timebox.io/expires-at": g.expiresAt.toISOString(),
        },
      },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "db-reader" },
      subjects: [{ kind: "User", name: "dev1@example.com", apiGroup: "rbac.authorization.k8s.io" }],
    });
    expect(emu.requests).toContain("POST /apis/rbac.authorization.k8s.io/v1/namespaces/payments/rolebindings");
    expect(await provider.isGranted(g)).toBe(true);
    await provider.revoke(g);
    expect(emu.bindings()).toEqual([]);
    expect(await provider.isGranted(g)).toBe(false);
  });

  test("a cluster-wide grant is a ClusterRoleBinding; a namespaced ClusterRole a RoleBinding", async () => {
    const provider = buildProvider(emu);
    const cluster = makeActiveGrant("group:sre", "ClusterRole/view");
    const inNs = makeActiveGrant("group:sre", "payments/ClusterRole/edit");
    await provider.grant(cluster);
    await provider.grant(inNs);
    const kinds = emu.bindings().map((b) => [b.kind, b.metadata.namespace, b.roleRef.kind, b.subjects[0].kind]);
    expect(kinds).toEqual(
      expect.arrayContaining([
        ["ClusterRoleBinding", undefined, "ClusterRole", "Group"],
        ["RoleBinding", "payments", "ClusterRole", "Group"],
      ]),
    );
    expect(holds(emu, "group:sre", "ClusterRole/view")).toBe(true);
    expect(holds(emu, "group:sre", "default/ClusterRole/edit")).toBe(false);

    const managed = await provider.listManaged();
    expect(emu.requests).toEqual(
      expect.arrayContaining([
        "GET /apis/rbac.authorization.k8s.io/v1/rolebindings?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dtimebox",
        "GET /apis/rbac.authorization.k8s.io/v1/clusterrolebindings?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dtimebox",
      ]),
    );
    expect(managed).toEqual(
      expect.arrayContaining([
        {
          handle: `ClusterRoleBinding/timebox-${cluster.shortId}`,
          grantId: cluster.id,
          shortId: cluster.shortId,
          repo: cluster.repo,
          principal: "group:sre",
          target: "ClusterRole/view",
          expiresAt: cluster.expiresAt,
        },
        expect.objectContaining({ handle: `payments/RoleBinding/timebox-${inNs.shortId}`, target: "payments/ClusterRole/edit", grantId: inNs.id }),
      ]),
    );
  });

  test("bindings an administrator made are neither listed nor touched", async () => {
    const provider = buildProvider(emu);
    const g = makeActiveGrant("dev1", "payments/Role/db-reader");
    emu.addBinding({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: `timebox-${g.shortId}`, namespace: "payments" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "db-reader" },
      subjects: [{ kind: "User", name: "dev1", apiGroup: "rbac.authorization.k8s.io" }],
    });
    expect(await provider.listManaged()).toEqual([]);
    expect(await provider.isGranted(g)).toBe(false);
    await expect(provider.grant(g)).rejects.toThrow("a binding named `timebox-");
    expect(emu.bindings()).toHaveLength(1);
  });

  test("a binding left with other content under the grant's name is replaced", async () => {
    const provider = buildProvider(emu);
    const g = makeActiveGrant("dev1", "payments/Role/db-reader");
    await provider.grant({ ...g, target: "payments/ClusterRole/view" });
    await provider.grant(g);
    expect(emu.bindings().map((b) => b.roleRef.kind)).toEqual(["Role"]);
    expect(await provider.isGranted(g)).toBe(true);
  });

  test("a grant file edited to another namespace or scope: the earlier binding goes, at grant and at revoke", async () => {
    const provider = buildProvider(emu);
    const g = makeActiveGrant("dev1", "payments/Role/db-reader");
    await provider.grant(g);
    const moved = { ...g, target: "ClusterRole/view" };
    await provider.grant(moved);
    expect(emu.bindings().map((b) => [b.kind, b.roleRef.name])).toEqual([["ClusterRoleBinding", "view"]]);
    expect(await provider.isGranted(moved)).toBe(true);
    // A leftover in a third place (a crash between create and clean-up) goes with the revoke.
    emu.addNamespace("other");
    emu.addBinding({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: `timebox-${g.shortId}`, namespace: "other", labels: { "app.kubernetes.io/managed-by": "timebox", "timebox.io/short-id": g.shortId } },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
      subjects: [{ kind: "User", name: "dev1", apiGroup: "rbac.authorization.k8s.io" }],
    });
    const other = makeActiveGrant("dev2", "payments/Role/db-reader");
    await provider.grant(other);
    await provider.revoke(moved);
    expect(emu.bindings().map((b) => b.metadata.name)).toEqual([`timebox-${other.shortId}`]);
  });

  test("hostile targets and principals are refused before any request", async () => {
    const provider = buildProvider(emu);
    for (const [p, t] of [
      ["dev1", "../kube-system/Role/x"],
      ["dev1", "payments/Role/x/../../clusterroles/admin"],
      ["group:system:masters", "ClusterRole/view"],
      ["dev1\nX-Injected: 1", "ClusterRole/view"],
    ]) {
      const g = makeActiveGrant(p, t);
      for (const call of [() => provider.grant(g), () => provider.revoke(g), () => provider.isGranted(g)]) {
        const err = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ProviderError);
        expect((err as ProviderError).retryable).toBe(false);
      }
    }
    const diags = await provider.checkTarget("../kube-system/Role/x", "group:system:masters");
    expect(diags).toEqual([expect.objectContaining({ rule: "provider.target", severity: "error" })]);
    expect((await provider.checkTarget("ClusterRole/view", "group:system:masters")).map((d) => d.rule)).toEqual(["provider.principal"]);
    expect(emu.requests.filter((r) => !r.startsWith("GET /apis/rbac.authorization.k8s.io/v1/clusterroles/view"))).toEqual([]);
  });

  test("checkTarget names a missing namespace or role", async () => {
    const provider = buildProvider(emu);
    expect((await provider.checkTarget("nowhere/Role/db-reader"))[0].message).toContain("namespace `nowhere` does not exist");
    expect((await provider.checkTarget("payments/Role/nope"))[0].message).toContain("Role `nope` in namespace `payments` does not exist");
    expect((await provider.checkTarget("ClusterRole/nope"))[0].message).toContain("ClusterRole `nope` does not exist");
    expect(await provider.checkTarget("payments/ClusterRole/view")).toEqual([]);
  });

  test("a grant into a missing namespace fails clearly", async () => {
    const provider = buildProvider(emu);
    await expect(provider.grant(makeActiveGrant("dev1", "nowhere/Role/db-reader"))).rejects.toThrow("namespace `nowhere` does not exist");
  });

  test("a hung API server: the deadline ends every call, and the request cap holds without it", async () => {
    emu.hang = true;
    const g = makeActiveGrant("dev1", "payments/Role/db-reader");
    const wrapped = withDeadline(buildProvider(emu), "cluster", 300);
    for (const call of [
      () => wrapped.grant(g),
      () => wrapped.revoke(g),
      () => wrapped.isGranted(g),
      () => wrapped.listManaged!(),
      () => wrapped.checkTarget(g.target),
    ]) {
      const started = Date.now();
      await expect(call()).rejects.toThrow("cluster: the kubernetes provider did not answer within 0.3 s");
      expect(Date.now() - started).toBeLessThan(2000);
    }
    const capped = buildProvider(emu, undefined, 200);
    const started = Date.now();
    await expect(capped.revoke(g)).rejects.toThrow("the API server did not answer in time (delete binding");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test("settings: unknown keys and bad names refused; a missing variable named, its content never", async () => {
    const create = (settings: Record<string, string>, env: Record<string, string> = {}) =>
      kubernetesProviderFactory.create({ resource: "cluster", settings, env });
    expect(() => create({ kubeconfig: "x" })).toThrow("unknown setting `kubeconfig`");
    expect(() => create({ kubeconfig_env: "not a name" })).toThrow("must name the environment variable");
    await expect(create({ kubeconfig_env: "TB_KC" }).isGranted(makeActiveGrant("dev1", "ClusterRole/view"))).rejects.toThrow("environment variable TB_KC");
    await expect(create({}).isGranted(makeActiveGrant("dev1", "ClusterRole/view"))).rejects.toThrow("not running in a cluster");
    const broken = create({ kubeconfig_env: "TB_KC" }, { TB_KC: "clusters: [unclosed\n  secret-token-xyz" });
    const err = await broken.isGranted(makeActiveGrant("dev1", "ClusterRole/view")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(String((err as Error).message)).not.toContain("secret-token-xyz");
  });
});

describe("the emulated API server keeps to the generated RBAC models", () => {
  test("checkModel finds missing required properties, unknown properties and wrong types", () => {
    expect(checkModel("V1RoleBinding", { metadata: { name: "x" } })).toEqual(["$.roleRef: missing (required by V1RoleBinding)"]);
    expect(checkModel("V1RoleBinding", { roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" }, subject: [] })).toEqual([
      "$.subject: not a property of V1RoleBinding",
    ]);
    expect(checkModel("V1ClusterRoleBinding", { roleRef: { apiGroup: "g", kind: "ClusterRole", name: 1 }, metadata: { labels: { a: 2 } } })).toEqual([
      "$.metadata.labels.a: number but model is string",
      "$.roleRef.name: number but model is string",
    ]);
    expect(
      checkModel("V1Status", { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", code: 404, reason: "NotFound", details: { name: "x" } }),
    ).toEqual([]);
  });

  test("a body that does not fit is refused with a Status and recorded", async () => {
    const emu = await startEmulatedKubernetes();
    try {
      const res = await fetch(`${emu.url}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings`, {
        method: "POST",
        headers: { authorization: `Bearer ${emu.token}`, "content-type": "application/json" },
        body: JSON.stringify({ metadata: { name: "x" }, subjects: [] }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ kind: "Status", status: "Failure", code: 400, reason: "BadRequest" });
      expect(emu.violations).toEqual(["request V1ClusterRoleBinding: $.roleRef: missing (required by V1ClusterRoleBinding)"]);
      const unauth = await fetch(`${emu.url}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings`);
      expect(unauth.status).toBe(401);
    } finally {
      await emu.stop();
    }
  });
});

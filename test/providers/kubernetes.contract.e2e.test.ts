/**
 * The shared provider contract, run against the `kubernetes` provider talking over HTTP to the
 * emulated API server (test/harness/kubernetes/): targets rotate through the three shapes
 * (`ClusterRole/<name>`, `<ns>/ClusterRole/<name>`, `<ns>/Role/<name>`), principals between users
 * and `group:<name>`. `hasAccess` and `grantOutsideTimebox` read and change the emulator's store.
 */
import { randomBytes } from "node:crypto";
import { parsePrincipal, parseTarget } from "../../src/providers/kubernetes/target.js";
import { startEmulatedKubernetes, type EmulatedKubernetes } from "../harness/kubernetes/api-server.js";
import { describeProviderContract, type ContractFixture } from "./contract.js";
import { buildProvider, holds } from "./kubernetes-fixture.js";

let emu: EmulatedKubernetes;

describeProviderContract("kubernetes (emulated API server)", async (): Promise<ContractFixture> => {
  emu = await startEmulatedKubernetes();
  let n = 0;
  return {
    provider: buildProvider(emu),
    resource: "contract",
    makePrincipal: async () => (++n % 2 === 0 ? `group:team-${n}` : `person${n}@acme.example`),
    makeTarget: async () => {
      const i = ++n;
      const ns = `team-${i}`;
      emu.addNamespace(ns);
      if (i % 3 === 0) {
        emu.addClusterRole(`reader-${i}`);
        return `ClusterRole/reader-${i}`;
      }
      if (i % 3 === 1) {
        emu.addClusterRole(`editor-${i}`);
        return `${ns}/ClusterRole/editor-${i}`;
      }
      emu.addRole(ns, `deployer-${i}`);
      return `${ns}/Role/deployer-${i}`;
    },
    missingTarget: () => "default/Role/no-such-role",
    grantOutsideTimebox: async (p, t) => {
      const subject = parsePrincipal(p);
      const target = parseTarget(t);
      if (!subject.ok || !target.ok) throw new Error("bad fixture");
      const v = target.value;
      emu.addBinding({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: v.scope === "cluster" ? "ClusterRoleBinding" : "RoleBinding",
        metadata: { name: `admin-made-${randomBytes(4).toString("hex")}`, ...(v.scope === "namespace" ? { namespace: v.namespace } : {}) },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: v.kind, name: v.name },
        subjects: [subject.value],
      });
    },
    hasAccess: async (p, t) => holds(emu, p, t),
    withBadCredentials: async () => {
      const wrong = `wrong-${randomBytes(16).toString("hex")}`;
      return { provider: buildProvider(emu, wrong), secrets: [wrong, emu.token] };
    },
    teardown: async () => {
      expect(emu.violations).toEqual([]);
      await emu.stop();
    },
  };
});

/** Helpers shared by the `kubernetes` provider's tests: a provider built for the emulated API server. */
import { kubernetesProviderFactory, type KubernetesProvider } from "../../src/providers/kubernetes/index.js";
import { parsePrincipal, parseTarget } from "../../src/providers/kubernetes/target.js";
import type { EmulatedKubernetes } from "../harness/kubernetes/api-server.js";

export function buildProvider(emu: EmulatedKubernetes, token?: string, timeoutMs?: number): KubernetesProvider {
  return kubernetesProviderFactory.create({
    resource: "cluster",
    settings: { kubeconfig_env: "TB_KUBECONFIG" },
    env: { TB_KUBECONFIG: emu.kubeconfig(token) },
    timeoutMs,
  });
}

/** Does `principal` hold `target` by any binding, read from the emulator's store (not through the provider)? */
export function holds(emu: EmulatedKubernetes, principal: string, target: string): boolean {
  const p = parsePrincipal(principal);
  const t = parseTarget(target);
  if (!p.ok || !t.ok) throw new Error(`bad fixture ${principal} ${target}`);
  const v = t.value;
  return emu.holds(p.value, { kind: v.kind, name: v.name }, v.scope === "namespace" ? v.namespace : undefined);
}

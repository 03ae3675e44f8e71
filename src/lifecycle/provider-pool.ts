import type { Policy } from "../policy/types.js";
import { getProviderFactory } from "../providers/registry.js";
import type { Provider } from "../providers/types.js";

/**
 * Provider instances, one per (resource, provider, settings) as the policy describes them, built
 * on first use and reused, so connection pools are shared across reconciles. Only the lifecycle
 * holds one: the PR-event path never sees providers.
 */
export class ProviderPool {
  private readonly instances = new Map<string, Provider>();

  constructor(private readonly env: Record<string, string | undefined>) {}

  forResource(policy: Policy, resource: string): Provider {
    const spec = policy.resources[resource];
    const key = JSON.stringify([resource, spec.provider, spec.settings]);
    let provider = this.instances.get(key);
    if (!provider) {
      provider = getProviderFactory(spec.provider).create({ resource, settings: spec.settings, env: this.env });
      this.instances.set(key, provider);
    }
    return provider;
  }

  async close(): Promise<void> {
    await Promise.all([...this.instances.values()].map((p) => p.close?.()));
    this.instances.clear();
  }
}

import { loadConfig } from "../config/env.js";
import type { Policy } from "../policy/types.js";
import { withDeadline } from "../providers/deadline.js";
import { getProviderFactory } from "../providers/registry.js";
import type { Provider } from "../providers/types.js";

export interface ProviderPoolOptions {
  /**
   * Deadline of one provider call, in ms; past it the call rejects with a retryable
   * ProviderError. Default: TIMEBOX_PROVIDER_TIMEOUT_MS from `env` (60 s).
   */
  timeoutMs?: number;
}

/**
 * Provider instances, one per (resource, provider, settings) as the policy describes them, built
 * on first use and reused, so connection pools are shared across reconciles. Only the lifecycle
 * holds one: the PR-event path never sees providers.
 *
 * Every provider it hands out has a deadline on every call (design rule 13): a resource whose
 * database or API never answers fails that call after `timeoutMs`, and the lifecycle goes on to
 * revoke elsewhere. The provider is also told the deadline (`currentDeadline`), so it stops its own
 * I/O there, and it is built with the same budget for its per-request timeouts.
 */
export class ProviderPool {
  private readonly instances = new Map<string, Provider>();
  readonly timeoutMs: number;

  constructor(
    private readonly env: Record<string, string | undefined>,
    options: ProviderPoolOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? loadConfig(env).providerTimeoutMs;
    if (!(this.timeoutMs > 0)) throw new Error(`provider timeout must be a positive number of milliseconds, not ${this.timeoutMs}`);
  }

  forResource(policy: Policy, resource: string): Provider {
    const spec = policy.resources[resource];
    const key = JSON.stringify([resource, spec.provider, spec.settings]);
    let provider = this.instances.get(key);
    if (!provider) {
      const raw = getProviderFactory(spec.provider).create({ resource, settings: spec.settings, env: this.env, timeoutMs: this.timeoutMs });
      provider = withDeadline(raw, resource, this.timeoutMs);
      this.instances.set(key, provider);
    }
    return provider;
  }

  async close(): Promise<void> {
    await Promise.all([...this.instances.values()].map(async (p) => p.close?.()));
    this.instances.clear();
  }
}

import { Counter, Histogram, type Registry } from "prom-client";
import { ProviderPool } from "../lifecycle/provider-pool.js";
import type { Policy } from "../policy/types.js";
import type { Provider } from "../providers/types.js";
import { nameLabel } from "./labels.js";

/** Seconds one provider call may take: a role grant is milliseconds, a GitHub team change a second or two. */
const PROVIDER_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type Operation = "apply" | "revoke";

/**
 * Applies and revokes as the providers performed them, by provider (`postgres`, `github`, …) and
 * outcome: every call, so a retried apply counts each attempt, and revokes include early
 * (`/timebox revoke`) and drift revokes, which a reconcile report does not list.
 */
export class ProviderMetrics {
  private readonly operations: Counter<"provider" | "operation" | "outcome">;
  private readonly duration: Histogram<"provider" | "operation">;

  constructor(registry: Registry, providerIds: readonly string[]) {
    const registers = [registry];
    this.operations = new Counter({
      name: "timebox_provider_operations_total",
      help: "Calls to a provider to apply or revoke access, by provider, operation (apply, revoke) and outcome (ok, error). Failed calls are retried.",
      labelNames: ["provider", "operation", "outcome"],
      registers,
    });
    this.duration = new Histogram({
      name: "timebox_provider_operation_duration_seconds",
      help: "How long one provider call to apply or revoke access took, by provider and operation.",
      labelNames: ["provider", "operation"],
      buckets: PROVIDER_BUCKETS,
      registers,
    });
    // Every known provider's series exist from the start, so rate() and alerts see them at zero.
    for (const provider of providerIds) {
      for (const operation of ["apply", "revoke"]) for (const outcome of ["ok", "error"]) this.operations.inc({ provider, operation, outcome }, 0);
    }
  }

  /** Runs one provider call, counting and timing it; its result or error passes through. */
  async observe<T>(providerId: string, operation: Operation, call: () => Promise<T>): Promise<T> {
    const provider = nameLabel(providerId);
    const end = this.duration.startTimer({ provider, operation });
    try {
      const result = await call();
      this.operations.inc({ provider, operation, outcome: "ok" });
      return result;
    } catch (error) {
      this.operations.inc({ provider, operation, outcome: "error" });
      throw error;
    } finally {
      end();
    }
  }

  /** The same provider, its `grant` and `revoke` measured; every other member (present or not) untouched. */
  meter(provider: Provider): Provider {
    return new Proxy(provider, {
      get: (target, property) => {
        if (property === "grant") return (...args: Parameters<Provider["grant"]>) => this.observe(target.id, "apply", () => target.grant(...args));
        if (property === "revoke") return (...args: Parameters<Provider["revoke"]>) => this.observe(target.id, "revoke", () => target.revoke(...args));
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? (value.bind(target) as unknown) : value;
      },
    });
  }

  /** A pool handing out metered providers (one wrapper per provider instance). */
  meterPool(pool: ProviderPool): ProviderPool {
    return new MeteredProviderPool(pool, this);
  }
}

class MeteredProviderPool extends ProviderPool {
  private readonly metered = new WeakMap<Provider, Provider>();

  constructor(
    private readonly inner: ProviderPool,
    private readonly metrics: ProviderMetrics,
  ) {
    super({}, { timeoutMs: inner.timeoutMs });
  }

  override forResource(policy: Policy, resource: string): Provider {
    const provider = this.inner.forResource(policy, resource);
    let metered = this.metered.get(provider);
    if (!metered) {
      metered = this.metrics.meter(provider);
      this.metered.set(provider, metered);
    }
    return metered;
  }

  override close(): Promise<void> {
    return this.inner.close();
  }
}

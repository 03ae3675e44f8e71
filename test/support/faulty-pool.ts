import { ProviderPool } from "../../src/lifecycle/provider-pool.js";
import type { Policy } from "../../src/policy/types.js";
import { ProviderError, type Provider } from "../../src/providers/types.js";

/** The summary a provider gives when its database is unreachable (what a user may see on the PR). */
export const UNREACHABLE = "postgres: connection to prod-db failed (ECONNREFUSED)";

/**
 * A provider pool whose providers are the real ones, wrapped so a test can make `grant` or
 * `revoke` fail: `failures.grant = 2` fails the next two grants, `Infinity` fails until reset to 0.
 * A failing call throws before reaching the real provider, like an unreachable database.
 */
export class FaultyPool extends ProviderPool {
  readonly failures = { grant: 0, revoke: 0 };
  /** Every call that reached the wrapper (failed or not). */
  readonly calls = { grant: 0, revoke: 0 };
  message = UNREACHABLE;
  private readonly wrapped = new WeakMap<Provider, Provider>();

  override forResource(policy: Policy, resource: string): Provider {
    const real = super.forResource(policy, resource);
    let w = this.wrapped.get(real);
    if (!w) {
      w = this.wrap(real);
      this.wrapped.set(real, w);
    }
    return w;
  }

  private fail(op: "grant" | "revoke"): void {
    this.calls[op]++;
    if (this.failures[op] > 0) {
      this.failures[op]--;
      throw new ProviderError(this.message);
    }
  }

  private wrap(real: Provider): Provider {
    return {
      id: real.id,
      checkTarget: (target, principal) => real.checkTarget(target, principal),
      ...(real.recordPriorAccess ? { recordPriorAccess: (g, still) => real.recordPriorAccess!(g, still) } : {}),
      grant: async (g) => {
        this.fail("grant");
        return real.grant(g);
      },
      revoke: async (g, still) => {
        this.fail("revoke");
        return real.revoke(g, still);
      },
      isGranted: (g) => real.isGranted(g),
      ...(real.listManaged ? { listManaged: () => real.listManaged!() } : {}),
      close: async () => real.close?.(),
    };
  }
}

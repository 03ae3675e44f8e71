import { ProviderPool } from "../../src/lifecycle/provider-pool.js";
import type { Policy } from "../../src/policy/types.js";
import type { ActiveGrant, GrantResult, ManagedGrant, Provider } from "../../src/providers/types.js";

/** An in-memory provider that keeps per-grant handles like the PostgreSQL one, for benchmarks and fault tests. */
export class MemoryProvider implements Provider {
  readonly id = "postgres";
  readonly held = new Map<string, ActiveGrant>();
  calls = 0;

  async checkTarget() {
    return [];
  }
  async grant(g: ActiveGrant): Promise<GrantResult> {
    this.calls++;
    this.held.set(g.shortId, g);
    return { summary: `in-memory role timebox_${g.shortId}` };
  }
  async revoke(g: ActiveGrant): Promise<void> {
    this.calls++;
    this.held.delete(g.shortId);
  }
  async isGranted(g: ActiveGrant): Promise<boolean> {
    this.calls++;
    return this.held.has(g.shortId);
  }
  async listManaged(): Promise<ManagedGrant[]> {
    this.calls++;
    return [...this.held.values()].map((g) => ({
      handle: `timebox_${g.shortId}`,
      shortId: g.shortId,
      grantId: g.id,
      repo: g.repo,
      principal: g.principal,
      target: g.target,
      expiresAt: g.expiresAt,
    }));
  }
}

/** A pool whose every resource is served by one in-memory provider. */
export class MemoryPool extends ProviderPool {
  constructor(readonly provider: Provider = new MemoryProvider()) {
    super({});
  }
  override forResource(_policy: Policy, _resource: string): Provider {
    return this.provider;
  }
  override async close(): Promise<void> {}
}

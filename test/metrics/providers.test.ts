/** Applies and revokes by provider and outcome, measured on the providers a pool hands out. */
import { Registry } from "prom-client";
import { ProviderMetrics } from "../../src/metrics/index.js";
import { ProviderPool } from "../../src/lifecycle/provider-pool.js";
import type { Policy } from "../../src/policy/types.js";
import { ProviderError, type ActiveGrant, type Provider } from "../../src/providers/types.js";
import { MemoryPool, MemoryProvider } from "../support/memory-provider.js";

const grant = (id: string): ActiveGrant => ({
  id,
  shortId: "ab12cd34ef56",
  repo: "acme/access",
  requester: "dev1",
  principal: "dev1_login",
  resource: "prod-db",
  role: "readonly",
  target: "analytics_read",
  roleSettings: {},
  pullRequest: 1,
  grantedAt: new Date("2026-03-02T09:00:00Z"),
  expiresAt: new Date("2026-03-02T11:00:00Z"),
});
const policy = {} as Policy;

async function value(registry: Registry, labels: Record<string, string>): Promise<number | undefined> {
  const { values } = await registry.getSingleMetric("timebox_provider_operations_total")!.get();
  return values.find((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))?.value;
}

test("every known provider's series start at zero", async () => {
  const registry = new Registry();
  new ProviderMetrics(registry, ["github", "postgres"]);
  const text = await registry.metrics();
  for (const provider of ["github", "postgres"]) {
    for (const operation of ["apply", "revoke"]) {
      for (const outcome of ["ok", "error"])
        expect(text).toContain(`timebox_provider_operations_total{provider="${provider}",operation="${operation}",outcome="${outcome}"} 0`);
    }
  }
});

test("grants and revokes through a metered pool are counted and timed by provider and outcome; errors pass through", async () => {
  const registry = new Registry();
  const metrics = new ProviderMetrics(registry, ["postgres"]);
  const memory = new MemoryProvider();
  const pool = metrics.meterPool(new MemoryPool(memory));
  const provider = pool.forResource(policy, "prod-db");
  expect(pool.forResource(policy, "prod-db")).toBe(provider);

  await expect(provider.grant(grant("grants/a.yaml"))).resolves.toEqual({ summary: "in-memory role timebox_ab12cd34ef56" });
  expect(await provider.isGranted(grant("grants/a.yaml"))).toBe(true);
  await provider.revoke(grant("grants/a.yaml"), []);
  expect(memory.held.size).toBe(0);

  const failing: Provider = {
    id: "github",
    checkTarget: async () => [],
    grant: async () => Promise.reject(new ProviderError("github: 502 from the API")),
    revoke: async () => Promise.reject(new ProviderError("github: 502 from the API")),
    isGranted: async () => false,
  };
  const broken = metrics.meter(failing);
  await expect(broken.grant(grant("grants/b.yaml"))).rejects.toThrow("502 from the API");
  await expect(broken.revoke(grant("grants/b.yaml"))).rejects.toThrow("502 from the API");
  await expect(broken.revoke(grant("grants/b.yaml"))).rejects.toThrow("502 from the API");

  expect(await value(registry, { provider: "postgres", operation: "apply", outcome: "ok" })).toBe(1);
  expect(await value(registry, { provider: "postgres", operation: "revoke", outcome: "ok" })).toBe(1);
  expect(await value(registry, { provider: "github", operation: "apply", outcome: "error" })).toBe(1);
  expect(await value(registry, { provider: "github", operation: "revoke", outcome: "error" })).toBe(2);
  const text = await registry.metrics();
  expect(text).toContain('timebox_provider_operation_duration_seconds_count{provider="github",operation="revoke"} 2');
  expect(text).toContain('timebox_provider_operation_duration_seconds_count{provider="postgres",operation="apply"} 1');
  // Read-backs are not applies or revokes.
  expect(text).not.toContain('operation="isGranted"');
  // No error text in any label (a duration sum may well contain the digits 502).
  expect(text).not.toContain("502 from");
  expect(text).not.toContain("grants/");
});

test("a metered provider keeps the provider's shape: optional members stay absent or present, bound to it", async () => {
  const metrics = new ProviderMetrics(new Registry(), []);
  const memory = new MemoryProvider();
  const metered = metrics.meter(memory);
  expect(metered.id).toBe("postgres");
  // The lifecycle branches on whether recordPriorAccess exists: absent must stay absent.
  expect(metered.recordPriorAccess).toBeUndefined();
  expect("recordPriorAccess" in metered).toBe(false);
  await metered.grant(grant("grants/a.yaml"));
  expect(await metered.listManaged!()).toEqual([expect.objectContaining({ shortId: "ab12cd34ef56", grantId: "grants/a.yaml" })]);

  const withPrior = metrics.meter({
    id: "github",
    checkTarget: async () => [],
    recordPriorAccess: async () => ({ "acme/app": "read" }),
    grant: async () => ({ summary: "added" }),
    revoke: async () => undefined,
    isGranted: async () => true,
  });
  await expect(withPrior.recordPriorAccess!(grant("grants/a.yaml"))).resolves.toEqual({ "acme/app": "read" });
});

test("closing a metered pool closes the pool it wraps", async () => {
  let closed = 0;
  class CountingPool extends ProviderPool {
    override async close(): Promise<void> {
      closed++;
    }
  }
  await new ProviderMetrics(new Registry(), []).meterPool(new CountingPool({})).close();
  expect(closed).toBe(1);
});

test("a provider id that is not a plain name is counted as `other`", async () => {
  const registry = new Registry();
  const metrics = new ProviderMetrics(registry, []);
  await metrics.observe("Weird id\n{x}", "apply", async () => undefined);
  expect(await value(registry, { provider: "other", operation: "apply", outcome: "ok" })).toBe(1);
});

/**
 * The pool-level deadline (design rule 13, issue #10 item 12): every call of every provider the
 * pool hands out settles within the deadline, whatever the provider does, with a retryable
 * ProviderError that names the resource and says nothing else about it.
 */
import { Registry } from "prom-client";
import { ProviderPool } from "../../src/lifecycle/provider-pool.js";
import { ProviderMetrics } from "../../src/metrics/providers.js";
import type { Policy } from "../../src/policy/types.js";
import { currentDeadline, withDeadline } from "../../src/providers/deadline.js";
import { ProviderError, type ActiveGrant, type Provider } from "../../src/providers/types.js";
import { errorTexts, makeActiveGrant } from "./contract.js";
import { startBlackHole, type BlackHole } from "./hang-servers.js";

const DEADLINE = 200;
/** Generous: the call must fail, not hang; how fast is not asserted beyond this. */
const BOUND = 10_000;

/** A provider whose every call never settles; records the deadline signal each call ran under. */
class NeverProvider implements Provider {
  readonly id = "postgres";
  readonly signals: AbortSignal[] = [];
  private never<T>(): Promise<T> {
    const d = currentDeadline();
    if (d) this.signals.push(d.signal);
    return new Promise<T>(() => undefined);
  }
  checkTarget() {
    return this.never<never>();
  }
  recordPriorAccess() {
    return this.never<Record<string, string>>();
  }
  grant() {
    return this.never<never>();
  }
  revoke() {
    return this.never<void>();
  }
  isGranted() {
    return this.never<boolean>();
  }
  listManaged() {
    return this.never<never>();
  }
  close() {
    return this.never<void>();
  }
}

async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  const started = Date.now();
  const err = await p.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  expect(Date.now() - started).toBeLessThan(BOUND);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

const g: ActiveGrant = makeActiveGrant("dev1", "readonly", { id: "grants/dev1.yaml", resource: "prod-db" });

describe("withDeadline", () => {
  test("every call of a provider that never answers rejects after the deadline, retryable, naming the resource", async () => {
    const inner = new NeverProvider();
    const p = withDeadline(inner, "prod-db", DEADLINE);
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["check target readonly", () => p.checkTarget("readonly", "dev1")],
      ["read prior access for grants/dev1.yaml", () => p.recordPriorAccess!(g, [])],
      ["grant grants/dev1.yaml", () => p.grant(g)],
      ["revoke grants/dev1.yaml", () => p.revoke(g, [])],
      ["check grant grants/dev1.yaml", () => p.isGranted(g)],
      ["list managed access", () => p.listManaged!()],
      ["close connections", () => p.close!()],
    ];
    const errors = await Promise.all(calls.map(([, call]) => rejection(call())));
    errors.forEach((err, i) => {
      expect(err.retryable).toBe(true);
      expect(err.message).toBe(`prod-db: the postgres provider did not answer within 0.2 s (${calls[i]![0]})`);
    });
    // The provider was told: every call ran under a deadline whose signal is now aborted.
    expect(inner.signals).toHaveLength(calls.length);
    expect(inner.signals.every((s) => s.aborted)).toBe(true);
    expect(inner.signals[0]!.reason).toBe(errors[0]);
  });

  test("answers and errors within the deadline pass through unchanged; a late answer is ignored", async () => {
    const own = new ProviderError("postgres: grant failed: permission denied (42501)", false);
    let late: () => void = () => undefined;
    const inner: Provider = {
      id: "postgres",
      checkTarget: async () => [],
      grant: async () => ({ summary: "granted" }),
      revoke: async () => {
        throw own;
      },
      isGranted: () => new Promise((resolve) => (late = () => resolve(true))),
    };
    const p = withDeadline(inner, "prod-db", DEADLINE);
    await expect(p.grant(g)).resolves.toEqual({ summary: "granted" });
    await expect(p.revoke(g)).rejects.toBe(own);
    await expect(p.checkTarget("x")).resolves.toEqual([]);
    const pending = p.isGranted(g);
    const err = await rejection(pending);
    late();
    expect(err.message).toMatch(/did not answer within 0\.2 s/);
    // A provider that throws synchronously still gives a rejected promise.
    const sync = withDeadline(
      {
        ...inner,
        grant: () => {
          throw own;
        },
      },
      "prod-db",
      DEADLINE,
    );
    await expect(sync.grant(g)).rejects.toBe(own);
  });

  test("optional members stay absent, and outside a call there is no deadline", () => {
    const p = withDeadline(
      { id: "x", checkTarget: async () => [], grant: async () => ({ summary: "" }), revoke: async () => undefined, isGranted: async () => false },
      "r",
      DEADLINE,
    );
    expect(p.id).toBe("x");
    expect("listManaged" in p).toBe(false);
    expect("recordPriorAccess" in p).toBe(false);
    expect("close" in p).toBe(false);
    expect(currentDeadline()).toBeUndefined();
  });
});

describe("ProviderPool", () => {
  let hole: BlackHole;
  beforeAll(async () => {
    hole = await startBlackHole();
  });
  afterAll(async () => {
    await hole.close();
  });

  const SECRET = "pa55-w0rd-hung";
  const policy = { resources: { "prod-db": { provider: "postgres", settings: { url_env: "DB_URL", pool_size: 1 }, roles: {} } } } as unknown as Policy;

  test("the providers it hands out have the deadline; a database that accepts and never answers fails every call", async () => {
    const url = `postgres://timebox:${SECRET}@127.0.0.1:${hole.port}/prod`;
    const pool = new ProviderPool({ DB_URL: url }, { timeoutMs: 300 });
    expect(pool.timeoutMs).toBe(300);
    const p = pool.forResource(policy, "prod-db");
    expect(pool.forResource(policy, "prod-db")).toBe(p); // built once, reused
    const errors = await Promise.all([p.grant(g), p.revoke(g, []), p.isGranted(g), p.listManaged!(), p.checkTarget("readonly")].map(rejection));
    for (const err of errors) {
      expect(err.retryable).toBe(true);
      expect(err.message).toMatch(/prod-db/);
      expect(err.message).toMatch(/(no answer within 0\.3 s|did not answer within 0\.3 s)/);
      const texts = errorTexts(err);
      expect(texts).not.toContain(SECRET);
      expect(texts).not.toContain(url);
      expect(texts).not.toContain("timebox:");
    }
    expect(hole.accepted).toBeGreaterThan(0);
    await pool.close();
  }, 20_000);

  test("the deadline comes from TIMEBOX_PROVIDER_TIMEOUT_MS, default 60 s", () => {
    expect(new ProviderPool({}).timeoutMs).toBe(60_000);
    expect(new ProviderPool({ TIMEBOX_PROVIDER_TIMEOUT_MS: "1500" }).timeoutMs).toBe(1500);
    expect(new ProviderPool({ TIMEBOX_PROVIDER_TIMEOUT_MS: "soon" }).timeoutMs).toBe(60_000);
    expect(new ProviderPool({ TIMEBOX_PROVIDER_TIMEOUT_MS: "0" }).timeoutMs).toBe(60_000);
    expect(() => new ProviderPool({}, { timeoutMs: 0 })).toThrow(/positive/);
  });

  test("composes with the metrics wrapper, as index.ts builds it: a hung revoke rejects through both and is counted as an error", async () => {
    const registry = new Registry();
    const url = `postgres://timebox:${SECRET}@127.0.0.1:${hole.port}/prod`;
    const metered = new ProviderMetrics(registry, ["postgres"]).meterPool(new ProviderPool({ DB_URL: url }, { timeoutMs: 300 }));
    const p = metered.forResource(policy, "prod-db");
    const err = await rejection(p.revoke(g, []));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/prod-db/);
    const counted = (await registry.getSingleMetric("timebox_provider_operations_total")!.get()).values;
    expect(counted.find((v) => v.labels.operation === "revoke" && v.labels.outcome === "error")?.value).toBe(1);
    await metered.close();
  }, 20_000);
});

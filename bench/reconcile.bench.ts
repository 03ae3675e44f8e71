/**
 * What a reconcile costs (issue 4's performance section): API calls, CPU and memory for 1,000 and
 * 10,000 active grants — cold (a fresh process catching up from Git), with nothing changed, and
 * after one change — and revocation lag for 1,000 grants expiring within one minute. Providers are
 * in memory so the figures are Timebox's own. Writes bench/results/reconcile.json. No assertions on time.
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { POLICY, grantYaml, startAccessRepo } from "../test/support/access-repo.js";
import { MemoryPool, MemoryProvider } from "../test/support/memory-provider.js";

const results: Record<string, unknown> = {};
const ON_BEHALF = POLICY.replace("allow_on_behalf: false", "allow_on_behalf: true").replace('ticket_pattern: "^(INC|CHG)-[0-9]+$"', "");

/** One PR holding `n` grants (requesters dev1/dev2), approved and merged. */
async function seed(n: number, duration: (i: number) => string) {
  const provider = new MemoryProvider();
  const ctx = await startAccessRepo({ policy: ON_BEHALF, pool: new MemoryPool(provider) });
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++)
    files[`grants/g${String(i).padStart(5, "0")}.yaml`] = grantYaml({ requester: i % 2 ? "dev1" : "dev2", duration: duration(i), reason: `bench ${i}` });
  const pr = ctx.gh.openPullRequest({ author: "dev1", files });
  await ctx.gh.deliver(ctx.probot, pr, { only: ["pull_request"] });
  await ctx.gh.deliver(ctx.probot, ctx.gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  ctx.clock.advance(1000);
  ctx.gh.merge(pr.number!, { by: "alice" });
  return { ...ctx, provider };
}

async function measured(ctx: Awaited<ReturnType<typeof seed>>) {
  ctx.gh.resetRequests();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const [report] = await ctx.runtime.reconcileAll();
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return {
    apiCalls: ctx.gh.requests.length,
    wallMs: Math.round(wallMs),
    cpuMs: Math.round((used.user + used.system) / 1000),
    heapMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    applied: report.applied.length,
    active: report.active,
  };
}

for (const n of (process.env.TIMEBOX_BENCH_SIZES ?? "1000,10000").split(",").map(Number)) {
  test(`reconcile ${n} active grants`, async () => {
    const ctx = await seed(n, () => "8h");
    try {
      const cold = await measured(ctx);
      const noChange = await measured(ctx);
      const pr = ctx.gh.openPullRequest({ author: "dev1", branch: "one-more", files: { "grants/one-more.yaml": grantYaml({ reason: "one more" }) } });
      await ctx.gh.deliver(ctx.probot, pr, { only: ["pull_request"] });
      await ctx.gh.deliver(ctx.probot, ctx.gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
      ctx.gh.merge(pr.number!, { by: "alice" });
      const oneChange = await measured(ctx);
      results[`reconcile_${n}`] = { cold, noChange, oneChange };
      console.log(`reconcile ${n}`, JSON.stringify(results[`reconcile_${n}`]));
      expect(cold.applied).toBe(n);
      expect(oneChange.applied).toBe(1);
    } finally {
      await ctx.stop();
    }
  }, 1_800_000);
}

test("revocation lag: 1,000 grants expiring within one minute", async () => {
  const ctx = await seed(1_000, (i) => `2h0m${Math.floor((i * 60) / 1000)}s`);
  try {
    await ctx.runtime.reconcileAll();
    const merged = ctx.clock.now().getTime();
    const lags: number[] = [];
    const injectedLags: number[] = [];
    const provider = ctx.provider;
    const original = provider.revoke.bind(provider);
    let stepStart = 0n;
    let expiryOfStep = 0;
    provider.revoke = async (g) => {
      await original(g);
      // Injected-clock lag: how long after its expiry (on the app's clock) the grant was revoked.
      injectedLags.push(ctx.clock.now().getTime() - g.expiresAt.getTime());
      // Real-clock lag: time since the timer fired for this expiry second (the provider verifies after this).
      lags.push(Number(process.hrtime.bigint() - stepStart) / 1e6 + (ctx.clock.now().getTime() - expiryOfStep));
    };
    for (let s = 0; s <= 60; s++) {
      // The precise timer fires at the next expiry: move the injected clock there and reconcile.
      ctx.clock.set(new Date(merged + 2 * 3600_000 + s * 1000));
      expiryOfStep = ctx.clock.now().getTime();
      stepStart = process.hrtime.bigint();
      await ctx.runtime.reconcileAll();
    }
    lags.sort((a, b) => a - b);
    const pct = (p: number) => Math.round(lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))]);
    injectedLags.sort((a, b) => a - b);
    results.revocationLag = {
      grants: lags.length,
      injectedClockMs: { p99: injectedLags[Math.floor(0.99 * injectedLags.length)], max: injectedLags.at(-1) },
      realClockMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: Math.round(lags.at(-1)!) },
    };
    console.log("revocation lag", JSON.stringify(results.revocationLag));
    expect(lags.length).toBe(1_000);
  } finally {
    await ctx.stop();
  }
}, 1_800_000);

afterAll(() => {
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/reconcile.json", `${JSON.stringify(results, null, 2)}\n`);
});

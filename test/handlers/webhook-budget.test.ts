import { expect, jest, test } from "@jest/globals";
import { awaitWithin } from "../../src/util/budget.js";
import { grantYaml, startAccessRepo } from "../support/access-repo.js";
import { MemoryPool, MemoryProvider } from "../support/memory-provider.js";
import type { ActiveGrant } from "../../src/providers/types.js";

jest.setTimeout(30_000);

test("awaitWithin: work done in time is awaited (and its failure thrown); slower work goes on and reports late failures", async () => {
  expect(await awaitWithin(Promise.resolve(1), 1000, () => undefined)).toBe("done");
  await expect(awaitWithin(Promise.reject(new Error("boom")), 1000, () => undefined)).rejects.toThrow("boom");
  const late: unknown[] = [];
  let fail!: (e: Error) => void;
  const work = new Promise((_, reject) => (fail = reject));
  expect(await awaitWithin(work, 10, (e) => late.push(e))).toBe("continuing");
  fail(new Error("later"));
  await new Promise((r) => setImmediate(r));
  expect(late).toEqual([new Error("later")]);
});

/** A provider whose grants wait until the test lets them through (a slow database). */
class SlowProvider extends MemoryProvider {
  private open!: () => void;
  readonly gate = new Promise<void>((r) => (this.open = r));
  release(): void {
    this.open();
  }
  override async grant(g: ActiveGrant) {
    await this.gate;
    return super.grant(g);
  }
}

test("a merge whose apply outlasts the webhook budget is answered in time, and the apply still completes", async () => {
  const provider = new SlowProvider();
  const env = await startAccessRepo({ pool: new MemoryPool(provider), env: { TIMEBOX_WEBHOOK_BUDGET_MS: "100" } });
  try {
    const { gh, probot, clock } = env;
    const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": grantYaml() } });
    await gh.deliver(probot, pr);
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
    clock.advance(60_000);
    const deliveries = await gh.deliver(probot, gh.merge(pr.number!, { by: "alice" }));
    expect(deliveries.map((d) => d.status)).toEqual([200, 200]);
    expect(provider.held.size).toBe(0); // answered while the grant is still waiting

    provider.release();
    await env.runtime.reconcileRepo({ installationId: 1, owner: "acme", repo: "access" });
    expect(provider.held.size).toBe(1);
    expect(gh.comments(pr.number!).filter((c: { body: string }) => c.body.includes("timebox:applied"))).toHaveLength(1);
  } finally {
    await env.stop();
  }
});

/**
 * A cold start reads grant origins through GitHub's GraphQL API in batches (issue 14): against the
 * emulated GitHub, a restart over many grants costs a few requests per hundred grants, reaches the
 * same decisions as the REST path on a mixed repository (approved, unapproved, changed on top of an
 * approved version, removed, expired), and falls back to REST with the same results when GraphQL fails.
 */
import { POLICY, grantYaml, startAccessRepo, type AccessRepo } from "../support/access-repo.js";
import { MemoryPool, MemoryProvider } from "../support/memory-provider.js";
import type { ReconcileReport } from "../../src/lifecycle/reconciler.js";

const ON_BEHALF = POLICY.replace("allow_on_behalf: false", "allow_on_behalf: true").replace('ticket_pattern: "^(INC|CHG)-[0-9]+$"', "");
/** Grants in the big PR: enough that REST's calls per grant dwarf the constant part of a reconcile, and more than two GraphQL lookups hold (a query then asks only for grant files, no policy or check runs). */
const MANY = 320;
/** The access repository, reconciled directly (as a webhook or the timer does). */
const TARGET = { installationId: 1, owner: "acme", repo: "access" };
const path = (prefix: string, i: number) => `grants/${prefix}${String(i).padStart(4, "0")}.yaml`;

async function mergedPull(ctx: AccessRepo, author: string, files: Record<string, string>, approvedBy?: string): Promise<void> {
  const pr = ctx.gh.openPullRequest({ author, branch: `b-${Object.keys(files)[0]}`, files });
  await ctx.gh.deliver(ctx.probot, pr);
  if (approvedBy) await ctx.gh.deliver(ctx.probot, ctx.gh.submitReview(pr.number!, { reviewer: approvedBy, state: "APPROVED" }));
  ctx.clock.advance(1000);
  ctx.gh.merge(pr.number!, { by: "alice" });
}

interface Run {
  first: ReconcileReport;
  restart: ReconcileReport;
  restCalls: number;
  graphqlCalls: number;
  /** GraphQL replies GitHub answered with `errors` (the query was refused): each sends the rest over REST. */
  graphqlRefused: unknown[];
  provider: MemoryProvider;
}

const sets = (r: ReconcileReport) => ({
  active: r.active,
  applied: [...r.applied].sort(),
  revoked: [...r.revoked].sort(),
  unapproved: [...r.unapproved].sort(),
  failures: [...r.failures].sort(),
});

/**
 * One repository's story, told to a Timebox reading origins `mode`: merges, a first reconcile, two
 * hours later a removal and a change pushed straight to main, then a restart (a fresh process on
 * the same GitHub and provider) whose reconcile is measured. `breakGraphql` answers GraphQL 502.
 */
async function story(mode: "off" | "always" | "auto", opts: { breakGraphql?: boolean } = {}): Promise<Run> {
  const provider = new MemoryProvider();
  const env = { TIMEBOX_GITHUB_GRAPHQL: mode };
  const ctx = await startAccessRepo({ policy: ON_BEHALF, pool: new MemoryPool(provider), env });
  const { gh, clock } = ctx;
  let restart: AccessRepo | undefined;
  try {
    const many: Record<string, string> = {};
    for (let i = 0; i < MANY; i++)
      many[path("big", i)] = grantYaml({ requester: i % 2 ? "dev1" : "dev2", duration: i % 3 === 0 ? "1h" : "8h", reason: `big ${i}` });
    await mergedPull(ctx, "dev1", many, "alice");
    await mergedPull(
      ctx,
      "dev2",
      { [path("second", 0)]: grantYaml({ requester: "dev2", reason: "second 0" }), [path("second", 1)]: grantYaml({ reason: "second 1" }) },
      "alice",
    );
    await mergedPull(ctx, "dev1", { [path("unreviewed", 0)]: grantYaml({ reason: "nobody approved" }) });
    gh.pushCommit({ branch: "main", files: { [path("pushed", 0)]: grantYaml({ reason: "pushed straight to main" }) }, author: "mallory" });
    clock.advance(5 * 60_000);
    if (opts.breakGraphql) gh.state.requestHooks.push((r) => (r.route.endsWith("/graphql") ? { status: 502 } : undefined));
    const first = await ctx.runtime.reconcileRepo(TARGET);

    clock.advance(2 * 3600_000);
    gh.pushCommit({ branch: "main", deletes: [path("big", 1), path("big", 2)], author: "dev1", message: "done early" });
    gh.pushCommit({
      branch: "main",
      files: { [path("big", 4)]: grantYaml({ requester: "dev1", duration: "24h", reason: "longer, unreviewed" }) },
      author: "mallory",
    });
    clock.advance(5 * 60_000);

    restart = await startAccessRepo({ gh, clock, pool: new MemoryPool(provider), policy: ON_BEHALF, env });
    gh.resetRequests();
    const second = await restart.runtime.reconcileRepo(TARGET);
    const graphqlCalls = gh.requests.filter((r) => r.route?.endsWith("/graphql") && r.status === 200).length;
    const graphqlRefused = gh.requests.flatMap((r) => r.graphqlErrors ?? []);
    return { first, restart: second, restCalls: gh.requests.length - graphqlCalls, graphqlCalls, graphqlRefused, provider };
  } finally {
    await restart?.stop();
    await ctx.stop();
  }
}

let rest: Run;
let graphql: Run;

beforeAll(async () => {
  rest = await story("off");
  graphql = await story("auto");
}, 300_000);

test("a restart over many grants costs at most one request per 25 grants, plus the reconcile's constant part", () => {
  const grants = MANY + 4;
  // The constant part (tip, ledger, policy, tree, lists, the two removal commits and their comments)
  // is what REST spends beyond its calls per grant; measured here, not assumed.
  expect(graphql.graphqlCalls).toBeGreaterThan(0);
  // Every query is one GitHub accepts (a variable declared and not used is refused, and then origins go over REST).
  expect(graphql.graphqlRefused).toEqual([]);
  expect(graphql.graphqlCalls).toBeLessThanOrEqual(Math.ceil(grants / 25));
  // The rest of the restart (tip, ledger, policy, lists, and this story's ~55 revocations with their
  // commits and comments) is the same work on both paths: GraphQL saves the per-grant origin reads.
  expect(graphql.restCalls + graphql.graphqlCalls).toBeLessThanOrEqual(rest.restCalls - 2 * MANY + Math.ceil(grants / 25));
  // REST reads each origin on its own: at least a commit list and a blob per grant.
  expect(rest.restCalls).toBeGreaterThan(2 * MANY);
  expect(rest.graphqlCalls).toBe(0);
});

test("the GraphQL path reaches the REST path's decisions: first reconcile and restart", () => {
  expect(sets(graphql.first)).toEqual(sets(rest.first));
  expect(sets(graphql.restart)).toEqual(sets(rest.restart));
  // The story's facts, so an empty agreement cannot pass.
  expect(rest.first.applied).toHaveLength(MANY + 2);
  expect(rest.first.unapproved).toEqual(expect.arrayContaining([path("unreviewed", 0)]));
  expect(rest.restart.revoked).toEqual(expect.arrayContaining([path("big", 0), path("big", 1), path("big", 2), path("big", 3)]));
  expect(rest.restart.revoked).toContain(path("big", 4));
  expect([...graphql.provider.held.values()].map((g) => g.id).sort()).toEqual([...rest.provider.held.values()].map((g) => g.id).sort());
});

test("when GitHub's GraphQL API fails, origins are read over REST with the same decisions", async () => {
  const broken = await story("always", { breakGraphql: true });
  expect(sets(broken.first)).toEqual(sets(rest.first));
  expect(sets(broken.restart)).toEqual(sets(rest.restart));
  expect(broken.graphqlCalls).toBe(0);
  expect(broken.restCalls).toBeGreaterThan(2 * MANY);
}, 300_000);

/**
 * One broken resource never blocks the others: a provider that cannot even be built (missing
 * settings, a bug) fails its own grants, which are retried, while other grants are applied.
 */
import { POLICY, grantYaml, startAccessRepo, type AccessRepo } from "../support/access-repo.js";
import { MemoryPool, MemoryProvider } from "../support/memory-provider.js";
import type { Policy } from "../../src/policy/types.js";
import type { Provider } from "../../src/providers/types.js";

/** The fixture policy with a second database, `other-db`, whose provider cannot be built. */
const TWO_DBS = POLICY.replace(
  "resources:\n",
  'resources:\n  other-db:\n    provider: postgres\n    settings: { url_env: OTHER_DB_URL }\n    roles:\n      readonly: { target: other_read, max_duration: 8h, approvers: ["@acme/sre"] }\n',
);

class HalfBrokenPool extends MemoryPool {
  override forResource(policy: Policy, resource: string): Provider {
    if (resource === "other-db") throw new Error("cannot build the provider for other-db");
    return super.forResource(policy, resource);
  }
}

let env: AccessRepo;
afterEach(async () => {
  expect(env.gh.unknownRequests()).toEqual([]);
  await env.stop();
});

test("a grant whose provider cannot be built fails alone; the other grant is applied", async () => {
  const provider = new MemoryProvider();
  env = await startAccessRepo({ policy: TWO_DBS, pool: new HalfBrokenPool(provider) });
  const { gh, probot } = env;
  for (const [path, resource] of [
    ["grants/a-other.yaml", "other-db"],
    ["grants/b-prod.yaml", "prod-db"],
  ] as const) {
    const pr = gh.openPullRequest({ author: "dev1", branch: path, files: { [path]: grantYaml({ resource }) } });
    await gh.deliver(probot, pr);
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
    await gh.deliver(probot, gh.merge(pr.number!, { by: "alice" }));
  }
  expect([...provider.held.values()].map((g) => g.id)).toEqual(["grants/b-prod.yaml"]);
  const [report] = await env.runtime.reconcileAll();
  expect(report.failures).toEqual(["grants/a-other.yaml"]);
});

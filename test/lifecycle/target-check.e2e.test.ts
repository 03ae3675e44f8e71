/**
 * The policy on the default branch is checked at its providers (every role's target, every
 * `identities` principal) on start-up and whenever it changes — never for a pull request — and what
 * is wrong goes into one `timebox:misconfigured` issue that closes itself once fixed. Against a real
 * PostgreSQL: the fixture policy's `prod-db/admin` role names `db_admin`, which the test server lacks.
 */
import { expect, jest, test } from "@jest/globals";
import { ProviderPool } from "../../src/lifecycle/provider-pool.js";
import { MISCONFIGURED_LABEL } from "../../src/lifecycle/target-check.js";
import type { Policy } from "../../src/policy/types.js";
import type { Provider } from "../../src/providers/types.js";
import { grantYaml } from "../support/access-repo.js";
import { deliverOk, mergeApprovedGrant, postgresAccessPerTest, reconcile } from "../support/lifecycle-flow.js";

jest.setTimeout(60_000);

/** The real providers, with every call counted by operation. */
class CountingPool extends ProviderPool {
  readonly calls: Record<string, number> = {};
  private readonly wrapped = new WeakMap<Provider, Provider>();

  total(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  override forResource(policy: Policy, resource: string): Provider {
    const real = super.forResource(policy, resource);
    let w = this.wrapped.get(real);
    if (!w) {
      const count = <T>(op: string, call: () => Promise<T>) => {
        this.calls[op] = (this.calls[op] ?? 0) + 1;
        return call();
      };
      w = {
        id: real.id,
        checkTarget: (target, principal) => count("checkTarget", () => real.checkTarget(target, principal)),
        ...(real.recordPriorAccess ? { recordPriorAccess: (g, still) => count("recordPriorAccess", () => real.recordPriorAccess!(g, still)) } : {}),
        grant: (g) => count("grant", () => real.grant(g)),
        revoke: (g, still) => count("revoke", () => real.revoke(g, still)),
        isGranted: (g) => count("isGranted", () => real.isGranted(g)),
        ...(real.listManaged ? { listManaged: () => count("listManaged", () => real.listManaged!()) } : {}),
        close: async () => real.close?.(),
      };
      this.wrapped.set(real, w);
    }
    return w;
  }
}

let pool: CountingPool;
const env = postgresAccessPerTest({
  pool: (e) => {
    pool = new CountingPool(e);
    return pool;
  },
});

const POLICY_PATH = ".github/timebox.yml";
const misconfigured = (state: "open" | "closed" | "all" = "all") => env().gh.issues({ labels: [MISCONFIGURED_LABEL], state });
const policyOnMain = () => env().gh.fileAt("main", POLICY_PATH)!;

test("a role naming a database role that does not exist: one issue after the first reconcile; fixed by a push, it closes itself", async () => {
  const { gh } = env();
  await reconcile(env());
  const issues = misconfigured();
  expect(issues).toHaveLength(1);
  const [issue] = issues;
  expect(issue.state).toBe("open");
  expect(issue.title).toBe("Policy misconfigured: 1 problem at prod-db");
  expect(issue.body).toContain("**`prod-db` / role `admin`** (target `db_admin`)");
  expect(issue.body).toContain("PostgreSQL role `db_admin` does not exist on prod-db");
  expect(issue.body).toContain("`resources.prod-db.roles.admin.target`");
  // The role that exists, and dev1's login role, are not named; no credentials are.
  expect(issue.body).not.toContain("readonly");
  expect(issue.body).not.toContain(env().login);
  expect(issue.body).not.toContain(env().pg.url);
  expect(pool.calls.checkTarget).toBe(3); // readonly, admin, dev1's principal

  // The same policy again: no provider is asked, the issue is left alone.
  const writes = gh.requests.length;
  await reconcile(env());
  expect(pool.calls.checkTarget).toBe(3);
  expect(misconfigured("open")).toHaveLength(1);
  const touched = gh.requests.slice(writes).filter((r) => r.query?.labels === MISCONFIGURED_LABEL || (r.method !== "GET" && r.path.includes("/issues")));
  expect(touched).toEqual([]);

  // The owners fix the policy on the default branch: the push's reconcile checks it again and closes the issue.
  await deliverOk(
    env(),
    gh.pushCommit({
      author: "sec1",
      files: { [POLICY_PATH]: policyOnMain().replace("target: db_admin", `target: ${env().target}`) },
      message: "Point admin at a role that exists",
    }),
  );
  await reconcile(env());
  expect(pool.calls.checkTarget).toBe(6);
  expect(misconfigured("open")).toHaveLength(0);
  expect(misconfigured("closed")).toHaveLength(1);
  const closing = gh.comments(issue.number).at(-1);
  expect(closing?.body).toMatch(/found every role's target and every principal at its provider; closing\.$/);
});

test("a principal in `identities` that is not a person's login role is named with how to fix it, by the check of the push that brought it", async () => {
  const { gh, pg } = env();
  const fixed = policyOnMain().replace("target: db_admin", `target: ${env().target}`);
  await deliverOk(env(), gh.pushCommit({ author: "sec1", files: { [POLICY_PATH]: fixed }, message: "Fix admin" }));
  await reconcile(env());
  expect(misconfigured()).toHaveLength(0);

  // dev1 is mapped to a group role: granting it would give every member the target.
  const group = `${env().login}_group`;
  await pg.admin(`CREATE ROLE "${group}" NOLOGIN`);
  try {
    await deliverOk(
      env(),
      gh.pushCommit({
        author: "sec1",
        files: { [POLICY_PATH]: fixed.replace(`postgres: ${env().login}`, `postgres: ${group}`) },
        message: "Map dev1 to a group",
      }),
    );
    await reconcile(env());
    const [issue] = misconfigured("open");
    expect(issue.body).toContain(`**\`prod-db\` / identity of \`dev1\`** (principal \`${group}\`)`);
    expect(issue.body).toContain("cannot log in (NOLOGIN)");
    expect(issue.body).toContain("`identities.dev1`");
    expect(misconfigured()).toHaveLength(1);
  } finally {
    await pg.admin(`DROP ROLE IF EXISTS "${group}"`);
  }
});

test("a pull request that edits the policy makes Timebox ask no provider anything, however its events arrive", async () => {
  const { gh } = env();
  await reconcile(env());
  const before = { ...pool.calls };
  const edited = policyOnMain().replace(`target: ${env().target}`, "target: probe_me_if_you_can");
  const pr = gh.openPullRequest({ author: "dev1", files: { [POLICY_PATH]: edited }, title: "Probe" });
  await deliverOk(env(), pr);
  await deliverOk(env(), gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  await deliverOk(env(), gh.pushToPullRequest(pr.number!, { pusher: "dev1", files: { [POLICY_PATH]: edited.replace("probe_me_if_you_can", "probe_again") } }));
  expect(pool.calls).toEqual(before);
  // Closing it runs a reconcile (which lists what Timebox manages, as always), and the next tick
  // another: neither checks targets, since the default branch's policy did not change.
  await deliverOk(env(), gh.close(pr.number!, { by: "dev1" }));
  await reconcile(env());
  expect(pool.calls.checkTarget).toBe(before.checkTarget);
  expect(
    misconfigured()
      .map((i) => i.body)
      .join("\n"),
  ).not.toContain("probe_");
});

test("a grant of a role whose target is fine is applied as before while the issue stays open for the other role", async () => {
  await mergeApprovedGrant(env(), { path: "grants/dev1-prod-db.yaml", content: grantYaml() });
  expect(await env().hasAccess()).toBe(true);
  expect(misconfigured("open")).toHaveLength(1);
});

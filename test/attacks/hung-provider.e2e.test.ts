/**
 * One hung provider never stops revocations (issue #10, attack 10 and item 12): a database that
 * accepts connections and never answers holds up neither the repository's next reconcile nor the
 * revocation of an expired grant on another resource.
 */
import { afterAll, beforeAll, expect, jest, test } from "@jest/globals";
import { ProviderPool } from "../../src/lifecycle/provider-pool.js";
import { grantYaml } from "../support/access-repo.js";
import { deliverOk, mergeApprovedGrant, postgresAccessPerTest, reconcile } from "../support/lifecycle-flow.js";
import { startBlackHole, type BlackHole } from "../providers/hang-servers.js";

jest.setTimeout(60_000);

let hole: BlackHole;
beforeAll(async () => {
  hole = await startBlackHole();
});
afterAll(async () => {
  await hole.close();
});

const env = postgresAccessPerTest({
  pool: (e) => new ProviderPool({ ...e, HUNG_DB_URL: `postgres://timebox:secret@127.0.0.1:${hole.port}/postgres`, TIMEBOX_PROVIDER_TIMEOUT_MS: "500" }),
});

test("a resource whose database never answers: the expired grant on another resource is still revoked on time", async () => {
  const { gh, clock } = env();
  // The policy gains a second resource, on a database that accepts connections and never answers.
  const policy = gh
    .fileAt("main", ".github/timebox.yml")!
    .replace(
      "resources:\n",
      'resources:\n  hung-db:\n    provider: postgres\n    settings: { url_env: HUNG_DB_URL }\n    roles:\n      readonly: { target: reporting, max_duration: 8h, approvers: ["@acme/sre"] }\n',
    );
  await deliverOk(env(), gh.pushCommit({ author: "sec1", files: { ".github/timebox.yml": policy }, message: "Add hung-db" }));
  await mergeApprovedGrant(env(), { path: "grants/dev1-prod-db.yaml", content: grantYaml({ duration: "30m" }) });
  expect(await env().hasAccess()).toBe(true);

  clock.advance(31 * 60_000);
  const report = await reconcile(env());
  expect(report.revoked).toEqual(["grants/dev1-prod-db.yaml"]);
  expect(await env().hasAccess()).toBe(false);
  // The hung database was asked (drift listing) and the reconcile still finished.
  expect(hole.accepted).toBeGreaterThan(0);
});

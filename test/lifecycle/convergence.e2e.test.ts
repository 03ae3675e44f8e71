/**
 * The provider is converged to Git: access removed behind Timebox's back while its grant is
 * active is put back, and `timebox_*` access no grant explains (drift) is revoked (design §2
 * rule 5; issue 4, "The reconciler").
 */
import { jest } from "@jest/globals";
import { grantYaml } from "../support/access-repo.js";
import { commentsWith, mergeApprovedGrant, postgresAccessPerTest, reconcile } from "../support/lifecycle-flow.js";
import type { PostgresAccess } from "../support/postgres-access.js";
import { shortIdOf } from "../../src/lifecycle/active-grant.js";
import { uniqueSuffix } from "../providers/postgres-server.js";

jest.setTimeout(60_000);

const current = postgresAccessPerTest();
let env: PostgresAccess;
beforeEach(() => {
  env = current();
});

const PATH = "grants/dev1-prod-db.yaml";

test("access taken away behind Timebox's back while the grant is active is put back by the next reconcile", async () => {
  const { pg, clock } = env;
  const granted = await mergeApprovedGrant(env, { path: PATH, content: grantYaml() });
  expect(await env.hasAccess()).toBe(true);
  const role = env.grantRole(PATH);

  // An admin revokes the membership by hand.
  await pg.admin(`REVOKE "${role}" FROM "${env.login}"`);
  expect(await env.hasAccess()).toBe(false);
  clock.advance(10 * 60_000);
  await reconcile(env);
  expect(await env.hasAccess()).toBe(true);

  // An admin detaches the per-grant role from the target role.
  await pg.admin(`REVOKE "${env.target}" FROM "${role}"`);
  expect(await env.hasAccess()).toBe(false);
  clock.advance(10 * 60_000);
  await reconcile(env);
  expect(await env.hasAccess()).toBe(true);

  // An admin drops Timebox's per-grant role altogether.
  await pg.admin(`DROP ROLE "${role}"`);
  expect(await env.hasAccess()).toBe(false);
  clock.advance(10 * 60_000);
  await reconcile(env);
  expect(await env.hasAccess()).toBe(true);
  expect(await env.roleExists(role)).toBe(true);

  // Putting it back is not news: the PR still has exactly one applied comment.
  expect(commentsWith(env, granted.number, "timebox:applied")).toHaveLength(1);
});

test("a timebox_* role claiming this repository that no grant explains is revoked; other repositories' roles are left alone", async () => {
  const { pg } = env;
  const granted = await mergeApprovedGrant(env, { path: PATH, content: grantYaml() });
  expect(await env.hasAccess()).toBe(true);

  // Made the way the provider makes its roles (src/providers/postgres/sql.ts), for grants that are not on main.
  const ghost = await managedRole(env.fullName, "grants/ghost.yaml");
  const foreign = await managedRole(`acme/elsewhere-${uniqueSuffix()}`, "grants/ghost.yaml");
  try {
    await reconcile(env);
    expect(await env.roleExists(ghost)).toBe(false);
    expect(await env.roleExists(foreign)).toBe(true);
    // The grant that is on main keeps its access.
    expect(await env.roleExists(env.grantRole(PATH))).toBe(true);
    expect(await env.hasAccess()).toBe(true);
    expect(commentsWith(env, granted.number, "timebox:revoked")).toHaveLength(0);
    // Auditors are told.
    const drift = env.gh.issues({ labels: ["timebox:drift"] });
    expect(drift).toHaveLength(1);
    expect(drift[0].title).toContain(ghost);
    expect(drift[0].body).toContain(env.login);
    expect(drift[0].body).toContain("grants/ghost.yaml");

    // The grant's role gone and a ghost giving the same access: the ghost is not taken for the
    // grant — the grant's own role is put back and the ghost still dropped.
    await pg.admin(`DROP ROLE "${env.grantRole(PATH)}"`);
    await managedRole(env.fullName, "grants/ghost.yaml");
    expect(await env.hasAccess()).toBe(true);
    await reconcile(env); // the grant is put back, the ghost dropped
    expect(await env.roleExists(ghost)).toBe(false);
    expect(await env.hasAccess()).toBe(true);
    expect(env.gh.issues({ labels: ["timebox:drift"] })).toHaveLength(1);
  } finally {
    await pg.admin(`DROP ROLE IF EXISTS "${foreign}"`);
    await pg.admin(`DROP ROLE IF EXISTS "${ghost}"`);
  }

  async function managedRole(repo: string, path: string): Promise<string> {
    const role = `timebox_${shortIdOf(repo, path)}`;
    const comment = JSON.stringify({ grant: path, repo, pr: 99, requester: "dev1", expires_at: new Date(env.clock.now().getTime() + 3600_000).toISOString() });
    await pg.admin(`CREATE ROLE "${role}" NOLOGIN INHERIT`);
    await pg.admin(`GRANT "${env.target}" TO "${role}"`);
    await pg.admin(`COMMENT ON ROLE "${role}" IS '${comment.replace(/'/g, "''")}'`);
    await pg.admin(`GRANT "${role}" TO "${env.login}"`);
    return role;
  }
});

/**
 * One emulated GitHub, one PostgreSQL, and as many Timebox app instances on them as a test
 * wants (a crashed one and its replacement, or two replicas): the setting for crash-safety and
 * concurrency tests of the grant lifecycle.
 */
import type { Probot } from "probot";
import type { GitHubEmulator } from "../harness/github/index.js";
import type { DeliveryResult } from "../harness/github/deliver.js";
import type { ProviderPool } from "../../src/lifecycle/provider-pool.js";
import { startTestPostgres, uniqueSuffix, type TestPostgres } from "../providers/postgres-server.js";
import { POLICY, grantYaml, startAccessRepo, type AccessRepo } from "./access-repo.js";

const REQUESTERS = ["dev1", "dev2", "dev3"] as const;
export type Requester = (typeof REQUESTERS)[number];

export interface PostgresStage {
  pg: TestPostgres;
  /** The database role `prod-db/readonly` grants. */
  target: string;
  /** Each requester's login role (through the policy's `identities`). */
  logins: Record<Requester, string>;
  policy: string;
  /** The environment every instance gets (the connection URL of `prod-db`). */
  env: Record<string, string>;
  /** The first app instance; it owns the emulator. */
  first: AccessRepo;
  gh: GitHubEmulator;
  /** Another app instance on the same emulator, clock and database. */
  startInstance(options?: { pool?: ProviderPool }): Promise<AccessRepo>;
  hasAccess(who?: Requester): Promise<boolean>;
  /** Closes one instance's provider connections (PGlite admits one client at a time). */
  release(instance: AccessRepo): Promise<void>;
  stop(): Promise<void>;
}

export async function startPostgresStage(options: { firstPool?: (env: Record<string, string>) => ProviderPool } = {}): Promise<PostgresStage> {
  const pg = await startTestPostgres();
  const s = uniqueSuffix();
  const target = `analytics_read_${s}`;
  const logins = Object.fromEntries(REQUESTERS.map((r) => [r, `${r}_${s}`])) as Record<Requester, string>;
  await pg.admin(`CREATE ROLE "${target}" NOLOGIN`);
  for (const login of Object.values(logins)) await pg.admin(`CREATE ROLE "${login}" LOGIN`);
  const policy = POLICY.replace("target: analytics_read", `target: ${target}`)
    .replace("  dev1: { postgres: dev1_login }", REQUESTERS.map((r) => `  ${r}: { postgres: ${logins[r]} }`).join("\n"))
    .replace("settings: { url_env: PROD_DB_URL }", `settings: { url_env: PROD_DB_URL, pool_size: ${pg.poolSize} }`);
  const env = { PROD_DB_URL: pg.url };
  // A repository name of its own: on a shared real server, Timebox's role names and drift
  // detection are per repository, so parallel test files must not share one.
  const repo = `access-${s}`;
  const first = await startAccessRepo({ policy, env, repo, pool: options.firstPool?.(env) });
  const instances: AccessRepo[] = [first];
  const release = async (instance: AccessRepo) => {
    await instance.pool.close();
    await pg.idle();
  };
  return {
    pg,
    target,
    logins,
    policy,
    env,
    first,
    gh: first.gh,
    startInstance: async ({ pool } = {}) => {
      const next = await startAccessRepo({ gh: first.gh, clock: first.clock, policy, env, repo, pool });
      instances.push(next);
      return next;
    },
    hasAccess: async (who = "dev1") => (await pg.admin<{ ok: boolean }>("SELECT pg_has_role($1, $2, 'MEMBER') AS ok", [logins[who], target])).rows[0].ok,
    release,
    stop: async () => {
      for (const i of instances.slice(1)) await i.stop();
      await first.stop();
      await pg.idle();
      // Roles a failed test left behind (timebox_* members of the target) go first.
      const left = await pg.admin<{ r: string }>(
        "SELECT r.rolname AS r FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles t ON t.oid = m.roleid WHERE t.rolname = $1 AND r.rolname LIKE 'timebox\\_%'",
        [target],
      );
      for (const { r } of left.rows) await pg.admin(`DROP ROLE IF EXISTS "${r}"`).catch(() => undefined);
      for (const login of Object.values(logins)) await pg.admin(`DROP ROLE IF EXISTS "${login}"`).catch(() => undefined);
      await pg.admin(`DROP ROLE IF EXISTS "${target}"`).catch(() => undefined);
      await pg.stop();
    },
  };
}

/** The grant file path of a requester's test grant. */
const grantPath = (who: string, suffix = "prod-db") => `grants/${who}-${suffix}.yaml`;

/** A grant merged by {@link mergeApprovedGrant}: its PR, file, requester, merge commit and the merge's deliveries. */
export interface MergedGrant {
  number: number;
  path: string;
  requester: string;
  mergeSha: string;
  deliveries: DeliveryResult[];
}

/**
 * Opens a PR adding one grant, approves it (alice, of @acme/sre) and merges it, delivering every
 * webhook to `probot` (deliveries of the merge are returned: they may fail when the test crashes
 * the instance). The PR is merged one minute after it opened.
 */
export async function mergeApprovedGrant(
  gh: GitHubEmulator,
  probot: Probot,
  opts: { requester?: string; path?: string; fields?: Record<string, string | boolean>; advanceMs?: number } = {},
): Promise<MergedGrant> {
  const requester = opts.requester ?? "dev1";
  const path = opts.path ?? grantPath(requester);
  const pr = gh.openPullRequest({
    author: requester,
    branch: `grant/${path.replace(/\W+/g, "-")}`,
    files: { [path]: grantYaml({ requester, ...opts.fields }) },
  });
  await gh.deliver(probot, pr);
  await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  (gh.clock as { advance?: (ms: number) => void }).advance?.(opts.advanceMs ?? 60_000);
  const merge = gh.merge(pr.number!, { by: "alice" });
  const deliveries = await gh.deliver(probot, merge);
  return { number: pr.number!, path, requester, mergeSha: merge.sha!, deliveries };
}

/** Timebox's comments on a PR carrying `kind` (`applied`, `revoked`, `apply-failed`). */
export function markedComments(gh: GitHubEmulator, number: number, kind: string) {
  return gh.comments(number).filter((c: { body: string }) => c.body.includes(`<!-- timebox:${kind} `));
}

/** Commits on the default branch that removed `path` as Timebox (subject `Revoke …`, trailer `Timebox-Grant: path`). */
export function removalCommits(gh: GitHubEmulator, path: string) {
  return gh
    .repo()
    .log("main")
    .filter((c) => c.message.startsWith("Revoke") && c.message.includes(`\nTimebox-Grant: ${path}\n`));
}

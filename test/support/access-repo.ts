import { readFileSync } from "node:fs";
import type { Probot } from "probot";
import { FakeClock } from "../harness/clock.js";
import { GitHubEmulator } from "../harness/github/index.js";
import { createTimebox } from "../../src/index.js";
import type { LifecycleRuntime } from "../../src/lifecycle/runtime.js";
import type { ProviderPool } from "../../src/lifecycle/provider-pool.js";
import { privateKey, testProbot } from "./probot.js";

const fixture = (path: string) => readFileSync(new URL(`../fixtures/access-repo/${path}`, import.meta.url), "utf8");

export const POLICY = fixture(".github/timebox.yml");
export const VALID_GRANT = fixture("grants/dev1-prod-db.yaml");

/** The fixture policy with break-glass on `prod-db/readonly` for dev1 (at most 1h, reviewed within 2h). */
export function withReadonlyBreakglass(policy: string): string {
  const role = '        approvers: ["@acme/sre", "sre1"]\n        approvals: 1\n';
  if (!policy.includes(role)) throw new Error("the policy has no prod-db/readonly role as in the fixture");
  return policy.replace(role, `${role}        breakglass: { max_duration: 1h, review_within: 2h, requesters: ["dev1"] }\n`);
}

/** A grant file for `requester`, with fields overridden. */
export function grantYaml(fields: Record<string, string | boolean> = {}): string {
  const all = {
    requester: "dev1",
    resource: "prod-db",
    role: "readonly",
    duration: "2h",
    reason: "Investigate INC-1234 slow checkout queries",
    ticket: "INC-1234",
    ...fields,
  };
  return (
    Object.entries(all)
      .map(([k, v]) => `${k}: ${typeof v === "string" ? JSON.stringify(v) : v}`)
      .join("\n") + "\n"
  );
}

/**
 * An access repository `acme/access` on the emulated GitHub, with the fixture policy and the
 * teams it names, and Timebox loaded in-process against it.
 */
export interface AccessRepo {
  gh: GitHubEmulator;
  clock: FakeClock;
  probot: Probot;
  runtime: LifecycleRuntime;
  pool: ProviderPool;
  /** `owner/name` of the access repository (`acme/access` unless `repo` was given). */
  fullName: string;
  stop: () => Promise<void>;
}

export interface AccessRepoOptions {
  policy?: string;
  env?: Record<string, string | undefined>;
  /** Another app instance on an existing emulator (crash recovery, two replicas). */
  gh?: GitHubEmulator;
  clock?: FakeClock;
  pool?: ProviderPool;
  /**
   * Name of the access repository under `acme` (default `access`). Tests against one shared real
   * PostgreSQL server pick a unique one: Timebox's role names and drift detection are per repository.
   */
  repo?: string;
}

export async function startAccessRepo(options: AccessRepoOptions = {}): Promise<AccessRepo> {
  const clock = options.clock ?? new FakeClock("2026-03-02T09:00:00Z");
  const repoName = options.repo ?? "access";
  const gh = options.gh ?? (await seededEmulator(clock, options.policy ?? POLICY, repoName));
  const ownsEmulator = !options.gh;
  let runtime!: LifecycleRuntime;
  let pool!: ProviderPool;
  const app = createTimebox({
    clock,
    // PRIVATE_KEY as Probot reads it in production: the key that seals Timebox's records comes from it.
    env: { TIMEBOX_SCHEDULER: "off", TIMEBOX_APPLY_RETRY_DELAYS_MS: "0,0", PRIVATE_KEY: privateKey, ...options.env },
    pool: options.pool,
    onRuntime: (r, p) => {
      runtime = r;
      pool = p;
    },
  });
  const probot = testProbot(() => undefined, { baseUrl: gh.baseUrl, appId: gh.state.app.id, secret: gh.webhookSecret });
  await probot.load(app);
  return {
    gh,
    clock,
    probot,
    runtime,
    pool,
    fullName: `acme/${repoName}`,
    stop: async () => {
      await pool.close();
      if (ownsEmulator) await gh.stop();
    },
  };
}

/** The emulated GitHub with the users, teams and access repository the tests share. */
async function seededEmulator(clock: FakeClock, policy: string, repoName: string): Promise<GitHubEmulator> {
  const gh = new GitHubEmulator({ clock });
  await gh.start();
  for (const login of ["dev1", "dev2", "dev3", "sre1", "alice", "bob", "dba1", "dba2", "sec1", "oncall1", "mallory", "outsider"]) {
    gh.createUser(login, { orgs: ["acme"] });
  }
  gh.createTeam({ org: "acme", slug: "sre", members: ["alice"] });
  gh.createTeam({ org: "acme", slug: "dba", members: ["dba1", "dba2"] });
  gh.createTeam({ org: "acme", slug: "security", members: ["sec1"] });
  gh.createTeam({ org: "acme", slug: "engineering", members: ["dev1", "dev2", "dev3", "mallory", { login: "bob", state: "pending" }] });
  gh.createTeam({ org: "acme", slug: "oncall", members: ["oncall1"] });
  gh.createRepo({ owner: "acme", name: repoName, files: { ".github/timebox.yml": policy, "README.md": "# access\n" } });
  return gh;
}

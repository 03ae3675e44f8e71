/**
 * Everything the demo runs, on this machine only: an embedded PostgreSQL, an emulated GitHub
 * serving the access repository over HTTP, and the real Timebox server as a separate process.
 * Each piece is registered with `cleanup` as soon as it runs.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GitHubEmulator } from "../test/harness/github/index.js";
import { startAppProcess, type AppProcess } from "./app-process.js";
import type { Cleanup } from "./cleanup.js";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded-postgres.js";
import { ShiftedClock } from "./shifted-clock.js";

export const REPO = "acme/access";
export const LOGIN_ROLE = "dev1_login";
export const TARGET_ROLE = "analytics_read";

export const POLICY = `version: 1
owners: ["@acme/security"]          # must approve changes to this policy
requesters: ["@acme/engineering"]   # who may ask for access
ticket_pattern: "^INC-[0-9]+$"
identities:
  dev1: { postgres: ${LOGIN_ROLE} }       # GitHub login -> PostgreSQL login role
resources:
  prod-db:
    provider: postgres
    description: Production analytics database
    settings: { url_env: PROD_DB_URL, pool_size: 1 }   # the embedded PostgreSQL takes one connection
    roles:
      readonly:
        target: ${TARGET_ROLE}          # the PostgreSQL role Timebox grants
        max_duration: 8h
        approvers: ["@acme/sre"]
        approvals: 1
`;

export const GRANT_PATH = "grants/dev1-prod-db.yaml";
export const GRANT = `requester: dev1
resource: prod-db
role: readonly
duration: 2h
reason: Investigate INC-1234 slow checkout queries
ticket: INC-1234
`;

export interface World {
  gh: GitHubEmulator;
  clock: ShiftedClock;
  pg: EmbeddedPostgres;
  app: AppProcess;
  /** A temporary directory removed at the end. */
  scratch: string;
  root: string;
}

export interface WorldLog {
  scratch(dir: string): void;
  postgres(url: string): void;
  github(baseUrl: string): void;
  app(url: string): void;
}

export async function startWorld(root: string, preload: URL, cleanup: Cleanup, log: WorldLog): Promise<World> {
  const scratch = mkdtempSync(join(tmpdir(), "timebox-demo-"));
  cleanup.add(`remove ${scratch}`, () => rmSync(scratch, { recursive: true, force: true }));
  log.scratch(scratch);

  const pg = await startEmbeddedPostgres();
  cleanup.add("stop the embedded PostgreSQL", () => pg.stop());
  await pg.query(`CREATE ROLE ${TARGET_ROLE} NOLOGIN`);
  await pg.query(`CREATE ROLE ${LOGIN_ROLE} LOGIN`);
  log.postgres(pg.url);

  const clock = new ShiftedClock();
  // A fresh secret per run: the app refuses any webhook not signed with it.
  const gh = new GitHubEmulator({ clock, webhookSecret: randomBytes(16).toString("hex") });
  await gh.start();
  cleanup.add("stop the emulated GitHub", () => gh.stop());
  for (const login of ["dev1", "dev2", "alice", "sec1"]) gh.createUser(login, { orgs: ["acme"] });
  gh.createTeam({ org: "acme", slug: "engineering", members: ["dev1", "dev2"] });
  gh.createTeam({ org: "acme", slug: "sre", members: ["alice"] });
  gh.createTeam({ org: "acme", slug: "security", members: ["sec1"] });
  const [owner, name] = REPO.split("/");
  gh.createRepo({ owner, name, files: { ".github/timebox.yml": POLICY, "README.md": "# Access requests\n" } });
  log.github(gh.baseUrl);

  // A throwaway app key: the emulated GitHub accepts any JWT the app signs with it.
  const privateKey = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  }).privateKey;
  const appDir = join(scratch, "app");
  mkdirSync(appDir);
  const app = await startAppProcess(
    {
      root,
      cwd: appDir,
      preload,
      env: {
        ...gh.env(),
        PRIVATE_KEY: privateKey,
        PROD_DB_URL: pg.url,
        LOG_LEVEL: "warn",
        // The revocation in the demo comes from Timebox's precise expiry timer; the backstop tick
        // (every minute by default) is moved out of the way so the story plays the same every time.
        TIMEBOX_RECONCILE_CRON: "0 0 1 1 *",
      },
    },
    cleanup,
  );
  log.app(app.url);
  return { gh, clock, pg, app, scratch, root };
}

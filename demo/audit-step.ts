/**
 * The auditor's view: a plain `git clone` of the access repository, then the real CLI
 * (`node lib/cli/main.js audit --repo <clone>`, i.e. `timebox audit`), offline.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cloneRepository, exportBareRepository } from "../test/harness/github/git-export.js";
import { webFlowPublicKey } from "../test/harness/github/web-flow.js";
import type { Narrator } from "./narrator.js";
import { GRANT_PATH, REPO, type World } from "./world.js";

interface AuditRow {
  grant: string;
  requester: string | null;
  resource: string | null;
  role: string | null;
  pull_request: number | null;
  approved_by: string[];
  granted_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  revoke_reason: string | null;
  status: string;
}

export async function auditClone(n: Narrator, w: World, story: { number: number; mergedAt: string; expiresAt: string }): Promise<void> {
  const repo = w.gh.repo(REPO).repo;
  const bare = join(w.scratch, "access.git");
  const clone = join(w.scratch, "access");
  const objects = exportBareRepository(repo.git, repo.refs, repo.defaultBranch, bare);
  const commits = cloneRepository(bare, clone);
  const head = w.gh.branchHead("main")!;
  const cloneHead = execFileSync("git", ["rev-parse", "HEAD"], { cwd: clone, encoding: "utf8" }).trim();
  n.check(cloneHead === head, `the clone's main at GitHub's ${head.slice(0, 7)}`, () => cloneHead);
  n.ok(`git clone: ${commits} commits on main (${objects} objects), the same SHAs as on GitHub (main at ${head.slice(0, 7)})`);

  const cli = join(w.root, "lib", "cli", "main.js");
  // GitHub signs the commits an App makes with its web-flow key; the emulated GitHub signs with a
  // key of its own, so the auditor trusts that one instead of GitHub's published key.
  const key = join(w.scratch, "emulated-web-flow.asc");
  writeFileSync(key, webFlowPublicKey());
  const audit = (...args: string[]) => {
    const run = spawnSync(process.execPath, [cli, "audit", "--repo", clone, "--trusted-key", key, ...args], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "" },
      timeout: 30_000,
    });
    n.check(
      run.status === 0,
      `\`timebox audit ${args.join(" ")}\` to succeed`,
      () => `exit ${run.status ?? run.signal}: ${(run.stderr || run.error?.message || "").trim().split("\n").slice(0, 5).join(" / ")}`,
    );
    return run.stdout;
  };
  n.say(`$ timebox audit --repo ${clone} --trusted-key emulated-web-flow.asc   # the emulated GitHub's signing key`);
  n.quote(audit());
  const json = JSON.parse(audit("--format", "json")) as { grants?: AuditRow[]; rows?: AuditRow[] };
  const rows = json.grants ?? json.rows ?? [];
  const row = rows.find((r) => r.grant === GRANT_PATH);
  const want = {
    requester: "dev1",
    resource: "prod-db",
    role: "readonly",
    pull_request: story.number,
    approved_by: ["alice"],
    granted_at: story.mergedAt,
    expires_at: story.expiresAt,
    revoke_reason: "expired",
    status: "revoked",
  };
  const got = row && Object.fromEntries(Object.keys(want).map((k) => [k, row[k as keyof AuditRow]]));
  n.check(JSON.stringify(got) === JSON.stringify(want) && row?.revoked_at != null, `the audit row ${JSON.stringify(want)}`, () => JSON.stringify(row ?? rows));
  n.ok(
    `the story, from git alone: dev1 had prod-db/readonly from ${row!.granted_at} to ${row!.revoked_at} (PR #${story.number}, approved by alice), revoked because it expired`,
  );
}

/**
 * Attack: a checkout whose `.git/config` (and attributes) name programs — `core.fsmonitor`, a
 * clean/smudge filter, `diff.external`, a textconv driver, hooks — must never have them run by
 * `timebox plan` or `timebox audit`. Each program writes a marker file; no marker may appear.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GitRepo, tempDir } from "../audit/git-repo.js";
import { GRANT, T, accessRepo, mergePr, removeGitRepos, writeUnstaged } from "../plan/repo.js";
import { cli } from "./repo.js";

afterAll(removeGitRepos);

/** A repository with history and a modified working tree, booby-trapped through its own configuration. */
function trapped(): { repo: GitRepo; markers: string } {
  const repo = accessRepo();
  mergePr(repo, 1, { "grants/dev1-prod-db.yaml": GRANT.dev1 }, T("09:00:00"));
  repo.rm("grants/dev1-prod-db.yaml").commit("Remove", T("10:00:00"));
  writeUnstaged(repo, "grants/dev2-prod-db.yaml", GRANT.dev2);
  writeUnstaged(repo, "grants/dev1-prod-db.yaml", GRANT.dev1Longer);

  const markers = tempDir();
  const script = (name: string) => {
    const path = join(markers, `${name}.sh`);
    // Filters must pass content through (cat); every program leaves a marker named after itself.
    writeFileSync(path, `#!/bin/sh\ntouch "${markers}/ran-${name}"\ncat\n`);
    chmodSync(path, 0o755);
    return path;
  };
  const hooks = join(markers, "hooks");
  mkdirSync(hooks);
  for (const hook of ["post-index-change", "post-checkout", "pre-commit", "reference-transaction"]) {
    writeFileSync(join(hooks, hook), `#!/bin/sh\ntouch "${markers}/ran-hook-${hook}"\n`);
    chmodSync(join(hooks, hook), 0o755);
  }
  const config: Array<[string, string]> = [
    ["core.fsmonitor", script("fsmonitor")],
    ["core.hooksPath", hooks],
    ["filter.evil.clean", script("clean")],
    ["filter.evil.smudge", script("smudge")],
    ["diff.external", script("external-diff")],
    ["diff.evil.textconv", script("textconv")],
    ["diff.evil.command", script("diff-command")],
    ["core.pager", script("pager")],
    ["pager.log", script("pager-log")],
    ["gpg.program", script("gpg")],
    ["log.showSignature", "true"],
    ["core.sshCommand", script("ssh")],
  ];
  for (const [key, value] of config) repo.git(["config", key, value]);
  writeFileSync(join(repo.root, ".git", "info", "attributes"), "* filter=evil diff=evil\n");
  return { repo, markers };
}

const ran = (markers: string) =>
  [
    "fsmonitor",
    "clean",
    "smudge",
    "external-diff",
    "textconv",
    "diff-command",
    "pager",
    "pager-log",
    "gpg",
    "ssh",
    "hook-post-index-change",
    "hook-post-checkout",
    "hook-pre-commit",
    "hook-reference-transaction",
  ].filter((n) => existsSync(join(markers, `ran-${n}`)));

test("the trap works: plain git in the checkout runs the checkout's programs", () => {
  const { repo, markers } = trapped();
  repo.git(["status", "--porcelain"]);
  // `status` re-hashes a file (running its clean filter) only when the index cannot vouch for it,
  // which depends on timestamps; `hash-object --path` always applies the checkout's filters.
  repo.git(["hash-object", "--path", "grants/dev2-prod-db.yaml", "grants/dev2-prod-db.yaml"]);
  expect(ran(markers)).toEqual(expect.arrayContaining(["fsmonitor", "clean"]));
});

test("timebox plan runs none of the checkout's programs", async () => {
  const { repo, markers } = trapped();
  const r = await cli(["plan", "--repo", repo.root, "--at", T("10:30:00"), "--format", "json"], "/");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  // It still saw the working tree: the pending request and the extension.
  expect(r.stdout).toContain("grants/dev2-prod-db.yaml");
  expect(ran(markers)).toEqual([]);
});

test("timebox audit runs none of the checkout's programs", async () => {
  const { repo, markers } = trapped();
  const r = await cli(["audit", "--repo", repo.root, "--format", "json"], "/");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).grants).toHaveLength(1);
  expect(ran(markers)).toEqual([]);
});

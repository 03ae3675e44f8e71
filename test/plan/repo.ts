/** Access repositories with real Git history for `timebox plan` tests. All times are 2026-03-02, UTC. */
import { writeFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { POLICY_TEXT } from "../grants/helpers.js";
import { GitRepo, grantYaml } from "../audit/git-repo.js";

export { removeGitRepos } from "../audit/git-repo.js";

export const T = (hhmmss: string) => `2026-03-02T${hhmmss}Z`;

export const GRANT = {
  dev1: grantYaml({ requester: "dev1", duration: "2h", reason: "Investigate INC-1234 slow checkout queries", ticket: "INC-1234" }),
  dev1Longer: grantYaml({ requester: "dev1", duration: "4h", reason: "Still investigating INC-1234", ticket: "INC-1234" }),
  dev2: grantYaml({ requester: "dev2", duration: "1h", reason: "Backfill", ticket: "INC-2000" }),
  contractor: grantYaml({ requester: "contractor1", duration: "1h", reason: "Vendor check", ticket: "CHG-1" }),
  tooLong: grantYaml({ requester: "dev2", duration: "9h", reason: "Too long", ticket: "INC-3" }),
  breakglass: grantYaml({ requester: "oncall1", role: "admin", duration: "30m", reason: "Outage: checkout down", ticket: "INC-3000", emergency: true }),
};

/** A PR merged with a merge commit (`Merge pull request #N from …`); the PR's own commit is 10 minutes older. */
export function mergePr(repo: GitRepo, pr: number, files: Record<string, string | null>, mergedAt: string): string {
  const branch = `pr-${pr}`;
  repo.branch(branch);
  for (const [path, content] of Object.entries(files)) {
    if (content === null) repo.rm(path);
    else repo.write({ [path]: content });
  }
  repo.commit(`Change for PR #${pr}`, new Date(Date.parse(mergedAt) - 600_000).toISOString());
  return repo.checkout("main").merge(branch, `Merge pull request #${pr} from acme/${branch}\n\nAccess request`, mergedAt);
}

/** A squash merge: one commit on main whose subject ends in `(#N)`. */
export function squashPr(repo: GitRepo, pr: number, files: Record<string, string>, mergedAt: string, title = "Access request"): string {
  repo.write(files);
  return repo.commit(`${title} (#${pr})`, mergedAt);
}

/** A repository with the fixture policy committed at 08:00 (optionally another policy). */
export function accessRepo(policy = POLICY_TEXT): GitRepo {
  const repo = new GitRepo();
  repo.write({ ".github/timebox.yml": policy, "grants/.gitkeep": "" }).commit("Initial policy", T("08:00:00"));
  return repo;
}

/** Writes a file in the working tree without staging it (an untracked or modified file). */
export function writeUnstaged(repo: { root: string }, path: string, content: string): void {
  mkdirSync(dirname(join(repo.root, path)), { recursive: true });
  writeFileSync(join(repo.root, path), content);
}

export function deleteUnstaged(repo: { root: string }, path: string): void {
  rmSync(join(repo.root, path));
}

/** The fixture policy with `max_extensions` set on the readonly role. */
export const POLICY_WITH_CAP = POLICY_TEXT.replace("        approvals: 1\n", "        approvals: 1\n        max_extensions: 1\n");

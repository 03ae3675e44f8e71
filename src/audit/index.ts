import { parseYaml } from "../yaml/parse.js";
import { git, GitError, readBlobs, readMainline, readNotes, type CommitNote } from "./git.js";
import { buildRows, grantChanges } from "./history.js";
import type { AuditRow } from "./types.js";

export { AUDIT_COLUMNS, type AuditRow, type AuditStatus } from "./types.js";
export { filterRows, formatRows, accessEnd, type AuditFilter, type AuditFormat } from "./report.js";

/** The path is not inside a Git repository (or git cannot read it). */
export class NotARepositoryError extends Error {}

export interface AuditOptions {
  /** What "now" is for active versus overdue; the real clock by default. */
  now?: Date;
}

export interface AuditResult {
  /** The revision read as the default branch. */
  ref: string;
  grantsPath: string;
  rows: AuditRow[];
}

const POLICY_PATH = ".github/timebox.yml";

/**
 * Reads a clone's default branch with the real `git`, offline, and rebuilds every grant's story.
 * The default branch is `origin/HEAD` when the clone has it, else the checked-out `HEAD`.
 */
export async function auditRepository(repo: string, options: AuditOptions = {}): Promise<AuditResult> {
  try {
    await git(repo, ["rev-parse", "--git-dir"]);
  } catch (e) {
    if (e instanceof GitError) throw new NotARepositoryError(`${repo} is not a Git repository (${e.stderr.trim().split("\n")[0] || "git failed"})`);
    throw e;
  }
  const ref = await firstResolving(repo, ["refs/remotes/origin/HEAD", "HEAD"]);
  if (!ref) return { ref: "HEAD", grantsPath: "grants/", rows: [] }; // no commits yet: nothing was ever granted
  const grantsPath = await grantsPathAt(repo, ref);
  const commits = await readMainline(repo, ref);

  const blobIds: string[] = [];
  const touching: string[] = [];
  const mergedNotes = new Map<string, CommitNote[]>();
  for (const commit of commits) {
    const changes = grantChanges(commit, grantsPath);
    if (changes.length === 0) continue;
    touching.push(commit.sha);
    for (const c of changes) if (c.status !== "D") blobIds.push(c.newBlob);
    if (commit.parents.length > 1 && changes.some((c) => c.status === "D" || c.status === "T")) {
      // A removal that came in through a PR (e.g. Timebox's `timebox/remove/…` PR when branch rules
      // refuse its direct commit): the trailers are on a commit the merge brought in.
      const inside = await readNotes(repo, [commit.sha, `^${commit.parents[0]}`], true);
      mergedNotes.set(commit.sha, [...inside.values()]);
    }
  }
  const [blobs, notes] = await Promise.all([readBlobs(repo, blobIds), readNotes(repo, touching)]);
  const rows = buildRows({ commits, grantsPath, blobs, notes, mergedNotes, now: options.now ?? new Date() });
  return { ref, grantsPath, rows };
}

async function firstResolving(repo: string, refs: readonly string[]): Promise<string | undefined> {
  for (const ref of refs) {
    try {
      await git(repo, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
      return ref;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** The policy's grants_path at the tip, normalised as the policy loader does; `grants/` by default. */
async function grantsPathAt(repo: string, ref: string): Promise<string> {
  let text: Buffer;
  try {
    text = await git(repo, ["cat-file", "blob", `${ref}:${POLICY_PATH}`]);
  } catch {
    return "grants/";
  }
  const parsed = parseYaml(POLICY_PATH, text);
  const value = parsed.ok ? parsed.yaml.value : undefined;
  const raw = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>).grants_path : undefined;
  const path = (typeof raw === "string" && raw.trim() !== "" ? raw : "grants/").replace(/^\.\//, "");
  return path.endsWith("/") ? path : `${path}/`;
}

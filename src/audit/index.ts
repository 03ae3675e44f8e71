import { parseYaml } from "../yaml/parse.js";
import { countMainline, git, GitError, notesMergedBy, readBlobs, readMainline, type MainlineCommit } from "../git/repository.js";
import { buildHistory, grantChanges, type LookAlike } from "./history.js";
import { grantPaths, trailerMap } from "./records.js";
import { DEFAULT_APP_LOGIN, judgeCommits, readTrustedKeys, type CommitVerdict } from "./trust.js";
import { GITHUB_WEB_FLOW_KEYS } from "./keys/github-web-flow.js";
import type { AuditRow } from "./types.js";
import type { Key } from "openpgp";

export { type AuditRow } from "./types.js";
export { filterRows, type AuditFilter } from "./filter.js";
export { formatReport, type AuditFormat } from "./report.js";
export { DEFAULT_APP_LOGIN, readTrustedKeys, TrustedKeyError } from "./trust.js";

/** The path is not inside a Git repository (or git cannot read it). */
export class NotARepositoryError extends Error {}

export interface AuditOptions {
  /** What "now" is for active versus overdue; the real clock by default. */
  now?: Date;
  /** Told how many first-parent commits have been read, of how many, while git writes them. */
  onProgress?: (read: number, total: number) => void;
  /**
   * Who Timebox is: its commits are authored by `appLogin` (default `timebox[bot]`) and signed by
   * one of `keys` (default: GitHub's published web-flow keys).
   */
  trust?: { keys?: readonly Key[]; appLogin?: string };
}

export interface AuditResult {
  /** The revision read as the default branch. */
  ref: string;
  /** The commit the default branch pointed at (empty for a repository without commits). */
  commit: string;
  grantsPath: string;
  rows: AuditRow[];
  /** Commits with Timebox's trailers that Timebox did not make: their claims are not in `rows`. */
  lookAlikes: LookAlike[];
  /** For each row, the Timebox commits whose trailers filled it. */
  records: Map<AuditRow, string[]>;
  /** The same history again, with these commits no longer taken as Timebox's (what GitHub said about them). */
  rebuild: (distrusted: ReadonlyMap<string, string>) => AuditResult;
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
  if (!ref) {
    // No commits yet: nothing was ever granted.
    const empty: AuditResult = { ref: "HEAD", commit: "", grantsPath: "grants/", rows: [], lookAlikes: [], records: new Map(), rebuild: () => empty };
    return empty;
  }
  const commit = (await git(repo, ["rev-parse", "--verify", `${ref}^{commit}`])).toString("utf8").trim();
  const grantsPath = await grantsPathAt(repo, commit);
  const onProgress = options.onProgress;
  const total = onProgress ? await countMainline(repo, commit) : 0;
  const commits = await readMainline(repo, commit, onProgress && ((read) => onProgress(Math.min(read, total), total)));

  const blobIds: string[] = [];
  const removingMerges: MainlineCommit[] = [];
  for (const c of commits) {
    const changes = grantChanges(c, grantsPath);
    if (changes.length === 0) continue;
    for (const change of changes) if (change.status !== "D") blobIds.push(change.newBlob);
    // A removal that came in through a PR (e.g. Timebox's `timebox/remove/…` PR when branch rules
    // refuse its direct commit): the trailers may be on a commit the merge brought in.
    // Read even when the merge's own message carries trailers: whoever merged chose that message.
    const removes = changes.some((change) => change.status === "D" || change.status === "T");
    if (c.parents.length > 1 && removes) removingMerges.push(c);
  }
  const mainline = new Set(commits.map((c) => c.sha));
  const [blobs, mergedNotes, keys] = await Promise.all([
    readBlobs(repo, blobIds),
    notesMergedBy(repo, removingMerges, mainline),
    options.trust?.keys ?? readTrustedKeys([GITHUB_WEB_FLOW_KEYS]),
  ]);
  // Only commits that claim to be Timebox's records are judged (one `git cat-file --batch`).
  const claims = [...commits, ...[...mergedNotes.values()].flat()].filter((c) => grantPaths(trailerMap(c.trailers)).length > 0).map((c) => c.sha);
  const verdicts = await judgeCommits(repo, claims, { keys, appLogin: options.trust?.appLogin ?? DEFAULT_APP_LOGIN });
  const now = options.now ?? new Date();
  const build = (judged: ReadonlyMap<string, CommitVerdict>): AuditResult => {
    const history = buildHistory({ commits, grantsPath, blobs, mergedNotes, verdicts: judged, now });
    return {
      ref,
      commit,
      grantsPath,
      ...history,
      rebuild: (distrusted) => {
        const next = new Map(judged);
        for (const [sha, reason] of distrusted) {
          const v = next.get(sha);
          if (v) next.set(sha, { ...v, timebox: false, reason });
        }
        return build(next);
      },
    };
  };
  return build(verdicts);
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

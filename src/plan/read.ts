/**
 * Reads what `timebox plan` needs from a clone, offline, with the real `git`: the default
 * branch's tip (`origin/HEAD`, else `HEAD`), its policy and grant files, how each file's content
 * reached the branch, recent removals, and what the checkout would change. Changes nothing.
 */
import { git, GitError, readBlobs, readMainline, readNotes, type CommitNote, type MainlineCommit } from "../git/repository.js";
import { grantChanges, pullRequestOf } from "../audit/history.js";
import { POLICY_PATH } from "../policy/types.js";
import { MAX_YAML_BYTES } from "../yaml/parse.js";
import { readCheckoutChanges } from "../git/checkout.js";
import { historyWindowMs } from "../policy/windows.js";
import { DEFAULT_HISTORY_MARGIN_MS } from "./decide.js";
import type { BranchGrant, PlanFacts, RecentRemoval, StoredFile } from "./facts.js";
import { commitOf, lsTree, objectInfo, type TreeEntry } from "../git/objects.js";
import { checkStoredPolicy } from "./judge.js";
import { isGrantFilePath } from "../grants/files.js";

/** The path is not inside a Git repository (or git cannot read it). */
export class NotARepositoryError extends Error {}

export interface ReadOptions {
  providers: ReadonlyMap<string, readonly string[]>;
  /** The plan's clock: removals older than the reconciler's history window are not read. */
  at: Date;
  historyMarginMs?: number;
}

export async function readPlanFacts(repo: string, options: ReadOptions): Promise<PlanFacts> {
  try {
    await git(repo, ["rev-parse", "--git-dir"]);
  } catch (e) {
    if (e instanceof GitError) throw new NotARepositoryError(`${repo} is not a Git repository (${e.stderr.trim().split("\n")[0] || "git failed"})`);
    throw e;
  }
  const inWorkTree = (await git(repo, ["rev-parse", "--is-inside-work-tree"])).toString("utf8").trim() === "true";
  const top = inWorkTree ? (await git(repo, ["rev-parse", "--show-toplevel"])).toString("utf8").trim() : repo;

  let ref = "origin/HEAD";
  let tip = await commitOf(top, "refs/remotes/origin/HEAD");
  if (!tip) {
    ref = "HEAD";
    tip = await commitOf(top, "HEAD");
  }

  const policyEntry = tip ? (await lsTree(top, tip, [POLICY_PATH])).find((e) => e.path === POLICY_PATH) : undefined;
  const policy = policyEntry ? (await storedFiles(top, [policyEntry])).get(POLICY_PATH)! : null;
  const verdict = policy ? checkStoredPolicy(POLICY_PATH, policy, options.providers) : undefined;
  // As the reconciler does: the policy's grants_path, `grants/` when the policy is missing or invalid.
  const grantsPath = verdict?.policy?.grants_path ?? "grants/";

  const tipEntries = tip ? (await lsTree(top, tip, [grantsPath])).filter((e) => e.path.startsWith(grantsPath)) : [];
  const onTip = new Map<string, TreeEntry>(tipEntries.map((e) => [e.path, e]));
  if (policyEntry) onTip.set(POLICY_PATH, policyEntry);
  const checkout = await readCheckoutChanges(top, !inWorkTree, grantsPath, tip, onTip);

  const facts: PlanFacts = {
    repository: top,
    ref,
    ...(tip ? { commit: tip } : {}),
    policy,
    grants: [],
    recentRemovals: [],
    pendingSource: checkout.source,
    pending: checkout.pending,
    ...(checkout.pendingPolicy ? { pendingPolicy: checkout.pendingPolicy } : {}),
  };
  if (!tip) return facts;

  // Only what the reconciler would apply: the one definition of a grant file (no dot-files, safe paths).
  const grantEntries = tipEntries.filter((e) => isGrantFilePath(e.path, grantsPath));
  const history = walkHistory(await readMainline(top, tip), grantsPath);
  const windowStart = options.at.getTime() - historyWindowMs(verdict?.policy, options.historyMarginMs ?? DEFAULT_HISTORY_MARGIN_MS);
  const removals = history.removals.filter((r) => r.commit.committedAt.getTime() >= windowStart);

  const shas = new Set<string>();
  for (const e of grantEntries) {
    const state = history.current.get(e.path);
    if (state) shas.add(state.origin.sha).add(state.added.sha);
  }
  for (const r of removals) shas.add(r.commit.sha).add(r.origin.sha);
  const [contents, notes] = await Promise.all([storedFiles(top, grantEntries), readNotes(top, [...shas])]);
  const subject = (sha: string) => notes.get(sha)?.subject ?? "";

  // For each merged PR: whether its head holds the merged content, and the policy at its base.
  const withPull = grantEntries.filter((e) => {
    const origin = history.current.get(e.path)?.origin;
    return origin && pullRequestOf(subject(origin.sha)) !== null;
  });
  const specs: string[] = [];
  const ask = (spec: string) => specs.push(spec) - 1;
  const lookups = new Map<string, { head?: number; base?: number }>();
  for (const e of withPull) {
    const { parents } = history.current.get(e.path)!.origin;
    lookups.set(e.path, {
      ...(parents[1] ? { head: ask(`${parents[1]}:${e.path}`) } : {}),
      ...(parents[0] ? { base: ask(`${parents[0]}:${POLICY_PATH}`) } : {}),
    });
  }
  const infos = await objectInfo(top, specs);
  const policyIds = [...lookups.values()]
    .map((l) => (l.base === undefined ? undefined : infos[l.base]))
    .filter((i) => i !== undefined && i.size <= MAX_YAML_BYTES);
  const basePolicies = await readBlobs(
    top,
    policyIds.map((i) => i!.id),
  );

  for (const e of grantEntries) {
    const state = history.current.get(e.path);
    const grant: BranchGrant = { path: e.path, file: contents.get(e.path)!, extensions: state?.extensions ?? 0 };
    if (state) grant.requestedIn = pullRequestOf(subject(state.added.sha));
    if (state) {
      const { origin } = state;
      const pullRequest = pullRequestOf(subject(origin.sha));
      const lookup = lookups.get(e.path);
      let headMatches: boolean | undefined;
      let basePolicy: StoredFile | null = null;
      if (lookup) {
        if (lookup.head !== undefined) headMatches = infos[lookup.head]?.id === e.id;
        const base = lookup.base === undefined ? undefined : infos[lookup.base];
        if (base) basePolicy = { kind: "file", size: base.size, ...(basePolicies.has(base.id) ? { content: basePolicies.get(base.id) } : {}) };
      }
      grant.origin = {
        sha: origin.sha,
        committedAt: origin.committedAt,
        subject: subject(origin.sha),
        pullRequest,
        ...(headMatches === undefined ? {} : { headMatches }),
        basePolicy,
      };
    }
    facts.grants.push(grant);
  }

  for (const r of removals) {
    const inside = r.commit.parents.length > 1 ? [...(await readNotes(top, [r.commit.sha, `^${r.commit.parents[0]}`], true)).values()] : [];
    if (isTimeboxRemoval(r.path, [notes.get(r.commit.sha), ...inside])) continue;
    const removal: RecentRemoval = {
      path: r.path,
      commit: r.commit.sha,
      removedAt: r.commit.committedAt,
      pullRequest: pullRequestOf(subject(r.origin.sha)),
      removedBy: pullRequestOf(subject(r.commit.sha)),
    };
    facts.recentRemovals.push(removal);
  }
  return facts;
}

/** For each grant file on the branch: the commit that brought its content and how often it was modified since it was added. */
interface History {
  current: Map<string, { origin: MainlineCommit; added: MainlineCommit; extensions: number }>;
  removals: Array<{ path: string; commit: MainlineCommit; origin: MainlineCommit }>;
}

function walkHistory(commits: readonly MainlineCommit[], grantsPath: string): History {
  const current: History["current"] = new Map();
  const removals: History["removals"] = [];
  for (const commit of commits) {
    for (const change of grantChanges(commit, grantsPath)) {
      const before = current.get(change.path);
      const nowRegular = change.status !== "D" && change.newMode.startsWith("100");
      if (!nowRegular) {
        if (before) removals.push({ path: change.path, commit, origin: before.origin });
        current.delete(change.path);
      } else {
        const extended = before !== undefined && change.status === "M";
        current.set(change.path, { origin: commit, added: extended ? before.added : commit, extensions: extended ? before.extensions + 1 : 0 });
      }
    }
  }
  return { current, removals };
}

/** Whether Timebox's own trailers (`Timebox-Grant: <path>`) are on the removing commit or a commit it merged. */
function isTimeboxRemoval(path: string, notes: ReadonlyArray<CommitNote | undefined>): boolean {
  return notes.some((n) => n?.trailers.some(([key, value]) => key.toLowerCase() === "timebox-grant" && value === path));
}

/** Tree entries as stored files, reading the content of regular files no larger than a grant may be. */
async function storedFiles(top: string, entries: readonly TreeEntry[]): Promise<Map<string, StoredFile>> {
  const readable = entries.filter((e) => e.kind === "file" && e.size <= MAX_YAML_BYTES);
  const blobs = await readBlobs(
    top,
    readable.map((e) => e.id),
  );
  return new Map(
    entries.map((e) => {
      const content = e.kind === "file" ? blobs.get(e.id) : undefined;
      return [e.path, { kind: e.kind, size: e.size, ...(content ? { content } : {}) }];
    }),
  );
}

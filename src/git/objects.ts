/** Small read-only Git queries the plan needs beyond the audit's history reader. */
import type { EntryKind } from "../grants/check.js";
import { git } from "./repository.js";

/** One entry of a tree, as `git ls-tree -r -l` lists it. */
export interface TreeEntry {
  path: string;
  mode: string;
  kind: EntryKind;
  /** Blob id (or the submodule's commit). */
  id: string;
  /** Bytes; 0 for a submodule. */
  size: number;
}

const kindOfMode = (mode: string): EntryKind => (mode === "120000" ? "symlink" : mode === "160000" ? "submodule" : "file");

/** Every file under `paths` in `treeish`, recursively, with modes and sizes (no renames, no quoting). */
export async function lsTree(repo: string, treeish: string, paths: readonly string[]): Promise<TreeEntry[]> {
  const out = (await git(repo, ["ls-tree", "-r", "-l", "-z", "--full-tree", treeish, "--", ...paths])).toString("utf8");
  const entries: TreeEntry[] = [];
  for (const record of out.split("\0")) {
    const m = /^(\d{6}) (\w+) ([0-9a-f]{40,64}) +(-|\d+)\t([\s\S]+)$/.exec(record);
    if (!m) continue;
    entries.push({ mode: m[1], kind: kindOfMode(m[1]), id: m[3], size: m[4] === "-" ? 0 : Number(m[4]), path: m[5] });
  }
  return entries;
}

/** The commit a revision names, or undefined when it names none (a missing ref, an unborn HEAD). */
export async function commitOf(repo: string, rev: string): Promise<string | undefined> {
  try {
    return (await git(repo, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`])).toString("utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The best common ancestor of two commits, or undefined when they share none. */
export async function mergeBase(repo: string, a: string, b: string): Promise<string | undefined> {
  try {
    return (await git(repo, ["merge-base", a, b])).toString("utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The object id and size of each `<commit>:<path>` spec (undefined when it does not exist),
 * through one `git cat-file --batch-check`. Specs are answered in order; a path holding a line
 * break cannot be asked this way and is answered undefined.
 */
export async function objectInfo(repo: string, specs: readonly string[]): Promise<Array<{ id: string; size: number } | undefined>> {
  const askable = specs.map((s) => !/[\r\n]/.test(s));
  const asked = specs.filter((_, i) => askable[i]);
  const answers: Array<{ id: string; size: number } | undefined> = [];
  if (asked.length > 0) {
    const out = (await git(repo, ["cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"], `${asked.join("\n")}\n`)).toString("utf8");
    for (const line of out.split("\n").slice(0, asked.length)) {
      const m = /^([0-9a-f]{40,64}) blob (\d+)$/.exec(line);
      answers.push(m ? { id: m[1], size: Number(m[2]) } : undefined);
    }
  }
  let next = 0;
  return specs.map((_, i) => (askable[i] ? answers[next++] : undefined));
}

/**
 * Git's blob id for each worktree file, of its bytes as they are (`git hash-object --no-filters
 * --stdin-paths`): the checkout's clean filters are programs it names, and are never run.
 */
export async function hashFiles(top: string, paths: readonly string[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const askable = paths.filter((p) => !/[\r\n]/.test(p));
  if (askable.length === 0) return ids;
  const out = (await git(top, ["hash-object", "--no-filters", "--stdin-paths"], `${askable.join("\n")}\n`)).toString("utf8").split("\n");
  askable.forEach((p, i) => {
    if (/^[0-9a-f]{40,64}$/.test(out[i] ?? "")) ids.set(p, out[i]);
  });
  return ids;
}

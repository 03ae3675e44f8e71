/**
 * What the checkout would change on the default branch: grant files (and the policy) that differ
 * between the working tree — or, in a bare clone, the checked-out HEAD — and the common ancestor
 * with the default branch, as a pull request from this checkout would show them.
 */
import { lstat, open } from "node:fs/promises";
import { join } from "node:path";
import { git, readBlobs } from "./repository.js";
import { isJudgedGrantsPathEntry } from "../grants/files.js";
import { POLICY_PATH } from "../policy/types.js";
import { MAX_YAML_BYTES } from "../yaml/parse.js";
import type { ProposedChange, StoredFile } from "../plan/facts.js";
import { commitOf, hashFiles, lsTree, mergeBase, type TreeEntry } from "./objects.js";

/** A file of the checkout: its kind and blob id (a link or submodule has none), and how to read it. */
interface CheckoutFile {
  kind: StoredFile["kind"];
  id?: string;
  size: number;
  read: () => Promise<Uint8Array | undefined>;
}

export interface CheckoutChanges {
  source: "working tree" | "HEAD" | null;
  pending: ProposedChange[];
  pendingPolicy?: ProposedChange;
}

/**
 * The checkout's changes under `grantsPath` and to the policy. `top` is the working tree (or the
 * git dir of a bare clone, `bare`); `tip` the default branch's commit, `tipEntries` its files.
 */
export async function readCheckoutChanges(
  top: string,
  bare: boolean,
  grantsPath: string,
  tip: string | undefined,
  tipEntries: ReadonlyMap<string, TreeEntry>,
): Promise<CheckoutChanges> {
  const head = await commitOf(top, "HEAD");
  if (bare && (!head || head === tip)) return { source: "HEAD", pending: [] };
  const base = head && tip ? ((await mergeBase(top, head, tip)) ?? tip) : tip;
  const baseEntries = base ? new Map((await lsTree(top, base, [grantsPath, POLICY_PATH])).map((e) => [e.path, e])) : new Map<string, TreeEntry>();
  const files = bare ? await headFiles(top, head!, grantsPath) : await worktreeFiles(top, grantsPath);

  // The one definition of a grant file: grants and anything else under grants_path (shown, refused) but housekeeping.
  const relevant = (p: string) => p === POLICY_PATH || isJudgedGrantsPathEntry(p, grantsPath);
  const paths = [...new Set([...files.keys(), ...baseEntries.keys()])].filter(relevant).sort();
  const out: CheckoutChanges = { source: bare ? "HEAD" : "working tree", pending: [] };
  for (const path of paths) {
    const mine = files.get(path);
    const before = baseEntries.get(path);
    const onTip = tipEntries.get(path);
    if (!mine && !before) continue;
    if (mine && before && same(mine, before)) continue; // this checkout does not change it
    if (mine && onTip && same(mine, onTip)) continue; // the default branch already has it
    if (!mine && !onTip) continue; // already gone from the default branch
    const change: ProposedChange = { path };
    if (mine)
      change.file = { kind: mine.kind, size: mine.size, ...(mine.kind === "file" && mine.size <= MAX_YAML_BYTES ? { content: await mine.read() } : {}) };
    if (path === POLICY_PATH) out.pendingPolicy = change;
    else out.pending.push(change);
  }
  return out;
}

const same = (a: CheckoutFile, b: TreeEntry) => a.kind === b.kind && (a.kind !== "file" || a.id === b.id);

/** Tracked and untracked (not ignored) files of the working tree, read from disk. */
async function worktreeFiles(top: string, grantsPath: string): Promise<Map<string, CheckoutFile>> {
  const listed = (await git(top, ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", grantsPath, POLICY_PATH]))
    .toString("utf8")
    .split("\0")
    .filter(Boolean);
  const files = new Map<string, CheckoutFile>();
  const regular: string[] = [];
  for (const path of new Set(listed)) {
    const full = join(top, path);
    const stat = await lstat(full).catch(() => undefined);
    if (!stat) continue; // deleted in the working tree
    const kind = stat.isSymbolicLink() ? "symlink" : stat.isDirectory() ? "submodule" : stat.isFile() ? "file" : undefined;
    if (!kind) continue;
    files.set(path, { kind, size: stat.size, read: () => readBounded(full) });
    if (kind === "file") regular.push(path);
  }
  const ids = await hashFiles(top, regular);
  for (const path of regular) files.get(path)!.id = ids.get(path);
  return files;
}

/** The files of the checked-out commit, for a clone without a working tree. */
async function headFiles(top: string, head: string, grantsPath: string): Promise<Map<string, CheckoutFile>> {
  const entries = await lsTree(top, head, [grantsPath, POLICY_PATH]);
  const files = new Map<string, CheckoutFile>();
  for (const e of entries) {
    files.set(e.path, {
      kind: e.kind,
      id: e.kind === "file" ? e.id : undefined,
      size: e.size,
      read: async () => (await readBlobs(top, [e.id])).get(e.id),
    });
  }
  return files;
}

/** A file's bytes, at most one more than a grant may have (a larger file is refused by size anyway). */
async function readBounded(path: string): Promise<Uint8Array | undefined> {
  const handle = await open(path, "r").catch(() => undefined);
  if (!handle) return undefined;
  try {
    const buffer = Buffer.alloc(MAX_YAML_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Git object model: content-addressed blobs, trees and commits with real git SHA-1s. */
import { createHash } from "node:crypto";
import { gpgsigHeader, signCommitPayload } from "./web-flow.js";

export { webFlowPublicKey as emulatorSigningKey } from "./web-flow.js";

/** GitHub's committer identity on the commits it creates and signs (its "web-flow" account). */
export const WEB_FLOW = { name: "GitHub", email: "noreply@github.com" } as const;

/** A commit as GitHub creates it for an API call without author or committer: committed by GitHub, signed with web-flow's key. */
export function webFlowCommit(c: Omit<CommitObject, "sha" | "gpgsig" | "signedByWebFlow">): Omit<CommitObject, "sha"> {
  return { ...c, gpgsig: signCommitPayload(commitPayload(c), new Date(c.committer.date)), signedByWebFlow: true };
}

export type FileMode = "100644" | "100755" | "120000" | "160000";
type EntryMode = FileMode | "040000";
type EntryType = "blob" | "tree" | "commit";

export interface TreeEntry {
  path: string; // name within its tree
  mode: EntryMode;
  type: EntryType;
  sha: string;
}

/** A leaf in a flattened tree: files, symlinks (120000) and submodules (160000). */
export interface FlatEntry {
  mode: FileMode;
  type: "blob" | "commit";
  sha: string;
}
export type FlatTree = Map<string, FlatEntry>;

interface GitIdentity {
  name: string;
  email: string;
  date: string; // ISO
}

export interface CommitObject {
  sha: string;
  tree: string;
  parents: string[];
  author: GitIdentity;
  committer: GitIdentity;
  message: string;
  /** The armored OpenPGP signature of the `gpgsig` header, if the commit is signed. */
  gpgsig?: string;
  /** The emulated GitHub made the signature with its web-flow key (GitHub reports it verified). */
  signedByWebFlow?: boolean;
}

const identLine = (i: GitIdentity) => `${i.name} <${i.email}> ${Math.floor(new Date(i.date).getTime() / 1000)} +0000`;

/** The commit object's bytes without its signature: what a signature signs (and what git verifies). */
export function commitPayload(c: Omit<CommitObject, "sha">): string {
  return `tree ${c.tree}\n${c.parents.map((p) => `parent ${p}\n`).join("")}author ${identLine(c.author)}\ncommitter ${identLine(c.committer)}\n\n${c.message}`;
}

/** The commit object's bytes as git stores them: the `gpgsig` header after the committer, continuation lines indented. */
export function commitText(c: Omit<CommitObject, "sha">): string {
  if (!c.gpgsig) return commitPayload(c);
  const head = `tree ${c.tree}\n${c.parents.map((p) => `parent ${p}\n`).join("")}author ${identLine(c.author)}\ncommitter ${identLine(c.committer)}\n`;
  return `${head}${gpgsigHeader(c.gpgsig)}\n${c.message}`;
}

export interface DiffEntry {
  filename: string;
  status: "added" | "modified" | "removed" | "renamed";
  sha: string; // blob sha after (before, for removed)
  previous_filename?: string;
  additions: number;
  deletions: number;
  changes: number;
  mode: FileMode;
  previousMode?: FileMode;
}

const hash = (type: string, body: Buffer): string =>
  createHash("sha1")
    .update(Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]))
    .digest("hex");

export class ObjectStore {
  readonly blobs = new Map<string, Buffer>();
  readonly trees = new Map<string, TreeEntry[]>();
  readonly commits = new Map<string, CommitObject>();

  putBlob(content: Buffer | string): string {
    const buf = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    const sha = hash("blob", buf);
    this.blobs.set(sha, buf);
    return sha;
  }

  putTree(entries: TreeEntry[]): string {
    const sorted = [...entries].sort((a, b) => {
      const ka = a.type === "tree" ? a.path + "/" : a.path;
      const kb = b.type === "tree" ? b.path + "/" : b.path;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    const body = Buffer.concat(
      sorted.map((e) => Buffer.concat([Buffer.from(`${e.mode === "040000" ? "40000" : e.mode} ${e.path}\0`), Buffer.from(e.sha, "hex")])),
    );
    const sha = hash("tree", body);
    this.trees.set(sha, sorted);
    return sha;
  }

  putCommit(c: Omit<CommitObject, "sha">): CommitObject {
    const sha = hash("commit", Buffer.from(commitText(c), "utf8"));
    const obj = { ...c, sha };
    this.commits.set(sha, obj);
    return obj;
  }

  /** Every leaf under a tree, keyed by full path. */
  flatten(treeSha: string, prefix = "", out: FlatTree = new Map()): FlatTree {
    const entries = this.trees.get(treeSha);
    if (!entries) throw new Error(`unknown tree ${treeSha}`);
    for (const e of entries) {
      const p = prefix + e.path;
      if (e.type === "tree") this.flatten(e.sha, p + "/", out);
      else out.set(p, { mode: e.mode as FileMode, type: e.type, sha: e.sha });
    }
    return out;
  }

  /** Build (and store) nested trees from a flat map; returns the root tree sha. */
  build(flat: FlatTree): string {
    const here: TreeEntry[] = [];
    const sub = new Map<string, FlatTree>();
    for (const [path, e] of flat) {
      const i = path.indexOf("/");
      if (i < 0) here.push({ path, mode: e.mode, type: e.type, sha: e.sha });
      else {
        const dir = path.slice(0, i);
        if (!sub.has(dir)) sub.set(dir, new Map());
        sub.get(dir)!.set(path.slice(i + 1), e);
      }
    }
    for (const [dir, m] of sub) here.push({ path: dir, mode: "040000", type: "tree", sha: this.build(m) });
    return this.putTree(here);
  }

  /** Entry (leaf or subtree) at a path in a tree, or undefined. */
  entryAt(treeSha: string, path: string): TreeEntry | undefined {
    const parts = path.split("/").filter(Boolean);
    if (parts.length === 0) return { path: "", mode: "040000", type: "tree", sha: treeSha };
    let cur = treeSha;
    for (let i = 0; i < parts.length; i++) {
      const e = this.trees.get(cur)?.find((x) => x.path === parts[i]);
      if (!e) return undefined;
      if (i === parts.length - 1) return e;
      if (e.type !== "tree") return undefined;
      cur = e.sha;
    }
    return undefined;
  }

  /** Immediate children of a tree entry with their mode types. */
  treeEntries(treeSha: string): TreeEntry[] {
    return this.trees.get(treeSha) ?? [];
  }

  /** Tree entries listed recursively the way GET /git/trees?recursive=1 does (dirs included). */
  listRecursive(treeSha: string, prefix = ""): TreeEntry[] {
    const out: TreeEntry[] = [];
    for (const e of this.trees.get(treeSha) ?? []) {
      out.push({ ...e, path: prefix + e.path });
      if (e.type === "tree") out.push(...this.listRecursive(e.sha, prefix + e.path + "/"));
    }
    return out;
  }

  isAncestor(ancestor: string, descendant: string): boolean {
    const seen = new Set<string>();
    const stack = [descendant];
    while (stack.length) {
      const s = stack.pop()!;
      if (s === ancestor) return true;
      if (seen.has(s)) continue;
      seen.add(s);
      stack.push(...(this.commits.get(s)?.parents ?? []));
    }
    return false;
  }

  ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const stack = [sha];
    while (stack.length) {
      const s = stack.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      stack.push(...(this.commits.get(s)?.parents ?? []));
    }
    return seen;
  }

  mergeBase(a: string, b: string): string | undefined {
    const anc = this.ancestors(a);
    // newest common ancestor by committer date among b's ancestry
    let best: CommitObject | undefined;
    for (const s of this.ancestors(b)) {
      if (!anc.has(s)) continue;
      const c = this.commits.get(s);
      if (c && (!best || c.committer.date > best.committer.date)) best = c;
    }
    return best?.sha;
  }

  /** Newest-first walk (commit date order), optionally simplified by path like `git log -- path`. */
  log(from: string, path?: string): CommitObject[] {
    const out: CommitObject[] = [];
    const seen = new Set<string>();
    const queue: CommitObject[] = [];
    const push = (sha: string) => {
      if (seen.has(sha)) return;
      seen.add(sha);
      const c = this.commits.get(sha);
      if (c) queue.push(c);
    };
    push(from);
    const at = (c: CommitObject) => (path ? (this.entryAt(c.tree, path)?.sha ?? null) : null);
    while (queue.length) {
      queue.sort((x, y) => (x.committer.date < y.committer.date ? 1 : x.committer.date > y.committer.date ? -1 : 0));
      const c = queue.shift()!;
      if (!path) {
        out.push(c);
        c.parents.forEach(push);
        continue;
      }
      const mine = at(c);
      if (c.parents.length === 0) {
        if (mine !== null) out.push(c);
        continue;
      }
      const same = c.parents.find((p) => {
        const pc = this.commits.get(p);
        return pc ? at(pc) === mine : false;
      });
      if (same)
        push(same); // TREESAME: follow only that parent, commit not shown
      else {
        out.push(c);
        c.parents.forEach(push);
      }
    }
    return out;
  }

  /** Files that differ between two trees (null = empty tree), with exact-rename detection. */
  diff(beforeTree: string | null, afterTree: string): DiffEntry[] {
    const a = beforeTree ? this.flatten(beforeTree) : new Map<string, FlatEntry>();
    const b = this.flatten(afterTree);
    const added: DiffEntry[] = [];
    const removed: DiffEntry[] = [];
    const out: DiffEntry[] = [];
    for (const [p, e] of b) {
      const old = a.get(p);
      if (!old) added.push(this.entry(p, "added", e, undefined));
      else if (old.sha !== e.sha || old.mode !== e.mode) out.push(this.entry(p, "modified", e, old));
    }
    for (const [p, e] of a) if (!b.has(p)) removed.push(this.entry(p, "removed", e, undefined));
    for (const r of removed) {
      const i = added.findIndex((x) => x.sha === r.sha && x.mode === r.mode);
      if (i >= 0) {
        const [x] = added.splice(i, 1);
        out.push({ ...x, status: "renamed", previous_filename: r.filename, additions: 0, deletions: 0, changes: 0 });
      } else out.push(r);
    }
    out.push(...added);
    return out.sort((x, y) => (x.filename < y.filename ? -1 : x.filename > y.filename ? 1 : 0));
  }

  private lines(sha: string): string[] {
    const b = this.blobs.get(sha);
    if (!b) return [];
    const t = b.toString("utf8");
    return t === "" ? [] : t.replace(/\n$/, "").split("\n");
  }

  private entry(filename: string, status: DiffEntry["status"], e: FlatEntry, old: FlatEntry | undefined): DiffEntry {
    let additions = 0;
    let deletions = 0;
    if (status === "added") additions = this.lines(e.sha).length;
    else if (status === "removed") deletions = this.lines(e.sha).length;
    else if (old) {
      const before = this.lines(old.sha);
      const after = this.lines(e.sha);
      const count = new Map<string, number>();
      for (const l of before) count.set(l, (count.get(l) ?? 0) + 1);
      for (const l of after) {
        const n = count.get(l) ?? 0;
        if (n > 0) count.set(l, n - 1);
        else additions++;
      }
      for (const n of count.values()) deletions += n;
    }
    return { filename, status, sha: e.sha, additions, deletions, changes: additions + deletions, mode: e.mode, previousMode: old?.mode };
  }
}

import type { Repo } from "./state.js";

/** A commit sha for a branch name, `heads/x`, `refs/heads/x`, a full or abbreviated sha; undefined if none. */
export function resolveCommit(r: Repo, ref: string | null | undefined): string | undefined {
  if (!ref) return r.refs.get(`refs/heads/${r.defaultBranch}`);
  const direct = r.refs.get(ref) ?? r.refs.get(`refs/${ref}`) ?? r.refs.get(`refs/heads/${ref}`) ?? r.refs.get(`refs/tags/${ref}`);
  if (direct) return direct;
  if (/^[0-9a-f]{40}$/i.test(ref)) return r.git.commits.has(ref.toLowerCase()) ? ref.toLowerCase() : undefined;
  if (/^[0-9a-f]{7,39}$/i.test(ref)) {
    const hits = [...r.git.commits.keys()].filter((s) => s.startsWith(ref.toLowerCase()));
    return hits.length === 1 ? hits[0] : undefined;
  }
  return undefined;
}

export function b64(buf: Buffer): string {
  // GitHub wraps base64 content at 60 characters with \n
  return (buf.toString("base64").match(/.{1,60}/g) ?? [""]).join("\n") + (buf.length ? "\n" : "");
}

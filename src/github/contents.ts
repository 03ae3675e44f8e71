// Repository contents at a commit: files, blobs and trees.
import type { GitHubClient } from "./client.js";
import { hasStatus } from "./errors.js";
import type { TreeEntry } from "./types.js";

export class Contents {
  constructor(private readonly c: GitHubClient) {}

  /** A file's text at a commit, or undefined when it does not exist there. */
  async readFile(ref: string, path: string): Promise<string | undefined> {
    const prefetched = this.c.prefetched.files.get(`${ref}\n${path}`);
    if (prefetched !== undefined) return prefetched ?? undefined;
    try {
      const { data } = await this.c.rest.repos.getContent({ ...this.c.repoRef, path, ref });
      if (Array.isArray(data) || data.type !== "file" || !("content" in data)) return undefined;
      return Buffer.from(data.content, "base64").toString("utf8");
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** A blob by sha (the same in every repository: the key is its content hash). */
  async readBlob(sha: string): Promise<Buffer> {
    return this.c.immutable.blobs.getOrLoad(sha, async () => {
      const { data } = await this.c.rest.git.getBlob({ ...this.c.repoRef, file_sha: sha });
      return Buffer.from(data.content, data.encoding === "base64" ? "base64" : "utf8");
    });
  }

  /** Entries below `dir` at a commit, with their Git modes (symlinks and submodules are not files). */
  async treeEntries(commitSha: string, dir: string): Promise<TreeEntry[]> {
    return this.c.immutable.trees.getOrLoad(this.c.key(`${commitSha}:${dir}`), () => this.readTreeEntries(commitSha, dir));
  }

  private async readTreeEntries(commitSha: string, dir: string): Promise<TreeEntry[]> {
    const { data: commit } = await this.c.rest.git.getCommit({ ...this.c.repoRef, commit_sha: commitSha });
    let treeSha = commit.tree.sha;
    for (const segment of dir.split("/").filter(Boolean)) {
      const { data } = await this.c.rest.git.getTree({ ...this.c.repoRef, tree_sha: treeSha });
      const next = data.tree.find((e) => e.path === segment && e.type === "tree");
      if (!next?.sha) return [];
      treeSha = next.sha;
    }
    const { data } = await this.c.rest.git.getTree({ ...this.c.repoRef, tree_sha: treeSha, recursive: "1" });
    const prefix = dir.endsWith("/") || dir === "" ? dir : `${dir}/`;
    return data.tree
      .filter((e) => e.path && e.sha && e.mode)
      .map((e) => ({
        path: `${prefix}${e.path}`,
        mode: e.mode!,
        sha: e.sha!,
        type: e.type as TreeEntry["type"],
        ...(typeof e.size === "number" ? { size: e.size } : {}),
      }));
  }

  /** The blob sha of a file at a commit, without reading its content. */
  async blobShaAt(commitSha: string, path: string): Promise<string | undefined> {
    const prefetched = this.c.prefetched.blobShas.get(`${commitSha}\n${path}`);
    if (prefetched !== undefined) return prefetched ?? undefined;
    const dir = path.slice(0, path.lastIndexOf("/"));
    const entries = await this.treeEntries(commitSha, dir);
    return entries.find((e) => e.path === path && e.type === "blob")?.sha;
  }

  async grantEntries(commitSha: string, grantsPath: string): Promise<TreeEntry[]> {
    return (await this.treeEntries(commitSha, grantsPath.replace(/\/$/, ""))).filter((e) => e.type === "blob");
  }
}

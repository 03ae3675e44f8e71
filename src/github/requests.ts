// Request pull requests: the branch, commit and PR Timebox opens for `/timebox request`.
import type { GitHubClient } from "./client.js";
import { hasStatus } from "./errors.js";
import { sameLogin } from "../policy/principals.js";

/** An open pull request this app opened for a request. */
export interface OpenRequestPull {
  number: number;
  url: string;
  headRef: string;
}

export class Requests {
  constructor(private readonly c: GitHubClient) {}

  /** Open PRs into `base` that this app's bot authored from a branch starting with `prefix`. */
  async openRequestPulls(base: string, prefix: string): Promise<OpenRequestPull[]> {
    const data = await this.c.octokit.paginate(this.c.rest.pulls.list, { ...this.c.repoRef, state: "open", base, per_page: 100 });
    return data
      .filter((p) => sameLogin(p.user?.login ?? "", this.c.self.botLogin) && p.head.ref.startsWith(prefix))
      .map((p) => ({ number: p.number, url: p.html_url, headRef: p.head.ref }));
  }

  /**
   * Branch `branch` pointing at a new commit of this app's on `parentSha` that adds `path` with
   * `content` (a regular file, mode 100644). The commit's sha. A branch left by an earlier, broken
   * attempt at the same request is moved to the new commit.
   */
  async commitOnNewBranch(branch: string, parentSha: string, path: string, content: string, message: string): Promise<string> {
    const { data: parent } = await this.c.rest.git.getCommit({ ...this.c.repoRef, commit_sha: parentSha });
    const { data: tree } = await this.c.rest.git.createTree({
      ...this.c.repoRef,
      base_tree: parent.tree.sha,
      tree: [{ path, mode: "100644", type: "blob", content }],
    });
    const { data: commit } = await this.c.rest.git.createCommit({ ...this.c.repoRef, message, tree: tree.sha, parents: [parentSha] });
    try {
      await this.c.rest.git.createRef({ ...this.c.repoRef, ref: `refs/heads/${branch}`, sha: commit.sha });
    } catch (error) {
      if (!hasStatus(error, 422)) throw error;
      await this.c.rest.git.updateRef({ ...this.c.repoRef, ref: `heads/${branch}`, sha: commit.sha, force: true });
    }
    return commit.sha;
  }

  /** Opens a pull request from `branch` into `base`. */
  async openPull(branch: string, base: string, title: string, body: string): Promise<{ number: number; url: string }> {
    const { data } = await this.c.rest.pulls.create({ ...this.c.repoRef, title, head: branch, base, body });
    return { number: data.number, url: data.html_url };
  }
}

// Commits and branches: history, the default branch, and Timebox's own commits with compare-and-swap on the ref.
import type { GitHubClient } from "./client.js";
import type { Contents } from "./contents.js";
import { errorMessage, hasStatus } from "./errors.js";
import type { Pulls } from "./pulls.js";
import type { CommitInfo, RemovalOutcome } from "./types.js";

/** How moving a branch ended. */
type Advance = { kind: "moved"; sha: string } | { kind: "refused"; head: string; sha: string } | { kind: "declined" };

export class Commits {
  constructor(
    private readonly c: GitHubClient,
    private readonly contents: Contents,
    private readonly pulls: Pulls,
  ) {}

  async branchTip(branch: string): Promise<string> {
    const { data } = await this.c.rest.git.getRef({ ...this.c.repoRef, ref: `heads/${branch}` });
    return data.object.sha;
  }

  async defaultBranch(): Promise<string> {
    const { data } = await this.c.rest.repos.get({ ...this.c.repoRef });
    return data.default_branch;
  }

  async commit(sha: string): Promise<CommitInfo> {
    return this.c.immutable.commits.getOrLoad(this.c.key(sha), async () => {
      const { data } = await this.c.rest.git.getCommit({ ...this.c.repoRef, commit_sha: sha });
      return { sha: data.sha, parents: data.parents.map((p) => p.sha), message: data.message, committedAt: data.committer.date ?? "" };
    });
  }

  /** The newest commit at or before `ref` that changed `path` (merge commits that only bring it in are skipped, as in `git log`). */
  async lastCommitTouching(ref: string, path: string): Promise<CommitInfo | undefined> {
    const prefetched = this.c.prefetched.lastCommits.get(`${ref}\n${path}`);
    if (prefetched) return prefetched;
    const { data } = await this.c.rest.repos.listCommits({ ...this.c.repoRef, sha: ref, path, per_page: 1 });
    return data[0] ? toCommitInfo(data[0]) : undefined;
  }

  /** `lastCommitTouching`, remembered per commit (a commit's history never changes): for the policy file, asked at many bases. */
  async lastCommitTouchingRemembered(ref: string, path: string): Promise<CommitInfo | undefined> {
    const found = await this.c.immutable.policyCommits.getOrLoad(this.c.key(`${ref}\n${path}`), async () => (await this.lastCommitTouching(ref, path)) ?? null);
    return found ?? undefined;
  }

  /** Commits reachable from `ref` that touched `path` since a time, newest first (paginated). */
  async commitsTouching(ref: string, path: string, since: Date): Promise<CommitInfo[]> {
    const data = await this.c.octokit.paginate(this.c.rest.repos.listCommits, { ...this.c.repoRef, sha: ref, path, since: since.toISOString(), per_page: 100 });
    return data.map(toCommitInfo);
  }

  /** A commit with the files it changed (against its first parent). */
  async commitFiles(sha: string): Promise<Array<{ path: string; status: string; sha?: string }>> {
    const { data } = await this.c.rest.repos.getCommit({ ...this.c.repoRef, ref: sha });
    return (data.files ?? []).map((f) => ({ path: f.filename, status: f.status ?? "modified", sha: f.sha ?? undefined }));
  }

  /** Commits on `ref` since a time, newest first. */
  async commitsSince(ref: string, since: Date): Promise<CommitInfo[]> {
    const data = await this.c.octokit.paginate(this.c.rest.repos.listCommits, { ...this.c.repoRef, sha: ref, since: since.toISOString(), per_page: 100 });
    return data.map(toCommitInfo);
  }

  /**
   * The paths that differ between two commits of the default branch, or undefined when that cannot
   * be told in one read (a force-push, more files than the compare API lists): then assume all.
   */
  async changedPaths(base: string, head: string): Promise<string[] | undefined> {
    try {
      const { data } = await this.c.rest.repos.compareCommitsWithBasehead({ ...this.c.repoRef, basehead: `${base}...${head}`, per_page: 1 });
      if (data.status === "identical") return [];
      if (data.status !== "ahead" || !data.files || data.files.length >= 300) return undefined;
      return data.files.flatMap((f) => [f.filename, ...(f.previous_filename ? [f.previous_filename] : [])]);
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /**
   * Records `commitMessage` on `branch` as an empty commit of Timebox's own (same tree as the tip),
   * with compare-and-swap on the ref. For stories that change no file: a break-glass grant whose
   * PR closed unmerged, an outcome. Undefined when branch rules refuse the app's commit.
   */
  async recordCommit(branch: string, commitMessage: string): Promise<string | undefined> {
    const outcome = await this.advance(branch, async (head) => {
      const { data: parent } = await this.c.rest.git.getCommit({ ...this.c.repoRef, commit_sha: head });
      const { data: commit } = await this.c.rest.git.createCommit({ ...this.c.repoRef, message: commitMessage, tree: parent.tree.sha, parents: [head] });
      return commit.sha;
    });
    return outcome.kind === "moved" ? outcome.sha : undefined;
  }

  /**
   * Removes `path` from `branch` in a commit of Timebox's own, with compare-and-swap on the ref:
   * if the branch moved, the commit is rebuilt on the new head and tried again. When branch rules
   * refuse the app's direct commit, the removal goes to a pull request instead.
   */
  async removeFile(branch: string, path: string, expectedBlob: string, commitMessage: string): Promise<RemovalOutcome> {
    const outcome = await this.advance(branch, async (head) =>
      (await this.contents.blobShaAt(head, path)) === expectedBlob ? this.commitWithout(head, path, commitMessage) : undefined,
    );
    if (outcome.kind === "declined") return { kind: "already-gone" };
    if (outcome.kind === "refused")
      return { kind: "pull-request", ...(await this.pulls.removalPullRequest(branch, outcome.head, path, outcome.sha, commitMessage)) };
    return { kind: "committed", sha: outcome.sha };
  }

  /**
   * Moves `branch` to a commit built on its head, with compare-and-swap on the ref: if the branch
   * moved meanwhile, the commit is built again on the new head. `build` may decline (undefined);
   * branch rules refusing the app's commit end it too.
   */
  private async advance(branch: string, build: (head: string) => Promise<string | undefined>, attempts = 5): Promise<Advance> {
    for (let attempt = 1; ; attempt++) {
      const head = await this.branchTip(branch);
      const sha = await build(head);
      if (sha === undefined) return { kind: "declined" };
      try {
        await this.c.rest.git.updateRef({ ...this.c.repoRef, ref: `heads/${branch}`, sha, force: false });
        return { kind: "moved", sha };
      } catch (error) {
        if (isProtectedBranch(error)) return { kind: "refused", head, sha };
        if (!hasStatus(error, 422) || attempt >= attempts) throw error;
        // The branch moved under us (not a fast-forward): rebuild on the new head.
      }
    }
  }

  private async commitWithout(head: string, path: string, commitMessage: string): Promise<string> {
    const { data: parent } = await this.c.rest.git.getCommit({ ...this.c.repoRef, commit_sha: head });
    const { data: tree } = await this.c.rest.git.createTree({
      ...this.c.repoRef,
      base_tree: parent.tree.sha,
      tree: [{ path, mode: "100644", type: "blob", sha: null }],
    });
    const { data: commit } = await this.c.rest.git.createCommit({ ...this.c.repoRef, message: commitMessage, tree: tree.sha, parents: [head] });
    return commit.sha;
  }
}

function isProtectedBranch(error: unknown): boolean {
  return hasStatus(error, 403, 422) && /protected branch|branch protection|rule/i.test(errorMessage(error));
}

function toCommitInfo(c: {
  sha: string;
  parents: Array<{ sha: string }>;
  commit: { message: string; committer: { date?: string } | null };
  author: { login: string } | null | Record<string, never>;
}): CommitInfo {
  return {
    sha: c.sha,
    parents: c.parents.map((p) => p.sha),
    message: c.commit.message,
    authorLogin: c.author && "login" in c.author ? c.author.login : undefined,
    committedAt: c.commit.committer?.date ?? "",
  };
}

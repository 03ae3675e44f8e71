// Pull requests: one PR, its files and reviews, the PRs a commit merged, open PRs, removal PRs.
import type { GitHubClient } from "./client.js";
import { hasStatus } from "./errors.js";
import type { ChangedFile, MergedPull, MergedPullFacts, Octokit, OpenPull, PullRequestInfo, Review } from "./types.js";

export class Pulls {
  constructor(private readonly c: GitHubClient) {}

  async getPull(number: number): Promise<PullRequestInfo> {
    const { data } = await this.c.rest.pulls.get({ ...this.c.repoRef, pull_number: number });
    return {
      number: data.number,
      state: data.state as "open" | "closed",
      merged: data.merged ?? data.merged_at != null,
      mergedAt: data.merged_at ?? undefined,
      mergeCommitSha: data.merge_commit_sha ?? undefined,
      draft: data.draft ?? false,
      author: data.user?.login ?? "",
      headSha: data.head.sha,
      headRef: data.head.ref,
      baseRef: data.base.ref,
      htmlUrl: data.html_url,
      labels: (data.labels ?? []).map((l) => l.name ?? ""),
    };
  }

  async listPullFiles(number: number): Promise<ChangedFile[]> {
    const files = await this.c.octokit.paginate(this.c.rest.pulls.listFiles, { ...this.c.repoRef, pull_number: number, per_page: 100 });
    return files.map((f) => ({
      path: f.filename,
      status: f.status,
      sha: f.status === "removed" ? undefined : (f.sha ?? undefined),
      previousPath: f.previous_filename,
    }));
  }

  async listReviews(number: number): Promise<Review[]> {
    const prefetched = this.c.prefetched.reviews.get(number);
    if (prefetched) return prefetched;
    return (await this.c.octokit.paginate(this.c.rest.pulls.listReviews, { ...this.c.repoRef, pull_number: number, per_page: 100 })) as Review[];
  }

  /** Pull requests merged into `baseRef` that contain `sha`. */
  async mergedPullsFor(sha: string, baseRef: string): Promise<MergedPull[]> {
    // Only a merge is cached as a fact: GitHub may link a fresh merge commit to its PR a moment late.
    const key = this.c.key(sha);
    const pulls = await this.c.immutable.mergedPulls.getOrLoad(key, () => this.readMergedPullsFor(sha, baseRef));
    if (pulls.length === 0) this.c.immutable.mergedPulls.delete(key);
    return pulls;
  }

  private async readMergedPullsFor(sha: string, baseRef: string): Promise<MergedPull[]> {
    let data: Awaited<ReturnType<Octokit["rest"]["pulls"]["list"]>>["data"];
    try {
      ({ data } = await this.c.rest.repos.listPullRequestsAssociatedWithCommit({ ...this.c.repoRef, commit_sha: sha, per_page: 100 }));
    } catch (error) {
      // Some GitHub servers (older Enterprise, proxies) lack this endpoint: find the PR among the
      // recently closed ones whose head or merge commit is this commit.
      if (!hasStatus(error, 404, 422)) throw error;
      const closed = await this.c.rest.pulls.list({ ...this.c.repoRef, state: "closed", base: baseRef, sort: "updated", direction: "desc", per_page: 100 });
      data = closed.data.filter((p) => p.head.sha === sha || p.merge_commit_sha === sha);
    }
    return mergedInto(
      baseRef,
      data.map((p) => ({
        number: p.number,
        author: p.user?.login ?? "",
        headSha: p.head.sha,
        baseRef: p.base.ref,
        mergedAt: p.merged_at,
        mergeCommitSha: p.merge_commit_sha,
        htmlUrl: p.html_url,
      })),
    );
  }

  /** Seeds `mergedPullsFor(sha, …)` with pull requests another read found (a batched GraphQL one): only a merge is kept, as there. */
  async seedMergedPulls(sha: string, pulls: MergedPull[]): Promise<void> {
    if (pulls.length > 0) await this.c.immutable.mergedPulls.getOrLoad(this.c.key(sha), async () => pulls);
  }

  /** Whether `factsAtMerge` already holds this merged PR's facts (nothing to read for it). */
  hasFactsAtMerge(pull: MergedPull): boolean {
    return this.c.immutable.mergedPullFacts.peek(this.c.key(`${pull.number}:${pull.mergeCommitSha}`)) !== undefined;
  }

  /** What a merged PR looked like at merge time, read by `read` once per process however many grants it merged. */
  factsAtMerge(pull: MergedPull, read: () => Promise<MergedPullFacts>): Promise<MergedPullFacts> {
    return this.c.immutable.mergedPullFacts.getOrLoad(this.c.key(`${pull.number}:${pull.mergeCommitSha}`), read);
  }

  /** Open pull requests into `base`. */
  async openPulls(base: string): Promise<OpenPull[]> {
    const data = await this.c.octokit.paginate(this.c.rest.pulls.list, { ...this.c.repoRef, state: "open", base, per_page: 100 });
    return data.map((p) => ({ number: p.number, author: p.user?.login ?? "", headSha: p.head.sha, createdAt: p.created_at, updatedAt: p.updated_at }));
  }

  async closePull(number: number): Promise<void> {
    await this.c.rest.pulls.update({ ...this.c.repoRef, pull_number: number, state: "closed" });
  }

  /**
   * Proposes the removal of `path` (the commit `commitSha`, built on `head`) in a pull request into
   * `branch`, when branch rules refused Timebox's direct commit; the open one when there is one.
   */
  async removalPullRequest(branch: string, head: string, path: string, commitSha: string, commitMessage: string): Promise<{ number: number; url: string }> {
    const name = `timebox/remove/${path.replace(/[^A-Za-z0-9._/-]/g, "-")}`;
    const open = await this.c.rest.pulls.list({ ...this.c.repoRef, state: "open", head: `${this.c.repoRef.owner}:${name}`, per_page: 1 });
    if (open.data[0]) return { number: open.data[0].number, url: open.data[0].html_url };
    try {
      await this.c.rest.git.createRef({ ...this.c.repoRef, ref: `refs/heads/${name}`, sha: commitSha });
    } catch (error) {
      if (!hasStatus(error, 422)) throw error;
      await this.c.rest.git.updateRef({ ...this.c.repoRef, ref: `heads/${name}`, sha: commitSha, force: true });
    }
    const title = commitMessage.split("\n")[0];
    const { data } = await this.c.rest.pulls.create({
      ...this.c.repoRef,
      title,
      head: name,
      base: branch,
      body: `Branch rules refused Timebox's direct commit on \`${branch}\` (at ${head.slice(0, 7)}), so the removal of \`${path}\` is proposed here. **The access is already revoked**; merging this records it in Git.\n\n\`\`\`\n${commitMessage}\n\`\`\``,
    });
    return { number: data.number, url: data.html_url };
  }
}

/** A pull request associated with a commit, as either API lists it (merge fields null until merged). */
export type AssociatedPull = Omit<MergedPull, "mergedAt" | "mergeCommitSha"> & { mergedAt: string | null; mergeCommitSha: string | null };

/** The pull requests that merged into `baseRef`, oldest merge first: the one rule for which PR brought a commit. */
export function mergedInto(baseRef: string, pulls: AssociatedPull[]): MergedPull[] {
  return pulls
    .filter((p): p is MergedPull => Boolean(p.mergedAt && p.baseRef === baseRef && p.mergeCommitSha))
    .sort((a, b) => a.mergedAt.localeCompare(b.mergedAt));
}

import { GitHubGateway } from "./gateway.js";
import { createdBySelf, writtenBySelf } from "./self.js";
import type { CheckRunSpec, Octokit, TreeEntry } from "./types.js";

const status = (error: unknown) => (error as { status?: number })?.status;
const message = (error: unknown) => String((error as { message?: string })?.message ?? "");

export interface MergedPull {
  number: number;
  author: string;
  headSha: string;
  baseRef: string;
  mergedAt: string;
  mergeCommitSha: string;
  mergedBy?: string;
  htmlUrl: string;
}

export interface CommitInfo {
  sha: string;
  parents: string[];
  message: string;
  authorLogin?: string;
  committedAt: string;
}

/** An open pull request as the pulls list shows it. */
export interface OpenPull {
  number: number;
  author: string;
  headSha: string;
  createdAt: string;
  updatedAt: string;
}

/** A pull request as the issues list shows it. */
export interface LabelledPull {
  number: number;
  open: boolean;
  /** Set when it was merged. */
  mergedAt?: string;
  closedAt?: string;
  author: string;
}

/** A comment of this app's, with GitHub's (server-set) creation time. */
export interface OwnComment {
  body: string;
  createdAt: string;
}

/** How moving a branch ended. */
type Advance = { kind: "moved"; sha: string } | { kind: "refused"; head: string; sha: string } | { kind: "declined" };

export type RemovalOutcome =
  | { kind: "committed"; sha: string }
  | { kind: "already-gone" }
  | { kind: "pull-request"; number: number; url: string };

/** The reads and writes of the grant lifecycle: history, removal commits, issues, comments. */
export class LifecycleGateway extends GitHubGateway {
  /** Facts that cannot change once true (a merged PR's reviews before its merge), read once per process. */
  cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    return this.immutable.getOrLoad(`${this.repoRef.owner}/${this.repoRef.repo}:${key}`, load) as Promise<T>;
  }

  async defaultBranch(): Promise<string> {
    const { data } = await this.octokit.rest.repos.get({ ...this.repoRef });
    return data.default_branch;
  }

  /** The newest commit at or before `ref` that changed `path` (merge commits that only bring it in are skipped, as in `git log`). */
  async lastCommitTouching(ref: string, path: string): Promise<CommitInfo | undefined> {
    const { data } = await this.octokit.rest.repos.listCommits({ ...this.repoRef, sha: ref, path, per_page: 1 });
    return data[0] ? toCommitInfo(data[0]) : undefined;
  }

  /** Commits reachable from `ref` that touched `path` since a time, newest first (paginated). */
  async commitsTouching(ref: string, path: string, since: Date): Promise<CommitInfo[]> {
    const data = await this.octokit.paginate(this.octokit.rest.repos.listCommits, { ...this.repoRef, sha: ref, path, since: since.toISOString(), per_page: 100 });
    return data.map(toCommitInfo);
  }

  /** A commit with the files it changed (against its first parent). */
  async commitFiles(sha: string): Promise<Array<{ path: string; status: string; sha?: string }>> {
    const { data } = await this.octokit.rest.repos.getCommit({ ...this.repoRef, ref: sha });
    return (data.files ?? []).map((f) => ({ path: f.filename, status: f.status ?? "modified", sha: f.sha ?? undefined }));
  }

  async commit(sha: string): Promise<CommitInfo> {
    return this.immutable.getOrLoad(`commit:${this.repoRef.owner}/${this.repoRef.repo}:${sha}`, async () => {
      const { data } = await this.octokit.rest.git.getCommit({ ...this.repoRef, commit_sha: sha });
      return { sha: data.sha, parents: data.parents.map((p) => p.sha), message: data.message, committedAt: data.committer.date ?? "" };
    }) as Promise<CommitInfo>;
  }

  /**
   * The paths that differ between two commits of the default branch, or undefined when that cannot
   * be told in one read (a force-push, more files than the compare API lists): then assume all.
   */
  async changedPaths(base: string, head: string): Promise<string[] | undefined> {
    try {
      const { data } = await this.octokit.rest.repos.compareCommitsWithBasehead({ ...this.repoRef, basehead: `${base}...${head}`, per_page: 1 });
      if (data.status === "identical") return [];
      if (data.status !== "ahead" || !data.files || data.files.length >= 300) return undefined;
      return data.files.flatMap((f) => [f.filename, ...(f.previous_filename ? [f.previous_filename] : [])]);
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw error;
    }
  }

  /** Pull requests merged into `baseRef` that contain `sha`. */
  async mergedPullsFor(sha: string, baseRef: string): Promise<MergedPull[]> {
    // Only a merge is cached as a fact: GitHub may link a fresh merge commit to its PR a moment late.
    const key = `pulls-of:${sha}`;
    const pulls = await this.cached(key, () => this.readMergedPullsFor(sha, baseRef));
    if (pulls.length === 0) this.immutable.delete(`${this.repoRef.owner}/${this.repoRef.repo}:${key}`);
    return pulls;
  }

  private async readMergedPullsFor(sha: string, baseRef: string): Promise<MergedPull[]> {
    let data: Awaited<ReturnType<Octokit["rest"]["pulls"]["list"]>>["data"];
    try {
      ({ data } = await this.octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...this.repoRef, commit_sha: sha, per_page: 100 }));
    } catch (error) {
      // Some GitHub servers (older Enterprise, proxies) lack this endpoint: find the PR among the
      // recently closed ones whose head or merge commit is this commit.
      if (status(error) !== 404 && status(error) !== 422) throw error;
      const closed = await this.octokit.rest.pulls.list({ ...this.repoRef, state: "closed", base: baseRef, sort: "updated", direction: "desc", per_page: 100 });
      data = closed.data.filter((p) => p.head.sha === sha || p.merge_commit_sha === sha);
    }
    return data
      .filter((p) => p.merged_at && p.base.ref === baseRef && p.merge_commit_sha)
      .map((p) => ({
        number: p.number,
        author: p.user?.login ?? "",
        headSha: p.head.sha,
        baseRef: p.base.ref,
        mergedAt: p.merged_at!,
        mergeCommitSha: p.merge_commit_sha!,
        htmlUrl: p.html_url,
      }))
      .sort((a, b) => a.mergedAt.localeCompare(b.mergedAt));
  }

  /** The blob sha of a file at a commit, without reading its content. */
  async blobShaAt(commitSha: string, path: string): Promise<string | undefined> {
    const dir = path.slice(0, path.lastIndexOf("/"));
    const entries = await this.treeEntries(commitSha, dir);
    return entries.find((e) => e.path === path && e.type === "blob")?.sha;
  }

  async grantEntries(commitSha: string, grantsPath: string): Promise<TreeEntry[]> {
    return (await this.treeEntries(commitSha, grantsPath.replace(/\/$/, ""))).filter((e) => e.type === "blob");
  }

  /** Results read during this gateway's life (one reconcile), so a PR with many grants is read once. */
  private readonly memos = new Map<string, Promise<unknown>>();

  memo<T>(key: string, load: () => Promise<T>): Promise<T> {
    let value = this.memos.get(key) as Promise<T> | undefined;
    if (!value) {
      value = load();
      this.memos.set(key, value);
      value.catch(() => this.memos.delete(key));
    }
    return value;
  }

  /**
   * The hidden `<!-- timebox:… -->` markers of this app's own comments on a PR, listed once per
   * reconcile. Never another bot's: a workflow can make `github-actions[bot]` write any text.
   */
  markers(number: number): Promise<Set<string>> {
    return this.memo(`markers:${number}`, async () => new Set((await this.ownComments(number)).flatMap((c) => markersIn(c.body))));
  }

  /** This app's comments on a PR with GitHub's creation time (server-set), listed once per reconcile. */
  ownComments(number: number): Promise<OwnComment[]> {
    return this.memo(`own-comments:${number}`, async () => {
      const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, { ...this.repoRef, issue_number: number, per_page: 100 });
      return comments.filter((c) => writtenBySelf(this.self, c)).map((c) => ({ body: c.body ?? "", createdAt: c.created_at }));
    });
  }

  async hasMarkedComment(number: number, marker: string): Promise<boolean> {
    return (await this.markers(number)).has(marker);
  }

  async comment(number: number, body: string): Promise<void> {
    const { data } = await this.octokit.rest.issues.createComment({ ...this.repoRef, issue_number: number, body });
    const own = this.memos.get(`own-comments:${number}`) as Promise<OwnComment[]> | undefined;
    if (own) (await own).push({ body, createdAt: data.created_at });
    const known = this.memos.get(`markers:${number}`) as Promise<Set<string>> | undefined;
    if (known) for (const m of markersIn(body)) (await known).add(m);
  }

  async addLabel(number: number, label: string): Promise<void> {
    await this.octokit.rest.issues.addLabels({ ...this.repoRef, issue_number: number, labels: [label] });
  }

  /** Pull requests (open or closed) carrying `label`, updated since a time. */
  async labelledPulls(label: string, since: Date): Promise<LabelledPull[]> {
    const items = await this.octokit.paginate(this.octokit.rest.issues.listForRepo, { ...this.repoRef, labels: label, state: "all", since: since.toISOString(), per_page: 100 });
    const out: LabelledPull[] = [];
    for (const i of items.filter((i) => i.pull_request)) {
      let mergedAt = i.pull_request?.merged_at;
      // Servers that predate `pull_request.merged_at` in the issues list: ask the PR itself.
      if (mergedAt === undefined && i.state === "closed") mergedAt = (await this.octokit.rest.pulls.get({ ...this.repoRef, pull_number: i.number })).data.merged_at;
      out.push({ number: i.number, open: i.state === "open", mergedAt: mergedAt ?? undefined, closedAt: i.closed_at ?? undefined, author: i.user?.login ?? "" });
    }
    return out;
  }

  /** Open pull requests into `base`. */
  async openPulls(base: string): Promise<OpenPull[]> {
    const data = await this.octokit.paginate(this.octokit.rest.pulls.list, { ...this.repoRef, state: "open", base, per_page: 100 });
    return data.map((p) => ({ number: p.number, author: p.user?.login ?? "", headSha: p.head.sha, createdAt: p.created_at, updatedAt: p.updated_at }));
  }

  /** When the PR was last reopened, if ever (from its timeline events). */
  async lastReopenedAt(number: number): Promise<string | undefined> {
    try {
      const events = await this.octokit.paginate(this.octokit.rest.issues.listEvents, { ...this.repoRef, issue_number: number, per_page: 100 });
      return events.filter((e) => e.event === "reopened").map((e) => e.created_at).sort().at(-1);
    } catch (error) {
      // A server without timeline events: the clock counts from the PR's creation.
      if (status(error) !== 404) throw error;
      return undefined;
    }
  }

  async closePull(number: number): Promise<void> {
    await this.octokit.rest.pulls.update({ ...this.repoRef, pull_number: number, state: "closed" });
  }

  /**
   * This app's runs named `name` (and its numbered parts `name (2)`, …) on a commit, in part order;
   * undefined when a part is missing. Another app's runs of the same name are never read.
   */
  async ownRunParts(sha: string, name: string): Promise<{ parts: string[]; runs: Array<{ id: number; name: string }> } | undefined> {
    const { data } = await this.octokit.rest.checks.listForRef({ ...this.repoRef, ref: sha, app_id: this.self.appId, filter: "latest", per_page: 100 });
    const runs = data.check_runs.filter((c) => createdBySelf(this.self, c) && (c.name === name || c.name.startsWith(`${name} (`)));
    const first = runs.find((c) => c.name === name);
    const count = Number(/^parts:(\d+)$/.exec(first?.external_id ?? "")?.[1] ?? 0);
    if (!first || count < 1) return undefined;
    const parts: string[] = [];
    for (let i = 0; i < count; i++) {
      const run = runs.find((c) => c.name === (i === 0 ? name : `${name} (${i + 1})`));
      if (!run?.output?.text) return undefined;
      parts.push(run.output.text);
    }
    return { parts, runs: runs.map((c) => ({ id: c.id, name: c.name })) };
  }

  /**
   * The nearest commit on the first-parent history of `tip` (itself included) carrying this app's
   * runs named `name`, looking at most `limit` commits back: one call per commit looked at, plus
   * one per hundred commits listed.
   */
  async nearestOwnRun(tip: string, name: string, limit: number): Promise<{ sha: string; parts: string[] } | undefined> {
    const firstParent = new Map<string, string | undefined>();
    let sha: string | undefined = tip;
    for (let looked = 0; sha && looked < limit; looked++) {
      const found = await this.ownRunParts(sha, name);
      if (found) return { sha, parts: found.parts };
      if (!firstParent.has(sha)) {
        const { data } = await this.octokit.rest.repos.listCommits({ ...this.repoRef, sha, per_page: 100 });
        for (const c of data) firstParent.set(c.sha, c.parents[0]?.sha);
      }
      sha = firstParent.get(sha);
    }
    return undefined;
  }

  /** Writes `parts` as this app's runs named `name`, `name (2)`, … on a commit (updated in place when there). */
  async writeOwnRunParts(sha: string, name: string, parts: readonly string[], title: string, summary: string): Promise<void> {
    const existing = (await this.ownRunParts(sha, name))?.runs ?? [];
    for (let i = 0; i < parts.length; i++) {
      const partName = i === 0 ? name : `${name} (${i + 1})`;
      const run = existing.find((r) => r.name === partName);
      const spec: CheckRunSpec = { name: partName, headSha: sha, status: "completed", conclusion: "neutral", externalId: i === 0 ? `parts:${parts.length}` : "", output: { title, summary, text: parts[i] } };
      await this.writeCheckRun(spec, run ? { id: run.id, externalId: null, status: "", conclusion: null, title: null, summary: null, text: null } : undefined);
    }
  }

  /** Commits on `ref` since a time, newest first. */
  async commitsSince(ref: string, since: Date): Promise<CommitInfo[]> {
    const data = await this.octokit.paginate(this.octokit.rest.repos.listCommits, { ...this.repoRef, sha: ref, since: since.toISOString(), per_page: 100 });
    return data.map(toCommitInfo);
  }

  /**
   * Records `commitMessage` on `branch` as an empty commit of Timebox's own (same tree as the tip),
   * with compare-and-swap on the ref. For stories that change no file: a break-glass grant whose
   * PR closed unmerged, an outcome. Undefined when branch rules refuse the app's commit.
   */
  async recordCommit(branch: string, commitMessage: string): Promise<string | undefined> {
    const outcome = await this.advance(branch, async (head) => {
      const { data: parent } = await this.octokit.rest.git.getCommit({ ...this.repoRef, commit_sha: head });
      const { data: commit } = await this.octokit.rest.git.createCommit({ ...this.repoRef, message: commitMessage, tree: parent.tree.sha, parents: [head] });
      return commit.sha;
    });
    return outcome.kind === "moved" ? outcome.sha : undefined;
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
        await this.octokit.rest.git.updateRef({ ...this.repoRef, ref: `heads/${branch}`, sha, force: false });
        return { kind: "moved", sha };
      } catch (error) {
        if (isProtectedBranch(error)) return { kind: "refused", head, sha };
        if (status(error) !== 422 || attempt >= attempts) throw error;
        // The branch moved under us (not a fast-forward): rebuild on the new head.
      }
    }
  }

  private async openLabelledIssue(label: string, marker: string) {
    const open = await this.octokit.paginate(this.octokit.rest.issues.listForRepo, { ...this.repoRef, labels: label, state: "open", per_page: 100 });
    return open.find((i) => (i.body ?? "").includes(marker));
  }

  /** Opens an issue with `label`, or updates the open one whose body carries `marker`. */
  async upsertLabelledIssue(label: string, marker: string, title: string, body: string): Promise<number> {
    const existing = await this.openLabelledIssue(label, marker);
    if (existing) {
      if (existing.body !== body || existing.title !== title) {
        await this.octokit.rest.issues.update({ ...this.repoRef, issue_number: existing.number, title, body });
      }
      return existing.number;
    }
    const { data } = await this.octokit.rest.issues.create({ ...this.repoRef, title, body, labels: [label] });
    return data.number;
  }

  /** Closes the open issue with `label` whose body carries `marker`, with a closing comment. */
  async closeLabelledIssue(label: string, marker: string, closing: string): Promise<void> {
    const existing = await this.openLabelledIssue(label, marker);
    if (!existing) return;
    await this.octokit.rest.issues.createComment({ ...this.repoRef, issue_number: existing.number, body: closing });
    await this.octokit.rest.issues.update({ ...this.repoRef, issue_number: existing.number, state: "closed" });
  }

  /**
   * Removes `path` from `branch` in a commit of Timebox's own, with compare-and-swap on the ref:
   * if the branch moved, the commit is rebuilt on the new head and tried again. When branch rules
   * refuse the app's direct commit, the removal goes to a pull request instead.
   */
  async removeFile(branch: string, path: string, expectedBlob: string, commitMessage: string): Promise<RemovalOutcome> {
    const outcome = await this.advance(branch, async (head) => ((await this.blobShaAt(head, path)) === expectedBlob ? this.commitWithout(head, path, commitMessage) : undefined));
    if (outcome.kind === "declined") return { kind: "already-gone" };
    if (outcome.kind === "refused") return this.removalPullRequest(branch, outcome.head, path, outcome.sha, commitMessage);
    return { kind: "committed", sha: outcome.sha };
  }

  private async commitWithout(head: string, path: string, commitMessage: string): Promise<string> {
    const { data: parent } = await this.octokit.rest.git.getCommit({ ...this.repoRef, commit_sha: head });
    const { data: tree } = await this.octokit.rest.git.createTree({
      ...this.repoRef,
      base_tree: parent.tree.sha,
      tree: [{ path, mode: "100644", type: "blob", sha: null }],
    });
    const { data: commit } = await this.octokit.rest.git.createCommit({ ...this.repoRef, message: commitMessage, tree: tree.sha, parents: [head] });
    return commit.sha;
  }

  private async removalPullRequest(branch: string, head: string, path: string, commitSha: string, commitMessage: string): Promise<RemovalOutcome> {
    const name = `timebox/remove/${path.replace(/[^A-Za-z0-9._/-]/g, "-")}`;
    const open = await this.octokit.rest.pulls.list({ ...this.repoRef, state: "open", head: `${this.repoRef.owner}:${name}`, per_page: 1 });
    if (open.data[0]) return { kind: "pull-request", number: open.data[0].number, url: open.data[0].html_url };
    try {
      await this.octokit.rest.git.createRef({ ...this.repoRef, ref: `refs/heads/${name}`, sha: commitSha });
    } catch (error) {
      if (status(error) !== 422) throw error;
      await this.octokit.rest.git.updateRef({ ...this.repoRef, ref: `heads/${name}`, sha: commitSha, force: true });
    }
    const title = commitMessage.split("\n")[0];
    const { data } = await this.octokit.rest.pulls.create({
      ...this.repoRef,
      title,
      head: name,
      base: branch,
      body: `Branch rules refused Timebox's direct commit on \`${branch}\` (at ${head.slice(0, 7)}), so the removal of \`${path}\` is proposed here. **The access is already revoked**; merging this records it in Git.\n\n\`\`\`\n${commitMessage}\n\`\`\``,
    });
    return { kind: "pull-request", number: data.number, url: data.html_url };
  }
}

/** The hidden markers of a comment that start a line: text a person typed inside a comment never starts one. */
export const markersIn = (body: string): string[] => body.match(/^<!-- timebox:[^>\n]*-->/gm) ?? [];

function isProtectedBranch(error: unknown): boolean {
  return (status(error) === 403 || status(error) === 422) && /protected branch|branch protection|rule/i.test(message(error));
}

function toCommitInfo(c: { sha: string; parents: Array<{ sha: string }>; commit: { message: string; committer: { date?: string } | null }; author: { login: string } | null | Record<string, never> }): CommitInfo {
  return {
    sha: c.sha,
    parents: c.parents.map((p) => p.sha),
    message: c.commit.message,
    authorLogin: c.author && "login" in c.author ? c.author.login : undefined,
    committedAt: c.commit.committer?.date ?? "",
  };
}

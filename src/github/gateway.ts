import { BoundedCache } from "../util/bounded-cache.js";
import { createdBySelf, writtenBySelf, type AppSelf } from "./self.js";
import type { ChangedFile, CheckRunSpec, ExistingCheckRun, Octokit, PullRequestInfo, RepoRef, Review, TreeEntry } from "./types.js";

/** GitHub allows 50 annotations per check-run request; more go in follow-up updates. */
const ANNOTATIONS_PER_REQUEST = 50;

const isStatus = (error: unknown, status: number) => (error as { status?: number })?.status === status;

/**
 * Every GitHub read and write Timebox makes, for one repository. Handlers and the lifecycle
 * talk to GitHub only through this, so API usage is visible (and countable) in one place.
 */
export class GitHubGateway {
  constructor(
    protected readonly octokit: Octokit,
    readonly repoRef: RepoRef,
    /** This app: only its own comments and check runs are read back as Timebox's records. */
    readonly self: AppSelf,
    /** Trees and blobs by sha never change: a long-lived caller passes a cache to read each once. */
    protected readonly immutable: BoundedCache<unknown> = new BoundedCache(1_000),
  ) {}

  private get r() {
    return this.octokit.rest;
  }

  async getPull(number: number): Promise<PullRequestInfo> {
    const { data } = await this.r.pulls.get({ ...this.repoRef, pull_number: number });
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
    };
  }

  async branchTip(branch: string): Promise<string> {
    const { data } = await this.r.git.getRef({ ...this.repoRef, ref: `heads/${branch}` });
    return data.object.sha;
  }

  /** A file's text at a commit, or undefined when it does not exist there. */
  async readFile(ref: string, path: string): Promise<string | undefined> {
    try {
      const { data } = await this.r.repos.getContent({ ...this.repoRef, path, ref });
      if (Array.isArray(data) || data.type !== "file" || !("content" in data)) return undefined;
      return Buffer.from(data.content, "base64").toString("utf8");
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async readBlob(sha: string): Promise<Buffer> {
    return this.immutable.getOrLoad(`blob:${sha}`, async () => {
      const { data } = await this.r.git.getBlob({ ...this.repoRef, file_sha: sha });
      return Buffer.from(data.content, data.encoding === "base64" ? "base64" : "utf8");
    }) as Promise<Buffer>;
  }

  async listPullFiles(number: number): Promise<ChangedFile[]> {
    const files = await this.octokit.paginate(this.r.pulls.listFiles, { ...this.repoRef, pull_number: number, per_page: 100 });
    return files.map((f) => ({ path: f.filename, status: f.status, sha: f.status === "removed" ? undefined : (f.sha ?? undefined), previousPath: f.previous_filename }));
  }

  /** Entries below `dir` at a commit, with their Git modes (symlinks and submodules are not files). */
  async treeEntries(commitSha: string, dir: string): Promise<TreeEntry[]> {
    const key = `tree:${this.repoRef.owner}/${this.repoRef.repo}:${commitSha}:${dir}`;
    return this.immutable.getOrLoad(key, () => this.readTreeEntries(commitSha, dir)) as Promise<TreeEntry[]>;
  }

  private async readTreeEntries(commitSha: string, dir: string): Promise<TreeEntry[]> {
    const { data: commit } = await this.r.git.getCommit({ ...this.repoRef, commit_sha: commitSha });
    let treeSha = commit.tree.sha;
    for (const segment of dir.split("/").filter(Boolean)) {
      const { data } = await this.r.git.getTree({ ...this.repoRef, tree_sha: treeSha });
      const next = data.tree.find((e) => e.path === segment && e.type === "tree");
      if (!next?.sha) return [];
      treeSha = next.sha;
    }
    const { data } = await this.r.git.getTree({ ...this.repoRef, tree_sha: treeSha, recursive: "1" });
    const prefix = dir.endsWith("/") || dir === "" ? dir : `${dir}/`;
    return data.tree
      .filter((e) => e.path && e.sha && e.mode)
      .map((e) => ({ path: `${prefix}${e.path}`, mode: e.mode!, sha: e.sha!, type: e.type as TreeEntry["type"], ...(typeof e.size === "number" ? { size: e.size } : {}) }));
  }

  async listReviews(number: number): Promise<Review[]> {
    return (await this.octokit.paginate(this.r.pulls.listReviews, { ...this.repoRef, pull_number: number, per_page: 100 })) as Review[];
  }

  /** Memberships read during this gateway's life (one event or one reconcile): each pair once. */
  private readonly memberships = new Map<string, Promise<boolean>>();

  /** Active membership only: a pending invitation is not membership. */
  async isTeamMember(org: string, slug: string, login: string): Promise<boolean> {
    const key = `${org}/${slug}:${login}`.toLowerCase();
    let member = this.memberships.get(key);
    if (!member) {
      member = this.readTeamMembership(org, slug, login);
      this.memberships.set(key, member);
      member.catch(() => this.memberships.delete(key));
    }
    return member;
  }

  private async readTeamMembership(org: string, slug: string, login: string): Promise<boolean> {
    try {
      const { data } = await this.r.teams.getMembershipForUserInOrg({ org, team_slug: slug, username: login });
      return data.state === "active";
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw error;
    }
  }

  async findCheckRun(headSha: string, name: string): Promise<ExistingCheckRun | undefined> {
    // Only this app's runs: another app (a workflow) can write a run with the same name on any commit.
    const { data } = await this.r.checks.listForRef({ ...this.repoRef, ref: headSha, check_name: name, app_id: this.self.appId, filter: "latest", per_page: 10 });
    const run = data.check_runs.find((c) => c.name === name && createdBySelf(this.self, c));
    if (!run) return undefined;
    return {
      id: run.id,
      externalId: run.external_id ?? null,
      status: run.status,
      conclusion: run.conclusion ?? null,
      title: run.output?.title ?? null,
      summary: run.output?.summary ?? null,
      text: run.output?.text ?? null,
    };
  }

  /** Creates the check run, or updates `existing`; annotations beyond 50 go in follow-up updates. */
  async writeCheckRun(spec: CheckRunSpec, existing?: ExistingCheckRun): Promise<number> {
    const annotations = spec.output.annotations ?? [];
    const first = annotations.slice(0, ANNOTATIONS_PER_REQUEST);
    const body = {
      ...this.repoRef,
      name: spec.name,
      status: spec.status,
      ...(spec.conclusion ? { conclusion: spec.conclusion } : {}),
      ...(spec.externalId !== undefined ? { external_id: spec.externalId } : {}),
      output: { title: spec.output.title, summary: spec.output.summary, ...(spec.output.text ? { text: spec.output.text } : {}), annotations: first },
    };
    const id = existing
      ? (await this.r.checks.update({ ...body, check_run_id: existing.id })).data.id
      : (await this.r.checks.create({ ...body, head_sha: spec.headSha })).data.id;
    for (let i = ANNOTATIONS_PER_REQUEST; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) {
      await this.r.checks.update({
        ...this.repoRef,
        check_run_id: id,
        output: { title: spec.output.title, summary: spec.output.summary, annotations: annotations.slice(i, i + ANNOTATIONS_PER_REQUEST) },
      });
    }
    return id;
  }

  /** Finds Timebox's own comment carrying `marker` (a hidden HTML comment). */
  async findMarkedComment(number: number, marker: string): Promise<{ id: number; body: string } | undefined> {
    const comments = await this.octokit.paginate(this.r.issues.listComments, { ...this.repoRef, issue_number: number, per_page: 100 });
    const mine = comments.find((c) => writtenBySelf(this.self, c) && (c.body ?? "").includes(marker));
    return mine ? { id: mine.id, body: mine.body ?? "" } : undefined;
  }

  /** The sticky comment: edited in place when it exists (and only if changed), created otherwise. */
  async upsertMarkedComment(number: number, marker: string, body: string): Promise<void> {
    const existing = await this.findMarkedComment(number, marker);
    if (existing?.body === body) return;
    if (existing) {
      await this.r.issues.updateComment({ ...this.repoRef, comment_id: existing.id, body });
    } else {
      await this.r.issues.createComment({ ...this.repoRef, issue_number: number, body });
    }
  }
}

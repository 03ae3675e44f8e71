/** A repository as a person uses it: push, open PRs, review, merge, comment — each returning the webhooks GitHub would send. */
import { closePull, addComment, addReview, createPull, dismissReview, mergePull, retargetPull, syncPull, updateRef } from "./ops.js";
import { issueCommentPayload, pullRequestPayload, pushPayload, reviewPayload, type WebhookEvent } from "./payloads.js";
import { resolveCommit } from "./resolve.js";
import type { CommitObject, FileMode } from "./git.js";
import type { CheckRun, ForeignApp, Issue, IssueComment, PullRequest, Repo, RepoRole, Review, State } from "./state.js";

type FileSpec = string | { content: string; mode?: FileMode } | { sha: string; mode: "160000" };
export type Files = Record<string, FileSpec>;

/** The webhook events an action produced, plus handy ids. */
export type ActionResult = WebhookEvent[] & { number?: number; sha?: string; reviewId?: number; commentId?: number };

const ZERO = "0".repeat(40);
const result = (events: WebhookEvent[], extra: { number?: number; sha?: string; reviewId?: number; commentId?: number }): ActionResult =>
  Object.assign(events, extra);

export class RepoHandle {
  constructor(
    private readonly st: State,
    readonly repo: Repo,
  ) {}

  get fullName(): string {
    return this.repo.fullName;
  }

  private pr(n: number): PullRequest {
    const p = this.repo.pulls.get(n);
    if (!p) throw new Error(`no pull request #${n} in ${this.repo.fullName}`);
    return p;
  }

  // ---- person actions ----------------------------------------------------------------

  /** Push one commit to a branch (created from `from`, default the default branch, when missing). Bypasses branch protection (an admin push). */
  /** `date` sets the commit's author and committer dates (people choose them: a back-dated commit). */
  pushCommit(opts: {
    branch?: string;
    files?: Files;
    deletes?: string[];
    author: string;
    message?: string;
    pusher?: string;
    from?: string;
    date?: string;
    /** Further parents after the branch's head: a merge commit made with git and pushed (its tree is the head's plus `files`/`deletes`, as a merger resolves it). */
    mergeWith?: string[];
  }): ActionResult {
    const r = this.repo;
    const branch = opts.branch ?? r.defaultBranch;
    const before = this.st.ref(r, branch);
    const parent = before ?? this.st.ref(r, opts.from ?? r.defaultBranch);
    const author = this.st.user(opts.author);
    const pusher = opts.pusher ?? opts.author;
    const sha = this.st.commitFiles(r, {
      parents: [...(parent ? [parent] : []), ...(opts.mergeWith ?? [])],
      files: opts.files,
      deletes: opts.deletes,
      message:
        opts.message ??
        `Update ${
          Object.keys(opts.files ?? {})
            .concat(opts.deletes ?? [])
            .join(", ") || "files"
        }`,
      author,
      ...(opts.date ? { date: opts.date } : {}),
    });
    r.refs.set(`refs/heads/${branch}`, sha);
    r.pushedAt = this.st.now();
    const events: WebhookEvent[] = [
      pushPayload(this.st, r, { ref: `refs/heads/${branch}`, before: before ?? ZERO, after: sha, commits: [r.git.commits.get(sha)!], pusher }),
    ];
    for (const p of r.pulls.values()) {
      if (p.state !== "open" || p.headRef !== branch) continue;
      const old = p.headSha;
      syncPull(this.st, r, p, pusher);
      events.push(pullRequestPayload(this.st, r, p, "synchronize", pusher, { before: old, after: sha }));
    }
    return result(events, { sha });
  }

  /** Push files to a new branch and open a PR from it. */
  openPullRequest(opts: {
    author: string;
    branch?: string;
    base?: string;
    files?: Files;
    deletes?: string[];
    title?: string;
    body?: string;
    draft?: boolean;
    message?: string;
    date?: string;
  }): ActionResult {
    const r = this.repo;
    const base = opts.base ?? r.defaultBranch;
    const branch = opts.branch ?? `${opts.author}/change-${r.nextNumber}`;
    const events: WebhookEvent[] = [];
    if (opts.files || opts.deletes || !this.st.ref(r, branch)) {
      events.push(
        ...this.pushCommit({
          branch,
          files: opts.files,
          deletes: opts.deletes,
          author: opts.author,
          message: opts.message ?? opts.title,
          from: base,
          date: opts.date,
        }),
      );
    }
    const p = createPull(this.st, r, {
      title: opts.title ?? `Changes from ${opts.author}`,
      body: opts.body,
      head: branch,
      base,
      user: this.st.user(opts.author).login,
      draft: opts.draft,
    });
    p.lastPusher = opts.author;
    events.push(pullRequestPayload(this.st, r, p, "opened", opts.author));
    return result(events, { number: p.number, sha: p.headSha });
  }

  pushToPullRequest(n: number, opts: { pusher: string; author?: string; files?: Files; deletes?: string[]; message?: string }): ActionResult {
    const p = this.pr(n);
    return this.pushCommit({
      branch: p.headRef,
      files: opts.files,
      deletes: opts.deletes,
      author: opts.author ?? opts.pusher,
      pusher: opts.pusher,
      message: opts.message,
    });
  }

  submitReview(
    n: number,
    opts: { reviewer: string; state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED"; body?: string; commitId?: string; allowSelfApproval?: boolean },
  ): ActionResult {
    const r = this.repo;
    const p = this.pr(n);
    if (!opts.allowSelfApproval && opts.state !== "COMMENTED" && opts.reviewer.toLowerCase() === p.user.toLowerCase())
      throw new Error(
        `GitHub does not let ${opts.reviewer} ${opts.state === "APPROVED" ? "approve" : "request changes on"} their own pull request (pass allowSelfApproval to force it)`,
      );
    const v = addReview(this.st, r, p, { user: this.st.user(opts.reviewer).login, state: opts.state, body: opts.body, commitId: opts.commitId });
    return result([reviewPayload(this.st, r, p, v, "submitted", opts.reviewer)], { number: n, reviewId: v.id });
  }

  dismissReview(n: number, reviewId: number, opts: { by: string; message?: string }): ActionResult {
    const r = this.repo;
    const p = this.pr(n);
    const v = this.review(n, reviewId);
    dismissReview(r, v);
    return result([reviewPayload(this.st, r, p, v, "dismissed", opts.by)], { number: n, reviewId });
  }

  editReview(n: number, reviewId: number, opts: { body: string; by?: string }): ActionResult {
    const r = this.repo;
    const p = this.pr(n);
    const v = this.review(n, reviewId);
    const from = v.body;
    v.body = opts.body;
    return result([reviewPayload(this.st, r, p, v, "edited", opts.by ?? v.user, { changes: { body: { from } } })], { number: n, reviewId });
  }

  merge(n: number, opts: { by: string; method?: "merge" | "squash" | "rebase"; sha?: string; title?: string; message?: string }): ActionResult {
    const r = this.repo;
    const p = this.pr(n);
    const before = this.st.ref(r, p.baseRef)!;
    const sha = mergePull(this.st, r, p, { by: opts.by, method: opts.method, sha: opts.sha, title: opts.title, message: opts.message });
    return result(
      [
        pullRequestPayload(this.st, r, p, "closed", opts.by),
        pushPayload(this.st, r, { ref: `refs/heads/${p.baseRef}`, before, after: sha, commits: [r.git.commits.get(sha)!], pusher: opts.by }),
      ],
      { number: n, sha },
    );
  }

  close(n: number, opts: { by?: string } = {}): ActionResult {
    const p = this.pr(n);
    closePull(this.st, this.repo, p, "closed", opts.by);
    return result([pullRequestPayload(this.st, this.repo, p, "closed", opts.by ?? p.user)], { number: n });
  }

  reopen(n: number, opts: { by?: string } = {}): ActionResult {
    const p = this.pr(n);
    closePull(this.st, this.repo, p, "open", opts.by);
    syncPull(this.st, this.repo, p, p.lastPusher);
    return result([pullRequestPayload(this.st, this.repo, p, "reopened", opts.by ?? p.user)], { number: n });
  }

  /** Edits a PR's title, body and/or base branch (`pull_request.edited`, with `changes` saying what changed). */
  editPullRequest(n: number, opts: { by?: string; title?: string; body?: string; base?: string }): ActionResult {
    const p = this.pr(n);
    const changes: Record<string, { from: string } | { ref: { from: string }; sha: { from: string } }> = {};
    if (opts.base !== undefined && opts.base !== p.baseRef) {
      changes.base = { ref: { from: p.baseRef }, sha: { from: p.baseSha } };
      retargetPull(this.st, this.repo, p, opts.base);
    }
    if (opts.title !== undefined) {
      changes.title = { from: p.title };
      p.title = opts.title;
    }
    if (opts.body !== undefined) {
      changes.body = { from: p.body ?? "" };
      p.body = opts.body;
    }
    return result([pullRequestPayload(this.st, this.repo, p, "edited", opts.by ?? p.user, { changes })], { number: n });
  }

  /** A comment by a person, or (with `app`) by another GitHub App's bot, e.g. `github-actions[bot]` from a workflow. */
  comment(n: number, opts: { author: string; body: string; app?: ForeignApp }): ActionResult {
    const r = this.repo;
    if (!r.issues.has(n)) throw new Error(`no issue or pull request #${n}`);
    const author = opts.app ? this.st.user(opts.author.endsWith("[bot]") ? opts.author : `${opts.author}[bot]`, "Bot").login : this.st.user(opts.author).login;
    const c = addComment(this.st, r, n, author, opts.body, opts.app);
    return result([issueCommentPayload(this.st, r, c, "created", author)], { number: n, commentId: c.id });
  }

  /**
   * `by` edits comment `id`, as GitHub lets its author or anyone with write access to the
   * repository do — a comment another app's bot wrote included (GraphQL's CommentCannotEditReason:
   * "You must be the author or have write access to this repository to edit this comment"). The
   * comment keeps its author and `performed_via_github_app`; `updated_at` moves. Returns the
   * `issue_comment.edited` webhook: `changes.body.from` is the old body, `sender` the editor.
   */
  editComment(id: number, opts: { by: string; body: string }): ActionResult {
    const r = this.repo;
    const c = r.comments.find((x) => x.id === id);
    if (!c) throw new Error(`no comment ${id}`);
    const editor = this.st.user(opts.by).login;
    const role = this.collaboratorPermission(editor);
    if (editor.toLowerCase() !== c.user.toLowerCase() && !["admin", "maintain", "write"].includes(role))
      throw new Error(`${editor} (${role}) may not edit comment ${id}: GitHub lets only its author or someone with write access`);
    const from = c.body;
    c.body = opts.body;
    c.updatedAt = this.st.now();
    return result([issueCommentPayload(this.st, r, c, "edited", editor, { changes: { body: { from } } })], { number: c.issue, commentId: c.id });
  }

  /** A check run written by another GitHub App (anyone who can run a workflow can write one with any name). */
  foreignCheckRun(
    sha: string,
    opts: { app: ForeignApp; name: string; conclusion?: string; externalId?: string; output?: { title: string; summary: string; text?: string } },
  ): CheckRun {
    const id = this.st.id();
    const now = this.st.now();
    const c: CheckRun = {
      id,
      node_id: this.st.nodeId("CheckRun", id),
      headSha: sha,
      name: opts.name,
      externalId: opts.externalId ?? null,
      status: "completed",
      conclusion: opts.conclusion ?? "success",
      startedAt: now,
      completedAt: now,
      detailsUrl: null,
      output: { title: opts.output?.title ?? null, summary: opts.output?.summary ?? null, text: opts.output?.text ?? null, annotations: [] },
      checkSuiteId: this.st.id(),
      createdBy: "provider",
      foreignApp: opts.app,
    };
    this.repo.checkRuns.push(c);
    return c;
  }

  // ---- setup -------------------------------------------------------------------------

  /** Make ref updates by the app's installation token fail like a protected branch (merges through PRs still work). */
  protectBranch(branch: string, opts: { allowApp?: boolean; status?: 403 | 422 } = {}): void {
    this.repo.protected.set(branch, opts);
  }

  unprotectBranch(branch: string): void {
    this.repo.protected.delete(branch);
  }

  addCollaborator(login: string, role: RepoRole = "write"): void {
    this.st.user(login);
    this.repo.collaborators.set(login.toLowerCase(), role);
  }

  /** The invitee accepts a pending collaborator invitation (created by PUT /collaborators for a non-member). */
  acceptInvitation(login: string): void {
    const inv = this.repo.invitations.get(login.toLowerCase());
    if (!inv) throw new Error(`no invitation for ${login}`);
    this.repo.invitations.delete(login.toLowerCase());
    this.repo.collaborators.set(login.toLowerCase(), inv.role);
  }

  /** Move a branch directly (e.g. a force push by an admin); no webhook. */
  setBranch(branch: string, sha: string): void {
    updateRef(this.st, this.repo, `refs/heads/${branch}`, sha, { force: true, create: !this.st.ref(this.repo, branch) });
  }

  // ---- reads for assertions ------------------------------------------------------------

  branchHead(branch?: string): string | undefined {
    return this.st.ref(this.repo, branch ?? this.repo.defaultBranch);
  }

  /** File content (utf-8) at a ref (branch or sha); undefined when absent. Does not follow symlinks. */
  fileAt(ref: string, path: string): string | undefined {
    const sha = resolveCommit(this.repo, ref);
    if (!sha) return undefined;
    const e = this.repo.git.entryAt(this.repo.git.commits.get(sha)!.tree, path);
    return e?.type === "blob" ? this.repo.git.blobs.get(e.sha)!.toString("utf8") : undefined;
  }

  files(ref?: string): string[] {
    const sha = resolveCommit(this.repo, ref ?? null);
    return sha ? [...this.repo.git.flatten(this.repo.git.commits.get(sha)!.tree).keys()].sort() : [];
  }

  commit(sha: string): CommitObject | undefined {
    return this.repo.git.commits.get(resolveCommit(this.repo, sha) ?? sha);
  }

  /** `git log` from a ref (newest first), optionally limited to a path. */
  log(ref?: string, path?: string): CommitObject[] {
    const sha = resolveCommit(this.repo, ref ?? null);
    return sha ? this.repo.git.log(sha, path) : [];
  }

  pull(n: number): PullRequest {
    return this.pr(n);
  }

  /** A person adds a label to an issue or pull request (no webhook: Timebox does not subscribe to `labeled`). */
  addLabel(n: number, label: string): void {
    const issue = this.repo.issues.get(n);
    if (!issue) throw new Error(`no issue or pull request #${n}`);
    if (!issue.labels.includes(label)) issue.labels.push(label);
    issue.updatedAt = this.st.now();
  }

  /** A person (triage rights suffice) or a workflow removes a label (no webhook: Timebox does not subscribe to `unlabeled`). */
  removeLabel(n: number, label: string): void {
    const issue = this.repo.issues.get(n);
    if (!issue) throw new Error(`no issue or pull request #${n}`);
    issue.labels = issue.labels.filter((x) => x.toLowerCase() !== label.toLowerCase());
    issue.updatedAt = this.st.now();
  }

  /** A person closes an issue (not a pull request; no webhook: Timebox does not subscribe to `issues.closed`). */
  closeIssue(n: number): void {
    const issue = this.repo.issues.get(n);
    if (!issue || issue.isPull) throw new Error(`no issue #${n}`);
    issue.state = "closed";
    issue.stateReason = "completed";
    issue.closedAt = issue.updatedAt = this.st.now();
  }

  /** The label names on an issue or pull request. */
  labels(n: number): string[] {
    return [...(this.repo.issues.get(n)?.labels ?? [])];
  }

  reviews(n: number): Review[] {
    return this.repo.reviews.filter((v) => v.pull === n);
  }

  review(n: number, id: number): Review {
    const v = this.repo.reviews.find((x) => x.pull === n && x.id === id);
    if (!v) throw new Error(`no review ${id} on #${n}`);
    return v;
  }

  comments(n: number): IssueComment[] {
    return this.repo.comments.filter((c) => c.issue === n);
  }

  /** Every check run on a commit (all of them, not just the latest per name), with full output and annotations. */
  checkRuns(ref: string, name?: string): CheckRun[] {
    const sha = resolveCommit(this.repo, ref) ?? ref;
    return this.repo.checkRuns.filter((c) => c.headSha === sha && (!name || c.name === name));
  }

  /** Issues (not pull requests), optionally filtered by labels (all must match) and state. */
  issues(filter: { labels?: string[]; state?: "open" | "closed" | "all" } = {}): Issue[] {
    const state = filter.state ?? "all";
    return [...this.repo.issues.values()].filter(
      (i) =>
        !i.isPull && (state === "all" || i.state === state) && (filter.labels ?? []).every((l) => i.labels.some((x) => x.toLowerCase() === l.toLowerCase())),
    );
  }

  collaboratorPermission(login: string): RepoRole | "none" {
    if (login.toLowerCase() === this.repo.owner.toLowerCase()) return "admin";
    return this.repo.collaborators.get(login.toLowerCase()) ?? (this.repo.private ? "none" : "read");
  }
}

/** Mutations shared by REST routes and the test driver, so both follow the same rules. */
import { HttpError, unprocessable } from "./router.js";
import { pullHeadSha } from "./render.js";
import type { FlatTree } from "./git.js";
import type { CheckRun, Issue, IssueComment, PullRequest, Repo, Review, State, TokenKind, User } from "./state.js";

/** Update a branch ref with GitHub's rules: fast-forward check (unless force) and branch protection. */
export function updateRef(st: State, r: Repo, ref: string, sha: string, opts: { force?: boolean; tokenKind?: TokenKind; create?: boolean } = {}): void {
  const full = ref.startsWith("refs/") ? ref : `refs/${ref}`;
  if (!r.git.commits.has(sha)) throw unprocessable("Object does not exist");
  const current = r.refs.get(full);
  if (!current && !opts.create) throw unprocessable("Reference does not exist");
  if (current && opts.create) throw unprocessable("Reference already exists");
  const branch = full.startsWith("refs/heads/") ? full.slice("refs/heads/".length) : undefined;
  const prot = branch ? r.protected.get(branch) : undefined;
  if (prot && opts.tokenKind === "installation" && !prot.allowApp)
    throw new HttpError(prot.status ?? 422, `Protected branch update failed for ${full}.`, {
      errors: [{ resource: "Ref", code: "custom", message: "Changes must be made through a pull request." }],
    });
  if (current && !opts.force && !r.git.isAncestor(current, sha)) throw unprocessable("Update is not a fast forward");
  r.refs.set(full, sha);
  if (branch) r.pushedAt = st.now();
}

function nextNumber(r: Repo): number {
  return r.nextNumber++;
}

export function createIssue(
  st: State,
  r: Repo,
  opts: {
    title: string;
    body?: string | null;
    user: string;
    labels?: string[];
    assignees?: string[];
    isPull?: boolean;
    number?: number;
    viaApp?: Issue["viaApp"];
  },
): Issue {
  const number = opts.number ?? nextNumber(r);
  const id = st.id();
  const now = st.now();
  const i: Issue = {
    number,
    id,
    node_id: st.nodeId(opts.isPull ? "PullRequestIssue" : "Issue", id),
    title: opts.title,
    body: opts.body ?? null,
    user: opts.user,
    labels: [...new Set(opts.labels ?? [])],
    assignees: opts.assignees ?? [],
    state: "open",
    stateReason: null,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    isPull: !!opts.isPull,
    ...(opts.viaApp ? { viaApp: opts.viaApp } : {}),
  };
  r.issues.set(number, i);
  return i;
}

/** Commits reachable from head that base does not have, oldest first. */
export function commitsBetween(r: Repo, base: string, head: string): string[] {
  const baseAnc = r.git.ancestors(base);
  return r.git
    .log(head)
    .filter((c) => !baseAnc.has(c.sha))
    .map((c) => c.sha)
    .reverse();
}

export function createPull(
  st: State,
  r: Repo,
  opts: { title: string; body?: string | null; head: string; base: string; user: string; draft?: boolean },
): PullRequest {
  const headSha = st.ref(r, opts.head);
  const baseSha = st.ref(r, opts.base);
  if (!headSha || !baseSha) throw unprocessable("Validation Failed", [{ resource: "PullRequest", field: headSha ? "base" : "head", code: "invalid" }]);
  const dup = [...r.pulls.values()].find((p) => p.state === "open" && p.headRef === opts.head && p.baseRef === opts.base);
  if (dup)
    throw unprocessable("Validation Failed", [
      { resource: "PullRequest", code: "custom", message: `A pull request already exists for ${r.owner}:${opts.head}.` },
    ]);
  const commits = commitsBetween(r, baseSha, headSha);
  if (commits.length === 0)
    throw unprocessable("Validation Failed", [{ resource: "PullRequest", code: "custom", message: `No commits between ${opts.base} and ${opts.head}` }]);
  const i = createIssue(st, r, { title: opts.title, body: opts.body, user: opts.user, isPull: true });
  const id = st.id();
  const p: PullRequest = {
    number: i.number,
    id,
    node_id: st.nodeId("PullRequest", id),
    title: opts.title,
    body: opts.body ?? null,
    state: "open",
    draft: !!opts.draft,
    user: opts.user,
    headRef: opts.head,
    headSha,
    baseRef: opts.base,
    baseSha,
    merged: false,
    mergedAt: null,
    mergedBy: null,
    mergeCommitSha: null,
    mergeable: true,
    createdAt: i.createdAt,
    updatedAt: i.createdAt,
    closedAt: null,
    commits,
    lastPusher: opts.user,
  };
  r.pulls.set(p.number, p);
  return p;
}

/** Refresh an open PR after its head branch moved (what GitHub does before sending `synchronize`). */
export function syncPull(st: State, r: Repo, p: PullRequest, pusher: string): void {
  p.headSha = st.ref(r, p.headRef) ?? p.headSha;
  p.baseSha = st.ref(r, p.baseRef) ?? p.baseSha;
  p.commits = commitsBetween(r, p.baseSha, p.headSha);
  p.lastPusher = pusher;
  p.updatedAt = st.now();
  p.mergeable = threeWay(r, p.baseSha, p.headSha) !== undefined;
}

/** Changes an open PR's base branch (GitHub recomputes its commits and mergeability against the new base; the head and reviews stay). */
export function retargetPull(st: State, r: Repo, p: PullRequest, base: string): void {
  const baseSha = st.ref(r, base);
  if (!baseSha) throw unprocessable("Validation Failed", [{ resource: "PullRequest", field: "base", code: "invalid" }]);
  if (p.state !== "open")
    throw unprocessable("Validation Failed", [{ resource: "PullRequest", code: "custom", message: "Cannot change the base branch of a closed pull request." }]);
  p.baseRef = base;
  p.baseSha = baseSha;
  p.headSha = st.ref(r, p.headRef) ?? p.headSha;
  p.commits = commitsBetween(r, p.baseSha, p.headSha);
  p.updatedAt = st.now();
  p.mergeable = threeWay(r, p.baseSha, p.headSha) !== undefined;
}

/** Three-way merge of trees at the flat-path level; undefined on conflict. */
function threeWay(r: Repo, ours: string, theirs: string): FlatTree | undefined {
  const g = r.git;
  const mb = g.mergeBase(ours, theirs);
  const base = mb ? g.flatten(g.commits.get(mb)!.tree) : new Map();
  const a = g.flatten(g.commits.get(ours)!.tree);
  const b = g.flatten(g.commits.get(theirs)!.tree);
  const out: FlatTree = new Map();
  const key = (e?: { sha: string; mode: string }) => (e ? `${e.mode}:${e.sha}` : "");
  for (const p of new Set([...base.keys(), ...a.keys(), ...b.keys()])) {
    const o = base.get(p),
      x = a.get(p),
      y = b.get(p);
    let pick;
    if (key(x) === key(y)) pick = x;
    else if (key(y) === key(o)) pick = x;
    else if (key(x) === key(o)) pick = y;
    else return undefined;
    if (pick) out.set(p, pick);
  }
  return out;
}

export function mergePull(
  st: State,
  r: Repo,
  p: PullRequest,
  opts: { by: string; method?: "merge" | "squash" | "rebase"; sha?: string; title?: string; message?: string; tokenKind?: TokenKind },
): string {
  if (p.state !== "open") throw new HttpError(405, "Pull Request is not mergeable");
  const head = pullHeadSha(st, r, p);
  if (opts.sha && opts.sha !== head) throw new HttpError(409, "Head branch was modified. Review and try the merge again.");
  const base = st.ref(r, p.baseRef)!;
  const tree = threeWay(r, base, head);
  if (!tree) {
    p.mergeable = false;
    throw new HttpError(405, "Pull Request is not mergeable");
  }
  const merger = st.user(opts.by);
  const method = opts.method ?? "merge";
  const title = opts.title ?? (method === "merge" ? `Merge pull request #${p.number} from ${r.owner}/${p.headRef}` : `${p.title} (#${p.number})`);
  const message = opts.message !== undefined ? `${title}\n\n${opts.message}` : method === "merge" ? `${title}\n\n${p.title}` : title;
  const now = st.now();
  const c =
    method === "rebase"
      ? rebaseOnto(st, r, base, commitsBetween(r, base, head), now)
      : r.git.putCommit({
          tree: r.git.build(tree),
          parents: method === "merge" ? [base, head] : [base],
          author: { name: (method === "merge" ? merger : st.user(p.user)).name, email: (method === "merge" ? merger : st.user(p.user)).email, date: now },
          committer: { name: "GitHub", email: "noreply@github.com", date: now },
          message,
        });
  if (method === "rebase")
    p.rebased = r.git
      .log(c.sha)
      .filter((x) => !r.git.ancestors(base).has(x.sha))
      .map((x) => x.sha)
      .reverse();
  // Merging through the PR is how protected branches are meant to change, so protection is not applied here.
  updateRef(st, r, `heads/${p.baseRef}`, c.sha);
  p.headSha = head;
  p.state = "closed";
  p.merged = true;
  p.mergedAt = now;
  p.mergedBy = merger.login;
  p.mergeCommitSha = c.sha;
  p.closedAt = now;
  p.updatedAt = now;
  const i = r.issues.get(p.number)!;
  i.state = "closed";
  i.closedAt = now;
  i.updatedAt = now;
  i.stateReason = "completed";
  return c.sha;
}

/**
 * GitHub's rebase merge: each of the PR's commits (merge commits left out) replayed on the base in
 * order, with its author, message and changes (against its first parent); the committer is GitHub.
 * The PR's `merge_commit_sha` is the last one.
 */
function rebaseOnto(st: State, r: Repo, base: string, commits: string[], now: string) {
  const g = r.git;
  let tip = g.commits.get(base)!;
  for (const sha of commits) {
    const c = g.commits.get(sha)!;
    if (c.parents.length !== 1) continue;
    const before = g.flatten(g.commits.get(c.parents[0])!.tree);
    const after = g.flatten(c.tree);
    const tree = g.flatten(tip.tree);
    for (const p of new Set([...before.keys(), ...after.keys()])) {
      const x = before.get(p),
        y = after.get(p);
      if (x?.sha === y?.sha && x?.mode === y?.mode) continue;
      if (y) tree.set(p, y);
      else tree.delete(p);
    }
    tip = g.putCommit({
      tree: g.build(tree),
      parents: [tip.sha],
      author: c.author,
      committer: { name: "GitHub", email: "noreply@github.com", date: now },
      message: c.message,
    });
  }
  return tip;
}

export function closePull(st: State, r: Repo, p: PullRequest, state: "open" | "closed", actor?: string): void {
  const now = st.now();
  if (state !== p.state) {
    const issue = r.issues.get(p.number)!;
    (issue.events ??= []).push({ id: st.id(), event: state === "closed" ? "closed" : "reopened", actor: actor ?? p.user, createdAt: now });
  }
  if (state === "closed" && p.state === "open") {
    p.headSha = pullHeadSha(st, r, p);
    p.state = "closed";
    p.closedAt = now;
  } else if (state === "open" && p.state === "closed") {
    if (p.merged)
      throw unprocessable("Validation Failed", [
        { resource: "PullRequest", code: "custom", message: "state cannot be changed. The pull request cannot be reopened." },
      ]);
    p.state = "open";
    p.closedAt = null;
  }
  p.updatedAt = now;
  const i = r.issues.get(p.number)!;
  i.state = p.state;
  i.closedAt = p.closedAt;
  i.updatedAt = now;
}

export function addReview(st: State, r: Repo, p: PullRequest, opts: { user: string; state: Review["state"]; body?: string; commitId?: string }): Review {
  const id = st.id();
  const v: Review = {
    id,
    node_id: st.nodeId("PullRequestReview", id),
    pull: p.number,
    user: opts.user,
    body: opts.body ?? "",
    state: opts.state,
    commitId: opts.commitId ?? pullHeadSha(st, r, p),
    submittedAt: opts.state === "PENDING" ? null : st.now(),
  };
  r.reviews.push(v);
  return v;
}

export function dismissReview(r: Repo, v: Review): void {
  if (v.state !== "APPROVED" && v.state !== "CHANGES_REQUESTED") throw unprocessable("Can not dismiss a commented pull request review");
  v.state = "DISMISSED";
}

export function addComment(st: State, r: Repo, issue: number, user: string, body: string, viaApp?: IssueComment["viaApp"]) {
  const id = st.id();
  const now = st.now();
  const c: IssueComment = { id, node_id: st.nodeId("IssueComment", id), issue, user, body, createdAt: now, updatedAt: now, ...(viaApp ? { viaApp } : {}) };
  r.comments.push(c);
  const i = r.issues.get(issue);
  if (i) i.updatedAt = now;
  return c;
}

export function latestCheckRuns(runs: CheckRun[]): CheckRun[] {
  const byName = new Map<string, CheckRun>();
  for (const c of runs) {
    const prev = byName.get(c.name);
    if (!prev || c.id > prev.id) byName.set(c.name, c);
  }
  return [...byName.values()];
}

export function actorOf(st: State, kind: TokenKind, actor: string): User {
  return st.user(kind === "installation" || kind === "app" ? st.botLogin : actor);
}

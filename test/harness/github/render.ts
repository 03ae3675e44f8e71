/** State → JSON in the shapes GitHub's REST API returns. */
import type { CheckRun, ForeignApp, Issue, IssueComment, Label, PullRequest, Repo, Review, State, User } from "./state.js";
import { commitPayload, WEB_FLOW, type CommitObject, type DiffEntry } from "./git.js";

export type Json = Record<string, unknown>;

export function user(st: State, u: User | string): Json {
  const x = typeof u === "string" ? st.user(u) : u;
  const api = `${st.api}/users/${x.login}`;
  return {
    login: x.login,
    id: x.id,
    node_id: x.node_id,
    avatar_url: `${st.origin}/avatars/u/${x.id}?v=4`,
    gravatar_id: "",
    url: api,
    html_url: x.type === "Bot" ? `${st.origin}/apps/${x.login.replace(/\[bot\]$/, "")}` : `${st.origin}/${x.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: x.type,
    user_view_type: "public",
    site_admin: false,
  };
}

export function publicUser(st: State, u: User): Json {
  return {
    ...user(st, u),
    name: u.name,
    company: null,
    blog: "",
    location: null,
    email: null,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: u.createdAt,
    updated_at: u.createdAt,
  };
}

export function repo(st: State, r: Repo): Json {
  const api = `${st.api}/repos/${r.fullName}`;
  const html = `${st.origin}/${r.fullName}`;
  const host = new URL(st.origin).host;
  return {
    id: r.id,
    node_id: r.node_id,
    name: r.name,
    full_name: r.fullName,
    private: r.private,
    owner: user(st, r.owner),
    html_url: html,
    description: null,
    fork: false,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_url: `git://${host}/${r.fullName}.git`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    ssh_url: `git@${host}:${r.fullName}.git`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    clone_url: `${html}.git`,
    mirror_url: null,
    hooks_url: `${api}/hooks`,
    svn_url: html,
    homepage: null,
    language: null,
    forks_count: 0,
    forks: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    size: 0,
    default_branch: r.defaultBranch,
    open_issues_count: [...r.issues.values()].filter((i) => i.state === "open").length,
    open_issues: [...r.issues.values()].filter((i) => i.state === "open").length,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: r.private ? "private" : "public",
    pushed_at: r.pushedAt,
    created_at: r.createdAt,
    updated_at: r.pushedAt,
    permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
    allow_forking: true,
    web_commit_signoff_required: false,
    license: null,
    network_count: 0,
    subscribers_count: 0,
  };
}

function gitIdentity(i: { name: string; email: string; date: string }): Json {
  return { name: i.name, email: i.email, date: i.date };
}

/** Login for a commit identity, when the email is one of our users' noreply addresses. */
function loginOf(st: State, email: string): Json | null {
  for (const u of st.users.values()) if (u.email === email) return user(st, u);
  return null;
}

/** GitHub's verdict on a commit's signature: its own web-flow signatures verify; others are keys it does not know here. */
function verification(c: CommitObject): Json {
  if (!c.gpgsig) return { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null };
  return {
    verified: c.signedByWebFlow === true,
    reason: c.signedByWebFlow ? "valid" : "unknown_key",
    signature: c.gpgsig,
    payload: commitPayload(c),
    verified_at: c.signedByWebFlow ? c.committer.date : null,
  };
}

export function gitCommit(st: State, r: Repo, c: CommitObject): Json {
  const api = `${st.api}/repos/${r.fullName}`;
  return {
    sha: c.sha,
    node_id: st.nodeId("Commit", parseInt(c.sha.slice(0, 8), 16)),
    url: `${api}/git/commits/${c.sha}`,
    html_url: `${st.origin}/${r.fullName}/commit/${c.sha}`,
    author: gitIdentity(c.author),
    committer: gitIdentity(c.committer),
    message: c.message,
    tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
    parents: c.parents.map((p) => ({ sha: p, url: `${api}/git/commits/${p}`, html_url: `${st.origin}/${r.fullName}/commit/${p}` })),
    verification: verification(c),
  };
}

export function diffEntry(st: State, r: Repo, ref: string, d: DiffEntry): Json {
  const enc = d.filename.split("/").map(encodeURIComponent).join("/");
  return {
    sha: d.sha,
    filename: d.filename,
    status: d.status,
    additions: d.additions,
    deletions: d.deletions,
    changes: d.changes,
    blob_url: `${st.origin}/${r.fullName}/blob/${ref}/${enc}`,
    raw_url: `${st.origin}/${r.fullName}/raw/${ref}/${enc}`,
    contents_url: `${st.api}/repos/${r.fullName}/contents/${enc}?ref=${ref}`,
    ...(d.previous_filename ? { previous_filename: d.previous_filename } : {}),
  };
}

export function restCommit(st: State, r: Repo, c: CommitObject, files?: DiffEntry[]): Json {
  const api = `${st.api}/repos/${r.fullName}`;
  const out: Json = {
    url: `${api}/commits/${c.sha}`,
    sha: c.sha,
    node_id: st.nodeId("Commit", parseInt(c.sha.slice(0, 8), 16)),
    html_url: `${st.origin}/${r.fullName}/commit/${c.sha}`,
    comments_url: `${api}/commits/${c.sha}/comments`,
    commit: {
      url: `${api}/git/commits/${c.sha}`,
      author: gitIdentity(c.author),
      committer: gitIdentity(c.committer),
      message: c.message,
      tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
      comment_count: 0,
      verification: verification(c),
    },
    author: loginOf(st, c.author.email),
    // GitHub links the commits it makes itself (committer noreply@github.com) to its "web-flow" account.
    committer: c.committer.email === WEB_FLOW.email ? user(st, st.user("web-flow")) : loginOf(st, c.committer.email),
    parents: c.parents.map((p) => ({ sha: p, url: `${api}/commits/${p}`, html_url: `${st.origin}/${r.fullName}/commit/${p}` })),
  };
  if (files) {
    const additions = files.reduce((n, f) => n + f.additions, 0);
    const deletions = files.reduce((n, f) => n + f.deletions, 0);
    out.stats = { total: additions + deletions, additions, deletions };
    out.files = files.map((f) => diffEntry(st, r, c.sha, f));
  }
  return out;
}

export function label(st: State, r: Repo, l: Label): Json {
  return {
    id: l.id,
    node_id: l.node_id,
    url: `${st.api}/repos/${r.fullName}/labels/${encodeURIComponent(l.name)}`,
    name: l.name,
    color: l.color,
    description: l.description,
    default: false,
  };
}

function ensureLabel(st: State, r: Repo, name: string): Label {
  let l = r.labels.get(name.toLowerCase());
  if (!l) {
    const id = st.id();
    l = { id, node_id: st.nodeId("Label", id), name, color: "ededed", description: null };
    r.labels.set(name.toLowerCase(), l);
  }
  return l;
}
export { ensureLabel };

export function issue(st: State, r: Repo, i: Issue): Json {
  const api = `${st.api}/repos/${r.fullName}/issues/${i.number}`;
  const out: Json = {
    url: api,
    repository_url: `${st.api}/repos/${r.fullName}`,
    labels_url: `${api}/labels{/name}`,
    comments_url: `${api}/comments`,
    events_url: `${api}/events`,
    html_url: `${st.origin}/${r.fullName}/${i.isPull ? "pull" : "issues"}/${i.number}`,
    id: i.id,
    node_id: i.node_id,
    number: i.number,
    title: i.title,
    user: user(st, i.user),
    labels: i.labels.map((n) => label(st, r, ensureLabel(st, r, n))),
    state: i.state,
    state_reason: i.stateReason,
    locked: false,
    assignee: i.assignees[0] ? user(st, i.assignees[0]) : null,
    assignees: i.assignees.map((a) => user(st, a)),
    milestone: null,
    comments: r.comments.filter((c) => c.issue === i.number).length,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
    closed_at: i.closedAt,
    author_association: authorAssociation(r, i.user),
    active_lock_reason: null,
    body: i.body,
    performed_via_github_app: i.viaApp === "timebox" ? app(st) : i.viaApp ? app(st, i.viaApp) : null,
  };
  if (i.isPull) {
    const p = r.pulls.get(i.number);
    out.pull_request = {
      url: `${st.api}/repos/${r.fullName}/pulls/${i.number}`,
      html_url: `${st.origin}/${r.fullName}/pull/${i.number}`,
      diff_url: `${st.origin}/${r.fullName}/pull/${i.number}.diff`,
      patch_url: `${st.origin}/${r.fullName}/pull/${i.number}.patch`,
      merged_at: p?.mergedAt ?? null,
    };
    if (p) out.draft = p.draft;
  }
  return out;
}

function authorAssociation(r: Repo, login: string): string {
  if (login.toLowerCase() === r.owner.toLowerCase()) return "OWNER";
  if (r.collaborators.has(login.toLowerCase())) return "COLLABORATOR";
  return "CONTRIBUTOR";
}

export function comment(st: State, r: Repo, c: IssueComment): Json {
  return {
    id: c.id,
    node_id: c.node_id,
    url: `${st.api}/repos/${r.fullName}/issues/comments/${c.id}`,
    html_url: `${st.origin}/${r.fullName}/issues/${c.issue}#issuecomment-${c.id}`,
    body: c.body,
    user: user(st, c.user),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    issue_url: `${st.api}/repos/${r.fullName}/issues/${c.issue}`,
    author_association: authorAssociation(r, c.user),
    performed_via_github_app: c.viaApp === "timebox" ? app(st) : c.viaApp ? app(st, c.viaApp) : null,
  };
}

export function pullHeadSha(st: State, r: Repo, p: PullRequest): string {
  if (p.state === "open") return st.ref(r, p.headRef) ?? p.headSha;
  return p.headSha;
}

export function pull(st: State, r: Repo, p: PullRequest, full = true): Json {
  const api = `${st.api}/repos/${r.fullName}`;
  const html = `${st.origin}/${r.fullName}/pull/${p.number}`;
  const head = pullHeadSha(st, r, p);
  const link = (href: string) => ({ href });
  const i = r.issues.get(p.number);
  const out: Json = {
    url: `${api}/pulls/${p.number}`,
    id: p.id,
    node_id: p.node_id,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${p.number}`,
    commits_url: `${api}/pulls/${p.number}/commits`,
    review_comments_url: `${api}/pulls/${p.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${p.number}/comments`,
    statuses_url: `${api}/statuses/${head}`,
    number: p.number,
    state: p.state,
    locked: false,
    title: p.title,
    user: user(st, p.user),
    body: p.body,
    // A pull request's labels have a non-nullable description in GitHub's description of the API.
    labels: (i?.labels ?? []).map((n) => ({ ...label(st, r, ensureLabel(st, r, n)), description: ensureLabel(st, r, n).description ?? "" })),
    milestone: null,
    active_lock_reason: null,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    closed_at: p.closedAt,
    merged_at: p.mergedAt,
    merge_commit_sha: p.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: { label: `${r.owner}:${p.headRef}`, ref: p.headRef, sha: head, user: user(st, r.owner), repo: repo(st, r) },
    base: { label: `${r.owner}:${p.baseRef}`, ref: p.baseRef, sha: p.baseSha, user: user(st, r.owner), repo: repo(st, r) },
    _links: {
      self: link(`${api}/pulls/${p.number}`),
      html: link(html),
      issue: link(`${api}/issues/${p.number}`),
      comments: link(`${api}/issues/${p.number}/comments`),
      review_comments: link(`${api}/pulls/${p.number}/comments`),
      review_comment: link(`${api}/pulls/comments{/number}`),
      commits: link(`${api}/pulls/${p.number}/commits`),
      statuses: link(`${api}/statuses/${head}`),
    },
    author_association: authorAssociation(r, p.user),
    auto_merge: null,
    draft: p.draft,
  };
  if (full) {
    const files = r.git.commits.has(head) ? prFiles(st, r, p) : [];
    Object.assign(out, {
      merged: p.merged,
      mergeable: p.state === "open" ? p.mergeable : null,
      rebaseable: p.state === "open" ? p.mergeable : null,
      mergeable_state: p.state === "open" ? (p.mergeable === false ? "dirty" : "clean") : "unknown",
      merged_by: p.mergedBy ? user(st, p.mergedBy) : null,
      comments: r.comments.filter((c) => c.issue === p.number).length,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: p.commits.length,
      additions: files.reduce((n, f) => n + f.additions, 0),
      deletions: files.reduce((n, f) => n + f.deletions, 0),
      changed_files: files.length,
    });
  }
  return out;
}

/** The PR's files: the diff between the merge base of base and head, and head (three-dot). */
export function prFiles(st: State, r: Repo, p: PullRequest): DiffEntry[] {
  const head = pullHeadSha(st, r, p);
  const baseTip = p.merged && p.mergeCommitSha ? (r.git.commits.get(p.mergeCommitSha)?.parents[0] ?? p.baseSha) : (st.ref(r, p.baseRef) ?? p.baseSha);
  const mb = r.git.mergeBase(baseTip, head);
  const before = mb ? r.git.commits.get(mb)!.tree : null;
  return r.git.diff(before, r.git.commits.get(head)!.tree);
}

export function review(st: State, r: Repo, v: Review): Json {
  const html = `${st.origin}/${r.fullName}/pull/${v.pull}#pullrequestreview-${v.id}`;
  const api = `${st.api}/repos/${r.fullName}/pulls/${v.pull}`;
  return {
    id: v.id,
    node_id: v.node_id,
    user: user(st, v.user),
    body: v.body,
    state: v.state,
    html_url: html,
    pull_request_url: api,
    _links: { html: { href: html }, pull_request: { href: api } },
    ...(v.submittedAt ? { submitted_at: v.submittedAt } : {}),
    commit_id: v.commitId,
    author_association: authorAssociation(r, v.user),
  };
}

/** Timebox's app, or another app acting in the repository (`foreign`). */
export function app(st: State, foreign?: ForeignApp): Json {
  const id = foreign?.id ?? st.app.id;
  const slug = foreign?.slug ?? st.app.slug;
  return {
    id,
    slug,
    node_id: st.nodeId("App", id),
    client_id: `Iv1.${id.toString(16).padStart(16, "0")}`,
    owner: user(st, st.app.owner),
    name: foreign ? foreign.slug : st.app.name,
    description: "Emulated GitHub App",
    external_url: st.origin,
    html_url: `${st.origin}/apps/${slug}`,
    created_at: "2020-01-01T00:00:00Z",
    updated_at: "2020-01-01T00:00:00Z",
    permissions: { checks: "write", contents: "write", issues: "write", pull_requests: "write", metadata: "read", members: "write", administration: "write" },
    events: ["pull_request", "pull_request_review", "push", "issue_comment", "check_run"],
    installations_count: st.installations.size,
  };
}

export function checkRun(st: State, r: Repo, c: CheckRun): Json {
  const api = `${st.api}/repos/${r.fullName}`;
  const prs = [...r.pulls.values()].filter((p) => p.state === "open" && pullHeadSha(st, r, p) === c.headSha);
  return {
    id: c.id,
    head_sha: c.headSha,
    node_id: c.node_id,
    external_id: c.externalId ?? "",
    url: `${api}/check-runs/${c.id}`,
    html_url: `${st.origin}/${r.fullName}/runs/${c.id}`,
    details_url: c.detailsUrl ?? `${st.origin}/${r.fullName}/runs/${c.id}`,
    status: c.status,
    conclusion: c.conclusion,
    started_at: c.startedAt,
    completed_at: c.completedAt,
    output: {
      title: c.output.title,
      summary: c.output.summary,
      text: c.output.text,
      annotations_count: c.output.annotations.length,
      annotations_url: `${api}/check-runs/${c.id}/annotations`,
    },
    name: c.name,
    check_suite: { id: c.checkSuiteId },
    app: app(st, c.foreignApp),
    pull_requests: prs.map((p) => ({
      url: `${api}/pulls/${p.number}`,
      id: p.id,
      number: p.number,
      head: { ref: p.headRef, sha: pullHeadSha(st, r, p), repo: { id: r.id, url: api, name: r.name } },
      base: { ref: p.baseRef, sha: p.baseSha, repo: { id: r.id, url: api, name: r.name } },
    })),
  };
}

export function installation(st: State, id: number): Json {
  const inst = st.installations.get(id)!;
  const acct = st.user(inst.account);
  return {
    id,
    account: user(st, acct),
    repository_selection: "selected",
    access_tokens_url: `${st.api}/app/installations/${id}/access_tokens`,
    repositories_url: `${st.api}/installation/repositories`,
    html_url: `${st.origin}/organizations/${acct.login}/settings/installations/${id}`,
    app_id: st.app.id,
    app_slug: st.app.slug,
    target_id: acct.id,
    target_type: acct.type === "Organization" ? "Organization" : "User",
    permissions: app(st).permissions,
    events: app(st).events,
    created_at: inst.createdAt,
    updated_at: inst.createdAt,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  };
}

/** Webhook payloads: real examples from @octokit/webhooks-examples with fields overridden from state. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as render from "./render.js";
import type { CommitObject } from "./git.js";
import type { IssueComment, PullRequest, Repo, Review, State } from "./state.js";

export interface WebhookEvent {
  event: string; // X-GitHub-Event, e.g. "pull_request"
  payload: Record<string, any>;
}

type Example = Record<string, any>;
let cache: { name: string; examples: Example[] }[] | undefined;

function examples() {
  if (!cache) {
    const require = createRequire(import.meta.url);
    cache = JSON.parse(readFileSync(require.resolve("@octokit/webhooks-examples/api.github.com/index.json"), "utf8"));
  }
  return cache!;
}

/** A deep copy of a real example payload for an event (and action), preferring one that has an installation. */
function example(name: string, action?: string): Example {
  const all = examples().find((e) => e.name === name)?.examples ?? [];
  const fit = all.filter((e) => action === undefined || e.action === action);
  const pick = fit.find((e) => e.installation) ?? fit[0] ?? all[0];
  if (!pick) throw new Error(`no webhook example for ${name}`);
  return structuredClone(pick);
}

function common(st: State, r: Repo, ex: Example, sender: string): Example {
  const out: Example = { ...ex };
  out.repository = { ...ex.repository, ...render.repo(st, r) };
  delete out.repository.permissions; // not present in webhook repositories
  out.sender = render.user(st, sender);
  if (r.installationId !== null) out.installation = { id: r.installationId, node_id: st.nodeId("Installation", r.installationId) };
  else delete out.installation;
  const owner = st.findUser(r.owner);
  if (owner?.type === "Organization") {
    const u = render.user(st, owner);
    out.organization = {
      login: owner.login,
      id: owner.id,
      node_id: owner.node_id,
      url: `${st.api}/orgs/${owner.login}`,
      repos_url: `${st.api}/orgs/${owner.login}/repos`,
      events_url: `${st.api}/orgs/${owner.login}/events`,
      hooks_url: `${st.api}/orgs/${owner.login}/hooks`,
      issues_url: `${st.api}/orgs/${owner.login}/issues`,
      members_url: `${st.api}/orgs/${owner.login}/members{/member}`,
      public_members_url: `${st.api}/orgs/${owner.login}/public_members{/member}`,
      avatar_url: u.avatar_url,
      description: null,
    };
  } else delete out.organization;
  return out;
}

export function pullRequestPayload(st: State, r: Repo, p: PullRequest, action: string, sender: string, extra: Record<string, unknown> = {}): WebhookEvent {
  const ex = example("pull_request", action);
  const out = common(st, r, ex, sender);
  out.action = action;
  out.number = p.number;
  const pr = { ...ex.pull_request, ...render.pull(st, r, p, true) };
  pr.head = { ...pr.head, repo: out.repository };
  pr.base = { ...pr.base, repo: out.repository };
  out.pull_request = pr;
  delete out.before;
  delete out.after;
  Object.assign(out, extra);
  return { event: "pull_request", payload: out };
}

export function reviewPayload(
  st: State,
  r: Repo,
  p: PullRequest,
  v: Review,
  action: string,
  sender: string,
  extra: Record<string, unknown> = {},
): WebhookEvent {
  const ex = example("pull_request_review", action);
  const out = common(st, r, ex, sender);
  out.action = action;
  out.review = { ...ex.review, ...render.review(st, r, v), state: v.state.toLowerCase() };
  const pr = { ...ex.pull_request, ...render.pull(st, r, p, false) };
  pr.head = { ...pr.head, repo: out.repository };
  pr.base = { ...pr.base, repo: out.repository };
  out.pull_request = pr;
  Object.assign(out, extra);
  return { event: "pull_request_review", payload: out };
}

export function issueCommentPayload(st: State, r: Repo, c: IssueComment, action: string, sender: string, extra: Record<string, unknown> = {}): WebhookEvent {
  const ex = example("issue_comment", action);
  const out = common(st, r, ex, sender);
  out.action = action;
  out.issue = { ...ex.issue, ...render.issue(st, r, r.issues.get(c.issue)!) };
  if (!r.pulls.has(c.issue)) delete out.issue.pull_request;
  out.comment = { ...ex.comment, ...render.comment(st, r, c) };
  Object.assign(out, extra);
  return { event: "issue_comment", payload: out };
}

export function pushPayload(
  st: State,
  r: Repo,
  opts: { ref: string; before: string; after: string; commits: CommitObject[]; pusher: string; forced?: boolean },
): WebhookEvent {
  const ex = example("push");
  const out = common(st, r, ex, opts.pusher);
  const zero = "0".repeat(40);
  const epoch = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);
  // push payloads carry unix timestamps for these two, unlike every other event
  out.repository = { ...out.repository, created_at: epoch(r.createdAt), pushed_at: epoch(r.pushedAt), master_branch: r.defaultBranch };
  out.repository.owner = { ...out.repository.owner, name: r.owner, email: st.findUser(r.owner)?.email ?? null };
  const pusher = st.user(opts.pusher);
  const toCommit = (c: CommitObject) => {
    const parent = c.parents[0] ? r.git.commits.get(c.parents[0])!.tree : null;
    const d = r.git.diff(parent, c.tree);
    const userOf = (email: string) => [...st.users.values()].find((u) => u.email === email)?.login;
    return {
      id: c.sha,
      tree_id: c.tree,
      distinct: true,
      message: c.message,
      timestamp: c.committer.date,
      url: `${st.origin}/${r.fullName}/commit/${c.sha}`,
      author: { name: c.author.name, email: c.author.email, ...(userOf(c.author.email) ? { username: userOf(c.author.email) } : {}) },
      committer: { name: c.committer.name, email: c.committer.email, ...(userOf(c.committer.email) ? { username: userOf(c.committer.email) } : {}) },
      added: d.filter((f) => f.status === "added" || f.status === "renamed").map((f) => f.filename),
      removed: d
        .filter((f) => f.status === "removed")
        .map((f) => f.filename)
        .concat(d.filter((f) => f.status === "renamed").map((f) => f.previous_filename!)),
      modified: d.filter((f) => f.status === "modified").map((f) => f.filename),
    };
  };
  const head = opts.after === zero ? null : r.git.commits.get(opts.after);
  Object.assign(out, {
    ref: opts.ref,
    before: opts.before,
    after: opts.after,
    created: opts.before === zero,
    deleted: opts.after === zero,
    forced: !!opts.forced,
    base_ref: null,
    compare: `${st.origin}/${r.fullName}/compare/${opts.before.slice(0, 12)}...${opts.after.slice(0, 12)}`,
    commits: opts.commits.map(toCommit),
    head_commit: head ? toCommit(head) : null,
    pusher: { name: pusher.login, email: pusher.email },
  });
  return { event: "push", payload: out };
}

/** The emulated GitHub's in-memory state. Plain data; behaviour lives in routes/ and emulator.ts. */
import type { Clock } from "../clock.js";
import { ObjectStore, type FileMode } from "./git.js";
import { RateLimits } from "./rate-limit.js";

export type UserType = "User" | "Bot" | "Organization";
export type TokenKind = "app" | "installation" | "provider" | "unknown" | "none";

export interface User {
  login: string;
  id: number;
  node_id: string;
  type: UserType;
  name: string;
  email: string;
  orgs: Set<string>;
  createdAt: string;
}

export interface PullRequest {
  number: number;
  id: number;
  node_id: string;
  title: string;
  body: string | null;
  state: "open" | "closed";
  draft: boolean;
  user: string;
  headRef: string;
  headSha: string; // frozen when closed; tracked from the branch while open
  baseRef: string;
  baseSha: string; // base tip when last synchronised (can be stale, like GitHub)
  merged: boolean;
  mergedAt: string | null;
  mergedBy: string | null;
  mergeCommitSha: string | null;
  mergeable: boolean | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  commits: string[];
  /** After a rebase merge: the commits GitHub wrote on the base (oldest first), each associated with this PR as its originals are. */
  rebased?: string[];
  lastPusher: string;
}

export interface Review {
  id: number;
  node_id: string;
  pull: number;
  user: string;
  body: string;
  state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";
  commitId: string;
  submittedAt: string | null;
}

export interface IssueComment {
  id: number;
  node_id: string;
  issue: number;
  user: string;
  body: string;
  createdAt: string;
  updatedAt: string;
  /** The GitHub App that created it (`performed_via_github_app`): Timebox's own for its installation token, another app's when set by a test. */
  viaApp?: ForeignApp | "timebox";
}

/** Another GitHub App acting in the same repository (e.g. GitHub Actions, id 15368). */
export interface ForeignApp {
  id: number;
  slug: string;
}

export interface Issue {
  number: number;
  id: number;
  node_id: string;
  title: string;
  body: string | null;
  user: string;
  labels: string[];
  assignees: string[];
  state: "open" | "closed";
  stateReason: string | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  isPull: boolean;
  /** The GitHub App that opened it (`performed_via_github_app`): Timebox's own for its installation token, another app's when set by a test. */
  viaApp?: ForeignApp | "timebox";
  /** Timeline events GitHub lists under /issues/{n}/events (closed, reopened), oldest first. */
  events?: Array<{ id: number; event: "closed" | "reopened"; actor: string; createdAt: string }>;
}

export interface Label {
  id: number;
  node_id: string;
  name: string;
  color: string;
  description: string | null;
}

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: "notice" | "warning" | "failure";
  message: string;
  title?: string;
  raw_details?: string;
}

export interface CheckRun {
  id: number;
  node_id: string;
  headSha: string;
  name: string;
  externalId: string | null;
  status: "queued" | "in_progress" | "completed" | "waiting" | "requested" | "pending";
  conclusion: string | null;
  startedAt: string;
  completedAt: string | null;
  detailsUrl: string | null;
  output: { title: string | null; summary: string | null; text: string | null; annotations: Annotation[] };
  checkSuiteId: number;
  createdBy: TokenKind;
  /** Set when another GitHub App created it (a test acting as that app); Timebox's app otherwise. */
  foreignApp?: ForeignApp;
}

interface BranchProtection {
  /** Let the installation (app) token update the ref anyway (GitHub's "allow specified actors to bypass"). */
  allowApp?: boolean;
  /** Status code GitHub answers with (422 for ref updates is the usual; 403 when the app lacks bypass). */
  status?: 403 | 422;
}

export type RepoRole = "admin" | "maintain" | "write" | "triage" | "read";

export interface Repo {
  id: number;
  node_id: string;
  owner: string;
  name: string;
  fullName: string;
  private: boolean;
  defaultBranch: string;
  installationId: number | null;
  git: ObjectStore;
  refs: Map<string, string>; // "refs/heads/main" → sha
  protected: Map<string, BranchProtection>;
  pulls: Map<number, PullRequest>;
  issues: Map<number, Issue>;
  nextNumber: number;
  comments: IssueComment[];
  reviews: Review[];
  labels: Map<string, Label>;
  checkRuns: CheckRun[];
  collaborators: Map<string, RepoRole>;
  invitations: Map<string, { id: number; role: RepoRole; createdAt: string; inviter: string }>;
  createdAt: string;
  pushedAt: string;
}

export interface Team {
  id: number;
  node_id: string;
  org: string;
  slug: string;
  name: string;
  members: Map<string, { role: "member" | "maintainer"; state: "active" | "pending" }>;
}

export interface Installation {
  id: number;
  account: string;
  createdAt: string;
}

export interface TokenInfo {
  kind: TokenKind;
  installationId?: number;
  expiresAt?: string;
  /** The login the token acts as (app bot or provider user). */
  actor: string;
}

export interface AppInfo {
  id: number;
  slug: string;
  name: string;
  owner: string;
  webhookSecret: string;
}

export interface RequestRecord {
  method: string;
  path: string; // as requested (without /api/v3 and query)
  route: string | null; // template, e.g. /repos/{owner}/{repo}/pulls/{pull_number}; null when unknown
  status: number;
  tokenKind: TokenKind;
  query: Record<string, string>;
  body: unknown;
  at: string;
  /** A GraphQL reply's `errors` (GitHub answers them with status 200). */
  graphqlErrors?: unknown[];
}

/** A request as a hook sees it, before any route handler runs. */
export interface RequestInfo {
  method: string;
  path: string;
  route: string;
  tokenKind: TokenKind;
  query: Record<string, string>;
  body: unknown;
}

/** What a hook answers instead of the route: an error status and GitHub's message. */
interface InjectedReply {
  status: number;
  message?: string;
}

/**
 * Fault injection: a hook may answer a request itself (return a reply) or let it through
 * (undefined); a hook that returns a promise holds the request until it settles (races, barriers).
 */
export type RequestHook = (req: RequestInfo) => InjectedReply | undefined | Promise<InjectedReply | undefined>;

export class State {
  origin = "http://github.localhost";
  /** Consulted in order after authentication, before the route handler; the first reply wins. */
  readonly requestHooks: RequestHook[] = [];
  readonly users = new Map<string, User>();
  readonly repos = new Map<string, Repo>(); // key: lower-case full name
  readonly teams = new Map<string, Team>(); // key: org/slug lower-case
  readonly installations = new Map<number, Installation>();
  readonly tokens = new Map<string, TokenInfo>();
  readonly requests: RequestRecord[] = [];
  /** `x-ratelimit-*` headers on every response, per token (reported, not enforced). */
  readonly rateLimits = new RateLimits();
  private nextId = 1000;

  constructor(
    readonly clock: Clock,
    readonly app: AppInfo,
  ) {}

  get api(): string {
    return `${this.origin}/api/v3`;
  }

  now(): string {
    return this.clock
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z");
  }

  id(): number {
    return this.nextId++;
  }

  nodeId(kind: string, id: number): string {
    return Buffer.from(`0:${kind}${id}`).toString("base64").replace(/=+$/, "");
  }

  get botLogin(): string {
    return `${this.app.slug}[bot]`;
  }

  user(login: string, type?: UserType): User {
    const key = login.toLowerCase();
    let u = this.users.get(key);
    if (!u) {
      const id = this.id();
      const t: UserType = type ?? (login.endsWith("[bot]") ? "Bot" : "User");
      u = {
        login,
        id,
        node_id: this.nodeId(t === "Bot" ? "Bot" : t === "Organization" ? "Organization" : "User", id),
        type: t,
        name: login,
        email: `${id}+${login}@users.noreply.github.com`,
        orgs: new Set(),
        createdAt: this.now(),
      };
      this.users.set(key, u);
    }
    return u;
  }

  findUser(login: string): User | undefined {
    return this.users.get(login.toLowerCase());
  }

  repo(owner: string, name: string): Repo | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  team(org: string, slug: string): Team | undefined {
    return this.teams.get(`${org}/${slug}`.toLowerCase());
  }

  ref(repo: Repo, branch: string): string | undefined {
    return repo.refs.get(`refs/heads/${branch}`);
  }

  /** Create a commit on top of `parents` that applies file writes/deletes to the first parent's tree. */
  commitFiles(
    repo: Repo,
    opts: {
      parents: string[];
      files?: Record<string, string | { content: string; mode?: FileMode } | { sha: string; mode: "160000" }>;
      deletes?: string[];
      message: string;
      author: User;
      committer?: User;
      date?: string;
    },
  ): string {
    const git = repo.git;
    const base = opts.parents[0] ? git.commits.get(opts.parents[0]) : undefined;
    const flat = base ? git.flatten(base.tree) : new Map();
    for (const [path, f] of Object.entries(opts.files ?? {})) {
      if (typeof f === "string") flat.set(path, { mode: "100644", type: "blob", sha: git.putBlob(f) });
      else if ("sha" in f) flat.set(path, { mode: "160000", type: "commit", sha: f.sha });
      else flat.set(path, { mode: f.mode ?? "100644", type: "blob", sha: git.putBlob(f.content) });
    }
    for (const path of opts.deletes ?? []) {
      flat.delete(path);
      for (const k of [...flat.keys()]) if (k.startsWith(path + "/")) flat.delete(k);
    }
    const date = opts.date ?? this.now();
    const ident = (u: User) => ({ name: u.name, email: u.email, date });
    const c = git.putCommit({
      tree: git.build(flat),
      parents: opts.parents,
      author: ident(opts.author),
      committer: ident(opts.committer ?? opts.author),
      message: opts.message,
    });
    return c.sha;
  }
}

import type { ProbotOctokit } from "probot";

export type Octokit = ProbotOctokit;

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface PullRequestInfo {
  number: number;
  state: "open" | "closed";
  merged: boolean;
  mergedAt?: string;
  mergeCommitSha?: string;
  draft: boolean;
  author: string;
  headSha: string;
  headRef: string;
  baseRef: string;
  htmlUrl: string;
  /** Label names: hints people set, never a fact Timebox decides by. */
  labels?: string[];
}

export interface ChangedFile {
  path: string;
  status: "added" | "modified" | "removed" | "renamed" | "copied" | "changed" | "unchanged";
  /** Blob sha at the head (absent for removed files). */
  sha?: string;
  previousPath?: string;
}

/** A tree entry: Git mode tells regular files (100644/100755) from symlinks (120000) and submodules (160000). */
export interface TreeEntry {
  path: string;
  mode: string;
  sha: string;
  type: "blob" | "tree" | "commit";
  /** A blob's size in bytes, as the trees API reports it: lets a caller refuse a huge file before downloading it. */
  size?: number;
}

export interface Review {
  id: number;
  user: { login: string; type: string } | null;
  state: string;
  commit_id: string | null;
  submitted_at?: string | null;
}

interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
  annotations?: CheckAnnotation[];
}

export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: "notice" | "warning" | "failure";
  message: string;
  title?: string;
}

export interface CheckRunSpec {
  name: string;
  headSha: string;
  status: "in_progress" | "completed";
  conclusion?: "success" | "failure" | "neutral" | "action_required" | "cancelled" | "skipped";
  externalId?: string;
  output: CheckRunOutput;
}

export interface ExistingCheckRun {
  id: number;
  externalId: string | null;
  status: string;
  conclusion: string | null;
  title: string | null;
  summary: string | null;
  text: string | null;
}

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

/** What a merged PR looked like at merge time: facts that never change, read once per process. */
export interface MergedPullFacts {
  /** The merge commit's first parent (past a rebase merge's own commits). */
  base: string | undefined;
  /** The reviews given before the merge. */
  reviews: Review[];
  /** Who pushed the head, as Timebox's validate check run recorded it. */
  pusher: string | undefined;
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
  /** Its markers that carry a valid seal (without the seal): the only ones Timebox reads back. */
  markers: string[];
}

export type RemovalOutcome = { kind: "committed"; sha: string } | { kind: "already-gone" } | { kind: "pull-request"; number: number; url: string };

/**
 * The trusted policy at a commit (lifecycle/policy-trust.ts): the newest version of the policy file
 * that reached the default branch as its first version or through a merged PR its owners approved.
 */
export interface TrustedPolicy {
  /** The trusted version's text; undefined when there is no policy, or none is trusted. */
  text?: string;
  /** The commit of the trusted version (undefined: none). */
  commit?: string;
  /** The newest version at the commit asked about, when it is not trusted: its commit and why. */
  untrusted?: { commit: string; reason: string };
  /** Judged on facts GitHub may still complete (a push not linked to its PR yet): asked again next time. */
  transient?: boolean;
}

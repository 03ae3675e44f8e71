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

/**
 * What `timebox plan` knows about an access repository, read offline from a clone (`read.ts`):
 * the default branch's tip, how each grant file's content got there, and what the checkout
 * would change. The decision (`decide.ts`) is a pure function of these facts and a time.
 */
import type { EntryKind } from "../grants/check.js";

/** A file as stored: its kind, its size, and its bytes (omitted when larger than a grant may be). */
export interface StoredFile {
  kind: EntryKind;
  size: number;
  content?: Uint8Array;
}

/** The first-parent commit that brought a grant file's current content to the default branch. */
interface OriginCommit {
  sha: string;
  /** Committer date: when the content reached the default branch (≈ the PR's merged_at). */
  committedAt: Date;
  subject: string;
  /** The PR named by the subject (`Merge pull request #N …` or a squash merge's `… (#N)`). */
  pullRequest: number | null;
  /**
   * For a merge commit: whether the PR's head (its second parent) holds exactly this content,
   * as the app requires. Undefined for a single-parent commit (a squash merge cannot be checked).
   */
  headMatches?: boolean;
  /** The policy at the merge's base (the commit's first parent); null when there was none. */
  basePolicy: StoredFile | null;
}

/** A grant file on the default branch's tip. */
export interface BranchGrant {
  path: string;
  file: StoredFile;
  /** Undefined when no first-parent commit is found for it (should not happen in a sane clone). */
  origin?: OriginCommit;
  /** How many times this file was modified on the default branch since it was last added. */
  extensions: number;
  /** The PR that first brought this file (the grant an extension extends); null without one. */
  requestedIn?: number | null;
}

/** A grant file removed from the default branch recently by a commit other than Timebox's own. */
export interface RecentRemoval {
  path: string;
  commit: string;
  removedAt: Date;
  /** The PR that brought the removed content (an approved-looking grant); null for a direct push. */
  pullRequest: number | null;
  /** The PR that removed it, when the removal came through one. */
  removedBy: number | null;
}

/** A grant file (or the policy) that the checkout would change on the default branch. */
export interface ProposedChange {
  path: string;
  /** Undefined when the checkout removes the file. */
  file?: StoredFile;
}

export interface PlanFacts {
  /** The clone's top folder (or git dir for a bare clone). */
  repository: string;
  /** What was read as the default branch: `origin/HEAD` or `HEAD`. */
  ref: string;
  /** Its commit; undefined when the repository has no commits yet. */
  commit?: string;
  /** The policy on the default branch; null when there is none. */
  policy: StoredFile | null;
  grants: BranchGrant[];
  recentRemovals: RecentRemoval[];
  /** Where pending changes were read from: the working tree, the checked-out HEAD (bare clone), or nowhere. */
  pendingSource: "working tree" | "HEAD" | null;
  pending: ProposedChange[];
  /** A change to the policy file itself, when the checkout has one. */
  pendingPolicy?: ProposedChange;
}

/**
 * Reduce GitHub's review list to one standing review per reviewer.
 *
 * The latest non-COMMENTED, non-PENDING review of a reviewer is the one that counts (a comment
 * after an approval does not cancel it). We never trust the list order: reviews are sorted by
 * `submitted_at`, then `id`.
 */
import type { PullRequestRef, PullRequestReview } from "./types.js";

/** States that decide something: they replace the reviewer's previous standing review. */
type DecisiveState = "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED";

interface StandingReview {
  id: number;
  state: DecisiveState;
  /** Lower-case commit SHA, or "" when GitHub did not say. */
  commit: string;
  /** The review is on the PR's head commit. */
  onHead: boolean;
}

export type Exclusion = "author" | "bot" | "last-pusher";

export interface Reviewer {
  /** Lower-case login: the identity key. */
  key: string;
  /** Login as GitHub last spelled it. */
  login: string;
  bot: boolean;
  /** The latest APPROVED / CHANGES_REQUESTED / DISMISSED review, if any. */
  standing?: StandingReview;
  /** The reviewer left a submitted COMMENTED (or unknown-state) review. */
  commented: boolean;
  /** The reviewer has a PENDING (draft) review. */
  pending: boolean;
  /** Position in chronological order of the review that decided the reviewer's standing. */
  order: number;
}

export const lower = (s: string): string => s.toLowerCase();

/** Bots never count: `type: "Bot"` or a login ending in `[bot]`. */
export function isBotUser(user: { login: string; type?: string }): boolean {
  return lower(user.type ?? "") === "bot" || lower(user.login).endsWith("[bot]");
}

function time(r: PullRequestReview): number {
  if (!r.submitted_at) return Number.POSITIVE_INFINITY; // PENDING: not submitted yet, newest
  const t = Date.parse(r.submitted_at);
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

/** Chronological order: `submitted_at`, then `id`. Does not mutate the input. */
function sortReviews(reviews: readonly PullRequestReview[]): PullRequestReview[] {
  return [...reviews].sort((a, b) => {
    const ta = time(a);
    const tb = time(b);
    if (ta !== tb) return ta < tb ? -1 : 1;
    return a.id - b.id;
  });
}

/** Upper-case state; webhook payloads spell states in lower case. */
function normaliseState(state: string): string {
  return String(state ?? "").toUpperCase();
}

/**
 * One entry per reviewer (deleted accounts excluded — see `deletedAccountReviews`), ordered by
 * when their standing was decided.
 */
export function reviewers(reviews: readonly PullRequestReview[], headSha: string): Reviewer[] {
  const head = lower(headSha);
  const byKey = new Map<string, Reviewer>();
  sortReviews(reviews).forEach((r, index) => {
    if (!r.user || typeof r.user.login !== "string" || r.user.login === "") return;
    const key = lower(r.user.login);
    let rv = byKey.get(key);
    if (!rv) {
      rv = { key, login: r.user.login, bot: false, commented: false, pending: false, order: index };
      byKey.set(key, rv);
    }
    rv.login = r.user.login;
    rv.bot = rv.bot || isBotUser(r.user);
    const state = normaliseState(r.state);
    if (state === "APPROVED" || state === "CHANGES_REQUESTED" || state === "DISMISSED") {
      const commit = lower(r.commit_id ?? "");
      rv.standing = { id: r.id, state, commit, onHead: commit !== "" && commit === head };
      rv.order = index;
    } else if (state === "PENDING") {
      rv.pending = true;
    } else {
      // COMMENTED, or a state we do not know: never counts, never cancels or blocks.
      rv.commented = true;
    }
  });
  return [...byKey.values()].sort((a, b) => a.order - b.order);
}

/** How many reviews came from deleted accounts (`user: null`). */
export function deletedAccountReviews(reviews: readonly PullRequestReview[]): number {
  return reviews.filter((r) => !r.user).length;
}

/**
 * Why a reviewer can never count for this PR, if they cannot. The author and bots also never
 * block; the last pusher's CHANGES_REQUESTED still blocks (pushing does not withdraw a review).
 */
export function exclusion(rv: Reviewer, pr: PullRequestRef): Exclusion | undefined {
  if (rv.key === lower(pr.author)) return "author";
  if (rv.bot) return "bot";
  if (pr.lastPusher !== undefined && rv.key === lower(pr.lastPusher)) return "last-pusher";
  return undefined;
}

/**
 * Whether the reviewer's standing review is an approval that counts wherever they are eligible: an
 * APPROVED on the head commit, by neither the PR's author, a bot nor its last pusher. The evaluator
 * counts exactly these (and asks the policy who is eligible); `timebox audit --github` lists
 * exactly these as a PR's approvers. The requester's own approval never counts either: the
 * evaluator excludes it per grant, the audit per row (`approvalsFor`).
 */
export function approvesHead(rv: Reviewer, pr: PullRequestRef): boolean {
  return rv.standing?.state === "APPROVED" && eligibilityMatters(rv, pr);
}

/**
 * Whether the reviewer's eligibility for a requirement matters to the evaluation — i.e. whether
 * their review could count (an approval on the head commit) or block (changes requested, on any
 * commit). This single predicate drives both `membershipQueries` and `evaluateApprovals`, so the
 * evaluator never asks about a pair the handler did not pre-fetch.
 */
export function eligibilityMatters(rv: Reviewer, pr: PullRequestRef): boolean {
  const ex = exclusion(rv, pr);
  if (ex === "author" || ex === "bot") return false;
  const s = rv.standing;
  if (!s) return false;
  if (s.state === "CHANGES_REQUESTED") return true;
  if (s.state === "APPROVED") return s.onHead && ex === undefined;
  return false;
}

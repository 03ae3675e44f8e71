/**
 * Plain-data types for the approval evaluator (design brief §2 rule 2, §6).
 *
 * Everything here is data the handler gathers through the API at handling time; the evaluator
 * itself does no I/O, reads no clock and no environment.
 */
import type { PrincipalRef, RoleSpec } from "../policy/types.js";

/** One grant file changed by the PR. */
export interface GrantApprovalInput {
  /** Repository-relative path: the grant's id. */
  path: string;
  /** Whether the file passed `timebox/validate`. An invalid grant is never satisfied. */
  valid: boolean;
  resource?: string;
  role?: string;
  /** The role as the policy defines it **at the base commit** (never the PR head's policy). */
  spec?: RoleSpec;
  /**
   * The grant's `requester` (the login that gets the access). Their approval never counts for this
   * grant — with `allow_on_behalf` the PR's author may be someone else, and the requester may be an
   * eligible approver of the role. Absent when the file could not be read (it is then invalid).
   */
  requester?: string;
}

/** Present when the PR changes `.github/timebox.yml`. */
interface PolicyChangeInput {
  /** `owners` as of the base commit. */
  owners: PrincipalRef[];
}

export interface PullRequestRef {
  /** Login of the PR author. */
  author: string;
  /** The PR's head commit SHA: only reviews on this commit count. */
  headSha: string;
  /**
   * Login that pushed the head commit (the `sender` of the `opened`/`synchronize` webhook).
   * When unknown, nothing is satisfied: Timebox cannot exclude the pusher, so it fails closed.
   */
  lastPusher?: string;
}

/** GitHub REST review states (upper-case; webhook payloads use lower-case — both are accepted). */
type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";

/** A pull-request review as the REST reviews list returns it (only the fields used). */
export interface PullRequestReview {
  id: number;
  /** `null` for a deleted account ("ghost"). */
  user: { login: string; type?: string } | null;
  /** A {@link ReviewState}; any other value is treated like COMMENTED (never counts, never blocks). */
  state: ReviewState | string;
  /** The commit the review was submitted on (may be null for very old reviews). */
  commit_id: string | null;
  /** ISO 8601; absent for PENDING reviews. */
  submitted_at?: string | null;
}

export interface ApprovalInput {
  grants: GrantApprovalInput[];
  policyChange?: PolicyChangeInput;
  pr: PullRequestRef;
  /** Every review on the PR, in any order (the evaluator sorts by `submitted_at`, then `id`). */
  reviews: PullRequestReview[];
}

/**
 * Synchronous lookup into team memberships the handler pre-fetched (see `membershipQueries`).
 * Called with a lower-case login and a lower-case `@org/team`. Must return `true` only for an
 * **active** member (a pending invitation is `false`).
 */
export type IsMember = (login: string, team: string) => boolean;

/** One (reviewer, team) pair the handler must read before evaluating. Both lower-case. */
export interface MembershipQuery {
  login: string;
  team: string;
}

/** Why a review did not count. */
export type IgnoredKind =
  | "author"
  | "requester"
  | "last-pusher"
  | "bot"
  | "deleted-account"
  | "stale"
  | "not-eligible"
  | "membership-unknown"
  | "commented-only"
  | "pending"
  | "dismissed";

export interface IgnoredReview {
  login: string;
  kind: IgnoredKind;
  /** Human-readable reason, e.g. `approved an older commit abc1234; re-approval needed`. */
  reason: string;
}

/** The outcome for one requirement: a grant file, or the policy change. */
export interface RequirementResult {
  /** Grant path, or `.github/timebox.yml` for the policy change. */
  path: string;
  kind: "grant" | "policy-change";
  resource?: string;
  role?: string;
  /** For grants: whether the file passed `timebox/validate`. Always true for the policy change. */
  valid: boolean;
  satisfied: boolean;
  /** Distinct eligible approvals required. */
  needed: number;
  /** Who may approve (the role's `approvers`, or the policy `owners`), as written in the base policy. */
  required: PrincipalRef[];
  /** Logins whose approval on the head commit counted, in the order they approved. */
  counted: string[];
  /** How many more approvals are needed (0 when enough were counted). */
  missingCount: number;
  /** Who could still give them: `required` without the author, requester and last pusher, and without those counted. */
  missingFrom: PrincipalRef[];
  /** One line: what is still missing (empty when satisfied). */
  missing: string;
  /** Eligible reviewers whose latest review requests changes. */
  blockedBy: string[];
  ignored: IgnoredReview[];
}

export interface ApprovalResult {
  /** True when every requirement is satisfied (or there is nothing to approve). */
  satisfied: boolean;
  /** No grant files and no policy change in the PR. */
  nothingToApprove: boolean;
  headSha: string;
  grants: RequirementResult[];
  policyChange?: RequirementResult;
  /** Conditions affecting the whole PR (e.g. the head commit's pusher is unknown). */
  warnings: string[];
}

export type ApprovalConclusion = "success" | "action_required" | "neutral";

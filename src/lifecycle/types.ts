import type { MergedPull } from "../github/types.js";
import type { Grant } from "../grants/types.js";
import type { Policy, RoleSpec } from "../policy/types.js";

/** How a grant file's current content reached the default branch. */
export type GrantOrigin =
  | {
      approved: true;
      pull: MergedPull;
      /** Logins whose approvals counted at merge time. */
      approvedBy: string[];
      grant: Grant;
      role: RoleSpec;
      /** The policy at the merge's base: the one the grant was judged by. */
      policy: Policy;
      /** When the access began (ISO): the PR's `merged_at`, or the break-glass apply before it. */
      activatedAt: string;
      /** Set when this version changed an earlier approved version of the file: an extension. */
      extension?: Extension;
      /** Set when the grant was applied by break-glass before its PR merged. */
      breakglass?: BreakglassFacts;
    }
  | {
      approved: false;
      /** Why it is not applied, for the report. */
      reason: string;
      /** The commit that brought the content. */
      commitSha: string;
      committer?: string;
      /** When the commit was made: a very fresh one may not be linked to its PR by GitHub yet. */
      committedAt?: string;
      pull?: MergedPull;
      /** True when no merged PR was found: may change, so it is looked up again next time. */
      transient?: boolean;
    };

/** A merged change to an approved grant file: it restarts the clock at its own merge. */
export interface Extension {
  /** The PR that first requested the grant. */
  of: number;
  /** How many extensions the grant has had, counting this one. */
  count: number;
  /** The version it extends: its apply record holds the prior access to carry over. */
  previous: { mergeCommitSha: string; key: string };
  /** The earlier versions' PRs and who approved each, oldest first (recorded in the removal commit). */
  earlier?: Array<{ pr: number; approvedBy: string[] }>;
}

/** What Timebox recorded when it applied an emergency grant before review. */
export interface BreakglassFacts {
  grantedAt: string;
  reviewDue: string;
  /** The provider's prior access, recorded before break-glass granted anything. */
  priorAccess?: Record<string, string>;
  /** The normal approval that arrived afterwards, if it did. */
  reviewedBy?: string[];
  reviewedAt?: string;
}

/** A grant file as it stands on the default branch, with where it came from. */
export interface TrackedGrant {
  path: string;
  blobSha: string;
  origin: GrantOrigin;
  /**
   * The file's blob at the tip when it differs from this version's: an unapproved change on top of
   * an approved version, which keeps running to its own expiry (the change never extends it).
   */
  tipBlobSha?: string;
}

export type ApprovedGrant = TrackedGrant & { origin: Extract<GrantOrigin, { approved: true }> };

export const isApproved = (t: TrackedGrant): t is ApprovedGrant => t.origin.approved;

/** `path@blob`: one version of one grant file, the unit every lifecycle step is keyed by. */
export const versionKey = (t: { path: string; blobSha: string }): string => `${t.path}@${t.blobSha.slice(0, 12)}`;

import type { MergedPull } from "../github/lifecycle-gateway.js";
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

/** A grant file as it stands on the default branch, with where it came from. */
export interface TrackedGrant {
  path: string;
  blobSha: string;
  origin: GrantOrigin;
}

export type ApprovedGrant = TrackedGrant & { origin: Extract<GrantOrigin, { approved: true }> };

export const isApproved = (t: TrackedGrant): t is ApprovedGrant => t.origin.approved;

/** `path@blob`: one version of one grant file, the unit every lifecycle step is keyed by. */
export const versionKey = (t: { path: string; blobSha: string }): string => `${t.path}@${t.blobSha.slice(0, 12)}`;

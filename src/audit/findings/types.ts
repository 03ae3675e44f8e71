import type { AuditRow } from "../types.js";
import type { LookAlike } from "../history.js";

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- read only by the FindingId type below
const FINDING_IDS = [
  "repeated-access",
  "break-glass",
  "fast-approval",
  "dominant-approver",
  "out-of-hours",
  "revocation-lag",
  "no-outcome",
  "unapproved-content",
  "untrusted-records",
] as const;
export type FindingId = (typeof FINDING_IDS)[number];

/** Which row of the report a finding is about: its position (1-based) and what identifies it. */
export interface GrantRef {
  row: number;
  grant: string;
  requester: string | null;
  pull_request: number | null;
  granted_at: string;
}

/** One instance of a pattern, with the grants behind it. */
export interface FindingItem {
  summary: string;
  grants: GrantRef[];
}

/**
 * `found`: at least one item. `clear`: looked, nothing found. `needs-github`: the facts are not in
 * Git (approval times); run with `--github`. `off`: disabled by its option.
 */
type FindingStatus = "found" | "clear" | "needs-github" | "off";

export interface Finding {
  id: FindingId;
  title: string;
  /** The rule with the thresholds used, in words. */
  rule: string;
  status: FindingStatus;
  items: FindingItem[];
}

/** An approving review, as GitHub recorded it (`--github`). */
export interface Approval {
  login: string;
  at: string;
}

/** Working hours in one time zone: minutes after midnight, ISO weekdays (1 = Monday). */
export interface WorkingHours {
  startMinute: number;
  endMinute: number;
  days: ReadonlySet<number>;
  zone: string;
}

export interface FindingOptions {
  now: Date;
  /** Flag more than `threshold` grants of the same access to one person within `windowMs`. */
  repeat: { threshold: number; windowMs: number };
  /** Flag an approval given less than this after the PR was opened. */
  fastApprovalMs: number;
  /** Flag an approver with more than `share` (0..1) of a resource's approved grants, once it has at least `minApprovals`. */
  dominant: { share: number; minApprovals: number };
  /** null: the out-of-hours finding is off. */
  workingHours: WorkingHours | null;
  /** Flag a revocation more than this after the expiry. */
  lagMs: number;
}

/** What `--github` adds: approvals per PR (absent without `--github`). */
export interface GithubFacts {
  approvals: ReadonlyMap<number, readonly Approval[]>;
}

/**
 * The approvals of `row`'s PR that count for its grant: never its requester's own, whoever opened
 * the PR — a `/timebox request` PR is the app's, so GitHub lets its requester approve it, and the
 * approval rule (`approvals/`) ignores that review. Every use of GitHub's approvals in the audit
 * (the row's approvers, the findings) goes through here.
 */
export function approvalsFor(github: GithubFacts, row: Pick<AuditRow, "pull_request" | "requester">): Approval[] {
  const all = row.pull_request === null ? undefined : github.approvals.get(row.pull_request);
  const requester = row.requester?.toLowerCase();
  return (all ?? []).filter((a) => a.login.toLowerCase() !== requester);
}

export interface FindingContext {
  rows: readonly AuditRow[];
  ref: (row: AuditRow) => GrantRef;
  options: FindingOptions;
  github?: GithubFacts;
  /** Commits with Timebox's trailers that Timebox did not make. */
  lookAlikes?: readonly LookAlike[];
}

export const DEFAULT_FINDING_OPTIONS: Omit<FindingOptions, "now"> = {
  repeat: { threshold: 3, windowMs: 30 * 86_400_000 },
  fastApprovalMs: 60_000,
  dominant: { share: 0.5, minApprovals: 5 },
  workingHours: { startMinute: 9 * 60, endMinute: 18 * 60, days: new Set([1, 2, 3, 4, 5]), zone: "UTC" },
  lagMs: 5 * 60_000,
};

/** What `timebox plan` prints: the JSON shape of `--format json`, and what the tables show. */
import type { Diagnostic } from "../diagnostics.js";

/** A diagnostic without its path (the entry it belongs to names the file). */
export type PlanDiagnostic = Pick<Diagnostic, "line" | "column" | "message" | "rule" | "severity">;

/** Who must approve a grant of a role, as the policy says (not checked offline). */
export interface ApprovalNeed {
  approvals: number;
  approvers: string[];
}

/** What a grant file says, when it could be read. */
export interface GrantSummary {
  requester: string;
  resource: string;
  role: string;
  duration: string;
  reason: string;
  ticket: string | null;
  emergency: boolean;
}

/** A grant that a reconcile would keep in effect now. */
export interface ActiveEntry extends GrantSummary {
  path: string;
  pull_request: number;
  commit: string;
  /** The merge commit's committer date: an approximation of the PR's merged_at. */
  granted_at: string;
  expires_at: string;
  seconds_left: number;
  /** How many times the file was changed by a merged PR since it was added (its extensions). */
  extensions: number;
  /** The policy's cap for this role (`max_extensions`); null when unlimited. */
  max_extensions: number | null;
  approval: ApprovalNeed;
  action: "ensure applied" | "none: applying is paused while the policy is invalid";
}

/** A grant a reconcile would revoke now. */
export interface RevokeEntry {
  path: string;
  requester: string | null;
  resource: string | null;
  role: string | null;
  pull_request: number | null;
  reason: "expired" | "removed";
  /** `expired`: when it expired; `removed`: when the file was removed. */
  since: string;
  expires_at: string | null;
  action: string;
}

/** Content on the default branch that a reconcile would report and never apply. */
export interface ReportEntry {
  path: string;
  commit: string | null;
  committed_at: string | null;
  pull_request: number | null;
  why: string;
  action: "report as unapproved (timebox:unapproved issue); never applied";
}

/** A file that fails validation, with located diagnostics. */
export interface InvalidEntry {
  path: string;
  where: "default branch" | "checkout";
  diagnostics: PlanDiagnostic[];
}

type PendingChange = "new request" | "extension" | "replacement" | "removal" | "policy change";

/** What the checkout would change on the default branch, and what would happen on merge. */
export interface PendingEntry {
  path: string;
  change: PendingChange;
  valid: boolean;
  grant: GrantSummary | null;
  approval: ApprovalNeed | null;
  /** Present for a valid break-glass request. */
  breakglass: { max_duration: string; review_within: string } | null;
  /** Present for an extension of an active grant: the PR that first requested it, and which extension this is. */
  extension: { of_pull_request: number; number: number; max_extensions: number | null; current_expires_at: string } | null;
  /** What happens when it merges, in one sentence. */
  on_merge: string;
}

export interface Plan {
  repository: string;
  default_branch: { ref: string; commit: string | null };
  at: string;
  /** Always false: the plan reads Git only; providers are never asked. */
  provider_state_checked: false;
  policy: { path: string; present: boolean; valid: boolean; diagnostics: PlanDiagnostic[] };
  pending_source: "working tree" | "HEAD" | null;
  active: ActiveEntry[];
  revoke: RevokeEntry[];
  report: ReportEntry[];
  invalid: InvalidEntry[];
  pending: PendingEntry[];
  next_expiry: { path: string; expires_at: string } | null;
  /** False when any file on the default branch or in the checkout (or a policy) fails validation. */
  valid: boolean;
}

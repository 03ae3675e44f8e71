import type { AuditRow } from "../types.js";
import { dominantApprover, fastApprovals } from "./approvals.js";
import { breakGlass } from "./breakglass.js";
import { outOfHours } from "./hours.js";
import { revocationLag } from "./lag.js";
import { missingOutcomes } from "./outcome.js";
import { repeatedAccess } from "./repeated.js";
import type { Finding, FindingContext, FindingOptions, GithubFacts, GrantRef } from "./types.js";
import { unapprovedContent } from "./unapproved.js";
import { untrustedRecords } from "./untrusted.js";
import type { LookAlike } from "../history.js";

export * from "./types.js";

/**
 * The report's patterns, over the rows of the report (after filters), in a fixed order. Each
 * finding names the rows behind it by their position in `rows` (1-based).
 */
export function findPatterns(rows: readonly AuditRow[], options: FindingOptions, github?: GithubFacts, lookAlikes?: readonly LookAlike[]): Finding[] {
  const index = new Map(rows.map((r, i) => [r, i + 1]));
  const ref = (r: AuditRow): GrantRef => ({
    row: index.get(r) ?? 0,
    grant: r.grant,
    requester: r.requester,
    pull_request: r.pull_request,
    granted_at: r.granted_at,
  });
  const ctx: FindingContext = { rows, ref, options, github, lookAlikes };
  return [repeatedAccess, breakGlass, fastApprovals, dominantApprover, outOfHours, revocationLag, missingOutcomes, unapprovedContent, untrustedRecords].map(
    (f) => f(ctx),
  );
}

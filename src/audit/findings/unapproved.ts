import { access, who } from "./stories.js";
import { approvalsFor, type Finding, type FindingContext, type FindingItem } from "./types.js";

/**
 * Grant content that reached the default branch without an approval on record. Offline: a version
 * no pull request brought (no merge or squash subject, no Pull-Request trailer) for which Timebox
 * recorded nothing. With `--github`, also a version merged through a PR that had no approving
 * review before it merged (break-glass versions are the break-glass finding's business).
 */
export function unapprovedContent(ctx: FindingContext): Finding {
  const items: FindingItem[] = [];
  for (const row of ctx.rows) {
    if (row.status === "revoked" || row.origin === "closed-unmerged") continue;
    if (row.origin === "direct-push") {
      items.push({
        summary: `${row.grant} (${who(row)}, ${access(row)}) reached the default branch at ${row.granted_at} without a pull request; Timebox never recorded it as approved`,
        grants: [ctx.ref(row)],
      });
    } else if (
      ctx.github &&
      !row.emergency &&
      row.pull_request !== null &&
      ctx.github.approvals.has(row.pull_request) &&
      approvalsFor(ctx.github, row).length === 0
    ) {
      items.push({
        summary: `${row.grant} (${who(row)}, ${access(row)}) was merged in PR #${row.pull_request} without an approving review`,
        grants: [ctx.ref(row)],
      });
    }
  }
  return {
    id: "unapproved-content",
    title: "Unapproved content that reached the default branch",
    rule: ctx.github
      ? "a grant version pushed without a pull request, or merged from one without an approving review, that Timebox never recorded as revoked"
      : "a grant version pushed without a pull request that Timebox never recorded as revoked (PR approvals are checked with --github)",
    status: items.length > 0 ? "found" : "clear",
    items,
  };
}

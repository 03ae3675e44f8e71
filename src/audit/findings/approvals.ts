import { formatDuration } from "../../duration.js";
import { groupBy } from "../group.js";
import type { AuditRow } from "../types.js";
import { access, who } from "./stories.js";
import { approvalsFor, type Finding, type FindingContext, type FindingItem } from "./types.js";

/** Approvals given less than a threshold after the PR was opened: a rubber stamp, or a review done elsewhere. Needs `--github`. */
export function fastApprovals(ctx: FindingContext): Finding {
  const limit = ctx.options.fastApprovalMs;
  const base = {
    id: "fast-approval" as const,
    title: "Approvals given right after the request",
    rule: `an approving review submitted less than ${formatDuration(limit)} after the pull request was opened`,
  };
  if (!ctx.github) return { ...base, status: "needs-github", items: [] };
  const items: FindingItem[] = [];
  const seen = new Set<number>();
  for (const row of ctx.rows) {
    if (row.pull_request === null || row.requested_at === null || seen.has(row.pull_request)) continue;
    const opened = Date.parse(row.requested_at);
    const fast = approvalsFor(ctx.github, row).filter((a) => Date.parse(a.at) - opened < limit);
    if (fast.length === 0) continue;
    seen.add(row.pull_request);
    const sameRequest = ctx.rows.filter((r) => r.pull_request === row.pull_request);
    const list = fast.map((a) => `${a.login} after ${formatDuration(Math.max(0, Date.parse(a.at) - opened))}`).join(", ");
    items.push({
      summary: `PR #${row.pull_request} (${who(row)}, ${access(row)}) opened ${row.requested_at}, approved by ${list}`,
      grants: sameRequest.map(ctx.ref),
    });
  }
  return { ...base, status: items.length > 0 ? "found" : "clear", items };
}

/** One approver giving most of a resource's approvals: the four-eyes rule reduced to two. */
export function dominantApprover(ctx: FindingContext): Finding {
  const { share, minApprovals } = ctx.options.dominant;
  const byResource = groupBy(ctx.rows, (row) => (row.resource === null || row.approved_by.length === 0 ? undefined : row.resource));
  const items: FindingItem[] = [];
  for (const [resource, approved] of [...byResource].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (approved.length < minApprovals) continue;
    // Logins are case-insensitive; the report names an approver as first spelled.
    const byApprover = new Map<string, { name: string; rows: AuditRow[] }>();
    for (const row of approved) {
      for (const login of row.approved_by) {
        const entry = byApprover.get(login.toLowerCase()) ?? { name: login, rows: [] };
        if (entry.rows.at(-1) !== row) entry.rows.push(row);
        byApprover.set(login.toLowerCase(), entry);
      }
    }
    for (const [, { name, rows }] of [...byApprover].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (rows.length / approved.length <= share) continue;
      items.push({
        summary: `${name} approved ${rows.length} of the ${approved.length} approved grants for ${resource} (${Math.round((rows.length / approved.length) * 100)}%)`,
        grants: rows.map(ctx.ref),
      });
    }
  }
  return {
    id: "dominant-approver",
    title: "One approver giving most approvals for a resource",
    rule: `one approver on more than ${Math.round(share * 100)}% of a resource's approved grants, for resources with at least ${minApprovals}`,
    status: items.length > 0 ? "found" : "clear",
    items,
  };
}

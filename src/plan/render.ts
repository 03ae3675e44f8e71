/** The plan as text (a table per section, for a terminal) or JSON (for machines). */
import Table from "cli-table3";
import { formatDiagnostic } from "../diagnostics.js";
import { formatDuration } from "../duration.js";
import type { Plan } from "./types.js";

export type PlanFormat = "table" | "json";

export function renderPlan(plan: Plan, format: PlanFormat): string {
  if (format === "json") return `${JSON.stringify(plan, null, 2)}\n`;
  return `${[header(plan), active(plan), revoke(plan), report(plan), invalid(plan), pending(plan), footer(plan)].join("\n\n")}\n`;
}

/** Control characters, bidirectional overrides and zero-width characters: never printed raw. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g;

/** A value as one printable table cell, clipped. */
function cell(value: string | number | null | undefined, max = 60): string {
  if (value === null || value === undefined) return "";
  const s = String(value).replace(INVISIBLE, " ");
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function table(head: string[], rows: string[][], wrapLast?: number): string {
  const t = new Table({
    head,
    style: { head: [], border: [] },
    ...(wrapLast ? { colWidths: [...head.slice(0, -1).map(() => null), wrapLast], wordWrap: true } : {}),
  });
  t.push(...rows);
  return t.toString();
}

const section = (title: string, count: number, body: () => string) => (count === 0 ? `${title}: none` : `${title} (${count})\n${body()}`);
const pr = (n: number | null) => (n === null ? "" : `#${n}`);
const roleOf = (e: { resource: string | null; role: string | null }) => (e.resource === null ? "" : `${cell(e.resource, 30)}/${cell(e.role, 30)}`);

function header(plan: Plan): string {
  const branch = plan.default_branch.commit
    ? `${plan.default_branch.ref} at ${plan.default_branch.commit.slice(0, 12)}`
    : `${plan.default_branch.ref} (no commits yet)`;
  const policy = !plan.policy.present
    ? "missing on the default branch: a reconcile does nothing in this repository"
    : plan.policy.valid
      ? "valid"
      : "invalid (see Invalid): nothing is applied until it is fixed; expired grants are still revoked";
  return [
    `Timebox plan for ${cell(plan.repository, 200)}`,
    `Default branch: ${branch}; as of ${plan.at}`,
    `Policy ${plan.policy.path}: ${policy}`,
    'Provider state is not checked (no credentials, no network): "ensure applied" means a reconcile applies the grant if the provider does not have it yet.',
    "Approvals are not checked offline; granted at is the merge commit's date (≈ the PR's merged_at).",
  ].join("\n");
}

function active(plan: Plan): string {
  return section("Active", plan.active.length, () =>
    table(
      ["grant", "requester", "resource/role", "PR", "granted at", "expires at", "left", "ext.", "on reconcile"],
      plan.active.map((e) => [
        cell(e.path),
        cell(e.requester, 39),
        roleOf(e),
        pr(e.pull_request),
        e.granted_at,
        e.expires_at,
        formatDuration(e.seconds_left * 1000),
        e.max_extensions === null ? String(e.extensions) : `${e.extensions}/${e.max_extensions}`,
        e.emergency && e.action === "ensure applied" ? "ensure applied (break-glass: applied before the merge, may end earlier)" : e.action,
      ]),
      26,
    ),
  );
}

function revoke(plan: Plan): string {
  return section("Would revoke", plan.revoke.length, () =>
    table(
      ["grant", "requester", "resource/role", "PR", "why", "since", "on reconcile"],
      plan.revoke.map((e) => [cell(e.path), cell(e.requester, 39), roleOf(e), pr(e.pull_request), e.reason, e.since, cell(e.action, 500)]),
      40,
    ),
  );
}

function report(plan: Plan): string {
  return section("Would report, never apply", plan.report.length, () =>
    table(
      ["grant", "commit", "committed at", "why"],
      plan.report.map((e) => [cell(e.path), e.commit?.slice(0, 12) ?? "", e.committed_at ?? "", cell(e.why, 500)]),
      60,
    ),
  );
}

function invalid(plan: Plan): string {
  return section("Invalid", plan.invalid.length, () =>
    plan.invalid
      .map((e) => [`${cell(e.path, 200)} (${e.where}):`, ...e.diagnostics.map((d) => `  ${formatDiagnostic({ path: cell(e.path, 200), ...d })}`)].join("\n"))
      .join("\n"),
  );
}

function pending(plan: Plan): string {
  const title = plan.pending_source === "HEAD" ? "Pending in the checked-out HEAD" : "Pending in the working tree";
  return section(title, plan.pending.length, () =>
    table(
      ["grant", "change", "requester", "resource/role", "duration", "on merge"],
      plan.pending.map((e) => [
        cell(e.path),
        e.valid ? e.change : `${e.change} (invalid)`,
        cell(e.grant?.requester, 39),
        e.grant ? roleOf(e.grant) : "",
        e.grant ? `${cell(e.grant.duration, 20)}${e.grant.emergency ? " (break-glass)" : ""}` : "",
        cell(e.on_merge, 500),
      ]),
      48,
    ),
  );
}

function footer(plan: Plan): string {
  const next = plan.next_expiry
    ? `Next expiry: ${cell(plan.next_expiry.path)} at ${plan.next_expiry.expires_at} (in ${formatDuration(plan.active[0].seconds_left * 1000)})`
    : "Next expiry: none";
  const counts = `${plan.active.length} active, ${plan.revoke.length} to revoke, ${plan.report.length} to report, ${plan.invalid.length} invalid, ${plan.pending.length} pending`;
  return `${next}\n${counts}`;
}

/**
 * Turn an ApprovalResult into what users see: the `timebox/approval` check run's conclusion,
 * title and summary (the same markdown serves the sticky PR comment).
 *
 * Markdown hygiene: text from the PR (grant paths) goes into code spans with table pipes escaped;
 * `@org/team` and `@login` are always wrapped in code spans so the summary never pings anyone.
 */
import { plural } from "../markdown.js";
import type { ApprovalConclusion, ApprovalResult, RequirementResult } from "./types.js";
import { shortSha } from "./evaluate.js";

/** GitHub rejects check-run summaries over 65,535 characters; stay well under. */
export const MAX_SUMMARY_CHARS = 60_000;
const MAX_TITLE_CHARS = 200;

/** `success` when approved, `neutral` when there is nothing to approve, else `action_required`. */
export function approvalConclusion(result: ApprovalResult): ApprovalConclusion {
  if (result.nothingToApprove) return "neutral";
  return result.satisfied ? "success" : "action_required";
}

function requirementsOf(result: ApprovalResult): RequirementResult[] {
  return [...result.grants, ...(result.policyChange ? [result.policyChange] : [])];
}

function clip(text: string, max: number): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

/** One line, e.g. `2 of 3 grants approved; needs 1 more approval from @acme/dba`. */
export function approvalTitle(result: ApprovalResult): string {
  if (result.nothingToApprove) return "Nothing to approve: no grant files and no policy change";
  const n = result.grants.length;
  const ok = result.grants.filter((g) => g.satisfied).length;
  const grantsText = `${ok} of ${plural(n, "grant")} approved`;
  if (result.satisfied) {
    const parts = [n > 0 ? `${plural(n, "grant")}` : "", result.policyChange ? "the policy change" : ""];
    return clip(`Approved: ${parts.filter(Boolean).join(" and ")}`, MAX_TITLE_CHARS);
  }
  const segs: string[] = [];
  if (n > 0) segs.push(grantsText);
  if (result.policyChange) segs.push(result.policyChange.satisfied ? "policy change approved" : "policy change not approved");
  const first = requirementsOf(result).find((r) => !r.satisfied);
  const tail = first ? `; ${first.missing}` : "";
  return clip(`${segs.join(", ")}${tail}`, MAX_TITLE_CHARS);
}

/** Inline code span, safe inside a table cell. */
function code(text: string): string {
  const clean = clip(text, 300)
    .replace(/[\r\n]+/g, " ")
    .replace(/`/g, "'")
    .replace(/\|/g, "\\|");
  return `\`${clean}\``;
}

/** Plain text safe in a table cell or list item: no mentions, no HTML, no pipes, one line. */
function plain(text: string): string {
  return text
    .replace(/[\r\n]+/g, " ")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|")
    .replace(/(^|[^\w`/])(@[A-Za-z0-9][\w.-]*(?:\/[\w.-]+)?)/g, "$1`$2`");
}

function codeList(items: readonly string[], empty = "—"): string {
  return items.length === 0 ? empty : items.map(code).join(", ");
}

function roleCell(r: RequirementResult): string {
  if (r.kind === "policy-change") return "policy change (owners)";
  if (r.resource === undefined && r.role === undefined) return "—";
  return code(`${r.resource ?? "?"} / ${r.role ?? "?"}`);
}

function statusMark(r: RequirementResult): string {
  if (r.satisfied) return "✅";
  if (!r.valid) return "❌";
  return r.blockedBy.length > 0 ? "⛔" : "⏳";
}

/** Markdown for the check run summary / PR comment, at most MAX_SUMMARY_CHARS characters. */
export function renderApprovalSummary(result: ApprovalResult, maxChars: number = MAX_SUMMARY_CHARS): string {
  const lines: string[] = [];
  lines.push(`### Approvals for head commit ${code(shortSha(result.headSha))}`, "");
  if (result.nothingToApprove) {
    lines.push("Nothing to approve: this pull request adds or changes no grant files and does not change the policy.");
    return finish(lines, maxChars);
  }
  lines.push(
    result.satisfied
      ? "**Approved.** Every grant (and any policy change) has the approvals the base branch's policy requires."
      : `**Not approved yet:** ${plain(approvalTitle(result))}`,
    "",
  );
  for (const w of result.warnings) lines.push(`> ⚠️ ${plain(w)}`, "");

  lines.push("| | Grant | Role | Required approvers | Needed | Counted | Missing |", "|---|---|---|---|---|---|---|");
  for (const r of requirementsOf(result)) {
    lines.push(
      `| ${statusMark(r)} | ${code(r.path)} | ${roleCell(r)} | ${codeList(r.required, "none")} | ${r.needed} | ${codeList(
        r.counted,
      )} | ${r.satisfied ? "—" : plain(r.missing)} |`,
    );
  }
  lines.push("");

  const blocks = requirementsOf(result).filter((r) => r.blockedBy.length > 0);
  if (blocks.length > 0) {
    lines.push("**Changes requested** (a block stands until the reviewer approves or the review is dismissed):", "");
    for (const r of blocks) lines.push(`- ${code(r.path)}: ${codeList(r.blockedBy)}`);
    lines.push("");
  }

  // Ignored reviews, each (login, reason) once; name the requirements when it does not apply to all.
  // Requirements whose reviews were evaluated list every reviewer once (counted, blocking or ignored).
  const evaluated = requirementsOf(result).filter((r) => r.counted.length + r.blockedBy.length + r.ignored.length > 0).length;
  const groups = new Map<string, { login: string; reason: string; paths: string[] }>();
  for (const r of requirementsOf(result)) {
    for (const i of r.ignored) {
      const key = `${i.login.toLowerCase()}\u0000${i.reason}`;
      const g = groups.get(key) ?? { login: i.login, reason: i.reason, paths: [] };
      g.paths.push(r.path);
      groups.set(key, g);
    }
  }
  if (groups.size > 0) {
    lines.push("**Reviews that did not count:**", "");
    for (const g of groups.values()) {
      const where = g.paths.length === evaluated ? "" : ` (for ${g.paths.map(code).join(", ")})`;
      lines.push(`- ${code(g.login)}: ${plain(g.reason)}${where}`);
    }
    lines.push("");
  }
  lines.push(
    "_Only reviews on the head commit count; the PR author, the last pusher and bots never count; " +
      "the latest review per reviewer wins. Roles and owners are read from the base branch's policy._",
  );
  return finish(lines, maxChars);
}

function finish(lines: string[], maxChars: number): string {
  const text = lines.join("\n");
  if (text.length <= maxChars) return text;
  const note = (n: number) => `\n\n> ⚠️ Summary truncated: ${plural(n, "more line")} not shown (limit ${maxChars.toLocaleString("en-US")} characters).`;
  const budget = maxChars - note(lines.length).length;
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    const cost = line.length + (kept.length > 0 ? 1 : 0);
    if (used + cost > budget) break;
    kept.push(line);
    used += cost;
  }
  let out = kept.join("\n") + note(lines.length - kept.length);
  if (out.length > maxChars) out = out.slice(0, maxChars); // a single enormous line; cannot happen with clipped cells
  return out;
}

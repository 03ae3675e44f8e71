import { plural, tableCell } from "../markdown.js";
import { approvalConclusion, approvalTitle, renderApprovalSummary } from "../approvals/index.js";
import { isError, type Diagnostic } from "../diagnostics.js";
import { formatDuration } from "../duration.js";
import type { GrantVerdict } from "../grants/check.js";
import { printablePath } from "../grants/files.js";
import type { CheckAnnotation, CheckRunSpec } from "../github/types.js";
import type { ReviewDecision } from "./decide.js";

export const VALIDATE_CHECK = "timebox/validate";
export const APPROVAL_CHECK = "timebox/approval";
export const PLAN_MARKER = "<!-- timebox:plan -->";

/** GitHub refuses check-run summaries and comments over 65,535 characters. */
const MAX_TEXT = 60_000;
/** More annotations than this on one check run help nobody; the summary says how many were left out. */
const MAX_ANNOTATIONS = 500;

const codeCell = (text: string) => `\`${tableCell(text).slice(0, 120)}\``;

function truncate(text: string, max = MAX_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max - 80)}\n\n… (truncated: the full list is in the check run annotations)`;
}

function allDiagnostics(decision: ReviewDecision): Diagnostic[] {
  const base = decision.basePolicy && !decision.basePolicy.valid && decision.grants.length > 0 ? decision.basePolicy.diagnostics : [];
  return [...base, ...(decision.headPolicy?.diagnostics ?? []), ...decision.grants.flatMap((g) => g.diagnostics)];
}

/** Rows and problem lines shown before "… and N more": a huge PR stays readable, the rest is in the annotations. */
const MAX_ROWS = 50;

function capped(lines: string[], what: string): string[] {
  return lines.length <= MAX_ROWS ? lines : [...lines.slice(0, MAX_ROWS), `… and ${lines.length - MAX_ROWS} more ${what} (see the check run's annotations)`];
}

function planRows(grants: GrantVerdict[]): string[] {
  return grants.slice(0, MAX_ROWS + 1).map((g) => {
    const f = g.grant;
    const status = g.valid ? "✅ valid" : `❌ ${g.diagnostics.filter(isError).length} problem(s)`;
    if (!f) return `| ${codeCell(printablePath(g.path))} | | | | | | ${status} |`;
    const approvers = g.role ? `${g.role.approvals} of ${g.role.approvers.map(codeCell).join(", ")}` : "";
    return `| ${codeCell(g.path)} | ${codeCell(f.requester)} | ${codeCell(f.resource)} | ${codeCell(f.role)}${f.emergency ? " (break-glass)" : ""} | ${formatDuration(f.durationMs)} | ${approvers} | ${status} |`;
  });
}

function planTable(decision: ReviewDecision): string {
  if (decision.grants.length === 0) return "";
  return (
    [
      "| Grant | Requester | Resource | Role | Duration | Approvers needed | Status |",
      "|---|---|---|---|---|---|---|",
      ...planRows(decision.grants).slice(0, MAX_ROWS),
    ].join("\n") + (decision.grants.length > MAX_ROWS ? `\n\n… and ${decision.grants.length - MAX_ROWS} more files` : "")
  );
}

function problemList(diagnostics: Diagnostic[]): string {
  if (diagnostics.length === 0) return "";
  const lines = diagnostics.map(
    (d) => `- ${d.severity === "error" ? "❌" : "⚠️"} \`${tableCell(printablePath(d.path))}:${d.line}:${d.column}\` ${tableCell(d.message)} (${d.rule})`,
  );
  return ["**Problems**", "", ...capped(lines, "problems")].join("\n");
}

export function validateCheck(decision: ReviewDecision, headSha: string, externalId?: string): CheckRunSpec {
  const diagnostics = allDiagnostics(decision);
  if (decision.nothingToCheck) {
    return {
      name: VALIDATE_CHECK,
      headSha,
      status: "completed",
      conclusion: "neutral",
      externalId,
      output: {
        title: "No grant files in this pull request",
        summary: "This pull request changes no grant file and not the policy; Timebox has nothing to check.",
      },
    };
  }
  const errors = diagnostics.filter(isError);
  const invalid = decision.grants.filter((g) => !g.valid).length;
  const n = decision.grants.length;
  const parts = [n > 0 ? `${n - invalid} of ${plural(n, "grant file")} valid` : ""];
  if (decision.headPolicy) parts.push(`policy change ${decision.headPolicy.valid ? "valid" : "invalid"}`);
  const title = `${parts.filter(Boolean).join("; ")}${errors.length ? ` (${plural(errors.length, "problem")})` : ""}`;
  const summary = truncate([planTable(decision), problemList(diagnostics)].filter(Boolean).join("\n\n"));
  const annotations = diagnostics.slice(0, MAX_ANNOTATIONS).map(toAnnotation);
  return {
    name: VALIDATE_CHECK,
    headSha,
    status: "completed",
    conclusion: errors.length > 0 ? "failure" : "success",
    externalId,
    output: { title, summary, annotations },
  };
}

function toAnnotation(d: Diagnostic): CheckAnnotation {
  return {
    path: d.path,
    start_line: d.line,
    end_line: d.line,
    start_column: d.column,
    end_column: d.column,
    annotation_level: d.severity === "error" ? "failure" : "warning",
    title: d.rule,
    message: d.message.slice(0, 4000),
  };
}

export function approvalCheck(decision: ReviewDecision, headSha: string): CheckRunSpec {
  return {
    name: APPROVAL_CHECK,
    headSha,
    status: "completed",
    conclusion: approvalConclusion(decision.approval),
    output: { title: approvalTitle(decision.approval), summary: renderApprovalSummary(decision.approval) },
  };
}

/** The sticky PR comment: the plan in readable form, and what happens next. */
export function planComment(decision: ReviewDecision): string {
  const validation = validateCheck(decision, "");
  const onMerge = decision.grants.some((g) => g.valid)
    ? "**On merge** Timebox applies each approved grant, comments with its exact expiry, and at expiry revokes it and removes the file in a commit of its own."
    : "";
  const emergency = decision.grants.some((g) => g.valid && g.grant?.emergency)
    ? "**Break-glass:** emergency grants are applied as soon as every grant file here is valid, before any review; the approval above is still required afterwards. Closing this pull request unmerged revokes them at once."
    : "";
  return truncate(
    [
      PLAN_MARKER,
      "### ⏳ Timebox plan",
      `**Validation:** ${validation.output.title}`,
      planTable(decision),
      problemList(allDiagnostics(decision)),
      `**Approval:** ${approvalTitle(decision.approval)}`,
      decision.nothingToCheck ? "" : renderApprovalSummary(decision.approval, 20_000),
      emergency,
      onMerge,
    ]
      .filter(Boolean)
      .join("\n\n"),
  );
}

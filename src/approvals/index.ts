/** The approval evaluator (pure) and its rendering. See docs/approvals.md. */
export * from "./types.js";
export { evaluateApprovals } from "./evaluate.js";
export { membershipQueries } from "./membership.js";
export { approvalConclusion, approvalTitle, renderApprovalSummary, MAX_SUMMARY_CHARS } from "./render.js";

/** The approval evaluator (pure) and its rendering. See docs/approvals.md. */
export * from "./types.js";
export { evaluateApprovals, neededApprovals, shortSha, VALIDATE_FIRST } from "./evaluate.js";
export { membershipQueries, eligibility, isTeamRef } from "./membership.js";
export { approvalConclusion, approvalTitle, renderApprovalSummary, MAX_SUMMARY_CHARS } from "./render.js";

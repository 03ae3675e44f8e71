/**
 * The approval evaluator: pure, no I/O, no clock, no environment (design brief §2 rules 1–2).
 *
 * Given the grant files of a PR (each with its role as the BASE policy defines it), an optional
 * policy change (with the BASE policy's owners), the PR's author / head SHA / last pusher, the
 * reviews as REST lists them, and a synchronous team-membership lookup, decide for every grant
 * and for the policy change whether it is approved — and say exactly why not.
 */
import { plural } from "../markdown.js";
import { POLICY_PATH, type PrincipalRef } from "../policy/types.js";
import { normaliseRef, splitRefs } from "../policy/principals.js";
import { eligibility } from "./membership.js";
import { approvesHead, deletedAccountReviews, eligibilityMatters, exclusion, lower, reviewers, type Reviewer } from "./reviews.js";
import type { ApprovalInput, ApprovalResult, IgnoredReview, IsMember, PullRequestRef, RequirementResult } from "./types.js";

const VALIDATE_FIRST = "fails timebox/validate; fix it first";

/** First 7 characters of a SHA (or `unknown` when GitHub did not give one). */
export const shortSha = (sha: string): string => (sha ? sha.slice(0, 7) : "unknown");

function joinList(items: readonly string[], word: string): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} ${word} ${items[items.length - 1]}`;
}

/** `a`, `a or b`, `a, b or c`. */
const orList = (items: readonly string[]): string => joinList(items, "or");

/** `a`, `a and b`, `a, b and c`. */
const andList = (items: readonly string[]): string => joinList(items, "and");

/** Distinct approvals a role needs: its `approvals`, at least 1 (a grant is never self-approving). */
function neededApprovals(approvals: unknown): number {
  const n = typeof approvals === "number" && Number.isFinite(approvals) ? Math.floor(approvals) : 1;
  return Math.max(1, n);
}

function dedupeRefs(refs: readonly PrincipalRef[]): PrincipalRef[] {
  const seen = new Set<string>();
  const out: PrincipalRef[] = [];
  for (const r of refs ?? []) {
    if (typeof r !== "string" || r.trim() === "") continue;
    const n = normaliseRef(r);
    if (seen.has(n)) continue;
    seen.add(n);
    out.push(r.trim());
  }
  return out;
}

interface Requirement {
  path: string;
  kind: "grant" | "policy-change";
  resource?: string;
  role?: string;
  valid: boolean;
  /** Set when the requirement can never be met as submitted (invalid grant, unknown role). */
  unmet?: string;
  refs: PrincipalRef[];
  needed: number;
  /** For a grant: its requester, whose approval never counts for it. */
  requester?: string;
}

function blankResult(req: Requirement): RequirementResult {
  return {
    path: req.path,
    kind: req.kind,
    ...(req.resource !== undefined ? { resource: req.resource } : {}),
    ...(req.role !== undefined ? { role: req.role } : {}),
    valid: req.valid,
    satisfied: false,
    needed: req.needed,
    required: req.refs,
    counted: [],
    missingCount: req.needed,
    missingFrom: [],
    missing: "",
    blockedBy: [],
    ignored: [],
  };
}

/** Why a group (an on-call schedule) could not be read, when the caller knows. */
type ExplainUnknown = (group: string) => string | undefined;

function evaluateRequirement(
  req: Requirement,
  revs: readonly Reviewer[],
  deleted: number,
  pr: PullRequestRef,
  isMember: IsMember,
  explain?: ExplainUnknown,
): RequirementResult {
  const result = blankResult(req);
  if (req.unmet !== undefined) {
    result.missing = req.unmet;
    return result;
  }

  const whoIs =
    req.kind === "policy-change"
      ? `not a policy owner (owners: ${req.refs.join(", ") || "none"})`
      : `not eligible for this role (eligible: ${req.refs.join(", ") || "nobody"})`;
  const ignore = (rv: Reviewer, kind: IgnoredReview["kind"], reason: string): void => {
    result.ignored.push({ login: rv.login, kind, reason });
  };

  for (const rv of revs) {
    const ex = exclusion(rv, pr);
    if (ex === "author") {
      ignore(rv, "author", "is the PR author; the author's own review never counts");
      continue;
    }
    if (ex === "bot") {
      ignore(rv, "bot", "is a bot; bots never count");
      continue;
    }
    const s = rv.standing;
    if (!s) {
      if (rv.commented) ignore(rv, "commented-only", "commented only; a comment is not an approval");
      else ignore(rv, "pending", "review not submitted yet (pending)");
      continue;
    }
    if (s.state === "DISMISSED") {
      ignore(rv, "dismissed", "review was dismissed; no approval and no block");
      continue;
    }
    if (s.state === "APPROVED" && req.requester !== undefined && rv.key === lower(req.requester)) {
      ignore(rv, "requester", "is the grant's requester; nobody approves their own access");
      continue;
    }
    const lastPusher = `pushed the head commit ${shortSha(pr.headSha)}; the last pusher never counts`;
    if (s.state === "APPROVED" && ex === "last-pusher") {
      ignore(rv, "last-pusher", lastPusher);
      continue;
    }
    if (s.state === "APPROVED" && !s.onHead) {
      ignore(rv, "stale", `approved an older commit ${shortSha(s.commit)}; re-approval needed`);
      continue;
    }
    // Only here does eligibility matter; keep this in step with membershipQueries.
    if (!eligibilityMatters(rv, pr)) continue; // unreachable by construction; never count by accident
    const el = eligibility(rv.login, req.refs, isMember);
    if (approvesHead(rv, pr)) {
      if (el.eligible) result.counted.push(rv.login);
      else if (el.unknownTeams.length > 0) {
        const why = el.unknownTeams.map((t) => explain?.(t)).filter((w): w is string => !!w);
        ignore(
          rv,
          "membership-unknown",
          `membership of ${el.unknownTeams.join(", ")} could not be checked${why.length ? ` (${why.join("; ")})` : ""}; not counted (re-run the check)`,
        );
      } else ignore(rv, "not-eligible", whoIs);
      continue;
    }
    // CHANGES_REQUESTED, on any commit: an eligible reviewer's block stands until they approve
    // or the review is dismissed. An unknown membership blocks too (fail closed).
    if (el.eligible || el.unknownTeams.length > 0) result.blockedBy.push(rv.login);
    else if (ex === "last-pusher") ignore(rv, "last-pusher", lastPusher);
    else ignore(rv, "not-eligible", `requested changes but is ${whoIs}`);
  }
  if (deleted > 0) {
    result.ignored.push({
      login: "ghost",
      kind: "deleted-account",
      reason: `${plural(deleted, "review")} by a deleted account; never counted`,
    });
  }

  // What is still missing, and from whom.
  const excluded = new Set([
    lower(pr.author),
    ...(pr.lastPusher !== undefined ? [lower(pr.lastPusher)] : []),
    ...(req.requester !== undefined ? [lower(req.requester)] : []),
  ]);
  const countedKeys = new Set(result.counted.map(lower));
  result.missingCount = Math.max(0, req.needed - result.counted.length);
  result.missingFrom = req.refs.filter((r) => {
    const n = normaliseRef(r);
    return n.startsWith("@") || (!excluded.has(n) && !countedKeys.has(n));
  });

  const parts: string[] = [];
  if (result.missingCount > 0) {
    const n = result.missingCount;
    const noun = `${plural(n, "more approval")}`;
    if (result.missingFrom.length === 0) {
      parts.push(
        `needs ${noun}, but nobody else is eligible (${req.kind === "policy-change" ? "owners" : "approvers"}: ${
          req.refs.join(", ") || "none"
        }; the author, the requester and the last pusher cannot approve and each approver counts once); the policy must change`,
      );
    } else {
      let text = `needs ${noun} from ${orList(result.missingFrom)}`;
      const { teams } = splitRefs(result.missingFrom);
      if (teams.length === 0 && result.missingFrom.length < n) {
        text += ` (only ${result.missingFrom.length} eligible approver${result.missingFrom.length === 1 ? "" : "s"} left; the policy must change)`;
      }
      parts.push(text);
    }
  }
  if (result.blockedBy.length > 0) {
    parts.push(`changes requested by ${andList(result.blockedBy)} (a block stands until they approve or the review is dismissed)`);
  }
  if (pr.lastPusher === undefined) {
    parts.push(`who pushed head commit ${shortSha(pr.headSha)} is unknown; push a new commit so Timebox can exclude the pusher`);
  }
  result.missing = parts.join("; ");
  result.satisfied = parts.length === 0;
  return result;
}

function grantRequirement(g: ApprovalInput["grants"][number]): Requirement {
  const base = {
    path: g.path,
    kind: "grant" as const,
    ...(g.resource !== undefined ? { resource: g.resource } : {}),
    ...(g.role !== undefined ? { role: g.role } : {}),
    valid: g.valid === true,
    ...(typeof g.requester === "string" && g.requester.trim() !== "" ? { requester: g.requester.trim() } : {}),
  };
  const refs = dedupeRefs(g.spec?.approvers ?? []);
  const needed = neededApprovals(g.spec?.approvals);
  if (g.valid !== true) return { ...base, refs, needed, unmet: VALIDATE_FIRST };
  if (!g.spec) {
    const what = g.role !== undefined && g.resource !== undefined ? `role ${g.role} of ${g.resource}` : "its role";
    return { ...base, refs, needed, unmet: `${what} is not defined in the base branch's policy` };
  }
  return { ...base, refs, needed };
}

/**
 * Evaluate every requirement of a PR. `isMember` is only called with pairs that
 * `membershipQueries(input)` returned (lower-case login and team).
 */
export function evaluateApprovals(input: ApprovalInput, isMember: IsMember, explain?: ExplainUnknown): ApprovalResult {
  const pr = input.pr;
  const revs = reviewers(input.reviews ?? [], pr.headSha);
  const deleted = deletedAccountReviews(input.reviews ?? []);
  const grants = (input.grants ?? []).map((g) => evaluateRequirement(grantRequirement(g), revs, deleted, pr, isMember, explain));
  const policyChange = input.policyChange
    ? evaluateRequirement(
        {
          path: POLICY_PATH,
          kind: "policy-change",
          valid: true,
          refs: dedupeRefs(input.policyChange.owners ?? []),
          needed: 1,
        },
        revs,
        deleted,
        pr,
        isMember,
        explain,
      )
    : undefined;

  const nothingToApprove = grants.length === 0 && !policyChange;
  const warnings: string[] = [];
  if (!nothingToApprove && pr.lastPusher === undefined) {
    warnings.push(
      `Timebox does not know who pushed head commit ${shortSha(pr.headSha)} (the push event was missed), ` +
        "so no approval can count yet: push a new commit (an empty one will do).",
    );
  }
  const satisfied = grants.every((g) => g.satisfied) && (policyChange?.satisfied ?? true);
  return {
    satisfied,
    nothingToApprove,
    headSha: pr.headSha,
    grants,
    ...(policyChange ? { policyChange } : {}),
    warnings,
  };
}

/**
 * Who is eligible for a requirement, and which team memberships the handler must pre-fetch.
 */
import { splitRefs } from "../policy/principals.js";
import type { PrincipalRef } from "../policy/types.js";
import { eligibilityMatters, lower, reviewers } from "./reviews.js";
import type { ApprovalInput, IsMember, MembershipQuery } from "./types.js";

export type Eligibility = { eligible: true; via: string } | { eligible: false; unknownTeams: string[] };

/**
 * Whether `login` is eligible: listed by login, or an active member of a listed team. A lookup
 * that throws is recorded as unknown (and is not membership).
 */
export function eligibility(login: string, refs: readonly PrincipalRef[], isMember: IsMember): Eligibility {
  const key = lower(login);
  const { logins, teams } = splitRefs(refs);
  if (logins.has(key)) return { eligible: true, via: key };
  const unknownTeams: string[] = [];
  for (const team of teams) {
    let member: boolean;
    try {
      member = isMember(key, team) === true;
    } catch {
      unknownTeams.push(team);
      continue;
    }
    if (member) return { eligible: true, via: team };
  }
  return { eligible: false, unknownTeams };
}

/** Every requirement the evaluation will judge, as the list of principals it accepts. */
function requirementRefs(input: ApprovalInput): PrincipalRef[][] {
  const out: PrincipalRef[][] = [];
  for (const g of input.grants) {
    // Invalid grants and grants without a base-policy role are never satisfied: no lookups.
    if (g.valid && g.spec) out.push(g.spec.approvers ?? []);
  }
  if (input.policyChange) out.push(input.policyChange.owners ?? []);
  return out;
}

/**
 * Exactly the (reviewer, team) pairs the evaluation needs, each once: for reviewers whose latest
 * review could count (APPROVED on the head commit, not author/pusher/bot) or block (an eligible
 * CHANGES_REQUESTED, on any commit), and only for teams listed by a role or `owners` that does
 * not already list the reviewer by login. Both fields lower-case.
 */
export function membershipQueries(input: ApprovalInput): MembershipQuery[] {
  const seen = new Set<string>();
  const out: MembershipQuery[] = [];
  const refsList = requirementRefs(input);
  if (refsList.length === 0) return out;
  for (const rv of reviewers(input.reviews, input.pr.headSha)) {
    if (!eligibilityMatters(rv, input.pr)) continue;
    for (const refs of refsList) {
      const { logins, teams } = splitRefs(refs);
      if (logins.has(rv.key)) continue;
      for (const team of teams) {
        const id = `${rv.key}\u0000${team}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push({ login: rv.key, team });
      }
    }
  }
  return out;
}

import { evaluateApprovals, membershipQueries, type ApprovalInput, type ApprovalResult } from "../approvals/index.js";
import type { Diagnostic } from "../diagnostics.js";
import { checkGrantFile, requesterTeamQueries, type GrantVerdict } from "../grants/check.js";
import type { GrantFile } from "../grants/types.js";
import { checkPolicyFile, type PolicyVerdict } from "../policy/check.js";
import type { MembershipLookup } from "../policy/principals.js";
import { POLICY_PATH } from "../policy/types.js";
import { parseYaml } from "../yaml/parse.js";
import { notOnCallReason, requesterMoment, unreadable, withOnCall, type OnCallFacts } from "../oncall/facts.js";
import type { PullRequestSnapshot } from "./gather.js";

export interface ReviewDecision {
  /** The policy at the base branch's tip: the one every grant is judged by. */
  basePolicy?: PolicyVerdict;
  /** The PR's own version of the policy, validated and reported, never used to judge. */
  headPolicy?: PolicyVerdict;
  grants: GrantVerdict[];
  approval: ApprovalResult;
  /** True when nothing in the PR is Timebox's business (no grant files, no policy change). */
  nothingToCheck: boolean;
}

export interface DecisionContext {
  providers: ReadonlyMap<string, readonly string[]>;
  /** Login that pushed the head commit, when known. */
  pusher?: string;
  /** Team membership that was looked up; a pair missing here was not checked. */
  isMember: MembershipLookup;
  /** On-call schedules that were read (see oncall/facts.ts); without them a schedule rule is answered by `isMember`. */
  onCall?: OnCallFacts;
}

export const DEFAULT_GRANTS_PATH = "grants/";

function basePolicyOf(snapshot: PullRequestSnapshot, providers: DecisionContext["providers"]): PolicyVerdict | undefined {
  return snapshot.basePolicyText === undefined ? undefined : checkPolicyFile(POLICY_PATH, snapshot.basePolicyText, { providers });
}

/** The (login, team) pairs whose membership the decision depends on, so each is read once. */
export function membershipNeeds(snapshot: PullRequestSnapshot, ctx: Omit<DecisionContext, "isMember">): Array<{ login: string; team: string }> {
  const policy = basePolicyOf(snapshot, ctx.providers)?.policy;
  const pairs: Array<{ login: string; team: string }> = [];
  if (policy) {
    for (const file of snapshot.grantFiles) {
      const parsed = file.content ? parseYaml(file.path, file.content) : undefined;
      if (parsed?.ok && typeof parsed.yaml.value === "object" && parsed.yaml.value) {
        pairs.push(...requesterTeamQueries(parsed.yaml.value as Partial<GrantFile>, policy));
      }
    }
  }
  // Grants whose validity is still open count as valid here: over-asking costs a read, under-asking a verdict.
  const preliminary = decide(snapshot, { ...ctx, isMember: () => true });
  pairs.push(...membershipQueries(approvalInput(snapshot, preliminary.basePolicy, preliminary.grants, ctx.pusher)));
  const seen = new Set<string>();
  return pairs.filter((p) => {
    const key = `${p.login.toLowerCase()} ${p.team.toLowerCase()}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** The whole verdict on a pull request: validation of every grant and of a policy change, and approvals. Pure. */
export function decide(snapshot: PullRequestSnapshot, ctx: DecisionContext): ReviewDecision {
  const basePolicy = basePolicyOf(snapshot, ctx.providers);
  const policy = basePolicy?.policy;
  const identities = policy?.identities ?? {};
  const onCall = ctx.onCall;
  const requesterFacts = (path: string) => {
    const at = (login: string) => (onCall ? requesterMoment(onCall.moments, path, login) : undefined);
    return {
      isMember: withOnCall(ctx.isMember, onCall, identities, at),
      explain: {
        unchecked: (ref: string) => unreadable(onCall, ref),
        notIn: (login: string, ref: string) => {
          const moment = at(login);
          return moment ? notOnCallReason(identities, login, ref, moment) : undefined;
        },
      },
    };
  };
  const grants = [
    ...snapshot.grantFiles.map((file) =>
      file.refused
        ? refusedVerdict(file.path, file.refused.message, file.refused.rule)
        : checkGrantFile(file.path, file.content ?? "", {
            policy,
            author: snapshot.pr.author,
            entryKind: file.kind,
            ...requesterFacts(file.path),
            uncheckedTeams: "error",
            previous: file.previous,
          }),
    ),
    // Anything else under grants_path is shown and fails: nothing reviewers cannot see is ever applied.
    ...(snapshot.strays ?? []).map((s) =>
      refusedVerdict(s.path, `${s.reason}; Timebox never applies it, so it may not be added to the grants folder`, "grant.not-a-grant"),
    ),
  ];
  let headPolicy: PolicyVerdict | undefined;
  if (snapshot.headPolicy) {
    headPolicy = snapshot.headPolicy.refused
      ? { path: POLICY_PATH, valid: false, diagnostics: [fileProblem(snapshot.headPolicy.refused.message, snapshot.headPolicy.refused.rule)] }
      : snapshot.headPolicy.removed
        ? {
            path: POLICY_PATH,
            valid: false,
            diagnostics: [fileProblem("the pull request deletes or moves the policy; Timebox cannot run without it", "policy.removed")],
          }
        : snapshot.headPolicy.kind !== "file"
          ? {
              path: POLICY_PATH,
              valid: false,
              diagnostics: [fileProblem(`the policy is a ${snapshot.headPolicy.kind}; it must be a regular file`, "policy.not-regular-file")],
            }
          : checkPolicyFile(POLICY_PATH, snapshot.headPolicy.content ?? "", { providers: ctx.providers });
  }
  // A reviewer counts for an on-call schedule if they were on call when they submitted the review;
  // a schedule that could not be read throws, so the review is "membership unknown": not counted, and a block stands.
  const reviewerOnCall = withOnCall(ctx.isMember, onCall, identities, (login) =>
    onCall && Object.hasOwn(onCall.moments.reviewers, login.toLowerCase()) ? onCall.moments.reviewers[login.toLowerCase()] : undefined,
  );
  const approval = evaluateApprovals(
    approvalInput(snapshot, basePolicy, grants, ctx.pusher),
    (login, team) => {
      const member = reviewerOnCall(login, team);
      if (member === undefined && onCall && unreadable(onCall, team)) throw new Error(unreadable(onCall, team));
      return member === true;
    },
    (team) => unreadable(onCall, team),
  );
  const untrusted = snapshot.untrustedBasePolicy;
  if (untrusted && !approval.nothingToApprove)
    approval.warnings.push(
      `The newest policy on ${snapshot.pr.baseRef} (commit ${untrusted.commit.slice(0, 7)}) is not trusted: ${untrusted.reason}. ` +
        "This pull request is judged by the trusted policy before it, as Timebox will judge it at merge.",
    );
  return { basePolicy, headPolicy, grants, approval, nothingToCheck: grants.length === 0 && !snapshot.headPolicy };
}

function approvalInput(snapshot: PullRequestSnapshot, basePolicy: PolicyVerdict | undefined, grants: GrantVerdict[], pusher?: string): ApprovalInput {
  const policy = basePolicy?.policy;
  return {
    grants: grants.map((g) => ({
      path: g.path,
      valid: g.valid,
      resource: g.grant?.resource,
      role: g.grant?.role,
      spec: g.role,
      requester: g.grant?.requester,
    })),
    // Without a base policy there are no owners yet: bootstrapping is left to branch protection.
    policyChange: snapshot.headPolicy && policy ? { owners: policy.owners } : undefined,
    pr: { author: snapshot.pr.author, headSha: snapshot.pr.headSha, lastPusher: pusher },
    reviews: snapshot.reviews,
  };
}

/** A file judged without being parsed: invalid, with one file-level error. */
function refusedVerdict(path: string, message: string, rule: string): GrantVerdict {
  return { path, valid: false, diagnostics: [{ path, line: 1, column: 1, message, rule, severity: "error" }] };
}

function fileProblem(message: string, rule: string): Diagnostic {
  return { path: POLICY_PATH, line: 1, column: 1, message, rule, severity: "error" };
}

/**
 * `timebox plan`'s decision: from what a clone says (facts) and a time, what is active, what a
 * reconcile would revoke or report, what is invalid and what the checkout would change. Pure.
 * What is live, revoked or reported is the lifecycle's own `decide` (`src/lifecycle/decide.ts`),
 * on facts read from Git instead of the API; where Git cannot tell (approvals, the exact
 * merged_at), the plan says so. See docs/plan.md.
 */
import { plural } from "../markdown.js";
import type { Diagnostic } from "../diagnostics.js";
import type { GrantCheckContext } from "../grants/check.js";
import type { PolicyVerdict } from "../policy/check.js";
import { maxExtensions, POLICY_PATH, type Policy, type RoleSpec } from "../policy/types.js";
import { historyWindowMs } from "../policy/windows.js";
import { classifyGrantsPathEntry } from "../grants/files.js";
import { decide } from "../lifecycle/decide.js";
import type { ApprovedGrant, TrackedGrant } from "../lifecycle/types.js";
import type { BranchGrant, PlanFacts, ProposedChange, StoredFile } from "./facts.js";
import { checkStoredGrant, checkStoredPolicy, summaryOf, toPlanDiagnostic } from "./judge.js";
import type { ActiveEntry, ApprovalNeed, InvalidEntry, PendingEntry, Plan, ReportEntry, RevokeEntry } from "./types.js";

export interface DecideOptions {
  /** The clock the plan runs at. At the exact second of expiry a grant is expired. */
  at: Date;
  /** Provider ids and the settings keys each understands, for policy validation. */
  providers: ReadonlyMap<string, readonly string[]>;
  /** Added to the policy's longest max_duration: how far back removed grants are revoked again (the app's default 24 h). */
  historyMarginMs?: number;
}

export const DEFAULT_HISTORY_MARGIN_MS = 24 * 3600_000;

/** `2026-03-02T09:01:00Z`: UTC, to the second. */
import { isoSecond } from "../util/clock.js";

/** How a grant file on the default branch stands at the plan's time. */
type BranchState =
  { kind: "active"; entry: ActiveEntry } | { kind: "expired"; entry: RevokeEntry } | { kind: "reported"; entry: ReportEntry } | { kind: "ignored" };

/** A grant file as judged from the clone, before the lifecycle's decision says whether it is live. */
type BranchJudgement =
  | { kind: "approved"; tracked: ApprovedGrant; active: ActiveEntry; expired: RevokeEntry }
  | { kind: "reported"; tracked: TrackedGrant; entry: ReportEntry }
  | { kind: "ignored" };

export function decidePlan(facts: PlanFacts, options: DecideOptions): Plan {
  const at = options.at;
  const policies = new PolicyCache(options.providers);
  const tip = facts.policy ? policies.judge(facts.policy) : undefined;
  const policy = tip?.policy;
  const plan: Plan = {
    repository: facts.repository,
    default_branch: { ref: facts.ref, commit: facts.commit ?? null },
    at: isoSecond(at),
    provider_state_checked: false,
    policy: { path: POLICY_PATH, present: facts.policy !== null, valid: tip?.valid ?? false, diagnostics: (tip?.diagnostics ?? []).map(toPlanDiagnostic) },
    pending_source: facts.pendingSource,
    active: [],
    revoke: [],
    report: [],
    invalid: [],
    pending: [],
    next_expiry: null,
    valid: true,
  };
  if (tip && !tip.valid) plan.invalid.push({ path: POLICY_PATH, where: "default branch", diagnostics: plan.policy.diagnostics });

  const invalid = (path: string, where: InvalidEntry["where"], diagnostics: readonly Diagnostic[]) =>
    plan.invalid.push({ path, where, diagnostics: diagnostics.map(toPlanDiagnostic) });

  // Without a policy on the default branch the app does nothing at all for this repository.
  const judged = new Map<string, BranchJudgement>();
  for (const g of facts.grants) {
    judged.set(g.path, facts.policy === null ? judgeWithoutPolicy(g, invalid) : judgeBranchGrant(g, { at, tip, policies, invalid }));
  }
  // The app's own decision on these facts (src/lifecycle/decide.ts): what is live, revoked, reported.
  const windowStart = at.getTime() - historyWindowMs(policy, options.historyMarginMs ?? DEFAULT_HISTORY_MARGIN_MS);
  const removals = facts.policy === null ? [] : facts.recentRemovals.filter((r) => r.pullRequest !== null && r.removedAt.getTime() >= windowStart);
  const decision = decide(
    {
      tracked: [...judged.values()].flatMap((j) => (j.kind === "ignored" ? [] : [j.tracked])),
      // Offline, "applied" is what recent history shows merged and then removed (the app keeps a ledger instead).
      applied: removals.map((r) => ({ path: r.path, removal: r })),
      breakglass: [],
      policyValid: policy !== undefined,
      mayStillLink: () => false,
    },
    at,
  );
  const states = new Map<string, BranchState>();
  for (const t of decision.live) {
    const j = judged.get(t.path) as Extract<BranchJudgement, { kind: "approved" }>;
    states.set(t.path, { kind: "active", entry: j.active });
    plan.active.push(j.active);
  }
  for (const t of decision.report) {
    const j = judged.get(t.path) as Extract<BranchJudgement, { kind: "reported" }>;
    states.set(t.path, { kind: "reported", entry: j.entry });
    plan.report.push(j.entry);
  }
  for (const action of decision.revoke) {
    if (action.kind === "revoke-tracked") {
      const j = judged.get(action.grant.path) as Extract<BranchJudgement, { kind: "approved" }>;
      states.set(action.grant.path, { kind: "expired", entry: j.expired });
      plan.revoke.push(j.expired);
      continue;
    }
    const r = action.entry.removal;
    plan.revoke.push({
      path: r.path,
      requester: null,
      resource: null,
      role: null,
      pull_request: r.pullRequest!,
      reason: "removed",
      since: isoSecond(r.removedAt),
      expires_at: null,
      action: `ensure revoked at the provider: the file was removed by ${r.removedBy !== null ? `PR #${r.removedBy}` : `commit ${r.commit.slice(0, 12)}`}`,
    });
  }

  for (const change of facts.pending) {
    const entry = judgePending(
      change,
      facts.grants.find((g) => g.path === change.path),
      states.get(change.path),
      { tip, policy, invalid },
    );
    if (entry) plan.pending.push(entry);
  }
  if (facts.pendingPolicy) plan.pending.push(judgePendingPolicy(facts.pendingPolicy, policy, policies, invalid));

  plan.active.sort((a, b) => a.expires_at.localeCompare(b.expires_at) || a.path.localeCompare(b.path));
  plan.revoke.sort((a, b) => a.since.localeCompare(b.since) || a.path.localeCompare(b.path));
  plan.report.sort((a, b) => a.path.localeCompare(b.path));
  plan.pending.sort((a, b) => a.path.localeCompare(b.path));
  const next = plan.active[0];
  plan.next_expiry = next ? { path: next.path, expires_at: next.expires_at } : null;
  plan.valid = plan.invalid.length === 0;
  return plan;
}

/** Policies by content: the same base policy is judged once however many grants merged on it. */
class PolicyCache {
  private readonly verdicts = new Map<string, PolicyVerdict>();
  constructor(private readonly providers: ReadonlyMap<string, readonly string[]>) {}

  judge(file: StoredFile): PolicyVerdict {
    const key = `${file.kind}:${file.size}:${file.content ? Buffer.from(file.content).toString("base64") : ""}`;
    let verdict = this.verdicts.get(key);
    if (!verdict) {
      verdict = checkStoredPolicy(POLICY_PATH, file, this.providers);
      this.verdicts.set(key, verdict);
    }
    return verdict;
  }
}

type Invalid = (path: string, where: InvalidEntry["where"], diagnostics: readonly Diagnostic[]) => void;

function judgeWithoutPolicy(g: BranchGrant, invalid: Invalid): BranchJudgement {
  const verdict = checkStoredGrant(g.path, g.file, { uncheckedTeams: "warning" });
  if (!verdict.valid) invalid(g.path, "default branch", verdict.diagnostics);
  return { kind: "ignored" };
}

/** One grant file on the default branch, the way the reconciler judges it (see resolveOrigin). */
function judgeBranchGrant(g: BranchGrant, ctx: { at: Date; tip?: PolicyVerdict; policies: PolicyCache; invalid: Invalid }): BranchJudgement {
  const { origin } = g;
  const base = origin?.pullRequest != null && origin.basePolicy ? ctx.policies.judge(origin.basePolicy) : undefined;
  // A merged PR is judged by the policy at its base, as the app does; anything else by the tip's.
  const verdict = checkStoredGrant(g.path, g.file, { policy: base?.policy ?? ctx.tip?.policy, uncheckedTeams: "warning" });
  if (!verdict.valid) ctx.invalid(g.path, "default branch", verdict.diagnostics);
  // Symlinks and submodules are never grants: the reconciler skips them.
  if (g.file.kind !== "file") return { kind: "ignored" };

  const report = (why: string): BranchJudgement => ({
    kind: "reported",
    tracked: { path: g.path, blobSha: g.path, origin: { approved: false, reason: why, commitSha: origin?.sha ?? "" } },
    entry: {
      path: g.path,
      commit: origin?.sha ?? null,
      committed_at: origin ? isoSecond(origin.committedAt) : null,
      pull_request: origin?.pullRequest ?? null,
      why,
      action: "report as unapproved (timebox:unapproved issue); never applied",
    },
  });
  if (!origin) return report("no commit on the default branch's first-parent chain brings this content");
  const pr = origin.pullRequest;
  if (pr === null) {
    return report(
      "pushed to the default branch without a pull request (no `Merge pull request #N` or `(#N)` subject; a rebase merge is linked to its PR only by the app)",
    );
  }
  if (origin.headMatches === false) return report(`the content on the default branch differs from what PR #${pr} had at its head`);
  if (!base?.policy) return report(`PR #${pr} merged while the policy on its base was missing or invalid`);
  if (!verdict.valid || !verdict.grant || !verdict.role) return report(`PR #${pr} merged a grant that fails validation (see Invalid)`);

  const grant = verdict.grant;
  const grantedAt = origin.committedAt;
  const expiresAt = new Date(grantedAt.getTime() + grant.durationMs);
  // The grant as the lifecycle sees it; approvals are not checked offline, merged_at is the merge commit's date.
  const tracked: ApprovedGrant = {
    path: g.path,
    blobSha: g.path,
    origin: {
      approved: true,
      pull: { number: pr, author: grant.requester, headSha: "", baseRef: "", mergedAt: grantedAt.toISOString(), mergeCommitSha: origin.sha, htmlUrl: "" },
      approvedBy: [],
      grant,
      role: verdict.role,
      policy: base.policy,
      activatedAt: grantedAt.toISOString(),
    },
  };
  return {
    kind: "approved",
    tracked,
    expired: {
      path: g.path,
      requester: grant.requester,
      resource: grant.resource,
      role: grant.role,
      pull_request: pr,
      reason: "expired",
      since: isoSecond(expiresAt),
      expires_at: isoSecond(expiresAt),
      action: "revoke at the provider, then remove the file in a Timebox commit (Revoke-Reason: expired)",
    },
    active: {
      path: g.path,
      ...summaryOf(verdict)!,
      pull_request: pr,
      commit: origin.sha,
      granted_at: isoSecond(grantedAt),
      expires_at: isoSecond(expiresAt),
      seconds_left: Math.floor((expiresAt.getTime() - ctx.at.getTime()) / 1000),
      extensions: g.extensions,
      max_extensions: maxExtensions(base.policy, verdict.role) ?? null,
      approval: approvalOf(verdict.role),
      action: ctx.tip?.policy ? "ensure applied" : "none: applying is paused while the policy is invalid",
    },
  };
}

/** What a change in the checkout would do when its PR merges, judged with the default branch's policy. */
function judgePending(
  change: ProposedChange,
  onBranch: BranchGrant | undefined,
  state: BranchState | undefined,
  ctx: { tip?: PolicyVerdict; policy?: Policy; invalid: Invalid },
): PendingEntry | undefined {
  const base: Omit<PendingEntry, "change" | "on_merge"> = { path: change.path, valid: true, grant: null, approval: null, breakglass: null, extension: null };
  const pathKind = classifyGrantsPathEntry(change.path, ctx.policy?.grants_path ?? "grants/");
  if (pathKind.kind === "not-a-grant") {
    if (!change.file) return undefined; // removing a file that is not a grant changes no access
    ctx.invalid(change.path, "checkout", [
      {
        path: change.path,
        line: 1,
        column: 1,
        rule: "grant.not-a-grant",
        severity: "error",
        message: `${pathKind.reason}; Timebox never applies it, so it may not be added to the grants folder`,
      },
    ]);
    return {
      ...base,
      valid: false,
      change: onBranch ? "replacement" : "new request",
      on_merge: "refused: timebox/validate fails (not a grant file; see Invalid); nothing is applied",
    };
  }
  if (!change.file) {
    if (!onBranch) return undefined; // already gone from the default branch
    const onMerge =
      state?.kind === "active"
        ? `revoked at once when the PR merges (Revoke-Reason: removed); it would otherwise expire at ${state.entry.expires_at}`
        : state?.kind === "expired"
          ? "removes an expired grant (a reconcile revokes it anyway)"
          : "removes the file; it gives no access now";
    return { ...base, change: "removal", on_merge: onMerge };
  }
  if (!ctx.policy) {
    const verdict = checkStoredGrant(change.path, change.file, { policy: undefined, uncheckedTeams: "warning" });
    ctx.invalid(change.path, "checkout", verdict.diagnostics);
    const why = ctx.tip ? "the policy on the default branch is invalid" : "there is no policy on the default branch";
    return { ...base, valid: false, change: onBranch ? "replacement" : "new request", on_merge: `refused: ${why}` };
  }

  const previous = onBranch?.file.kind === "file" ? onBranch.file : undefined;
  // `previous` tells the grant check (when it knows extensions) that this change modifies a file on the branch.
  const checkCtx: GrantCheckContext & { previous?: { content: Uint8Array; extensions: number } } = {
    policy: ctx.policy,
    uncheckedTeams: "warning",
    ...(previous?.content ? { previous: { content: previous.content, extensions: onBranch!.extensions } } : {}),
  };
  const verdict = checkStoredGrant(change.path, change.file, checkCtx);
  const role = verdict.role;
  const cap = role ? (maxExtensions(ctx.policy, role) ?? null) : null;
  const kind: PendingEntry["change"] = !onBranch ? "new request" : state?.kind === "active" ? "extension" : "replacement";
  if (!verdict.valid || !verdict.grant || !verdict.role) {
    ctx.invalid(change.path, "checkout", verdict.diagnostics);
    return {
      ...base,
      valid: false,
      change: kind,
      approval: verdict.role ? approvalOf(verdict.role) : null,
      on_merge: "refused: timebox/validate fails (see Invalid); nothing is applied",
    };
  }

  const grant = verdict.grant;
  const approval = approvalOf(verdict.role);
  const needs = `${plural(approval.approvals, "approval")} from ${approval.approvers.join(", ")}`;
  const entry: PendingEntry = { ...base, change: kind, grant: summaryOf(verdict), approval, on_merge: "" };
  const ttl = `an unapproved PR is closed after request_ttl ${ctx.policy.request_ttl}`;
  if (grant.emergency && verdict.role.breakglass) {
    const bg = verdict.role.breakglass;
    entry.breakglass = { max_duration: bg.max_duration, review_within: bg.review_within };
    entry.on_merge = `break-glass: applied as soon as its PR is open and timebox/validate passes, before any review, for ${grant.duration} (at most ${bg.max_duration}); ${needs} due within ${bg.review_within} afterwards`;
  } else if (kind === "extension" && state?.kind === "active") {
    const number = onBranch!.extensions + 1;
    const original = onBranch!.requestedIn ?? state.entry.pull_request;
    entry.extension = { of_pull_request: original, number, max_extensions: cap, current_expires_at: state.entry.expires_at };
    entry.on_merge = `needs ${needs}; on merge the grant of PR #${original} runs until the merge + ${grant.duration} (now it ends ${state.entry.expires_at}); extension ${number}${cap === null ? "" : ` of at most ${cap}`}; ${ttl}`;
  } else {
    const replaced = kind === "replacement" ? ` (replaces a version that gives no access now)` : "";
    entry.on_merge = `needs ${needs}; active from the merge for ${grant.duration}${replaced}; ${ttl}`;
  }
  return entry;
}

function judgePendingPolicy(change: ProposedChange, policy: Policy | undefined, policies: PolicyCache, invalid: Invalid): PendingEntry {
  const base = { path: change.path, change: "policy change" as const, grant: null, breakglass: null, extension: null };
  const owners = policy ? { approvals: 1, approvers: policy.owners } : null;
  if (!change.file) return { ...base, valid: true, approval: owners, on_merge: "removes the policy: Timebox then does nothing for this repository" };
  const verdict = policies.judge(change.file);
  if (!verdict.valid) {
    invalid(change.path, "checkout", verdict.diagnostics);
    return { ...base, valid: false, approval: owners, on_merge: "refused: the new policy fails validation (see Invalid)" };
  }
  const who = owners ? `needs 1 approval from the policy's owners (${owners.approvers.join(", ")})` : "the first policy: left to branch protection";
  return { ...base, valid: true, approval: owners, on_merge: `${who}; grants in the same PR are still judged by the current policy` };
}

const approvalOf = (role: RoleSpec): ApprovalNeed => ({ approvals: role.approvals, approvers: [...role.approvers] });

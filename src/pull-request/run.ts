import type { Gateway } from "../github/gateway.js";
import type { CheckRunSpec, ExistingCheckRun } from "../github/types.js";
import { lookUpMemberships, lookUpOnCall, readHeadPusher } from "./context.js";
import { PUSHER_PREFIX } from "./pushes.js";
import type { OnCallDirectory } from "../oncall/directory.js";
import { decide, DEFAULT_GRANTS_PATH, membershipNeeds, type ReviewDecision } from "./decide.js";
import { gatherPullRequest, type PullRequestSnapshot } from "./gather.js";
import { identityOf } from "./requested.js";
import { approvalCheck, APPROVAL_CHECK, planComment, PLAN_MARKER, validateCheck, VALIDATE_CHECK } from "./render.js";
import { checkPolicyFile } from "../policy/check.js";
import { POLICY_PATH } from "../policy/types.js";
import { trustedPolicyAt } from "../lifecycle/policy-trust.js";

export interface ReviewOptions {
  providers: ReadonlyMap<string, readonly string[]>;
  /** From push / `synchronize` webhooks: who pushed which head commit (REST has no "pusher"). */
  pushed?: { login: string; headSha: string };
  /** Who pushed a commit, as push webhooks told this process (see `PushLog`); asked for the head commit. */
  pusherOf?: (sha: string) => string | undefined;
  log?: { warn(obj: object, msg: string): void };
  /** The most files under grants_path one PR may add or change before all are refused unread (TIMEBOX_MAX_GRANT_FILES). */
  maxGrantFiles?: number;
  /**
   * How many extensions the version of a grant file at a base commit already had, or undefined when
   * that version is not an approved grant; asked only for files the PR modifies.
   */
  extensionsOf?: (path: string, baseSha: string, baseRef: string) => Promise<number | undefined>;
  /** The moment of judging: when an on-call requester without a break-glass record must be on call (default: the system clock). */
  now?: Date;
  /** Told the verdict once the checks and the plan comment are written (notifications: it must not throw or wait). */
  onJudged?: (judged: JudgedPullRequest) => void;
  /** Where on-call schedules are read (default: the process's, configured from the environment). */
  onCall?: OnCallDirectory;
}

/**
 * Re-evaluates a pull request from the state GitHub reports now (not the webhook's snapshot),
 * and reports it: the `timebox/validate` and `timebox/approval` check runs on the head commit and
 * the sticky plan comment. Writes only what changed, so a redelivered webhook writes nothing.
 */
export async function reviewPullRequest(gateway: Gateway, number: number, options: ReviewOptions): Promise<ReviewDecision | undefined> {
  const judged = await judgePullRequest(gateway, number, options);
  if (!judged) return undefined;
  const { snapshot, decision, pusher, existingValidate } = judged;
  const { pr } = snapshot;
  const existingApproval = await gateway.checks.findCheckRun(pr.headSha, APPROVAL_CHECK);
  await writeIfChanged(gateway, validateCheck(decision, pr.headSha, pusher ? `${PUSHER_PREFIX}${pusher}` : undefined), existingValidate);
  await writeIfChanged(gateway, approvalCheck(decision, pr.headSha), existingApproval);
  await gateway.issues.upsertMarkedComment(pr.number, PLAN_MARKER, planComment(decision));
  options.onJudged?.(judged);
  return decision;
}

export interface JudgedPullRequest {
  snapshot: PullRequestSnapshot;
  decision: ReviewDecision;
  pusher?: string;
  existingValidate?: ExistingCheckRun;
}

/** Reads an open PR and decides on it, writing nothing (undefined when it is not open). */
export async function judgePullRequest(gateway: Gateway, number: number, options: ReviewOptions): Promise<JudgedPullRequest | undefined> {
  const snapshot = await gatherPullRequest(gateway, number, (policyText) => grantsPathOf(policyText, options.providers), {
    maxGrantFiles: options.maxGrantFiles,
    // Judged by the policy Timebox trusts on the base branch, so nobody is told "approved" under a policy change nobody allowed.
    basePolicyAt: (sha, ref) => trustedPolicyAt(gateway, sha, ref, options.providers),
  });
  const { pr } = snapshot;
  if (pr.state !== "open") return undefined;
  await judgeExtensions(snapshot, options);
  const existingValidate = await gateway.checks.findCheckRun(pr.headSha, VALIDATE_CHECK);
  const logged = options.pusherOf?.(pr.headSha);
  const seen = await readHeadPusher(gateway, pr.headSha, options.pushed ?? (logged ? { login: logged, headSha: pr.headSha } : undefined), existingValidate);
  // A PR this app opened for `/timebox request` is judged as its requester's, through this app's own record.
  const { author, pusher } = await identityOf(gateway, pr, seen);
  snapshot.pr = { ...pr, author };
  const needs = membershipNeeds(snapshot, { providers: options.providers, pusher });
  const isMember = await lookUpMemberships(gateway, needs, options.log);
  const onCall = await lookUpOnCall(gateway, snapshot, needs, options.now ?? new Date(), options.onCall);
  const decision = decide(snapshot, { providers: options.providers, pusher, isMember, onCall });
  return { snapshot, decision, pusher, existingValidate };
}

/**
 * A modified grant file is an extension only when the base's version is an approved grant (as the
 * lifecycle will judge it at merge); its extension count is filled in for `max_extensions`. A change
 * to unapproved content is a new request. Without a history lookup, every modification is judged
 * as an extension (the stricter reading).
 */
async function judgeExtensions(snapshot: PullRequestSnapshot, options: ReviewOptions): Promise<void> {
  if (!options.extensionsOf) return;
  for (const f of snapshot.grantFiles.filter((g) => g.previous)) {
    const extensions = await options.extensionsOf(f.path, snapshot.baseSha, snapshot.pr.baseRef);
    if (extensions === undefined) delete f.previous;
    else f.previous!.extensions = extensions;
  }
}

function grantsPathOf(policyText: string | undefined, providers: ReviewOptions["providers"]): string {
  if (policyText === undefined) return DEFAULT_GRANTS_PATH;
  return checkPolicyFile(POLICY_PATH, policyText, { providers }).policy?.grants_path ?? DEFAULT_GRANTS_PATH;
}

async function writeIfChanged(gateway: Gateway, spec: CheckRunSpec, existing: ExistingCheckRun | undefined): Promise<void> {
  const unchanged =
    existing &&
    existing.status === "completed" &&
    existing.conclusion === spec.conclusion &&
    existing.title === spec.output.title &&
    existing.summary === spec.output.summary &&
    (spec.externalId === undefined || existing.externalId === spec.externalId);
  if (!unchanged) await gateway.checks.writeCheckRun(spec, existing);
}

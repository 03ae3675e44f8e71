/**
 * The trusted policy at a commit: the one definition of which version of `.github/timebox.yml`
 * Timebox judges by (design §2 rules 1, 11, 12). A version is trusted when it is the file's first
 * version (the policy the app was installed with), or when it reached the default branch through a
 * merged PR whose head had the same content and whose policy change was approved by the owners of
 * the trusted policy at that merge's base, before the merge. Any other version (a direct push, a PR
 * no owner approved) is skipped: the trusted policy is then the one before it.
 */
import type { Gateway } from "../github/gateway.js";
import type { CommitInfo, TrustedPolicy } from "../github/types.js";
import { checkPolicyFile } from "../policy/check.js";
import { POLICY_PATH } from "../policy/types.js";
import { lookUpMemberships, lookUpOnCall } from "../pull-request/context.js";
import { decide, membershipNeeds } from "../pull-request/decide.js";
import type { PullRequestSnapshot } from "../pull-request/gather.js";
import { identityOf } from "../pull-request/requested.js";
import { mergedPullFacts, mergedPullRequest } from "./merge-facts.js";

/** Policy versions judged in one lookup, at most: past that there is no trusted policy (nothing new is applied; revokes go on). */
const MAX_POLICY_VERSIONS = 50;

type Providers = ReadonlyMap<string, readonly string[]>;

class TooManyVersions extends Error {}

/** Verdicts of this gateway's life (one event or reconcile), final or not: a version is judged once per lookup. */
const perGateway = new WeakMap<Gateway, Map<string, Promise<TrustedPolicy>>>();

/**
 * The policy Timebox trusts at `commit` of the default branch `branch` (or of a PR's base branch).
 * Never throws for a history too long to judge: that is "no trusted policy", asked again next time.
 */
export async function trustedPolicyAt(gw: Gateway, commit: string, branch: string, providers: Providers): Promise<TrustedPolicy> {
  const budget = { left: MAX_POLICY_VERSIONS };
  try {
    return await trustedAt(gw, commit, branch, providers, budget);
  } catch (error) {
    if (!(error instanceof TooManyVersions)) throw error;
    const newest = await gw.commits.lastCommitTouchingRemembered(commit, POLICY_PATH);
    return {
      untrusted: {
        commit: newest?.sha ?? commit,
        reason: `more than ${MAX_POLICY_VERSIONS} versions of the policy would have to be judged to find a trusted one`,
      },
      transient: true,
    };
  }
}

async function trustedAt(gw: Gateway, commit: string, branch: string, providers: Providers, budget: { left: number }): Promise<TrustedPolicy> {
  const version = await gw.commits.lastCommitTouchingRemembered(commit, POLICY_PATH);
  if (!version) return {};
  const final = gw.policyVerdicts.peek(version.sha);
  if (final) return final;
  let memo = perGateway.get(gw);
  if (!memo) perGateway.set(gw, (memo = new Map<string, Promise<TrustedPolicy>>()));
  let verdict = memo.get(version.sha);
  if (!verdict) {
    if (--budget.left < 0) throw new TooManyVersions();
    verdict = judgeVersion(gw, version, branch, providers, budget);
    memo.set(version.sha, verdict);
    verdict.catch(() => memo.delete(version.sha));
  }
  const v = await verdict;
  return v.transient ? v : gw.policyVerdicts.keep(version.sha, v);
}

/** The trusted policy as of one version of the file (`version`: the commit that made it). */
async function judgeVersion(gw: Gateway, version: CommitInfo, branch: string, providers: Providers, budget: { left: number }): Promise<TrustedPolicy> {
  const parent = version.parents[0];
  const earlier = parent ? await gw.commits.lastCommitTouchingRemembered(parent, POLICY_PATH) : undefined;
  const text = await gw.contents.readFile(version.sha, POLICY_PATH);
  // The first version ever: the policy the app was installed with. (A file deleted and added again is not a first version.)
  if (!earlier) return { ...(text !== undefined ? { text } : {}), commit: version.sha };
  const why = await whyNotApproved(gw, version, branch, providers, budget);
  if (why.reason === undefined) return { ...(text !== undefined ? { text } : {}), commit: version.sha, ...(why.transient ? { transient: true } : {}) };
  const before = await trustedAt(gw, parent!, branch, providers, budget);
  return {
    ...(before.text !== undefined ? { text: before.text } : {}),
    ...(before.commit ? { commit: before.commit } : {}),
    untrusted: { commit: version.sha, reason: why.reason },
    ...(why.transient || before.transient ? { transient: true } : {}),
  };
}

/**
 * Why the policy version `version` did not reach the branch through a PR its owners approved (no
 * reason: it did); transient when judged on facts GitHub may still complete.
 */
async function whyNotApproved(
  gw: Gateway,
  version: CommitInfo,
  branch: string,
  providers: Providers,
  budget: { left: number },
): Promise<{ reason?: string; transient?: boolean }> {
  const pulls = await gw.pulls.mergedPullsFor(version.sha, branch);
  // GitHub may link a fresh merge to its PR a moment late: asked again next time.
  if (pulls.length === 0) return { reason: `pushed to \`${branch}\` without a pull request`, transient: true };
  const pull = pulls[0];
  const [atVersion, atHead] = await Promise.all([gw.contents.blobShaAt(version.sha, POLICY_PATH), gw.contents.blobShaAt(pull.headSha, POLICY_PATH)]);
  if (atVersion !== atHead) return { reason: `the policy on \`${branch}\` differs from what PR #${pull.number} had at its head` };
  const { base, reviews, pusher: seen } = await mergedPullFacts(gw, pull);
  if (!base) return { reason: `the base of PR #${pull.number} before its merge could not be found` };
  // The owners are those of the trusted policy at the merge's base; when that one is invalid, of the newest valid trusted one before it.
  let owners = await trustedAt(gw, base, branch, providers, budget);
  while (owners.text !== undefined && !checkPolicyFile(POLICY_PATH, owners.text, { providers }).policy && owners.commit) {
    const parent = (await gw.commits.commit(owners.commit)).parents[0];
    owners = parent ? await trustedAt(gw, parent, branch, providers, budget) : {};
  }
  const transient = owners.transient ? { transient: true } : {};
  if (owners.text === undefined) return { reason: `PR #${pull.number} merged it with no trusted policy on its base to name the owners`, ...transient };
  const { author, pusher } = await identityOf(gw, pull, seen);
  const content = atHead === undefined ? undefined : await gw.contents.readBlob(atHead);
  const snapshot: PullRequestSnapshot = {
    pr: mergedPullRequest(pull, author),
    baseSha: base,
    basePolicyText: owners.text,
    headPolicy: content === undefined ? { kind: "file", removed: true } : { kind: "file", content, removed: false },
    grantFiles: [],
    reviews,
  };
  // The evaluator's one rule for a policy change: a policy owner's approval on the head before the merge; author, last pusher and bots never count.
  const needs = membershipNeeds(snapshot, { providers, pusher });
  const isMember = await lookUpMemberships(gw, needs);
  const onCall = await lookUpOnCall(gw, snapshot, needs, new Date(pull.mergedAt));
  const change = decide(snapshot, { providers, pusher, isMember, onCall }).approval.policyChange;
  if (change?.satisfied) return transient;
  return { reason: `PR #${pull.number} merged it without a policy owner's approval (${change?.missing || "not approved"})`, ...transient };
}

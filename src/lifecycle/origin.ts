import type { Gateway } from "../github/gateway.js";
import { lookUpMemberships, lookUpOnCall } from "../pull-request/context.js";
import { unreadableProblems } from "../oncall/facts.js";
import { SchedulesUnreadable } from "../oncall/types.js";
import { decide, membershipNeeds } from "../pull-request/decide.js";
import type { PullRequestSnapshot } from "../pull-request/gather.js";
import { identityOf } from "../pull-request/requested.js";
import type { MergedPull, Review } from "../github/types.js";
import { approvedAt, recordsOf } from "../records/breakglass.js";
import { mergedPullFacts, mergedPullRequest } from "./merge-facts.js";
import { trustedPolicyAt } from "./policy-trust.js";
import { versionKey, type BreakglassFacts, type GrantOrigin } from "./types.js";

/** The origin of another version of a grant file (`path` with blob `blobSha`, as of commit `ref`): cached by the caller. */
export type OriginLookup = (path: string, blobSha: string, ref: string) => Promise<GrantOrigin>;

export interface OriginQuery {
  path: string;
  blobSha: string;
  content: Buffer;
  tip: string;
  defaultBranch: string;
}

/**
 * Finds how a grant's current content reached the default branch, and whether that was a merged
 * PR that satisfied the policy at merge time: validation and approvals are evaluated again at
 * the PR's head with the policy of the merge's base, counting only reviews given before the merge.
 */
export async function resolveOrigin(
  gw: Gateway,
  q: OriginQuery,
  providers: ReadonlyMap<string, readonly string[]>,
  originOf: OriginLookup,
): Promise<GrantOrigin> {
  const commit = await gw.commits.lastCommitTouching(q.tip, q.path);
  if (!commit) return { approved: false, reason: "no commit on the default branch introduces this file", commitSha: q.tip };
  const pulls = await gw.pulls.mergedPullsFor(commit.sha, q.defaultBranch);
  const unapproved = (reason: string, pull?: MergedPull): GrantOrigin => ({
    approved: false,
    reason,
    commitSha: commit.sha,
    committer: commit.authorLogin,
    committedAt: commit.committedAt,
    pull,
  });
  if (pulls.length === 0) return { ...unapproved(`pushed to \`${q.defaultBranch}\` without a pull request`), transient: true } as GrantOrigin;

  const pull = pulls[0];
  // The content that merged must be the content the reviewers saw at the PR's head.
  const atHead = await gw.contents.blobShaAt(pull.headSha, q.path);
  if (atHead !== q.blobSha) return unapproved(`the content on \`${q.defaultBranch}\` differs from what PR #${pull.number} had at its head`, pull);

  const { base, reviews, pusher: seen } = await mergedPullFacts(gw, pull);
  // Judged by the policy Timebox trusts at the merge's base: a policy change nobody allowed never judges anything.
  const basePolicyText = base ? (await trustedPolicyAt(gw, base, q.defaultBranch, providers)).text : undefined;
  // A PR this app opened for `/timebox request` is judged as its requester's, through this app's own record.
  const { author, pusher } = await identityOf(gw, pull, seen);
  // A change to an approved version already on the base is an extension, judged as such.
  const previousBlob = base ? await gw.contents.blobShaAt(base, q.path) : undefined;
  const previous = previousBlob && previousBlob !== q.blobSha ? await originOf(q.path, previousBlob, base!) : undefined;
  const extended = previous?.approved ? previous : undefined;
  const snapshot: PullRequestSnapshot = {
    pr: mergedPullRequest(pull, author),
    baseSha: base ?? "",
    basePolicyText,
    grantFiles: [
      {
        path: q.path,
        kind: "file",
        content: q.content,
        previous: extended && previousBlob ? { content: await gw.contents.readBlob(previousBlob), extensions: extended.extension?.count ?? 0 } : undefined,
      },
    ],
    reviews,
  };
  const needs = membershipNeeds(snapshot, { providers, pusher });
  const isMember = await lookUpMemberships(gw, needs);
  // On-call rules are judged as at merge (or at the break-glass start Timebox recorded), never "now": a shift ending later changes nothing.
  const onCall = await lookUpOnCall(gw, snapshot, needs, new Date(pull.mergedAt));
  const decision = decide(snapshot, { providers, pusher, isMember, onCall });
  const verdict = decision.grants[0];
  const approval = decision.approval.grants[0];
  const unread = unreadableProblems(onCall);
  if (unread.length > 0 && !(verdict.valid && approval?.satisfied)) throw new SchedulesUnreadable(`PR #${pull.number}: ${unread.join("; ")}`);
  if (!decision.basePolicy?.policy) return unapproved(`PR #${pull.number} merged while the policy on its base was missing, invalid or not trusted`, pull);
  if (!verdict.valid || !verdict.grant || !verdict.role) {
    const problems = verdict.diagnostics.filter((d) => d.severity === "error").map((d) => d.message);
    return unapproved(`PR #${pull.number} merged a grant that fails validation: ${problems.slice(0, 3).join("; ")}`, pull);
  }
  if (!approval?.satisfied)
    return unapproved(`PR #${pull.number} merged without the approvals the policy requires (${approval?.missing || "not approved"})`, pull);
  // Revoked early by someone allowed, a version stays revoked. Brought back (a hand-made merge whose other parent is the
  // approved head: `git log -- <file>` then finds the old approved commit again), it is content nobody approved.
  if (await revokedByCommand(gw, pull.number, q))
    return unapproved(`revoked by /timebox revoke on PR #${pull.number}; brought back since, it needs a new request`, pull);
  const extension =
    extended && previousBlob
      ? {
          of: extended.extension?.of ?? extended.pull.number,
          count: (extended.extension?.count ?? 0) + 1,
          previous: { mergeCommitSha: extended.pull.mergeCommitSha, key: versionKey({ path: q.path, blobSha: previousBlob }) },
          earlier: [...(extended.extension?.earlier ?? []), { pr: extended.pull.number, approvedBy: extended.approvedBy }],
        }
      : undefined;
  const breakglass = verdict.grant.emergency ? await breakglassFacts(gw, pull, q.path, approval.counted, reviews) : undefined;
  return {
    approved: true,
    pull,
    approvedBy: approval.counted,
    grant: verdict.grant,
    role: verdict.role,
    policy: decision.basePolicy.policy,
    // Applied by break-glass before the merge: its clock started then.
    activatedAt: breakglass?.grantedAt ?? pull.mergedAt,
    ...(extension ? { extension } : {}),
    ...(breakglass ? { breakglass } : {}),
  };
}

/** What break-glass recorded for an emergency grant before its PR merged, with the approval that came before the merge. */
async function breakglassFacts(gw: Gateway, pull: MergedPull, path: string, approvedBy: string[], reviews: Review[]): Promise<BreakglassFacts | undefined> {
  const record = recordsOf(await gw.issues.ownComments(pull.number)).get(path);
  if (!record) return undefined;
  const reviewedAt = approvedAt(reviews, approvedBy);
  return {
    grantedAt: record.grantedAt,
    reviewDue: record.reviewDue,
    ...(record.priorAccess ? { priorAccess: record.priorAccess } : {}),
    ...(reviewedAt ? { reviewedBy: approvedBy, reviewedAt } : {}),
  };
}

/** Whether Timebox's own sealed record on the PR says this version was revoked by `/timebox revoke` (`revoked-by:<login>`). */
async function revokedByCommand(gw: Gateway, pr: number, v: { path: string; blobSha: string }): Promise<boolean> {
  const prefix = `<!-- timebox:revoked-at ${versionKey(v)} `;
  return (await gw.issues.ownComments(pr)).some((c) =>
    c.markers.some((m) => m.startsWith(prefix) && m.slice(prefix.length).split(" ")[1]?.startsWith("revoked-by:")),
  );
}

/**
 * How many extensions the version of `path` at commit `ref` has had (0 for the original request),
 * or undefined when that version is not an approved grant (a change to it is then a new request).
 * For judging a PR that extends it against `max_extensions`.
 */
export async function extensionsAt(
  gw: Gateway,
  path: string,
  ref: string,
  branch: string,
  providers: ReadonlyMap<string, readonly string[]>,
): Promise<number | undefined> {
  const cache = new Map<string, Promise<GrantOrigin>>();
  const originOf: OriginLookup = (p, blobSha, at) => {
    let origin = cache.get(`${p}@${blobSha}`);
    if (!origin) {
      origin = gw.contents
        .readBlob(blobSha)
        .then((content) => resolveOrigin(gw, { path: p, blobSha, content, tip: at, defaultBranch: branch }, providers, originOf));
      cache.set(`${p}@${blobSha}`, origin);
    }
    return origin;
  };
  const blob = await gw.contents.blobShaAt(ref, path);
  if (!blob) return undefined;
  const origin = await originOf(path, blob, ref);
  return origin.approved ? (origin.extension?.count ?? 0) : undefined;
}

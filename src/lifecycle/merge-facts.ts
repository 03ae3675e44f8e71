import type { Gateway } from "../github/gateway.js";
import type { MergedPull } from "../github/types.js";
import type { PullRequestSnapshot } from "../pull-request/gather.js";
import { readHeadPusher } from "../pull-request/context.js";
import { VALIDATE_CHECK } from "../pull-request/render.js";

/**
 * What a merged PR looked like at merge time, read once per PR however many grants (or a policy
 * change) it merged: the merge's base, the reviews given before the merge, and the head's pusher.
 * The policy that judges it is the trusted policy at `base` (policy-trust.ts), found apart.
 */
export function mergedPullFacts(gw: Gateway, pull: MergedPull) {
  return gw.pulls.factsAtMerge(pull, async () => {
    const base = await baseBeforeMerge(gw, pull);
    const reviews = (await gw.pulls.listReviews(pull.number)).filter((r) => !r.submitted_at || r.submitted_at <= pull.mergedAt);
    const pusher = await readHeadPusher(gw, pull.headSha, undefined, await gw.checks.findCheckRun(pull.headSha, VALIDATE_CHECK));
    return { base, reviews, pusher };
  });
}

/** More commits than GitHub rebases in one merge: a longer walk is not a rebase merge it can tell, and no base is found (not approved). */
const MAX_REBASED = 300;

/**
 * The base branch's tip just before the merge, whose policy judges the PR: the merge commit's first
 * parent — but a rebase merge writes each of the PR's commits anew on the base (the last is its
 * "merge commit"), and the parent of that is the PR's own previous commit, maybe its own policy
 * change. So while a single-parent merge's parent is a commit of this same PR, walk back past it.
 */
async function baseBeforeMerge(gw: Gateway, pull: MergedPull): Promise<string | undefined> {
  const merge = await gw.commits.commit(pull.mergeCommitSha);
  let base = merge.parents[0];
  if (merge.parents.length !== 1) return base;
  for (let i = 0; base && i < MAX_REBASED; i++) {
    if (!(await gw.pulls.mergedPullsFor(base, pull.baseRef)).some((p) => p.number === pull.number)) return base;
    base = (await gw.commits.commit(base)).parents[0];
  }
  return undefined;
}

/** A merged PR as the PR-side rules see it, judged as at its merge (`author`: whose request it is). */
export function mergedPullRequest(pull: MergedPull, author: string): PullRequestSnapshot["pr"] {
  return {
    number: pull.number,
    state: "closed",
    merged: true,
    mergedAt: pull.mergedAt,
    draft: false,
    author,
    headSha: pull.headSha,
    headRef: "",
    baseRef: pull.baseRef,
    htmlUrl: pull.htmlUrl,
  };
}

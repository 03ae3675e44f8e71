import type { Context } from "probot";
import { Gateway } from "../github/gateway.js";
import { extensionsAt } from "../lifecycle/origin.js";
import { BREAKGLASS_LABEL } from "../records/breakglass.js";
import { startsBreakglass } from "../lifecycle/decide.js";
import { reviewPullRequest, type ReviewOptions } from "../pull-request/run.js";
import { pushLogOf } from "../pull-request/pushes.js";
import type { AppDeps } from "./deps.js";
import { notifyJudged } from "../notify/events.js";
import { reconcileFor } from "./reconcile.js";

/** Events after which a PR's grants and approvals are judged again. */
export const REVIEW_EVENTS = [
  "pull_request.opened",
  "pull_request.reopened",
  "pull_request.synchronize",
  "pull_request.edited",
  "pull_request.ready_for_review",
] as const;

/** A PR changed: validate its grants and evaluate approvals. `opened`/`synchronize` also say who pushed. */
export function onPullRequestChanged(deps: AppDeps) {
  return async (context: Context<"pull_request">): Promise<void> => {
    const { pull_request: pr, action, sender } = context.payload;
    // A title or body edit changes nothing Timebox judges: no read, no write, no reconcile.
    if (action === "edited" && !baseChanged(context.payload)) return;
    if (savingForRevocation(deps, context)) return;
    const repo = context.repo();
    // Who pushed the head commit: push webhooks (any branch) and the `synchronize` sender, never
    // the `opened` sender by assumption (someone else may have pushed the branch).
    const pushes = pushLogOf(deps);
    if (action === "synchronize" && sender?.login) pushes.note([pr.head.sha], sender.login);
    const login = pushes.pusherOf(pr.head.sha);
    const pushed = login ? { login, headSha: pr.head.sha } : undefined;
    const decision = await deps.queue.run(`${repo.owner}/${repo.repo}#${pr.number}`, () => review(context, deps, pr.number, pushed));
    // The label only marks the PR for the lifecycle, which judges it again before granting anything.
    const wants = decision !== undefined && startsBreakglass(decision);
    if (wants && !isBreakglass(pr)) await new Gateway(context.octokit, repo, await deps.self()).issues.addLabel(pr.number, BREAKGLASS_LABEL);
    if (wants || isBreakglass(pr)) await reconcileFor(deps, context);
  };
}

/** An `edited` event that moved the PR to another base branch (the payload's `changes` says what changed). */
function baseChanged(payload: { changes?: Record<string, unknown> }): boolean {
  const changes = payload.changes;
  // No `changes` at all: we cannot tell what changed, so judge the PR again.
  if (!changes || typeof changes !== "object") return true;
  return Object.keys(changes).some((k) => k !== "title" && k !== "body");
}

/**
 * The installation is down to the GitHub budget kept for revocation: a PR's review waits (a later
 * event, or "Re-run" on the check, judges it again), so nobody's PR activity can delay an expiry.
 */
export function savingForRevocation(deps: AppDeps, context: Context): boolean {
  const installation = (context.payload as { installation?: { id: number } }).installation?.id;
  if (!deps.budgetLow(installation)) return false;
  context.log.warn({ installation }, "GitHub API budget at the share kept for revocation: this pull request is judged again later");
  return true;
}

/** Whether a PR carries Timebox's break-glass label. */
export const isBreakglass = (pr: { labels?: Array<{ name?: string }> }) => !!pr.labels?.some((l) => l.name === BREAKGLASS_LABEL);

/** Judges one PR; extensions are counted through the grant's history on the base branch. */
export async function review(context: Context, deps: AppDeps, number: number, pushed?: ReviewOptions["pushed"]) {
  const repo = context.repo();
  const gw = new Gateway(context.octokit, repo, await deps.self());
  return reviewPullRequest(gw, number, {
    providers: deps.providers,
    pushed,
    log: context.log,
    maxGrantFiles: deps.maxGrantFiles,
    pusherOf: (sha) => pushLogOf(deps).pusherOf(sha),
    extensionsOf: (path, baseSha, baseRef) => extensionsAt(gw, path, baseSha, baseRef, deps.providers),
    now: deps.now?.(),
    onJudged: (judged) => notifyJudged(deps.notifier, `${gw.repoRef.owner}/${gw.repoRef.repo}`, defaultBranchOf(context), judged, deps.now?.() ?? new Date()),
  });
}

/** The repository's default branch, as GitHub set it in the event's `repository`. */
const defaultBranchOf = (context: Context) => (context.payload as { repository?: { default_branch?: string } }).repository?.default_branch;

/** "Re-run" on one of Timebox's checks: judge the PRs of that commit again (e.g. after a team change). */
export function onCheckRerequested(deps: AppDeps) {
  return async (context: Context<"check_run.rerequested">): Promise<void> => {
    const repo = context.repo();
    for (const { number } of context.payload.check_run.pull_requests) {
      await deps.queue.run(`${repo.owner}/${repo.repo}#${number}`, () => review(context, deps, number));
    }
  };
}

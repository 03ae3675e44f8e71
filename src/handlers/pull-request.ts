import type { Context } from "probot";
import { LifecycleGateway } from "../github/lifecycle-gateway.js";
import { extensionsAt } from "../lifecycle/origin.js";
import { reviewPullRequest, type ReviewOptions } from "../review/run.js";
import type { AppDeps } from "./deps.js";

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
    const repo = context.repo();
    const pushed = action === "opened" || action === "synchronize" ? { login: sender.login, headSha: pr.head.sha } : undefined;
    await deps.queue.run(`${repo.owner}/${repo.repo}#${pr.number}`, () => review(context, deps, pr.number, pushed));
  };
}

/** Judges one PR; extensions are counted through the grant's history on the base branch. */
export function review(context: Context, deps: AppDeps, number: number, pushed?: ReviewOptions["pushed"]) {
  const repo = context.repo();
  const gw = new LifecycleGateway(context.octokit, repo);
  return reviewPullRequest(gw, number, {
    providers: deps.providers,
    pushed,
    log: context.log,
    extensionsOf: (path, baseSha, baseRef) => extensionsAt(gw, path, baseSha, baseRef, deps.providers),
  });
}

/** "Re-run" on one of Timebox's checks: judge the PRs of that commit again (e.g. after a team change). */
export function onCheckRerequested(deps: AppDeps) {
  return async (context: Context<"check_run.rerequested">): Promise<void> => {
    const repo = context.repo();
    for (const { number } of context.payload.check_run.pull_requests) {
      await deps.queue.run(`${repo.owner}/${repo.repo}#${number}`, () => review(context, deps, number));
    }
  };
}

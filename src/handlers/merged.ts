import type { Context } from "probot";
import { pushLogOf } from "../pull-request/pushes.js";
import type { AppDeps } from "./deps.js";
import { reconcileFor } from "./reconcile.js";

/**
 * A PR closed: converge the repository. A merged one applies what it granted and revokes what it
 * removed; a break-glass PR closed unmerged has its emergency grant revoked at once (whatever
 * labels the payload shows: the lifecycle reads them itself).
 */
export function onPullRequestClosed(deps: AppDeps) {
  return async (context: Context<"pull_request.closed">): Promise<void> => {
    await reconcileFor(deps, context);
  };
}

/**
 * A push. Any branch: its sender is remembered as the pusher of its commits (the last-pusher rule
 * of a PR from that branch). The default branch is also reconciled (direct pushes, force pushes,
 * Timebox's own commits).
 */
export function onPush(deps: AppDeps) {
  return async (context: Context<"push">): Promise<void> => {
    const { ref, repository } = context.payload;
    const shas = [...context.payload.commits.map((c) => c.id), context.payload.after];
    // Any branch: the sender pushed these commits, and a PR from it may be opened by someone else.
    if (context.payload.sender?.login && !context.payload.deleted) pushLogOf(deps).note(shas, context.payload.sender.login);
    if (ref !== `refs/heads/${repository.default_branch}`) return;
    deps.lifecycle.notePush(shas, context.payload.sender?.login ?? context.payload.pusher.name);
    await reconcileFor(deps, context);
  };
}

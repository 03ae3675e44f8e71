import type { Context } from "probot";
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

/** A push: only the default branch matters (direct pushes, force pushes, Timebox's own commits). */
export function onPush(deps: AppDeps) {
  return async (context: Context<"push">): Promise<void> => {
    const { ref, repository } = context.payload;
    if (ref !== `refs/heads/${repository.default_branch}`) return;
    const shas = [...context.payload.commits.map((c) => c.id), context.payload.after];
    deps.lifecycle.notePush(shas, context.payload.sender?.login ?? context.payload.pusher.name);
    await reconcileFor(deps, context);
  };
}

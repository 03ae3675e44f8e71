import type { Context } from "probot";
import { Gateway } from "../github/gateway.js";
import { pushLogOf, recordPush } from "../pull-request/pushes.js";
import { savingForRevocation } from "./pull-request.js";
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
    const pushes = pushLogOf(deps);
    const sender = context.payload.deleted ? undefined : context.payload.sender?.login;
    if (ref !== `refs/heads/${repository.default_branch}`) {
      // Recorded on GitHub for the replica that judges the PR (webhooks reach any replica) and for
      // after a restart; below the revocation reserve it waits, and the pusher stays unknown (no approval counts).
      // The head's pusher is whoever the record names first (maybe pushed to another branch, via
      // another replica): settled before this process remembers anything of the push.
      if (sender && !savingForRevocation(deps, context)) {
        const gw = new Gateway(context.octokit, context.repo(), await deps.self());
        pushes.settle(context.payload.after, await recordPush(gw, context.payload.after, sender));
      }
      if (sender) pushes.note(shas, sender);
      return;
    }
    if (sender) pushes.note(shas, sender);
    deps.lifecycle.notePush(shas, context.payload.sender?.login ?? context.payload.pusher.name);
    await reconcileFor(deps, context);
  };
}

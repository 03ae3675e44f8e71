import type { Context } from "probot";
import { isBreakglass, review, savingForRevocation } from "./pull-request.js";
import { reconcileFor } from "./reconcile.js";
import type { AppDeps } from "./deps.js";

export const REVIEW_CHANGE_EVENTS = ["pull_request_review.submitted", "pull_request_review.edited", "pull_request_review.dismissed"] as const;

/** A review arrived, changed or was dismissed: evaluate approvals again from the reviews list. */
export function onReviewChanged(deps: AppDeps) {
  return async (context: Context<"pull_request_review">): Promise<void> => {
    if (savingForRevocation(deps, context)) return;
    const number = context.payload.pull_request.number;
    const repo = context.repo();
    await deps.queue.run(`${repo.owner}/${repo.repo}#${number}`, () => review(context, deps, number));
    // A break-glass PR's review is recorded (and its unreviewed issue closed) by the lifecycle.
    if (isBreakglass(context.payload.pull_request)) await reconcileFor(deps, context);
  };
}

import type { Context } from "probot";
import { awaitWithin } from "../util/budget.js";
import type { AppDeps } from "./deps.js";

/**
 * Runs the reconcile of the event's repository (across replicas, the leader runs it) and answers
 * GitHub within the budget: a reconcile still running then (many grants, a provider being retried)
 * finishes on its own, logged.
 */
export async function reconcileFor(deps: AppDeps, context: Context): Promise<void> {
  const installationId = (context.payload as { installation?: { id: number } }).installation?.id;
  if (!installationId) return;
  const { owner, repo } = context.repo() as { owner: string; repo: string }; // Probot types them `never` on the untyped Context
  const name = `${owner}/${repo}`;
  const ran = await awaitWithin(deps.lifecycle.reconcileOnEvent({ installationId, owner, repo }, context.octokit), deps.webhookBudgetMs, (error) =>
    context.log.error({ repo: name, error: (error as Error).message }, "reconcile after the webhook's answer failed; the next tick retries"),
  );
  if (ran === "continuing") context.log.info({ repo: name }, "webhook answered within its budget; its reconcile goes on");
}

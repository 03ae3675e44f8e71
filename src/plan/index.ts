/** `timebox plan`: what is active, what expires when, what is pending, what a reconcile would do — offline. */
import { decidePlan, DEFAULT_HISTORY_MARGIN_MS } from "./decide.js";
import { readPlanFacts } from "./read.js";
import type { Plan } from "./types.js";

export { NotARepositoryError } from "./read.js";
export { renderPlan, type PlanFormat } from "./render.js";
export type { Plan } from "./types.js";

export interface PlanOptions {
  at: Date;
  providers: ReadonlyMap<string, readonly string[]>;
  historyMarginMs?: number;
}

/** Reads a clone with the real `git` and decides the plan. Changes nothing; needs no network or credentials. */
export async function planRepository(repo: string, options: PlanOptions): Promise<Plan> {
  const margin = options.historyMarginMs ?? DEFAULT_HISTORY_MARGIN_MS;
  const facts = await readPlanFacts(repo, { ...options, historyMarginMs: margin });
  return decidePlan(facts, { ...options, historyMarginMs: margin });
}

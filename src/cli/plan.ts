import { resolve } from "node:path";
import { planRepository, renderPlan, NotARepositoryError, type PlanFormat } from "../plan/index.js";
import { knownProviders } from "../policy/providers.js";
import { parseTime } from "./audit.js";

export interface PlanCliOptions {
  repo?: string;
  at?: string;
  format: PlanFormat;
}

export interface PlanCliResult {
  exitCode: 0 | 1 | 2;
  stdout: string;
  stderr: string;
}

/**
 * `timebox plan`: what is active, what expires when, what is pending and what a reconcile would
 * do, from a clone, offline. Exit 0, or 1 when a file (or the policy) fails validation; 2 on usage errors.
 */
export async function runPlan(options: PlanCliOptions, cwd: string, now = new Date()): Promise<PlanCliResult> {
  const usage = (message: string): PlanCliResult => ({ exitCode: 2, stdout: "", stderr: `timebox plan: ${message}\n` });
  let at = now;
  if (options.at !== undefined) {
    const parsed = parseTime(options.at);
    if (!parsed) return usage(`--at ${JSON.stringify(options.at.slice(0, 80))} is not a date or time; use ISO 8601, e.g. 2026-03-02T18:00:00Z`);
    at = parsed;
  }
  const repo = resolve(cwd, options.repo ?? ".");
  let plan;
  try {
    plan = await planRepository(repo, { at, providers: knownProviders() });
  } catch (e) {
    if (e instanceof NotARepositoryError) return usage(e.message);
    return usage(`cannot read ${repo}: ${(e as Error).message}`);
  }
  return { exitCode: plan.valid ? 0 : 1, stdout: renderPlan(plan, options.format), stderr: "" };
}

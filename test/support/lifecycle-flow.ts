/** Steps of the grant lifecycle as people perform them on the emulated GitHub, for end-to-end tests. */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "@jest/globals";
import { startTestPostgres, uniqueSuffix, type TestPostgres } from "../providers/postgres-server.js";
import { startPostgresAccess, type PostgresAccess, type PostgresAccessOptions } from "./postgres-access.js";
import type { DeliveryResult } from "../harness/github/deliver.js";
import type { ActionResult } from "../harness/github/repo-handle.js";
import type { ReconcileReport } from "../../src/lifecycle/reconciler.js";
import type { AccessRepo } from "./access-repo.js";

/** Delivers webhook events and fails the test if the app answered any of them with an error. */
export async function deliverOk(env: AccessRepo, events: ActionResult, opts: { only?: string[] } = {}): Promise<DeliveryResult[]> {
  const results = await env.gh.deliver(env.probot, events, opts);
  const failed = results
    .filter((r) => r.status !== 200)
    .map((r) => `${r.event}.${r.action ?? ""}: ${String((r.error as Error | undefined)?.stack ?? r.error)}`);
  expect(failed).toEqual([]);
  return results;
}

export interface GrantedPull {
  /** The PR number. */
  number: number;
  /** The PR's head commit. */
  head: string;
  /** The merge commit on the default branch. */
  mergeSha: string;
  merge: ActionResult;
}

/** dev1 (by default) opens a PR adding one grant file, `approver` approves it, and it is merged: each step's webhooks delivered. */
export async function mergeApprovedGrant(
  env: AccessRepo,
  opts: { path: string; content: string; author?: string; approver?: string; mergedBy?: string },
): Promise<GrantedPull> {
  const { gh, clock } = env;
  const pr = gh.openPullRequest({ author: opts.author ?? "dev1", files: { [opts.path]: opts.content }, title: `Access: ${opts.path}` });
  await deliverOk(env, pr);
  expect(gh.checkRuns(pr.sha!, "timebox/validate").at(-1)?.conclusion).toBe("success");
  await deliverOk(env, gh.submitReview(pr.number!, { reviewer: opts.approver ?? "alice", state: "APPROVED" }));
  expect(gh.checkRuns(pr.sha!, "timebox/approval").at(-1)?.conclusion).toBe("success");
  clock.advance(60_000);
  const merge = gh.merge(pr.number!, { by: opts.mergedBy ?? opts.approver ?? "alice" });
  await deliverOk(env, merge);
  return { number: pr.number!, head: pr.sha!, mergeSha: merge.sha!, merge };
}

/**
 * A policy change as it takes effect: a PR changing `.github/timebox.yml` (and any other `files`),
 * approved by a policy owner (sec1, of `owners: ["@acme/security"]` in the test policy) and merged.
 */
export async function mergePolicyChange(
  env: AccessRepo,
  policy: string,
  opts: { author?: string; approver?: string; files?: Record<string, string>; base?: string } = {},
): Promise<GrantedPull> {
  const { gh, clock } = env;
  const pr = gh.openPullRequest({
    author: opts.author ?? "dev2",
    files: { ".github/timebox.yml": policy, ...opts.files },
    title: "Policy change",
    ...(opts.base ? { base: opts.base } : {}),
  });
  await deliverOk(env, pr);
  await deliverOk(env, gh.submitReview(pr.number!, { reviewer: opts.approver ?? "sec1", state: "APPROVED" }));
  clock.advance(60_000);
  const merge = gh.merge(pr.number!, { by: opts.approver ?? "sec1" });
  await deliverOk(env, merge);
  return { number: pr.number!, head: pr.sha!, mergeSha: merge.sha!, merge };
}

/** One reconcile of the access repository, as the timer, the cron tick or a push would run it; errors propagate. */
export async function reconcile(env: AccessRepo): Promise<ReconcileReport> {
  const [owner, repo] = env.fullName.split("/");
  return env.runtime.reconcileRepo({ installationId: 1, owner, repo });
}

/** Comments on an issue or PR whose body contains `marker` (e.g. `timebox:applied`). */
export function commentsWith(env: AccessRepo, number: number, marker: string): Array<{ body: string; user: string }> {
  return env.gh.comments(number).filter((c: { body: string }) => c.body.includes(marker));
}

/** Writes the app made (installation token, not minting tokens): what "changes nothing" is measured by. */
export function appWrites(env: AccessRepo): Array<{ method: string; path: string }> {
  return env.gh.requests
    .filter((r) => r.tokenKind === "installation" && ["POST", "PATCH", "PUT", "DELETE"].includes(r.method))
    .map((r) => ({ method: r.method, path: r.path }));
}

/** Commits on `main` whose message carries Timebox's audit trailers. */
export function timeboxCommits(env: AccessRepo, path?: string): string[] {
  return env.gh
    .repo(env.fullName)
    .log("main")
    .filter((c) => /^Timebox-Grant: /m.test(c.message) && (!path || c.message.includes(`Timebox-Grant: ${path}`)))
    .map((c) => c.sha);
}

/**
 * One PostgreSQL server for the tests of a file (PGlite takes seconds to start), each test with
 * its own roles, repository (unique name, so parallel files on a real server never share a
 * `timebox_*` role or each other's drift), emulator and app. Call at the top level of a test file.
 */
export function postgresAccessPerTest(options: Omit<PostgresAccessOptions, "pg" | "repo"> = {}): () => PostgresAccess {
  let server: TestPostgres;
  let env: PostgresAccess | undefined;
  beforeAll(async () => {
    server = await startTestPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    env = await startPostgresAccess({ ...options, pg: server, repo: `access-${uniqueSuffix()}` });
  });
  afterEach(async () => {
    const e = env;
    env = undefined;
    if (!e) return;
    try {
      expect(e.gh.unknownRequests()).toEqual([]);
    } finally {
      await e.stop();
    }
  });
  return () => {
    if (!env) throw new Error("no access repository outside a test");
    return env;
  };
}

/**
 * The end-to-end story every access provider tells (test/lifecycle/<provider>.e2e.test.ts): grants
 * merged → applied once each → the clock passes expiry → reconcile → each file removed by Timebox
 * → a later reconcile changes nothing.
 */
import { expect } from "@jest/globals";
import type { GitHubEmulator } from "../harness/github/index.js";
import { POLICY, type AccessRepo } from "./access-repo.js";
import { markedComments, removalCommits, type MergedGrant } from "./lifecycle-stage.js";

const DEV1_IDENTITY = "  dev1: { postgres: dev1_login }\n";

/**
 * The fixture policy with its `identities` line for dev1 replaced by `identities` (dev1's entry
 * for the provider under test, and any more people's), and `resources` appended to its resources.
 */
export function policyWithResource(identities: string, resources: string): string {
  if (!POLICY.includes(DEV1_IDENTITY)) throw new Error("the fixture policy changed: no dev1 identity line");
  return `${POLICY.replace(DEV1_IDENTITY, identities).trimEnd()}\n${resources}`;
}

/** Every merge's webhooks were answered 200, and each PR has exactly one `applied` comment. */
export function expectAppliedOnce(gh: GitHubEmulator, merged: readonly MergedGrant[]): void {
  for (const p of merged) {
    expect(p.deliveries.every((d) => d.status === 200)).toBe(true);
    expect(markedComments(gh, p.number, "applied")).toHaveLength(1);
  }
}

/**
 * Each expired grant's file is gone from `main`, removed by exactly one Timebox commit carrying
 * the `Timebox-Grant`, `Requested-by` and `Revoke-Reason: expired` trailers, and its PR has
 * exactly one `revoked` comment.
 */
export function expectRemovedAtExpiry(gh: GitHubEmulator, merged: readonly MergedGrant[]): void {
  for (const { number, path, requester } of merged) {
    expect(gh.fileAt("main", path)).toBeUndefined();
    const commits = removalCommits(gh, path);
    expect(commits).toHaveLength(1);
    for (const trailer of [`Timebox-Grant: ${path}`, `Requested-by: ${requester}`, "Revoke-Reason: expired"]) expect(commits[0].message).toContain(trailer);
    expect(markedComments(gh, number, "revoked")).toHaveLength(1);
  }
}

/** One more reconcile of every repository leaves `main` where it was. */
export async function expectNextReconcileCommitsNothing(env: AccessRepo): Promise<void> {
  const head = env.gh.branchHead("main");
  await env.runtime.reconcileAll();
  expect(env.gh.branchHead("main")).toBe(head);
}

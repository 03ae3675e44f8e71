/**
 * How a grant reaches the default branch, attacked by someone with write access who wants access
 * nobody entitled approved: through another branch whose policy they changed (a branch hop), a
 * merge whose content is not the approved head's, a rebase merge over the PR's own policy change,
 * a revert, cherry-pick or hand-made merge that brings a revoked grant back, and a PR approved for
 * another base and then retargeted. The rule: a grant is applied only when the PR that merged it
 * into the default branch was approved under the default branch's policy at that merge's base,
 * with reviews on that PR's head. Every story runs on the REST path and on the GraphQL batches
 * (`TIMEBOX_GITHUB_GRAPHQL=always`), in the running app and in a fresh one (a cold start).
 */
import { expect, jest } from "@jest/globals";
import { POLICY, grantYaml, startAccessRepo, type AccessRepo } from "../support/access-repo.js";
import { MemoryPool, MemoryProvider } from "../support/memory-provider.js";
import { commentsWith, deliverOk, reconcile } from "../support/lifecycle-flow.js";
import type { ActionResult } from "../harness/github/repo-handle.js";

jest.setTimeout(60_000);

const PATH = "grants/dev1-prod-db.yaml";
const POLICY_PATH = ".github/timebox.yml";
/** The policy with mallory (write access, dev1's accomplice) as an approver of prod-db/readonly: what a branch or a PR of theirs can say. */
const MALLORY_APPROVES = POLICY.replace('approvers: ["@acme/sre", "sre1"]', 'approvers: ["@acme/sre", "sre1", "mallory"]');
const MODES = [
  ["REST", "off"],
  ["GraphQL", "always"],
] as const;

describe.each(MODES)("%s", (_name, mode) => {
  let env: AccessRepo;
  let provider: MemoryProvider;
  beforeEach(async () => {
    provider = new MemoryProvider();
    env = await startAccessRepo({ pool: new MemoryPool(provider), env: { TIMEBOX_GITHUB_GRAPHQL: mode } });
    env.gh.repo().addCollaborator("mallory", "write");
  });
  afterEach(async () => {
    await env.stop();
  });

  const deliver = async (events: ActionResult) => {
    await deliverOk(env, events);
    env.clock.advance(1000);
  };
  const held = () => [...provider.held.values()].map((g) => `${g.requester}:${g.resource}/${g.role}`);

  /** The same decision from a fresh process (every origin read again, in GraphQL batches when asked). */
  async function coldStart(): Promise<string[]> {
    const fresh = await startAccessRepo({ gh: env.gh, clock: env.clock, pool: new MemoryPool(provider), env: { TIMEBOX_GITHUB_GRAPHQL: mode } });
    try {
      await reconcile(fresh);
      return held();
    } finally {
      await fresh.stop();
    }
  }

  /** Settles what the app decides now: a reconcile past GitHub's grace for linking a fresh commit to its PR, then a cold start. */
  async function settle(): Promise<{ running: string[]; cold: string[] }> {
    env.clock.advance(5 * 60_000);
    await reconcile(env);
    const running = held();
    return { running, cold: await coldStart() };
  }

  /** `feature` with mallory as an approver in its policy, and PR #A (dev1's grant into `feature`) approved by mallory and merged. */
  async function grantMergedIntoFeature(): Promise<{ a: number }> {
    const { gh } = env;
    await deliver(
      gh.pushCommit({ branch: "feature", from: "main", files: { [POLICY_PATH]: MALLORY_APPROVES }, author: "dev1", message: "Policy for the feature branch" }),
    );
    const a = gh.openPullRequest({ author: "dev1", branch: "dev1/access", base: "feature", files: { [PATH]: grantYaml() }, title: "Access" });
    await deliver(a);
    await deliver(gh.submitReview(a.number!, { reviewer: "mallory", state: "APPROVED" }));
    await deliver(gh.merge(a.number!, { by: "dev1" }));
    expect(gh.fileAt("feature", PATH)).toBeDefined();
    expect(held()).toEqual([]);
    return { a: a.number! };
  }

  describe("branch hop", () => {
    test("a grant approved into another branch under that branch's policy reaches main through an unapproved PR (mallory's approval): never applied, and the PR that merged it into main is the one reported", async () => {
      const { gh } = env;
      const { a } = await grantMergedIntoFeature();
      const b = gh.openPullRequest({ author: "dev1", branch: "feature", title: "Docs" });
      await deliver(b);
      await deliver(gh.submitReview(b.number!, { reviewer: "mallory", state: "APPROVED" }));
      await deliver(gh.merge(b.number!, { by: "dev1" }));
      expect(await settle()).toEqual({ running: [], cold: [] });
      expect(commentsWith(env, b.number!, "timebox:unapproved").length).toBeGreaterThan(0);
      expect(commentsWith(env, a, "timebox:unapproved")).toEqual([]);
      expect(commentsWith(env, a, "timebox:applied")).toEqual([]);
    });

    test("the other branch merged into main by a direct push (a merge commit, or a fast-forward): never applied", async () => {
      const { gh } = env;
      await grantMergedIntoFeature();
      const feature = gh.branchHead("feature")!;
      await deliver(
        gh.pushCommit({ author: "dev1", mergeWith: [feature], files: { [POLICY_PATH]: MALLORY_APPROVES, [PATH]: grantYaml() }, message: "Merge feature" }),
      );
      expect(await settle()).toEqual({ running: [], cold: [] });
      gh.repo().setBranch("main", feature);
      expect(await settle()).toEqual({ running: [], cold: [] });
    });

    test("control: an entitled approver approves the PR into main, whose diff shows the grant: applied, from that PR", async () => {
      const { gh } = env;
      const { a } = await grantMergedIntoFeature();
      const b = gh.openPullRequest({ author: "dev1", branch: "feature", title: "Docs" });
      await deliver(b);
      await deliver(gh.submitReview(b.number!, { reviewer: "alice", state: "APPROVED" }));
      await deliver(gh.merge(b.number!, { by: "alice" }));
      expect(await settle()).toEqual({ running: ["dev1:prod-db/readonly"], cold: ["dev1:prod-db/readonly"] });
      expect(commentsWith(env, b.number!, "timebox:applied").length).toBeGreaterThan(0);
      expect(commentsWith(env, a, "timebox:applied")).toEqual([]);
    });
  });

  describe("merge trickery", () => {
    test("a merge made by hand and pushed to main, its grant resolved to more than the approved head asked: never applied", async () => {
      const { gh } = env;
      const pr = gh.openPullRequest({ author: "dev1", branch: "dev1/access", files: { [PATH]: grantYaml({ duration: "1h" }) }, title: "Access" });
      await deliver(pr);
      await deliver(gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
      await deliver(gh.pushCommit({ author: "dev1", files: { "README.md": "# access, concurrently\n" } }));
      await deliver(
        gh.pushCommit({ author: "dev1", mergeWith: [pr.sha!], files: { [PATH]: grantYaml({ duration: "8h" }) }, message: `Merge branch 'dev1/access'` }),
      );
      expect(await settle()).toEqual({ running: [], cold: [] });
    });

    test("a rebase merge of a PR whose first commit adds mallory to the policy: the grant is judged by main's policy before the merge, never the PR's own", async () => {
      const { gh } = env;
      await deliver(
        gh.pushCommit({ branch: "dev1/access", from: "main", files: { [POLICY_PATH]: MALLORY_APPROVES }, author: "dev1", message: "Policy tweak" }),
      );
      await deliver(gh.pushCommit({ branch: "dev1/access", files: { [PATH]: grantYaml() }, author: "dev1", message: "Access" }));
      const pr = gh.openPullRequest({ author: "dev1", branch: "dev1/access", title: "Access and a policy tweak" });
      await deliver(pr);
      await deliver(gh.submitReview(pr.number!, { reviewer: "mallory", state: "APPROVED" }));
      await deliver(gh.merge(pr.number!, { by: "dev1", method: "rebase" }));
      expect(gh.repo().commit(gh.branchHead("main")!)!.parents).toHaveLength(1);
      // The merge commit GitHub reports is the last rebased commit: its parent is the PR's own policy commit, rebased.
      expect(gh.fileAt(gh.repo().commit(gh.branchHead("main")!)!.parents[0], POLICY_PATH)).toBe(MALLORY_APPROVES);
      expect(await settle()).toEqual({ running: [], cold: [] });
    });

    test("control: a rebase merge approved by an entitled approver is applied", async () => {
      const { gh } = env;
      await deliver(gh.pushCommit({ branch: "dev1/access", from: "main", files: { "docs/why.md": "because\n" }, author: "dev1", message: "Docs" }));
      await deliver(gh.pushCommit({ branch: "dev1/access", files: { [PATH]: grantYaml() }, author: "dev1", message: "Access" }));
      const pr = gh.openPullRequest({ author: "dev1", branch: "dev1/access", title: "Access" });
      await deliver(pr);
      await deliver(gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
      await deliver(gh.merge(pr.number!, { by: "alice", method: "rebase" }));
      expect(await settle()).toEqual({ running: ["dev1:prod-db/readonly"], cold: ["dev1:prod-db/readonly"] });
    });
  });

  describe("revert and re-merge", () => {
    /** dev1's grant (2h) approved by alice and merged: applied. */
    async function applied(): Promise<{ number: number; head: string }> {
      const { gh } = env;
      const pr = gh.openPullRequest({ author: "dev1", branch: "dev1/access", files: { [PATH]: grantYaml() }, title: "Access" });
      await deliver(pr);
      await deliver(gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
      await deliver(gh.merge(pr.number!, { by: "alice" }));
      await reconcile(env);
      expect(held()).toEqual(["dev1:prod-db/readonly"]);
      return { number: pr.number!, head: pr.sha! };
    }

    test("revoked at expiry, then Timebox's removal reverted by an unapproved PR or a direct push: never applied again", async () => {
      const { gh, clock } = env;
      await applied();
      clock.advance(2 * 3_600_000);
      await reconcile(env);
      expect(held()).toEqual([]);
      expect(gh.fileAt("main", PATH)).toBeUndefined();
      const revert = gh.openPullRequest({ author: "dev1", branch: "revert", files: { [PATH]: grantYaml() }, title: 'Revert "Remove expired grant"' });
      await deliver(revert);
      await deliver(gh.merge(revert.number!, { by: "dev1" }));
      expect(await settle()).toEqual({ running: [], cold: [] });
      await deliver(gh.pushCommit({ author: "dev1", deletes: [PATH], message: "tidy" }));
      await deliver(gh.pushCommit({ author: "dev1", files: { [PATH]: grantYaml() }, message: 'Revert "tidy"' }));
      expect(await settle()).toEqual({ running: [], cold: [] });
    });

    /** Revoked early by a policy owner (sec1), before its expiry: the file is removed from main. */
    async function revokedEarly(): Promise<{ number: number; head: string }> {
      const { gh } = env;
      const granted = await applied();
      await deliver(gh.comment(granted.number, { author: "sec1", body: "/timebox revoke security review" }));
      expect(held()).toEqual([]);
      expect(gh.fileAt("main", PATH)).toBeUndefined();
      return granted;
    }

    test("revoked early, then brought back by a merge commit pushed to main whose other parent is the approved head: never applied again", async () => {
      const { gh } = env;
      const { head } = await revokedEarly();
      // git commit-tree -p main -p <approved head>: the file as at the head, so `git log -- <file>` follows the head's side back to the approved commit.
      await deliver(gh.pushCommit({ author: "dev1", mergeWith: [head], files: { [PATH]: grantYaml() }, message: "Merge old branch" }));
      expect(await settle()).toEqual({ running: [], cold: [] });
    });

    test("revoked early, then brought back by a PR (nobody approved) from a branch carrying such a merge: never applied again", async () => {
      const { gh } = env;
      const { head } = await revokedEarly();
      await deliver(
        gh.pushCommit({ branch: "sync", from: "main", author: "dev1", mergeWith: [head], files: { [PATH]: grantYaml() }, message: "Merge old branch" }),
      );
      const pr = gh.openPullRequest({ author: "dev1", branch: "sync", title: "Sync" });
      await deliver(pr);
      await deliver(gh.merge(pr.number!, { by: "dev1" }));
      expect(await settle()).toEqual({ running: [], cold: [] });
    });

    test("revoked early, then the approved commit cherry-picked onto main by a direct push: never applied again", async () => {
      const { gh } = env;
      await revokedEarly();
      await deliver(gh.pushCommit({ author: "dev1", files: { [PATH]: grantYaml() }, message: "Access (cherry picked from commit)" }));
      expect(await settle()).toEqual({ running: [], cold: [] });
    });
  });

  describe("base retarget", () => {
    /** A grant PR into `feature` (mallory is an approver there), approved by `approver`, then retargeted to main and merged. */
    async function retargeted(approver: string): Promise<number> {
      const { gh } = env;
      await deliver(
        gh.pushCommit({ branch: "feature", from: "main", files: { [POLICY_PATH]: MALLORY_APPROVES }, author: "bob", message: "Policy for the feature branch" }),
      );
      // The grant's branch starts at main, so retargeting to main leaves only the grant in its diff.
      await deliver(gh.pushCommit({ branch: "dev1/access", from: "main", files: { [PATH]: grantYaml() }, author: "dev1", message: "Access" }));
      const pr = gh.openPullRequest({ author: "dev1", branch: "dev1/access", base: "feature", title: "Access" });
      await deliver(pr);
      await deliver(gh.submitReview(pr.number!, { reviewer: approver, state: "APPROVED" }));
      const edited = gh.editPullRequest(pr.number!, { base: "main", by: "dev1" });
      expect((edited[0].payload as { changes?: { base?: { ref: { from: string } } } }).changes?.base?.ref.from).toBe("feature");
      await deliver(edited);
      await deliver(gh.merge(pr.number!, { by: "dev1" }));
      return pr.number!;
    }

    test("approved by someone eligible only under the other base's policy, retargeted to main and merged: never applied", async () => {
      await retargeted("mallory");
      expect(await settle()).toEqual({ running: [], cold: [] });
    });

    test("control: approved by an approver main's policy lists, head unchanged, retargeted and merged: applied", async () => {
      await retargeted("alice");
      expect(await settle()).toEqual({ running: ["dev1:prod-db/readonly"], cold: ["dev1:prod-db/readonly"] });
    });
  });
});

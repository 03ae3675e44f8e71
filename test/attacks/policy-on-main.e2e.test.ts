/**
 * The policy itself, attacked by someone with write access who wants a grant nobody entitled
 * approved: they change `.github/timebox.yml` on the default branch to name themselves an approver —
 * by a direct push, by a PR a non-owner approved, by deleting and re-creating the file — and then
 * approve a grant under it. The rule: a version of the policy is trusted only as the file's first
 * version or when merged through a PR a policy owner (of the trusted policy before it) approved;
 * otherwise Timebox keeps judging by the trusted policy before it, and says so once in an issue.
 * Every story runs on the REST path and on the GraphQL batches, in the running app and in a fresh
 * one (a cold start).
 */
import { expect, jest } from "@jest/globals";
import { POLICY, grantYaml, startAccessRepo, type AccessRepo } from "../support/access-repo.js";
import { MemoryPool, MemoryProvider } from "../support/memory-provider.js";
import { deliverOk, mergeApprovedGrant, mergePolicyChange, reconcile } from "../support/lifecycle-flow.js";
import type { ActionResult } from "../harness/github/repo-handle.js";

jest.setTimeout(60_000);

const PATH = "grants/dev1-prod-db.yaml";
const POLICY_PATH = ".github/timebox.yml";
const UNTRUSTED = "timebox:untrusted-policy";
/** The policy with mallory (write access, dev1's accomplice) as an approver of prod-db/readonly. */
const MALLORY_APPROVES = POLICY.replace('approvers: ["@acme/sre", "sre1"]', 'approvers: ["@acme/sre", "sre1", "mallory"]');
/** The policy with dev3 as an approver of prod-db/readonly: a harmless change for the fallback story. */
const DEV3_APPROVES = POLICY.replace('approvers: ["@acme/sre", "sre1"]', 'approvers: ["@acme/sre", "sre1", "dev3"]');
const MODES = [
  ["REST", "off"],
  ["GraphQL", "always"],
] as const;

test("the test policies differ from the base one where the stories need it", () => {
  expect(MALLORY_APPROVES).not.toBe(POLICY);
  expect(DEV3_APPROVES).not.toBe(POLICY);
  expect(POLICY).toContain('owners: ["@acme/security"]');
});

describe.each(MODES)("%s", (_name, mode) => {
  let env: AccessRepo;
  let provider: MemoryProvider;
  beforeEach(async () => {
    provider = new MemoryProvider();
    env = await startAccessRepo({ pool: new MemoryPool(provider), env: { TIMEBOX_GITHUB_GRAPHQL: mode } });
    env.gh.repo().addCollaborator("mallory", "write");
  });
  afterEach(async () => env.stop());

  const deliver = async (events: ActionResult) => {
    await deliverOk(env, events);
    env.clock.advance(1000);
  };
  const held = () => [...provider.held.values()].map((g) => `${g.requester}:${g.resource}/${g.role}`);
  const alerts = () => env.gh.issues({ labels: [UNTRUSTED], state: "all" });

  /** The same decision from a fresh process (every origin and policy version read again). */
  async function coldStart(): Promise<string[]> {
    const fresh = await startAccessRepo({ gh: env.gh, clock: env.clock, pool: new MemoryPool(provider), env: { TIMEBOX_GITHUB_GRAPHQL: mode } });
    try {
      await reconcile(fresh);
      return held();
    } finally {
      await fresh.stop();
    }
  }

  /** A reconcile past GitHub's grace for linking a fresh commit to its PR, then a cold start. */
  async function settle(): Promise<{ running: string[]; cold: string[] }> {
    env.clock.advance(5 * 60_000);
    await reconcile(env);
    const running = held();
    return { running, cold: await coldStart() };
  }

  /** dev1's grant, approved by mallory alone, merged: what only a policy naming mallory would allow. Returns the PR's head. */
  async function grantMalloryApproves(): Promise<string> {
    const { gh } = env;
    const pr = gh.openPullRequest({ author: "dev1", files: { [PATH]: grantYaml() }, title: "Access" });
    await deliver(pr);
    await deliver(gh.submitReview(pr.number!, { reviewer: "mallory", state: "APPROVED" }));
    const head = pr.sha!;
    await deliver(gh.merge(pr.number!, { by: "dev1" }));
    return head;
  }

  test("a policy change pushed straight to main never judges a grant; reported once, in an issue", async () => {
    const { gh } = env;
    const push = gh.pushCommit({ branch: "main", files: { [POLICY_PATH]: MALLORY_APPROVES }, author: "mallory", message: "tidy policy" });
    await deliver(push);
    await grantMalloryApproves();
    expect(await settle()).toEqual({ running: [], cold: [] });
    env.clock.advance(5 * 60_000);
    await reconcile(env);
    await coldStart();
    const open = alerts();
    expect(open).toHaveLength(1);
    expect(open[0].body).toContain(push.sha!);
    expect(open[0].body).toContain("without a pull request");
  });

  test("the alert is closed once an owner-approved PR puts the policy right, by the running app and after a restart", async () => {
    const { gh } = env;
    await deliver(gh.pushCommit({ branch: "main", files: { [POLICY_PATH]: MALLORY_APPROVES }, author: "mallory", message: "tidy policy" }));
    env.clock.advance(5 * 60_000);
    await reconcile(env);
    expect(alerts().map((i) => i.state)).toEqual(["open"]);
    // An owner approves the change in a PR: the tip's policy is trusted, and the alert has done its work.
    const fixed = await mergePolicyChange(env, `${MALLORY_APPROVES}# reviewed by the owners\n`, { author: "mallory" });
    await reconcile(env);
    expect(alerts().map((i) => i.state)).toEqual(["closed"]);
    expect(gh.comments(alerts()[0].number).at(-1)?.body).toContain(`trusted again: Timebox judges by the version of ${fixed.head}`);
    // Raised again by a new untrusted push, it is closed by a fresh process too once put right.
    await deliver(gh.pushCommit({ branch: "main", files: { [POLICY_PATH]: POLICY }, author: "mallory", message: "tidy again" }));
    env.clock.advance(5 * 60_000);
    await reconcile(env);
    expect(alerts().filter((i) => i.state === "open")).toHaveLength(1);
    await mergePolicyChange(env, `${POLICY}# reviewed again\n`, { author: "mallory" });
    await coldStart();
    expect(alerts().filter((i) => i.state === "open")).toEqual([]);
  });

  test("a policy PR approved by a non-owner (dev1, sre1) and merged never judges a grant", async () => {
    const { gh } = env;
    const p = gh.openPullRequest({ author: "mallory", files: { [POLICY_PATH]: MALLORY_APPROVES }, title: "tidy policy" });
    await deliver(p);
    await deliver(gh.submitReview(p.number!, { reviewer: "dev1", state: "APPROVED" }));
    await deliver(gh.submitReview(p.number!, { reviewer: "sre1", state: "APPROVED" }));
    await deliver(gh.merge(p.number!, { by: "mallory" }));
    await grantMalloryApproves();
    expect(await settle()).toEqual({ running: [], cold: [] });
    expect(alerts()).toHaveLength(1);
    expect(alerts()[0].body).toContain(`PR #${p.number}`);
  });

  test("control: a policy PR a policy owner (sec1) approved takes effect, and nothing is reported", async () => {
    await mergePolicyChange(env, MALLORY_APPROVES, { author: "mallory" });
    await grantMalloryApproves();
    expect(await settle()).toEqual({ running: ["dev1:prod-db/readonly"], cold: ["dev1:prod-db/readonly"] });
    expect(alerts()).toHaveLength(0);
  });

  test("an untrusted change after a trusted one falls back to the trusted one, not to the first version", async () => {
    const { gh } = env;
    // Trusted: dev3 becomes an approver through an owner-approved PR.
    await mergePolicyChange(env, DEV3_APPROVES);
    // Untrusted: mallory's direct push replaces it (dev3 gone, mallory in).
    await deliver(gh.pushCommit({ branch: "main", files: { [POLICY_PATH]: MALLORY_APPROVES }, author: "mallory", message: "tidy policy" }));
    await grantMalloryApproves();
    expect(await settle()).toEqual({ running: [], cold: [] });
    // dev3's approval counts: the trusted policy is the owner-approved one.
    const pr = gh.openPullRequest({ author: "dev2", files: { "grants/dev2-prod-db.yaml": grantYaml({ requester: "dev2" }) }, title: "Access" });
    await deliver(pr);
    await deliver(gh.submitReview(pr.number!, { reviewer: "dev3", state: "APPROVED" }));
    expect(gh.checkRuns(pr.sha!, "timebox/approval").at(-1)?.conclusion).toBe("success");
    await deliver(gh.merge(pr.number!, { by: "dev3" }));
    expect(await settle()).toEqual({ running: ["dev2:prod-db/readonly"], cold: ["dev2:prod-db/readonly"] });
  });

  test("deleting the policy and creating it again by direct pushes is not a first version", async () => {
    const { gh } = env;
    await deliver(gh.pushCommit({ branch: "main", deletes: [POLICY_PATH], author: "mallory", message: "drop policy" }));
    await deliver(gh.pushCommit({ branch: "main", files: { [POLICY_PATH]: MALLORY_APPROVES }, author: "mallory", message: "new policy" }));
    await grantMalloryApproves();
    expect(await settle()).toEqual({ running: [], cold: [] });
  });

  test("(rule 13) an untrusted policy pushed over a live grant: the grant is still revoked at its expiry", async () => {
    const { gh } = env;
    await mergeApprovedGrant(env, { path: PATH, content: grantYaml() });
    await reconcile(env);
    expect(held()).toEqual(["dev1:prod-db/readonly"]);
    // mallory stretches the role and names themselves an approver, straight on main.
    await deliver(gh.pushCommit({ branch: "main", files: { [POLICY_PATH]: MALLORY_APPROVES }, author: "mallory", message: "tidy policy" }));
    env.clock.advance(2 * 3600_000);
    expect(await settle()).toEqual({ running: [], cold: [] });
  });

  test("more than 50 untrusted policy versions: no trusted policy, nothing new applied, access in effect still ends on time", async () => {
    const { gh } = env;
    await mergeApprovedGrant(env, { path: PATH, content: grantYaml() });
    await reconcile(env);
    expect(held()).toEqual(["dev1:prod-db/readonly"]);
    for (let i = 0; i < 51; i++)
      gh.pushCommit({ branch: "main", files: { [POLICY_PATH]: `${MALLORY_APPROVES}# ${i}\n` }, author: "mallory", message: `tidy policy ${i}` });
    // A grant the trusted policy would allow (alice is in @acme/sre) is not applied while no policy is trusted.
    const pr = gh.openPullRequest({ author: "dev2", files: { "grants/dev2-prod-db.yaml": grantYaml({ requester: "dev2" }) }, title: "Access" });
    await deliver(pr);
    await deliver(gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
    await deliver(gh.merge(pr.number!, { by: "alice" }));
    env.clock.advance(5 * 60_000);
    await reconcile(env);
    expect(held()).toEqual(["dev1:prod-db/readonly"]);
    env.clock.advance(2 * 3600_000);
    expect(await settle()).toEqual({ running: [], cold: [] });
    expect(
      alerts()
        .map((i) => i.body)
        .join("\n"),
    ).toContain("more than 50 versions");
  });

  test("a PR's approval check is judged by the trusted policy, never by an untrusted one on its base", async () => {
    const { gh } = env;
    await deliver(gh.pushCommit({ branch: "main", files: { [POLICY_PATH]: MALLORY_APPROVES }, author: "mallory", message: "tidy policy" }));
    const pr = gh.openPullRequest({ author: "dev1", files: { [PATH]: grantYaml() }, title: "Access" });
    await deliver(pr);
    await deliver(gh.submitReview(pr.number!, { reviewer: "mallory", state: "APPROVED" }));
    const approval = gh.checkRuns(pr.sha!, "timebox/approval").at(-1);
    expect(approval?.conclusion).not.toBe("success");
    expect(approval?.output.summary ?? "").toContain("mallory");
    expect(approval?.output.summary ?? "").toContain("is not trusted");
  });
});

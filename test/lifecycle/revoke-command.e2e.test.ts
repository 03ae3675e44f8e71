import { jest } from "@jest/globals";
import type { PostgresAccess } from "../support/postgres-access.js";
import { postgresAccessPerTest } from "../support/lifecycle-flow.js";
import { VALID_GRANT } from "../support/access-repo.js";

jest.setTimeout(60_000);

// One PostgreSQL server for the file; each test its own roles, repository, emulator and app.
const current = postgresAccessPerTest();
let env: PostgresAccess;
beforeEach(() => {
  env = current();
});

const PATH = "grants/dev1-prod-db.yaml";
type Comment = { body: string };

/** A merged, applied grant of dev1's on PR n. */
async function activeGrant(): Promise<number> {
  const { gh, probot, clock } = env;
  const pr = gh.openPullRequest({ author: "dev1", files: { [PATH]: VALID_GRANT } });
  await gh.deliver(probot, pr);
  await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  clock.advance(60_000);
  await gh.deliver(probot, gh.merge(pr.number!, { by: "alice" }));
  expect(await env.hasAccess()).toBe(true);
  return pr.number!;
}

const revokedComments = (n: number) => env.gh.comments(n).filter((c: Comment) => c.body.includes("timebox:revoked"));

test("the requester revokes early: access gone, file removed with a revoked-by trailer, answered in the thread", async () => {
  const { gh, probot, clock } = env;
  const n = await activeGrant();
  clock.advance(10 * 60_000);
  await gh.deliver(probot, gh.comment(n, { author: "dev1", body: "/timebox revoke done with the incident\nthanks" }));
  expect(await env.hasAccess()).toBe(false);
  expect(gh.fileAt("main", PATH)).toBeUndefined();
  const head = gh.commit(gh.branchHead("main")!)!;
  expect(head.message).toContain(`Timebox-Grant: ${PATH}`);
  expect(head.message).toContain("Revoke-Reason: revoked-by:dev1");
  expect(head.message).toContain("Revoked-at: 2026-03-02T09:11:00Z");
  const revoked = revokedComments(n);
  expect(revoked).toHaveLength(1);
  expect(revoked[0].body).toContain("was revoked by `dev1`");

  // A second command, typed after the revoked comment, finds nothing active, and says so.
  clock.advance(60_000);
  await gh.deliver(probot, gh.comment(n, { author: "dev1", body: "/timebox revoke" }));
  expect(gh.comments(n).at(-1)!.body).toMatch(/nothing to revoke/);
  // Later reconciles change nothing.
  const tip = gh.branchHead("main");
  await env.runtime.reconcileAll();
  expect(gh.branchHead("main")).toBe(tip);
  expect(revokedComments(n)).toHaveLength(1);
});

test("an outsider's command is refused with who may, and the access remains", async () => {
  const { gh, probot } = env;
  const n = await activeGrant();
  const tip = gh.branchHead("main");
  await gh.deliver(probot, gh.comment(n, { author: "outsider", body: "/timebox revoke" }));
  expect(await env.hasAccess()).toBe(true);
  expect(gh.fileAt("main", PATH)).toBeDefined();
  expect(gh.branchHead("main")).toBe(tip);
  expect(revokedComments(n)).toHaveLength(0);
  const reply = gh.comments(n).at(-1)!.body as string;
  expect(reply).toContain("`outsider` may not revoke");
  for (const who of ["`dev1`", "`@acme/sre`", "`sre1`", "`@acme/security`"]) expect(reply).toContain(who);
  // Never an @-mention outside a code span.
  expect(reply.replace(/`[^`]*`/g, "")).not.toContain("@");
});

test("an edited comment never runs a command", async () => {
  const { gh, probot } = env;
  const n = await activeGrant();
  const created = gh.comment(n, { author: "dev1", body: "/timebox revoke" });
  const edited = created.map((e) => ({
    event: e.event,
    payload: { ...e.payload, action: "edited", changes: { body: { from: "looks good" } } },
  }));
  const before = gh.comments(n).length;
  const tip = gh.branchHead("main");
  await gh.deliver(probot, edited);
  expect(await env.hasAccess()).toBe(true);
  expect(gh.branchHead("main")).toBe(tip);
  expect(gh.comments(n)).toHaveLength(before);
});

test("a policy owner (member of @acme/security) may revoke", async () => {
  const { gh, probot } = env;
  const n = await activeGrant();
  await gh.deliver(probot, gh.comment(n, { author: "sec1", body: "/timebox revoke suspicious activity" }));
  expect(await env.hasAccess()).toBe(false);
  expect(gh.fileAt("main", PATH)).toBeUndefined();
  expect(gh.commit(gh.branchHead("main")!)!.message).toContain("Revoke-Reason: revoked-by:sec1");
  expect(revokedComments(n)).toHaveLength(1);
});

test("an eligible approver by team may revoke; a comment that is not a command does nothing", async () => {
  const { gh, probot } = env;
  const n = await activeGrant();
  const before = gh.comments(n).length;
  await gh.deliver(probot, gh.comment(n, { author: "dev2", body: "please /timebox revoke" }));
  expect(gh.comments(n)).toHaveLength(before + 1);
  expect(await env.hasAccess()).toBe(true);
  await gh.deliver(probot, gh.comment(n, { author: "alice", body: "/timebox revoke" }));
  expect(await env.hasAccess()).toBe(false);
  expect(gh.commit(gh.branchHead("main")!)!.message).toContain("Revoke-Reason: revoked-by:alice");
});

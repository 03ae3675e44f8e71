/**
 * Every way a grant file can leave the default branch revokes it (issue #10, items 3 and 11):
 * whatever the commit dates, however it moved, and even while Timebox was down. What Timebox
 * applied is its own record (the ledger), never a search of history by date.
 */
import { expect, jest, test } from "@jest/globals";
import { grantYaml, startAccessRepo } from "../support/access-repo.js";
import { deliverOk, mergeApprovedGrant, postgresAccessPerTest, reconcile, mergePolicyChange } from "../support/lifecycle-flow.js";

jest.setTimeout(60_000);

const env = postgresAccessPerTest();
const PATH = "grants/dev1-prod-db.yaml";
const DAY = 86_400_000;

async function grantActive(): Promise<number> {
  const { number } = await mergeApprovedGrant(env(), { path: PATH, content: grantYaml({ duration: "8h" }) });
  expect(await env().hasAccess()).toBe(true);
  return number;
}

test("a grant renamed out of grants/ is revoked at once, and its PR is told", async () => {
  const { gh } = env();
  const n = await grantActive();
  const pr = gh.openPullRequest({ author: "dev1", files: { "docs/old-request.yaml": gh.fileAt("main", PATH)! }, deletes: [PATH], title: "Tidy up" });
  await deliverOk(env(), pr);
  await deliverOk(env(), gh.merge(pr.number!, { by: "dev1" }));
  expect(await env().hasAccess()).toBe(false);
  expect(gh.comments(n).some((c) => c.body.includes("### ⏹️ Access revoked"))).toBe(true);
});

test("a removal committed with a date 60 days back and merged with a merge commit is revoked", async () => {
  const { gh, clock } = env();
  await grantActive();
  const backdated = new Date(clock.now().getTime() - 60 * DAY).toISOString().replace(/\.\d{3}Z$/, "Z");
  const pr = gh.openPullRequest({ author: "dev1", deletes: [PATH], title: "Remove my grant", date: backdated });
  await deliverOk(env(), pr);
  await deliverOk(env(), gh.merge(pr.number!, { by: "dev1", method: "merge" }));
  expect(await env().hasAccess()).toBe(false);
});

test("stopped for 30 days across a removal: the restarted app revokes what should have ended", async () => {
  const { gh, clock, fullName } = env();
  await grantActive();
  // The app is down from here on: nothing is delivered to it. A removal is merged meanwhile.
  const pr = gh.openPullRequest({ author: "dev1", deletes: [PATH], title: "Remove my grant" });
  gh.merge(pr.number!, { by: "dev1", method: "merge" });
  clock.advance(30 * DAY);
  expect(await env().hasAccess()).toBe(true);
  // The stopped app holds no database connection (PGlite admits one client at a time).
  await env().pool.close();
  await env().pg.idle();
  const restarted = await startAccessRepo({
    gh,
    clock,
    policy: gh.fileAt("main", ".github/timebox.yml"),
    env: env().providerEnv,
    repo: fullName.split("/")[1],
  });
  try {
    await reconcile(restarted);
    expect(await env().hasAccess()).toBe(false);
  } finally {
    await restarted.pool.close();
  }
});

test("the same bytes again are a new request: pushed directly they are never applied; approved again they get their own apply and expiry", async () => {
  const { gh, clock } = env();
  const first = await grantActive();
  const content = gh.fileAt("main", PATH)!;
  await deliverOk(env(), gh.comment(first, { author: "dev1", body: "/timebox revoke done" }));
  expect(await env().hasAccess()).toBe(false);
  expect(gh.fileAt("main", PATH)).toBeUndefined();

  // Identical bytes pushed straight to main: reported, never applied.
  await deliverOk(env(), gh.pushCommit({ author: "dev1", files: { [PATH]: content }, message: "put it back" }));
  clock.advance(5 * 60_000);
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
  expect(gh.issues({ labels: ["timebox:unapproved"], state: "open" })).toHaveLength(1);
  await deliverOk(env(), gh.pushCommit({ author: "dev1", deletes: [PATH], message: "take it out" }));

  // Requested again, identical, and approved: applied with its own comment, revoked at its own expiry.
  const again = await mergeApprovedGrant(env(), { path: PATH, content });
  expect(await env().hasAccess()).toBe(true);
  expect(gh.comments(again.number).some((c) => c.body.includes("### ✅ Access granted"))).toBe(true);
  clock.advance(8 * 3600_000);
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
});

test("a direct push dated a year ahead is reported within minutes, never applied, and the approved version under it still ends on time", async () => {
  const { gh, clock } = env();
  await grantActive();
  const future = new Date(clock.now().getTime() + 365 * DAY).toISOString().replace(/\.\d{3}Z$/, "Z");
  await deliverOk(
    env(),
    gh.pushCommit({ author: "dev1", files: { [PATH]: grantYaml({ duration: "7d", reason: "longer please" }) }, message: "extend", date: future }),
  );
  clock.advance(5 * 60_000);
  await reconcile(env());
  expect(gh.issues({ labels: ["timebox:unapproved"], state: "open" })).toHaveLength(1);
  expect(await env().hasAccess()).toBe(true);
  clock.advance(8 * 3600_000);
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
});

test("changing grants_path does not orphan an active grant: it is revoked", async () => {
  const { gh } = env();
  await grantActive();
  const policy = gh.fileAt("main", ".github/timebox.yml")!.replace("grants_path: grants/", "grants_path: access/");
  await mergePolicyChange(env(), policy);
  expect(await env().hasAccess()).toBe(false);
});

test("a force-push that drops the grant's merge from main revokes it", async () => {
  const { gh, fullName } = env();
  const before = gh.branchHead("main")!;
  await grantActive();
  gh.repo(fullName).setBranch("main", before);
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
});

test("a removal squash-merged revokes it", async () => {
  const { gh } = env();
  await grantActive();
  const pr = gh.openPullRequest({ author: "dev1", deletes: [PATH], title: "Remove my grant" });
  await deliverOk(env(), pr);
  await deliverOk(env(), gh.merge(pr.number!, { by: "dev1", method: "squash" }));
  expect(await env().hasAccess()).toBe(false);
});

test("a second replica learns what the first applied from the ledger: a removal merged while the first is down is revoked and told on its PR", async () => {
  const { gh, fullName } = env();
  const second = await startAccessRepo({
    gh,
    clock: env().clock,
    policy: gh.fileAt("main", ".github/timebox.yml"),
    env: env().providerEnv,
    repo: fullName.split("/")[1],
  });
  // One replica at a time holds database connections (PGlite admits one client at a time).
  const handOver = async (from: { pool: { close(): Promise<void> } }) => {
    await from.pool.close();
    await env().pg.idle();
  };
  try {
    await reconcile(second);
    await handOver(second);
    const n = await grantActive();
    // The first replica dies; the removal merges; the second reconciles.
    await handOver(env());
    const pr = gh.openPullRequest({ author: "dev1", deletes: [PATH], title: "Remove my grant" });
    gh.merge(pr.number!, { by: "dev1" });
    await reconcile(second);
    expect(await env().hasAccess()).toBe(false);
    expect(gh.comments(n).some((c) => c.body.includes("### ⏹️ Access revoked"))).toBe(true);
    expect(gh.issues({ labels: ["timebox:drift"], state: "all" })).toHaveLength(0);
  } finally {
    await second.pool.close();
  }
});

test("a removal is revoked from the ledger and the tip's tree alone: even when nothing else can be read (policy, commits, pulls), the restarted app revokes it", async () => {
  const { gh, clock, fullName } = env();
  await grantActive();
  // Down while the removal merges; on restart, every read an origin or the policy needs fails.
  const pr = gh.openPullRequest({ author: "dev1", deletes: [PATH], title: "Remove my grant" });
  gh.merge(pr.number!, { by: "dev1", method: "merge" });
  clock.advance(60_000);
  await env().pool.close();
  await env().pg.idle();
  const restarted = await startAccessRepo({
    gh,
    clock,
    policy: gh.fileAt("main", ".github/timebox.yml"),
    env: env().providerEnv,
    repo: fullName.split("/")[1],
  });
  // What an origin needs (a file's history, its PRs, blobs, GraphQL) and the policy file: all failing.
  let failed = 0;
  const stop = gh.onRequest((r) => {
    const origin = (r.route === "/repos/{owner}/{repo}/commits" && r.query.path) || /\/pulls|\/contents\/|\/git\/blobs\/|graphql/.test(r.route);
    if (!origin) return undefined;
    failed++;
    return { status: 502 };
  });
  try {
    await reconcile(restarted).catch(() => undefined); // the rest of the reconcile fails: GitHub is half down
    expect(failed).toBeGreaterThan(0);
    expect(await env().hasAccess()).toBe(false);
  } finally {
    stop();
    await restarted.pool.close();
  }
});

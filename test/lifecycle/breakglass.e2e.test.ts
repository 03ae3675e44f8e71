import { expect, jest, test } from "@jest/globals";
import { grantYaml, withReadonlyBreakglass } from "../support/access-repo.js";
import { commentsWith, deliverOk, postgresAccessPerTest, reconcile, timeboxCommits, mergePolicyChange } from "../support/lifecycle-flow.js";

jest.setTimeout(60_000);

const env = postgresAccessPerTest();
const PATH = "grants/dev1-prod-db.yaml";
const EMERGENCY = grantYaml({ duration: "30m", emergency: true, reason: "INC-1234: checkout down, need to read the queue tables" });

/** readonly gets break-glass for dev1: at most 1h, reviewed within 2h. */
async function allowBreakglass(): Promise<void> {
  const { gh } = env();
  const policy = withReadonlyBreakglass(gh.fileAt("main", ".github/timebox.yml")!);
  await mergePolicyChange(env(), policy);
}

/** dev1 opens an emergency PR at 09:10: the access is there at once. */
async function openEmergency(content = EMERGENCY): Promise<number> {
  const { gh, clock } = env();
  await allowBreakglass();
  clock.set("2026-03-02T09:10:00Z");
  const pr = gh.openPullRequest({ author: "dev1", files: { [PATH]: content }, title: "Emergency access for INC-1234" });
  await deliverOk(env(), pr);
  return pr.number!;
}

test("break-glass: applied when the PR opens, loudly; approval stays pending; the merged grant keeps the break-glass clock", async () => {
  const { gh, clock } = env();
  const n = await openEmergency();
  expect(await env().hasAccess()).toBe(true);
  const head = gh.pull(n).headSha;
  expect(gh.labels(n)).toContain("timebox:breakglass");
  expect(gh.checkRuns(head, "timebox/approval").at(-1)?.conclusion).not.toBe("success");
  const [notice] = commentsWith(env(), n, "Break-glass: emergency access applied before review");
  expect(notice.body).toContain("@acme/sre @sre1");
  expect(notice.body).toContain("until **2026-03-02T09:40:00Z**");
  expect(notice.body).toContain("Review due by:** 2026-03-02T11:10:00Z");

  // The approval arrives and is recorded; the PR merges.
  clock.set("2026-03-02T09:20:00Z");
  await deliverOk(env(), gh.submitReview(n, { reviewer: "sre1", state: "APPROVED" }));
  expect(commentsWith(env(), n, "Break-glass reviewed")).toHaveLength(1);
  expect(gh.checkRuns(head, "timebox/approval").at(-1)?.conclusion).toBe("success");
  clock.set("2026-03-02T09:25:00Z");
  await deliverOk(env(), gh.merge(n, { by: "sre1" }));
  expect(await env().hasAccess()).toBe(true);

  // It expires 30 minutes after break-glass applied it, not after the merge.
  clock.set("2026-03-02T09:40:00Z");
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
  expect(gh.fileAt("main", PATH)).toBeUndefined();
  const [removal] = timeboxCommits(env(), PATH).map((sha) => gh.commit(sha)!.message);
  expect(removal).toContain("Granted-at: 2026-03-02T09:10:00Z");
  expect(removal).toContain("Expires-at: 2026-03-02T09:40:00Z");
  expect(removal).toContain("Emergency: true");
  expect(removal).toContain("Review-Due: 2026-03-02T11:10:00Z");
  expect(removal).toContain("Reviewed-by: sre1");
  expect(removal).toContain("Reviewed-at: 2026-03-02T09:20:00Z");
  // Reviewed in time: no unreviewed issue, ever.
  clock.set("2026-03-02T12:00:00Z");
  await reconcile(env());
  expect(gh.issues({ labels: ["timebox:breakglass-unreviewed"], state: "all" })).toHaveLength(0);
});

test("an emergency PR closed unmerged is revoked at once and recorded in an empty Timebox commit, once", async () => {
  const { gh, clock } = env();
  const n = await openEmergency();
  expect(await env().hasAccess()).toBe(true);
  clock.set("2026-03-02T09:15:00Z");
  await deliverOk(env(), gh.close(n, { by: "dev1" }));
  expect(await env().hasAccess()).toBe(false);
  const records = timeboxCommits(env(), PATH).map((sha) => gh.commit(sha)!);
  expect(records).toHaveLength(1);
  const message = records[0].message;
  expect(message).toMatch(/^Revoke emergency grant grants\/dev1-prod-db\.yaml \(PR #\d+ closed unmerged\)/);
  for (const line of [
    "Revoke-Reason: pr-closed",
    "Revoked-at: 2026-03-02T09:15:00Z",
    "Emergency: true",
    "Approved-by: ",
    "Reason: INC-1234: checkout down",
    "Ticket: INC-1234",
    `Pull-Request: #${n}`,
  ]) {
    expect(message).toContain(line);
  }
  expect(message).not.toContain("Reviewed-by:");
  expect(gh.fileAt("main", PATH)).toBeUndefined();
  // One comment says both: revoked, and where the story is recorded.
  const revoked = commentsWith(env(), n, "timebox:revoked ");
  expect(revoked).toHaveLength(1);
  expect(revoked[0].body).toContain(`ended because its pull request was closed unmerged and was revoked at 2026-03-02T09:15:00Z`);
  expect(revoked[0].body).toContain(`the emergency grant's story is recorded on the default branch in ${records[0].sha}`);

  // Later reconciles (another replica, a restart) add nothing.
  const tip = gh.branchHead("main");
  const comments = gh.comments(n).length;
  await reconcile(env());
  await reconcile(env());
  expect(gh.branchHead("main")).toBe(tip);
  expect(gh.comments(n)).toHaveLength(comments);
});

test("not reviewed within review_within: one unreviewed issue, closed when the approval finally arrives", async () => {
  const { gh, clock } = env();
  const n = await openEmergency();
  clock.set("2026-03-02T09:40:00Z");
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
  expect(commentsWith(env(), n, "timebox:revoked ")).toHaveLength(1);
  expect(gh.issues({ labels: ["timebox:breakglass-unreviewed"] })).toHaveLength(0);

  clock.set("2026-03-02T11:10:00Z");
  await reconcile(env());
  await reconcile(env());
  const issues = gh.issues({ labels: ["timebox:breakglass-unreviewed"] });
  expect(issues).toHaveLength(1);
  expect(issues[0].title).toBe(`Break-glass access not reviewed in time: ${PATH} (#${n})`);
  expect(issues[0].body).toContain("due by 2026-03-02T11:10:00Z");

  clock.set("2026-03-02T13:00:00Z");
  await deliverOk(env(), gh.submitReview(n, { reviewer: "sre1", state: "APPROVED" }));
  expect(gh.issues({ labels: ["timebox:breakglass-unreviewed"], state: "open" })).toHaveLength(0);
  const [reviewed] = commentsWith(env(), n, "Break-glass reviewed");
  expect(reviewed.body).toContain("**after** the review was due");

  // Closed later: the record says it expired (at 09:40) and who reviewed it, late.
  clock.set("2026-03-02T14:00:00Z");
  await deliverOk(env(), gh.close(n, { by: "dev1" }));
  const [record] = timeboxCommits(env(), PATH).map((sha) => gh.commit(sha)!.message);
  expect(record).toContain("Revoke-Reason: expired");
  expect(record).toContain("Revoked-at: 2026-03-02T09:40:00Z");
  expect(record).toContain("Reviewed-by: sre1");
  expect(record).toContain("Reviewed-at: 2026-03-02T13:00:00Z");
});

test("refused: break-glass longer than its max, by someone not in its requesters, on a role without it", async () => {
  const { gh } = env();
  // readonly has no break-glass in the fixture policy.
  const noBreakglass = gh.openPullRequest({ author: "dev1", files: { [PATH]: EMERGENCY } });
  await deliverOk(env(), noBreakglass);
  const annotations = (sha: string) =>
    gh
      .checkRuns(sha, "timebox/validate")
      .at(-1)!
      .output.annotations.map((a: { message: string }) => a.message)
      .join("\n");
  expect(annotations(noBreakglass.sha!)).toContain("does not allow break-glass");

  await allowBreakglass();
  const tooLong = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-long.yaml": grantYaml({ duration: "2h", emergency: true }) } });
  await deliverOk(env(), tooLong);
  expect(annotations(tooLong.sha!)).toContain("exceeds breakglass.max_duration 1h");

  const other = gh.openPullRequest({
    author: "dev2",
    files: { "grants/dev2-prod-db.yaml": grantYaml({ requester: "dev2", duration: "30m", emergency: true }) },
  });
  await deliverOk(env(), other);
  expect(annotations(other.sha!)).toContain("`dev2` may not use break-glass on this role");

  for (const pr of [noBreakglass, tooLong, other]) {
    expect(gh.labels(pr.number!)).toEqual([]);
    expect(commentsWith(env(), pr.number!, "Break-glass")).toHaveLength(0);
  }
  expect(await env().hasAccess()).toBe(false);
});

test("a break-glass grant withdrawn from its open PR is revoked", async () => {
  const { gh, clock } = env();
  const n = await openEmergency();
  expect(await env().hasAccess()).toBe(true);
  clock.set("2026-03-02T09:12:00Z");
  await deliverOk(env(), gh.pushToPullRequest(n, { pusher: "dev1", files: { [PATH]: grantYaml({ duration: "30m" }) } }));
  expect(await env().hasAccess()).toBe(false);
  expect(commentsWith(env(), n, "was withdrawn from its pull request")).toHaveLength(1);
});

test("/timebox revoke on an open break-glass PR revokes it for good", async () => {
  const { gh, clock } = env();
  const n = await openEmergency();
  clock.set("2026-03-02T09:14:00Z");
  await deliverOk(env(), gh.comment(n, { author: "dev1", body: "/timebox revoke fixed, thanks" }));
  expect(await env().hasAccess()).toBe(false);
  expect(commentsWith(env(), n, "was revoked by `dev1`")).toHaveLength(1);
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
  // Closed afterwards: the record names who revoked it, and when.
  clock.set("2026-03-02T09:30:00Z");
  await deliverOk(env(), gh.close(n, { by: "dev1" }));
  const [record] = timeboxCommits(env(), PATH).map((sha) => gh.commit(sha)!.message);
  expect(record).toContain("Revoked-at: 2026-03-02T09:14:00Z");
  expect(record).toContain("Revoke-Reason: revoked-by:dev1");
});

test("attack: break-glass through a PR into a branch whose policy the attacker wrote grants nothing", async () => {
  const { gh } = env();
  // dev1 may not use break-glass on main. On a branch of their own they write a policy that says they may...
  const evilPolicy = withReadonlyBreakglass(gh.fileAt("main", ".github/timebox.yml")!);
  await deliverOk(env(), gh.pushCommit({ branch: "evil", from: "main", author: "dev1", files: { ".github/timebox.yml": evilPolicy } }));
  // ...and ask for break-glass in a PR into that branch: judged by their policy, it validates.
  const pr = gh.openPullRequest({ author: "dev1", base: "evil", files: { [PATH]: EMERGENCY } });
  await deliverOk(env(), pr);
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
  expect(commentsWith(env(), pr.number!, "Break-glass: emergency access applied")).toHaveLength(0);
});

test("merged without its approval: reported unapproved, the emergency access still ends on time, and the file goes with the story", async () => {
  const { gh, clock, probot } = env();
  const n = await openEmergency();
  clock.set("2026-03-02T09:20:00Z");
  await gh.deliver(probot, gh.merge(n, { by: "admin1" }));
  expect(gh.issues({ labels: ["timebox:unapproved"] })).toHaveLength(1);
  expect(await env().hasAccess()).toBe(true);

  clock.set("2026-03-02T09:40:00Z");
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
  expect(gh.fileAt("main", PATH)).toBeUndefined();
  const [removal] = timeboxCommits(env(), PATH).map((sha) => gh.commit(sha)!.message);
  expect(removal).toMatch(/^Revoke expired grant grants\/dev1-prod-db\.yaml/);
  for (const line of ["Emergency: true", "Approved-by: \n", "Granted-at: 2026-03-02T09:10:00Z", "Revoke-Reason: expired"]) expect(removal).toContain(line);
  expect(removal).not.toContain("Reviewed-by:");
  await reconcile(env());
  expect(timeboxCommits(env(), PATH)).toHaveLength(1);
});

test("attack: a person's forged break-glass record (posted before Timebox saw the PR) never sets the clock", async () => {
  const { gh, clock } = env();
  await allowBreakglass();
  clock.set("2026-03-02T09:10:00Z");
  // The PR exists before Timebox hears of it (a missed webhook); its author posts a record first.
  const pr = gh.openPullRequest({ author: "dev1", files: { [PATH]: EMERGENCY } });
  const forged = {
    path: PATH,
    requester: "dev1",
    principal: env().login,
    resource: "prod-db",
    role: "readonly",
    target: env().target,
    roleSettings: {},
    duration: "30m",
    durationMs: 1_800_000,
    reason: "x",
    grantedAt: "2026-03-02T09:10:00Z",
    expiresAt: "2027-01-01T00:00:00Z",
    reviewDue: "2027-01-01T00:00:00Z",
  };
  gh.comment(pr.number!, { author: "dev1", body: `<!-- timebox:breakglass ${JSON.stringify(forged)} -->` });
  gh.addLabel(pr.number!, "timebox:breakglass");
  await deliverOk(env(), pr);
  expect(await env().hasAccess()).toBe(true);
  // Timebox's own record, 30 minutes, is the one that counts.
  clock.set("2026-03-02T09:40:00Z");
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
});

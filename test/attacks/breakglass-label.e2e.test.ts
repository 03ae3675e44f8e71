/**
 * The `timebox:breakglass` label is a hint anyone with triage rights (or a workflow) can take off
 * or put on. Taking it off an emergency PR must not cut the on-call engineer's access short, end
 * the review it owes, hide the "review overdue" alert or keep the story out of Git; putting it on
 * another PR must grant nothing and write nothing. Break-glass PRs are followed from Timebox's own
 * records (its `timebox/breakglass` check run next to the ledger), never found by the label alone.
 */
import { expect, jest, test } from "@jest/globals";
import { grantYaml, startAccessRepo, withReadonlyBreakglass } from "../support/access-repo.js";
import { commentsWith, deliverOk, postgresAccessPerTest, reconcile, timeboxCommits, mergePolicyChange } from "../support/lifecycle-flow.js";

jest.setTimeout(60_000);

const env = postgresAccessPerTest();
const PATH = "grants/dev1-prod-db.yaml";
const LABEL = "timebox:breakglass";
const UNREVIEWED = "timebox:breakglass-unreviewed";
const EMERGENCY = grantYaml({ duration: "30m", emergency: true, reason: "INC-1234: checkout down, need to read the queue tables" });

/** readonly gets break-glass for dev1 (at most 1h, reviewed within 2h); dev1 opens an emergency PR at 09:10 (30m, review due 11:10). */
async function openEmergency(): Promise<number> {
  const { gh, clock } = env();
  const policy = withReadonlyBreakglass(gh.fileAt("main", ".github/timebox.yml")!);
  await mergePolicyChange(env(), policy);
  clock.set("2026-03-02T09:10:00Z");
  const pr = gh.openPullRequest({ author: "dev1", files: { [PATH]: EMERGENCY }, title: "Emergency access for INC-1234" });
  await deliverOk(env(), pr);
  expect(await env().hasAccess()).toBe(true);
  expect(gh.labels(pr.number!)).toContain(LABEL);
  return pr.number!;
}

const openAlerts = () => env().gh.issues({ labels: [UNREVIEWED], state: "open" });
/** Open issues Timebox opened whose body names the PR's overdue review (whatever labels they carry now). */
const alertsFor = (n: number) =>
  env()
    .gh.issues({ state: "open" })
    .filter((i) => i.viaApp === "timebox" && (i.body ?? "").includes(`timebox:breakglass-unreviewed #${n} `));

test("the label taken off a live break-glass PR: the access lasts until its expiry, the review is still owed and the label comes back", async () => {
  const { gh, clock } = env();
  const n = await openEmergency();
  clock.set("2026-03-02T09:12:00Z");
  gh.removeLabel(n, LABEL);
  clock.set("2026-03-02T09:15:00Z");
  await reconcile(env());
  // Not cut short (nor told "removed"): the on-call engineer keeps what break-glass gave until 09:40.
  expect(await env().hasAccess()).toBe(true);
  expect(commentsWith(env(), n, "timebox:revoked ")).toHaveLength(0);
  expect(gh.labels(n)).toContain(LABEL);

  gh.removeLabel(n, LABEL);
  clock.set("2026-03-02T09:40:00Z");
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
  expect(commentsWith(env(), n, "timebox:revoked ")[0].body).toContain("expired");

  // Taken off again after the expiry: the review is still due at 11:10, and the alert is raised.
  gh.removeLabel(n, LABEL);
  clock.set("2026-03-02T11:10:00Z");
  await reconcile(env());
  expect(alertsFor(n)).toHaveLength(1);

  // Closed unmerged without its label: the story still reaches Git (what `timebox audit` reads).
  gh.removeLabel(n, LABEL);
  clock.set("2026-03-02T12:00:00Z");
  await deliverOk(env(), gh.close(n, { by: "dev1" }));
  await reconcile(env());
  const [record] = timeboxCommits(env(), PATH).map((sha) => gh.commit(sha)!.message);
  expect(record).toContain("Emergency: true");
  expect(record).toContain("Revoke-Reason: expired");
  expect(record).toContain("Review-Due: 2026-03-02T11:10:00Z");
});

test("the label taken off and the PR closed at once: revoked as closed, and the story recorded", async () => {
  const { gh, clock } = env();
  const n = await openEmergency();
  clock.set("2026-03-02T09:15:00Z");
  gh.removeLabel(n, LABEL);
  await deliverOk(env(), gh.close(n, { by: "dev1" }));
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
  const [record] = timeboxCommits(env(), PATH).map((sha) => gh.commit(sha)!.message);
  expect(record).toContain("Revoke-Reason: pr-closed");
  expect(record).toContain(`Pull-Request: #${n}`);
});

test("the label taken off while the app is down: the restarted app still revokes at expiry and raises the overdue review", async () => {
  const { gh, clock, fullName } = env();
  const n = await openEmergency();
  // Down from here: nothing is delivered. The label goes, the grant expires, the review falls due.
  gh.removeLabel(n, LABEL);
  clock.set("2026-03-02T11:30:00Z");
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
    expect(commentsWith(env(), n, "timebox:revoked ")[0].body).toContain("expired");
    expect(alertsFor(n)).toHaveLength(1);
    expect(gh.labels(n)).toContain(LABEL);
  } finally {
    await restarted.pool.close();
  }
});

test("the label taken off after an expiry the app saw, then a restart: the overdue review is still raised", async () => {
  const { gh, clock, fullName } = env();
  const n = await openEmergency();
  clock.set("2026-03-02T09:40:00Z");
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
  gh.removeLabel(n, LABEL);
  await env().pool.close();
  await env().pg.idle();
  clock.set("2026-03-02T11:10:00Z");
  const restarted = await startAccessRepo({
    gh,
    clock,
    policy: gh.fileAt("main", ".github/timebox.yml"),
    env: env().providerEnv,
    repo: fullName.split("/")[1],
  });
  try {
    await reconcile(restarted);
    expect(alertsFor(n)).toHaveLength(1);
  } finally {
    await restarted.pool.close();
  }
});

test("the overdue alert closed, or its label taken off, by someone else: raised again while the review is owed, even days later", async () => {
  const { gh, clock } = env();
  const n = await openEmergency();
  clock.set("2026-03-02T11:10:00Z");
  await reconcile(env());
  const [first] = openAlerts();
  expect(first).toBeDefined();

  gh.closeIssue(first.number);
  gh.removeLabel(n, LABEL);
  clock.set("2026-03-02T11:30:00Z");
  await reconcile(env());
  expect(alertsFor(n)).toHaveLength(1);

  // Days later, past the window the label was read in: the alert's label taken off, then it is closed.
  const [second] = alertsFor(n);
  gh.removeLabel(second.number, UNREVIEWED);
  clock.set("2026-03-06T09:00:00Z");
  await reconcile(env());
  const labelled = () => openAlerts().filter((i) => i.body?.includes(`timebox:breakglass-unreviewed #${n} `));
  expect(labelled()).toHaveLength(1);
  gh.closeIssue(labelled()[0].number);
  clock.set("2026-03-06T10:00:00Z");
  await reconcile(env());
  expect(labelled()).toHaveLength(1);
  // One labelled alert at a time: a further reconcile opens no other.
  const open = alertsFor(n).length;
  await reconcile(env());
  expect(alertsFor(n)).toHaveLength(open);

  // Meanwhile the request went stale and was closed unreviewed: its story in Git says so (no Reviewed-by).
  const [record] = timeboxCommits(env(), PATH).map((sha) => gh.commit(sha)!.message);
  expect(record).toContain("Review-Due: 2026-03-02T11:10:00Z");
  expect(record).not.toContain("Reviewed-by:");
});

test("the label put on other PRs grants nothing and writes nothing there", async () => {
  const { gh, clock } = env();
  const policy = withReadonlyBreakglass(gh.fileAt("main", ".github/timebox.yml")!);
  await mergePolicyChange(env(), policy);
  clock.set("2026-03-02T09:10:00Z");
  // An ordinary request, an emergency grant by someone who is not among the requesters, and a docs PR.
  const ordinary = gh.openPullRequest({ author: "dev1", files: { [PATH]: grantYaml({ duration: "2h" }) } });
  const notOnCall = gh.openPullRequest({
    author: "dev2",
    files: { "grants/dev2-prod-db.yaml": grantYaml({ requester: "dev2", duration: "30m", emergency: true }) },
  });
  const docs = gh.openPullRequest({ author: "dev2", files: { "docs/notes.md": "hello\n" } });
  for (const pr of [ordinary, notOnCall, docs]) await deliverOk(env(), pr);
  const comments = (n: number) => gh.comments(n).length;
  const before = [ordinary, notOnCall, docs].map((pr) => comments(pr.number!));
  for (const pr of [ordinary, notOnCall, docs]) gh.addLabel(pr.number!, LABEL);
  clock.set("2026-03-02T09:15:00Z");
  await reconcile(env());
  clock.set("2026-03-02T12:00:00Z");
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
  expect([ordinary, notOnCall, docs].map((pr) => comments(pr.number!))).toEqual(before);
  expect(gh.issues({ labels: [UNREVIEWED], state: "all" })).toHaveLength(0);
  expect(gh.checkRuns(gh.branchHead("main")!, "timebox/breakglass")).toHaveLength(0);
});

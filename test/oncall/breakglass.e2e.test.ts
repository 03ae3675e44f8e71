/**
 * Break-glass for whoever is on call, through the app on the emulated GitHub with a real
 * PostgreSQL and a local PagerDuty: the on-call person gets access at once; the shift ending does
 * not take it away (the requester is judged at the break-glass start Timebox recorded, and the
 * merge as at that start); someone not on call, or a schedule that cannot be read, gets nothing.
 */
import { afterAll, beforeAll, expect, jest, test } from "@jest/globals";
import { grantYaml, startAccessRepo, withReadonlyBreakglass } from "../support/access-repo.js";
import { commentsWith, deliverOk, postgresAccessPerTest, reconcile, timeboxCommits, mergePolicyChange } from "../support/lifecycle-flow.js";
import { PD_TOKEN, sreShifts, startOnCallServer, type OnCallServer } from "./server.js";

jest.setTimeout(60_000);

let pagerduty: OnCallServer;
beforeAll(async () => {
  pagerduty = await startOnCallServer();
  // The app reads these on its first on-call check (the key on the app's side, never in the policy).
  process.env.PAGERDUTY_API_TOKEN = PD_TOKEN;
  process.env.TIMEBOX_PAGERDUTY_API_URL = pagerduty.url;
});
afterAll(async () => {
  delete process.env.PAGERDUTY_API_TOKEN;
  delete process.env.TIMEBOX_PAGERDUTY_API_URL;
  await pagerduty.stop();
});

const env = postgresAccessPerTest();
const PATH = "grants/dev1-prod-db.yaml";
const EMERGENCY = grantYaml({ duration: "30m", emergency: true, reason: "INC-1234: checkout down, need to read the queue tables" });

/** readonly gets break-glass for whoever is on call on `schedule`; dev1 and dev2 are PagerDuty users. */
async function onCallBreakglass(schedule: string): Promise<void> {
  const { gh } = env();
  pagerduty.pagerduty[schedule] = sreShifts();
  const policy = withReadonlyBreakglass(gh.fileAt("main", ".github/timebox.yml")!)
    .replace('requesters: ["dev1"] }', `requesters: ["pagerduty:${schedule}"] }`)
    .replace(/ {2}dev1: \{ postgres: (\S+) \}/, "  dev1: { postgres: $1, pagerduty: dev1@example.com }\n  dev2: { pagerduty: PDEV2 }");
  expect(policy).toContain(`pagerduty:${schedule}`);
  expect(policy).toContain("pagerduty: dev1@example.com");
  await mergePolicyChange(env(), policy);
}

const annotations = (sha: string) =>
  env()
    .gh.checkRuns(sha, "timebox/validate")
    .at(-1)!
    .output.annotations.map((a: { message: string }) => a.message)
    .join("\n");

test("the on-call engineer breaks glass; their shift ending neither fails the PR nor revokes the access; it ends at its expiry", async () => {
  const { gh, clock } = env();
  await onCallBreakglass("PSRE01");
  clock.set("2026-03-02T09:10:00Z");
  const pr = gh.openPullRequest({ author: "dev1", files: { [PATH]: EMERGENCY }, title: "Emergency access for INC-1234" });
  await deliverOk(env(), pr);
  const n = pr.number!;
  expect(await env().hasAccess()).toBe(true);
  expect(gh.labels(n)).toContain("timebox:breakglass");
  const [notice] = commentsWith(env(), n, "Break-glass: emergency access applied before review");
  expect(notice.body).toContain("@acme/sre @sre1: please review");
  expect(pagerduty.requests.some((r) => r.path === "/oncalls" && r.query.get("since") === "2026-03-02T09:10:00.000Z")).toBe(true);

  // 09:35: dev1 is off call (dev2 took over at 09:30). A restart's reconcile and a review judge the PR again.
  clock.set("2026-03-02T09:35:00Z");
  await reconcile(env());
  expect(await env().hasAccess()).toBe(true);
  await deliverOk(env(), gh.submitReview(n, { reviewer: "sre1", state: "APPROVED" }));
  const head = gh.pull(n).headSha;
  expect(gh.checkRuns(head, "timebox/validate").at(-1)?.conclusion).toBe("success");
  expect(gh.checkRuns(head, "timebox/approval").at(-1)?.conclusion).toBe("success");

  // Merged after the shift: judged as at the break-glass start, so the grant is approved and kept.
  clock.set("2026-03-02T09:36:00Z");
  await deliverOk(env(), gh.merge(n, { by: "sre1" }));
  await reconcile(env());
  expect(await env().hasAccess()).toBe(true);
  expect(commentsWith(env(), n, "timebox:revoked ")).toHaveLength(0);

  // A restart while PagerDuty is down: the merged grant cannot be judged, so it is neither applied
  // nor revoked; once PagerDuty answers again it is approved as before, and ends at its expiry.
  clock.set("2026-03-02T09:38:00Z");
  const e = env();
  await e.pool.close();
  await e.pg.idle();
  pagerduty.failing.PSRE01 = 503;
  process.env.TIMEBOX_PAGERDUTY_API_URL = `${pagerduty.url}/`; // another configuration: a new directory, nothing cached
  const restarted = await startAccessRepo({ gh, clock, env: e.providerEnv, repo: e.fullName.split("/")[1] });
  try {
    const down = await reconcile(restarted);
    expect(down.failures).toEqual([PATH]);
    expect(down.revoked).toEqual([]);
    expect(await e.hasAccess()).toBe(true);
    delete pagerduty.failing.PSRE01;
    const up = await reconcile(restarted);
    expect(up.failures).toEqual([]);
    expect(up.active).toBe(1);
    expect(await e.hasAccess()).toBe(true);

    clock.set("2026-03-02T09:40:00Z");
    await reconcile(restarted);
    expect(await e.hasAccess()).toBe(false);
  } finally {
    await restarted.stop();
    await e.pg.idle();
    process.env.TIMEBOX_PAGERDUTY_API_URL = pagerduty.url;
  }
  const [removal] = timeboxCommits(e, PATH).map((sha) => gh.commit(sha)!.message);
  expect(removal).toContain("Revoke-Reason: expired");
  expect(removal).toContain("Granted-at: 2026-03-02T09:10:00Z");
});

test("someone not on call is refused with a clear message, and nothing is applied", async () => {
  const { gh, clock } = env();
  await onCallBreakglass("PSRE02");
  clock.set("2026-03-02T09:10:00Z");
  const pr = gh.openPullRequest({
    author: "dev2",
    files: { "grants/dev2-prod-db.yaml": grantYaml({ requester: "dev2", duration: "30m", emergency: true }) },
  });
  await deliverOk(env(), pr);
  expect(annotations(pr.sha!)).toContain(
    "`dev2` may not use break-glass on this role; its breakglass.requesters are `pagerduty:PSRE02`; `dev2` (PDEV2) was not on call on `pagerduty:PSRE02` at 2026-03-02T09:10:00Z",
  );
  expect(gh.labels(pr.number!)).toEqual([]);
  expect(commentsWith(env(), pr.number!, "Break-glass")).toHaveLength(0);
});

test("the schedule cannot be read: refused (fails closed), the message names the schedule and the HTTP status", async () => {
  const { gh, clock } = env();
  await onCallBreakglass("PSRE03");
  pagerduty.failing.PSRE03 = 503;
  clock.set("2026-03-02T09:10:00Z");
  const pr = gh.openPullRequest({ author: "dev1", files: { [PATH]: EMERGENCY } });
  await deliverOk(env(), pr);
  const text = annotations(pr.sha!);
  expect(text).toContain("whether `dev1` is on call on `pagerduty:PSRE03` could not be checked: PagerDuty schedule PSRE03 could not be read: HTTP 503");
  expect(text).not.toContain(PD_TOKEN);
  expect(gh.checkRuns(pr.sha!, "timebox/validate").at(-1)?.conclusion).toBe("failure");
  expect(gh.labels(pr.number!)).toEqual([]);
  expect(await env().hasAccess()).toBe(false);
});

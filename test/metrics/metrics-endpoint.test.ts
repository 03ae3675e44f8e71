/**
 * `/metrics` on the built app as GitHub drives it: `probot run ./lib/index.js` in its own process,
 * signed webhooks over HTTP, the emulated GitHub through GHE_HOST, a real PostgreSQL (the server
 * in CI, embedded PGlite otherwise). After a PR is validated, approved and merged (so the grant is
 * applied), Prometheus sees the webhook, reconcile and grant series. Needs `lib/` (npm test builds it).
 */
import { jest } from "@jest/globals";
import { startLiveApp, until, type LiveApp } from "../support/app-process.js";
import { grantYaml } from "../support/access-repo.js";

jest.setTimeout(90_000);

/** The value of one sample line (`name{labels} value`) in the exposition text, if present. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

let live: LiveApp | undefined;
afterEach(async () => {
  await live?.stop();
});

test("the running app exposes webhook, reconcile and grant series on /metrics after an end-to-end grant", async () => {
  live = await startLiveApp("metrics-secret");
  const { gh, pg, url, repoName, login } = live;
  const metrics = async () => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    return res.text();
  };

  // Before any webhook: the families are declared, process metrics are there.
  const before = await metrics();
  expect(before).toContain("# TYPE timebox_webhook_events_total counter");
  expect(before).toContain("# TYPE timebox_reconcile_duration_seconds histogram");
  expect(before).toContain("# TYPE timebox_revocation_lag_seconds histogram");
  expect(before).toContain("process_resident_memory_bytes");

  const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": grantYaml() } });
  expect((await gh.deliver(url, pr)).map((r) => r.status)).toEqual(pr.map(() => 200));
  await until("timebox/validate", () => gh.checkRuns(pr.sha!, "timebox/validate").at(-1));
  // The webhook response is sent before handlers finish: wait for the counter.
  const opened = 'timebox_webhook_events_total{event="pull_request",action="opened",outcome="ok"}';
  await until("the opened event counted", async () => sample(await metrics(), opened) === 1);

  await gh.deliver(url, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  await until("approval", () => gh.checkRuns(pr.sha!, "timebox/approval").at(-1)?.conclusion === "success");
  await gh.deliver(url, gh.merge(pr.number!, { by: "alice" }));
  await until("the applied comment", () => gh.comments(pr.number!).some((c: { body: string }) => c.body.includes("timebox:applied")));

  const repoSeries = `timebox_grants_active{repo="acme/${repoName}"}`;
  const text = await until("the apply counted", async () => {
    const t = await metrics();
    return sample(t, 'timebox_grant_operations_total{operation="apply",outcome="ok"}') === 1 && sample(t, repoSeries) === 1 ? t : undefined;
  });
  expect(sample(text, opened)).toBe(1);
  expect(sample(text, 'timebox_webhook_events_total{event="pull_request_review",action="submitted",outcome="ok"}')).toBe(1);
  expect(sample(text, 'timebox_webhook_events_total{event="pull_request",action="closed",outcome="ok"}')).toBe(1);
  expect(sample(text, 'timebox_reconciles_total{outcome="ok"}')).toBeGreaterThanOrEqual(1);
  expect(sample(text, 'timebox_reconciles_total{outcome="error"}')).toBe(0);
  expect(sample(text, 'timebox_reconcile_duration_seconds_count{outcome="ok"}')).toBeGreaterThanOrEqual(1);
  expect(sample(text, 'timebox_grant_operations_total{operation="apply",outcome="error"}')).toBe(0);
  expect(sample(text, "timebox_revocation_lag_seconds_count")).toBe(0);
  // Bounded, secret-free labels: no grant paths, logins or connection URLs.
  expect(text).not.toContain("grants/");
  expect(text).not.toContain(login);
  expect(text).not.toContain(pg.url);

});

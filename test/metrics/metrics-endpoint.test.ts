/**
 * `/metrics` and the logs of the built app as GitHub drives it: `probot run ./lib/index.js` in its
 * own process, signed webhooks over HTTP, the emulated GitHub through GHE_HOST, a real PostgreSQL
 * (the server in CI, embedded PGlite otherwise). A PR is validated, approved and merged (the grant
 * is applied), then revoked with `/timebox revoke`; Prometheus then sees the webhook, reconcile,
 * grant, provider and GitHub API series, and every log line about a webhook names its delivery and
 * installation. Needs `lib/` (npm test builds it).
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

/** The sum of every sample of a metric family (all label sets). */
function total(text: string, name: string): number {
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

/** The app's JSON log lines (LOG_FORMAT=json), parsed. */
function logLines(output: string): Array<Record<string, unknown>> {
  return output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

let live: LiveApp | undefined;
afterEach(async () => {
  await live?.stop();
});

test("after a grant is applied and revoked, /metrics has every series and the logs name each delivery", async () => {
  // The backstop tick never fires during the test (1 January only): every reconcile is a webhook's.
  live = await startLiveApp("metrics-secret", { LOG_LEVEL: "info", LOG_FORMAT: "json", TIMEBOX_RECONCILE_CRON: "0 0 1 1 *" });
  const { gh, pg, url, repoName, login } = live;
  const repo = `acme/${repoName}`;
  const metrics = async () => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    return res.text();
  };

  // Before any webhook: the families are declared, process metrics are there, providers start at zero.
  const before = await metrics();
  expect(before).toContain("# TYPE timebox_webhook_events_total counter");
  expect(before).toContain("# TYPE timebox_reconcile_duration_seconds histogram");
  expect(before).toContain("# TYPE timebox_revocation_lag_seconds histogram");
  expect(before).toContain("# TYPE timebox_github_api_calls_total counter");
  expect(before).toContain("# TYPE timebox_github_rate_limit_remaining gauge");
  expect(before).toContain("process_resident_memory_bytes");
  expect(sample(before, 'timebox_provider_operations_total{provider="postgres",operation="revoke",outcome="error"}')).toBe(0);

  const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": grantYaml() } });
  const installation = pr[0].payload.installation.id as number;
  expect((await gh.deliver(url, pr)).map((r) => r.status)).toEqual(pr.map(() => 200));
  await until("timebox/validate", () => gh.checkRuns(pr.sha!, "timebox/validate").at(-1));
  // The webhook response is sent before handlers finish: wait for the counter.
  const opened = 'timebox_webhook_events_total{event="pull_request",action="opened",outcome="ok"}';
  await until("the opened event counted", async () => sample(await metrics(), opened) === 1);

  await gh.deliver(url, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  await until("approval", () => gh.checkRuns(pr.sha!, "timebox/approval").at(-1)?.conclusion === "success");
  const merged = await gh.deliver(url, gh.merge(pr.number!, { by: "alice" }));
  await until("the applied comment", () => gh.comments(pr.number!).some((c: { body: string }) => c.body.includes("timebox:applied")));

  const repoSeries = `timebox_grants_active{repo="${repo}"}`;
  const applied = await until("the apply counted", async () => {
    const t = await metrics();
    return sample(t, 'timebox_grant_operations_total{operation="apply",outcome="ok"}') === 1 && sample(t, repoSeries) === 1 ? t : undefined;
  });
  expect(sample(applied, opened)).toBe(1);
  expect(sample(applied, 'timebox_webhook_events_total{event="pull_request_review",action="submitted",outcome="ok"}')).toBe(1);
  expect(sample(applied, 'timebox_webhook_events_total{event="pull_request",action="closed",outcome="ok"}')).toBe(1);
  expect(sample(applied, 'timebox_reconciles_total{outcome="ok"}')).toBeGreaterThanOrEqual(1);
  expect(sample(applied, 'timebox_reconciles_total{outcome="error"}')).toBe(0);
  expect(sample(applied, 'timebox_reconcile_duration_seconds_count{outcome="ok"}')).toBeGreaterThanOrEqual(1);
  expect(sample(applied, 'timebox_grant_operations_total{operation="apply",outcome="error"}')).toBe(0);
  expect(sample(applied, "timebox_revocation_lag_seconds_count")).toBe(0);
  // Grants active by resource: the policy's one resource, with the one grant.
  expect(sample(applied, `timebox_grants_active_by_resource{repo="${repo}",resource="prod-db"}`)).toBe(1);
  expect(sample(applied, 'timebox_provider_operations_total{provider="postgres",operation="apply",outcome="ok"}')).toBe(1);
  expect(sample(applied, 'timebox_provider_operation_duration_seconds_count{provider="postgres",operation="apply"}')).toBe(1);

  // Early revocation by the requester: a revoke at the provider, outside any reconcile.
  const revoke = await gh.deliver(url, gh.comment(pr.number!, { author: "dev1", body: "/timebox revoke done" }));
  await until("the revoked comment", () => gh.comments(pr.number!).some((c: { body: string }) => c.body.includes("timebox:revoked")));
  expect(await live.hasAccess()).toBe(false);
  const text = await until("the revoke counted", async () => {
    const t = await metrics();
    return sample(t, 'timebox_provider_operations_total{provider="postgres",operation="revoke",outcome="ok"}') === 1 ? t : undefined;
  });
  expect(sample(text, 'timebox_provider_operations_total{provider="postgres",operation="revoke",outcome="error"}')).toBe(0);
  expect(sample(text, 'timebox_provider_operations_total{provider="postgres",operation="apply",outcome="ok"}')).toBe(1);
  expect(sample(text, 'timebox_webhook_events_total{event="issue_comment",action="created",outcome="ok"}')).toBe(1);

  // GitHub API calls by route template and status class; the emulator saw at least as many.
  const calls = total(text, "timebox_github_api_calls_total");
  expect(calls).toBeGreaterThan(0);
  expect(calls).toBeLessThanOrEqual(gh.requests.length);
  expect(sample(text, 'timebox_github_api_calls_total{method="POST",route="/repos/{owner}/{repo}/check-runs",status="2xx"}')).toBeGreaterThanOrEqual(2);
  expect(
    sample(text, 'timebox_github_api_calls_total{method="POST",route="/repos/{owner}/{repo}/issues/{issue_number}/comments",status="2xx"}'),
  ).toBeGreaterThanOrEqual(2);
  expect(
    sample(text, 'timebox_github_api_calls_total{method="POST",route="/app/installations/{installation_id}/access_tokens",status="2xx"}'),
  ).toBeGreaterThanOrEqual(1);
  // Rate limit: what the emulator's last x-ratelimit-* headers said for this installation's token.
  const remaining = `timebox_github_rate_limit_remaining{installation="${installation}",resource="core"}`;
  const settled = await until("the rate-limit gauge to match GitHub's headers", async () => {
    const t = await metrics();
    return sample(t, remaining) === gh.state.rateLimits.remaining(`installation:${installation}`, Date.now()) ? t : undefined;
  });
  expect(sample(settled, remaining)).toBeLessThan(5000);
  expect(sample(settled, `timebox_github_rate_limit_limit{installation="${installation}",resource="core"}`)).toBe(5000);
  expect(sample(settled, 'timebox_github_rate_limit_remaining{installation="app",resource="core"}')).toBe(gh.state.rateLimits.remaining("app", Date.now()));

  // Bounded, secret-free labels: no grant paths, logins, concrete URLs or connection URLs.
  expect(text).not.toContain("grants/");
  expect(text).not.toContain(login);
  expect(text).not.toContain("dev1");
  expect(text).not.toContain(`/repos/acme/`);
  expect(text).not.toContain(pg.url);

  // Logs: the lines about a webhook carry its delivery id (`id`, as Probot names it) and installation.
  const lines = logLines(live.output());
  const mergeIds = merged.map((d) => d.id);
  const appliedLine = lines.find((l) => l.msg === "grant applied");
  expect(appliedLine).toMatchObject({ repo, grant: "grants/dev1-prod-db.yaml", pr: pr.number, installation });
  expect(mergeIds).toContain(appliedLine!.id);
  // A handler's own line (context.log) and the lifecycle's lines while it ran.
  expect(lines.find((l) => l.msg === "/timebox revoke handled")).toMatchObject({ id: revoke[0].id, installation, repo, pr: pr.number });
  expect(lines.find((l) => l.msg === "grant revoked")).toMatchObject({
    id: revoke[0].id,
    installation,
    repo,
    grant: "grants/dev1-prod-db.yaml",
    pr: pr.number,
  });
  expect(lines.find((l) => l.msg === "revoke command")).toMatchObject({ id: revoke[0].id, installation, repo, pr: pr.number });
  // Lines outside any webhook (start-up) name none.
  const startLine = lines.find((l) => l.msg === "Timebox is listening for pull requests");
  expect(startLine).toBeDefined();
  expect(startLine).not.toHaveProperty("id");
  expect(startLine).not.toHaveProperty("installation");
  expect(live.output()).not.toContain(pg.url);
});

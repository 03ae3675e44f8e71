/** Timebox's Prometheus metrics: what a reconcile report, a webhook and a failure do to the series. */
import { jest } from "@jest/globals";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ReconcileReport } from "../../src/lifecycle/reconciler.js";
import { metricsHandler, serveMetrics, TimeboxMetrics, type HookableOctokit } from "../../src/metrics/index.js";

const report = (fields: Partial<ReconcileReport> = {}): ReconcileReport => ({
  repo: "acme/access",
  active: 0,
  applied: [],
  revoked: [],
  unapproved: [],
  failures: [],
  revocationLagsMs: [],
  failedRevokes: 0,
  ...fields,
});

async function value(m: TimeboxMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = m.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values.find(
    (v) =>
      Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l) && Object.keys(v.labels).length >= Object.keys(labels).length,
  )?.value;
}

test("a reconcile report updates active grants, apply/revoke counts, the revocation lag and the duration", async () => {
  const m = new TimeboxMetrics({ processMetrics: false });
  m.reconciled(
    report({
      active: 3,
      applied: ["grants/a.yaml", "grants/b.yaml"],
      revoked: ["grants/c.yaml"],
      failures: ["grants/d.yaml", "grants/e.yaml", "grants/f.yaml"],
      failedRevokes: 1,
      revocationLagsMs: [400, 90_000],
    }),
    0.3,
  );
  expect(await value(m, "timebox_grants_active", { repo: "acme/access" })).toBe(3);
  expect(await value(m, "timebox_grant_operations_total", { operation: "apply", outcome: "ok" })).toBe(2);
  expect(await value(m, "timebox_grant_operations_total", { operation: "apply", outcome: "error" })).toBe(2);
  expect(await value(m, "timebox_grant_operations_total", { operation: "revoke", outcome: "ok" })).toBe(1);
  expect(await value(m, "timebox_grant_operations_total", { operation: "revoke", outcome: "error" })).toBe(1);
  expect(await value(m, "timebox_reconciles_total", { outcome: "ok" })).toBe(1);
  expect(await value(m, "timebox_reconciles_total", { outcome: "error" })).toBe(0);

  const text = await m.registry.metrics();
  expect(text).toContain('timebox_revocation_lag_seconds_bucket{le="1"} 1');
  expect(text).toContain('timebox_revocation_lag_seconds_bucket{le="60"} 1');
  expect(text).toContain('timebox_revocation_lag_seconds_bucket{le="120"} 2');
  expect(text).toContain("timebox_revocation_lag_seconds_count 2");
  expect(text).toContain("timebox_revocation_lag_seconds_sum 90.4");
  expect(text).toContain('timebox_reconcile_duration_seconds_bucket{le="0.5",outcome="ok"} 1');
  expect(text).toContain('timebox_reconcile_duration_seconds_count{outcome="ok"} 1');
  // Bounded labels: the repository, never a grant path.
  expect(text).not.toContain("grants/");

  // The gauge follows the latest report of each repository; counters add up.
  m.reconciled(report({ active: 1, revoked: ["grants/a.yaml"], revocationLagsMs: [2000] }), 0.01);
  m.reconciled(report({ repo: "acme/other", active: 5 }), 0.01);
  expect(await value(m, "timebox_grants_active", { repo: "acme/access" })).toBe(1);
  expect(await value(m, "timebox_grants_active", { repo: "acme/other" })).toBe(5);
  expect(await value(m, "timebox_grant_operations_total", { operation: "revoke", outcome: "ok" })).toBe(2);
  expect(await m.registry.metrics()).toContain("timebox_revocation_lag_seconds_count 3");
});

test("a reconcile run with the GitHub budget at its reserve is counted, others are not", async () => {
  const m = new TimeboxMetrics({ processMetrics: false });
  m.reconciled(report({ active: 1 }), 0.1);
  expect(await value(m, "timebox_reconciles_saving_budget_total", {})).toBe(0);
  m.reconciled(report({ active: 1, saving: true }), 0.1);
  expect(await value(m, "timebox_reconciles_saving_budget_total", {})).toBe(1);
});

test("active grants by resource follow each repository's latest report; a resource that disappears loses its series", async () => {
  const m = new TimeboxMetrics({ processMetrics: false });
  m.reconciled(report({ active: 3, activeByResource: { "prod-db": 2, "prod-repos": 1 } }), 0.1);
  m.reconciled(report({ repo: "acme/other", active: 1, activeByResource: { "prod-db": 1 } }), 0.1);
  expect(await value(m, "timebox_grants_active_by_resource", { repo: "acme/access", resource: "prod-db" })).toBe(2);
  expect(await value(m, "timebox_grants_active_by_resource", { repo: "acme/access", resource: "prod-repos" })).toBe(1);
  expect(await value(m, "timebox_grants_active_by_resource", { repo: "acme/other", resource: "prod-db" })).toBe(1);

  // prod-db's grants expired (it stays, at 0); prod-repos left the policy with its last grant.
  m.reconciled(report({ active: 0, activeByResource: { "prod-db": 0 } }), 0.1);
  expect(await value(m, "timebox_grants_active_by_resource", { repo: "acme/access", resource: "prod-db" })).toBe(0);
  expect(await value(m, "timebox_grants_active_by_resource", { repo: "acme/access", resource: "prod-repos" })).toBeUndefined();
  expect(await value(m, "timebox_grants_active_by_resource", { repo: "acme/other", resource: "prod-db" })).toBe(1);
  // A repository whose policy is gone reports no resources: its series go.
  m.reconciled(report({ repo: "acme/other", active: 0 }), 0.1);
  const text = await m.registry.metrics();
  expect(text).not.toContain('repo="acme/other",resource=');
  expect(text).toContain('timebox_grants_active_by_resource{repo="acme/access",resource="prod-db"} 0');
  // The per-repository gauge is unchanged in meaning.
  expect(await value(m, "timebox_grants_active", { repo: "acme/access" })).toBe(0);
});

test("a tracked handler's GitHub client is counted, for the event's installation", async () => {
  const m = new TimeboxMetrics({ processMetrics: false });
  type After = (response: { status: number; headers: Record<string, string> }, options: { method: string; url: string }) => void;
  const afters: After[] = [];
  const octokit = { hook: { after: (_: "request", fn: After) => afters.push(fn), error: () => undefined } } as unknown as HookableOctokit;
  const handler = m.track(async (_c: { name: string; payload: unknown; octokit?: HookableOctokit }) => {
    for (const after of afters)
      after({ status: 201, headers: { "x-ratelimit-remaining": "4321", "x-ratelimit-limit": "5000" } }, { method: "POST", url: "/graphql" });
  });
  await handler({ name: "push", payload: { installation: { id: 42 } }, octokit });
  expect(await value(m, "timebox_github_api_calls_total", { method: "POST", route: "/graphql", status: "2xx" })).toBe(1);
  expect(await value(m, "timebox_github_rate_limit_remaining", { installation: "42", resource: "core" })).toBe(4321);
});

test("failed applies and failed revokes are told apart", async () => {
  const m = new TimeboxMetrics({ processMetrics: false });
  m.reconciled(
    {
      repo: "acme/access",
      active: 0,
      applied: [],
      revoked: [],
      unapproved: [],
      failures: ["grants/x.yaml", "grants/y.yaml"],
      revocationLagsMs: [],
      failedRevokes: 1,
    },
    0.1,
  );
  expect(await value(m, "timebox_grant_operations_total", { operation: "apply", outcome: "error" })).toBe(1);
  expect(await value(m, "timebox_grant_operations_total", { operation: "revoke", outcome: "error" })).toBe(1);
});

test("observeReconcile times the run and passes its report or its error through", async () => {
  const m = new TimeboxMetrics({ processMetrics: false });
  const r = report({ active: 2 });
  await expect(m.observeReconcile(async () => r)).resolves.toBe(r);
  const boom = new Error("GitHub is down");
  await expect(m.observeReconcile(async () => Promise.reject(boom))).rejects.toBe(boom);
  expect(await value(m, "timebox_reconciles_total", { outcome: "ok" })).toBe(1);
  expect(await value(m, "timebox_reconciles_total", { outcome: "error" })).toBe(1);
  expect(await value(m, "timebox_grants_active", { repo: "acme/access" })).toBe(2);
  const text = await m.registry.metrics();
  expect(text).toContain('timebox_reconcile_duration_seconds_count{outcome="error"} 1');
  expect(text).not.toContain("GitHub is down");
});

test("tracked webhook handlers count each event by name, action and outcome; errors still propagate", async () => {
  const m = new TimeboxMetrics({ processMetrics: false });
  const ok = m.track(async (_c: { name: string; payload: unknown }) => undefined);
  const failing = m.track(async (_c: { name: string; payload: unknown }) => {
    throw new Error("secret-token-123 leaked?");
  });
  await ok({ name: "pull_request", payload: { action: "opened" } });
  await ok({ name: "pull_request", payload: { action: "opened" } });
  await ok({ name: "push", payload: { ref: "refs/heads/main" } });
  await expect(failing({ name: "pull_request_review", payload: { action: "submitted" } })).rejects.toThrow("secret-token-123");
  await ok({ name: "pull_request", payload: { action: "Weird Action!<script>" } });

  expect(await value(m, "timebox_webhook_events_total", { event: "pull_request", action: "opened", outcome: "ok" })).toBe(2);
  expect(await value(m, "timebox_webhook_events_total", { event: "push", action: "none", outcome: "ok" })).toBe(1);
  expect(await value(m, "timebox_webhook_events_total", { event: "pull_request_review", action: "submitted", outcome: "error" })).toBe(1);
  expect(await value(m, "timebox_webhook_events_total", { event: "pull_request", action: "other", outcome: "ok" })).toBe(1);
  const text = await m.registry.metrics();
  expect(text).not.toContain("secret-token");
  expect(text).not.toContain("script");
});

test("each app has its own registry, with Node process metrics", async () => {
  const a = new TimeboxMetrics();
  const b = new TimeboxMetrics();
  a.webhook("push", undefined, "ok");
  expect(await value(a, "timebox_webhook_events_total", { event: "push" })).toBe(1);
  expect(await value(b, "timebox_webhook_events_total", { event: "push" })).toBeUndefined();
  const text = await a.registry.metrics();
  expect(text).toContain("process_cpu_user_seconds_total");
  expect(text).toContain("nodejs_eventloop_lag_seconds");
});

describe("serving /metrics", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  test("GET /metrics answers in the Prometheus text format; other requests fall through", async () => {
    const m = new TimeboxMetrics({ processMetrics: false });
    m.webhook("push", undefined, "ok");
    const handler = metricsHandler(m);
    server = createServer((req, res) => {
      void handler(req, res).then((mine) => {
        if (!mine) res.writeHead(404).end("not mine");
      });
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    expect(body).toContain("# TYPE timebox_webhook_events_total counter");
    expect(body).toContain('timebox_webhook_events_total{event="push",action="none",outcome="ok"} 1');
    expect((await fetch(`${url}/metrics?x=1`)).status).toBe(200);
    expect((await fetch(`${url}/metricsx`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`, { method: "POST" })).status).toBe(404);
  });

  test("without a server (Probot loaded in-process) nothing is served and nothing throws", () => {
    const m = new TimeboxMetrics({ processMetrics: false });
    const log = { debug: jest.fn() };
    expect(serveMetrics(undefined, m, log)).toBe(false);
    expect(
      serveMetrics(
        {
          cwd: "/",
          addHandler: () => {
            throw new Error("No server instance");
          },
        },
        m,
        log,
      ),
    ).toBe(false);
    expect(log.debug).toHaveBeenCalledTimes(2);
    const added: unknown[] = [];
    expect(serveMetrics({ cwd: "/", addHandler: (h) => added.push(h) }, m, log)).toBe(true);
    expect(added).toHaveLength(1);
  });
});

/** `/metrics` behind a bearer token (TIMEBOX_METRICS_TOKEN), and metric labels that never carry a person's name. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../../src/config/env.js";
import { metricsHandler, TimeboxMetrics, type HookableOctokit } from "../../src/metrics/index.js";

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function serve(m: TimeboxMetrics, token?: string): Promise<string> {
  const handler = metricsHandler(m, token);
  server = createServer((req, res) => {
    void handler(req, res).then((mine) => {
      if (!mine) res.writeHead(404).end("not mine");
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}

describe("TIMEBOX_METRICS_TOKEN", () => {
  test("is read from the environment; unset means open", () => {
    expect(loadConfig({ TIMEBOX_METRICS_TOKEN: "s3cret" }).metricsToken).toBe("s3cret");
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ TIMEBOX_METRICS_TOKEN: "" }).metricsToken).toBeUndefined();
  });

  test("with a token, /metrics answers only the right bearer token; anyone else gets 401 and no metrics", async () => {
    const m = new TimeboxMetrics({ processMetrics: false });
    m.webhook("push", undefined, "ok");
    const url = await serve(m, "s3cret-token");
    for (const headers of [
      {} as Record<string, string>,
      { authorization: "Bearer wrong" },
      { authorization: "Bearer s3cret-tokenX" },
      { authorization: "Basic s3cret-token" },
      { authorization: "s3cret-token" },
    ]) {
      const res = await fetch(url, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await res.text()).not.toContain("timebox_");
    }
    const ok = await fetch(url, { headers: { authorization: "Bearer s3cret-token" } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("timebox_webhook_events_total");
  });

  test("without a token, /metrics stays open (as before)", async () => {
    const url = await serve(new TimeboxMetrics({ processMetrics: false }));
    expect((await fetch(url)).status).toBe(200);
  });
});

describe("metric labels carry no requester names", () => {
  test("no metric family has a label for a person", () => {
    const m = new TimeboxMetrics({ processMetrics: false });
    const names = m.registry.getMetricsAsArray().flatMap((metric) => (metric as unknown as { labelNames?: string[] }).labelNames ?? []);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n).not.toMatch(/requester|login|user|author|sender|pusher|approver|path|grant/i);
  });

  test("a reconcile of alice's grants and GitHub calls naming alice leave no 'alice' in /metrics", async () => {
    const m = new TimeboxMetrics({ processMetrics: false });
    m.reconciled(
      {
        repo: "acme/access",
        active: 1,
        applied: ["grants/alice-prod-db.yaml"],
        revoked: ["grants/alice-old.yaml"],
        unapproved: ["grants/alice-x.yaml"],
        failures: [],
        revocationLagsMs: [10],
        failedRevokes: 0,
        activeByResource: { "prod-db": 1 },
      },
      0.1,
    );
    type After = (response: { status: number; headers: Record<string, string> }, options: { method: string; url: string }) => void;
    let after: After | undefined;
    const fake = { hook: { after: (_: "request", fn: After) => (after = fn), error: () => undefined } } as unknown as HookableOctokit;
    m.github.instrument(fake, 1);
    after!({ status: 200, headers: {} }, { method: "GET", url: "/orgs/acme/teams/dba/memberships/alice" });
    after!({ status: 200, headers: {} }, { method: "GET", url: "/repos/acme/access/contents/grants/alice-prod-db.yaml" });
    const text = await m.registry.metrics();
    expect(text).toContain("timebox_github_api_calls_total");
    expect(text.toLowerCase()).not.toContain("alice");
  });
});

/**
 * A GitHub API that hangs cannot stall the lifecycle (issue #10 item 12, design rule 13): every
 * request has a timeout, every call through the provider pool a deadline, and once the deadline
 * passed the provider sends no further request (no late PUT after the revoke that followed).
 * Real TCP/HTTP servers on 127.0.0.1, with Octokit's retries and throttling on, as in production.
 */
import http from "node:http";
import net from "node:net";
import { ProviderPool } from "../../src/lifecycle/provider-pool.js";
import type { Policy } from "../../src/policy/types.js";
import { withDeadline } from "../../src/providers/deadline.js";
import { createGithubProvider } from "../../src/providers/github/index.js";
import { ProviderError, type ActiveGrant } from "../../src/providers/types.js";
import { errorTexts, makeActiveGrant } from "./contract.js";
import { startBlackHole, type BlackHole } from "./hang-servers.js";

const TIMEOUT = 30_000;
const BOUND = 10_000;
const TOKEN = "ghp_HungProviderToken0000000000000000";
const SETTINGS = { token_env: "TB_GH_TOKEN", base_url_env: "TB_GH_URL" };

const teamGrant = (): ActiveGrant => makeActiveGrant("dev1", "@acme/sre", { resource: "github-prod" });
const repoGrant = (): ActiveGrant => makeActiveGrant("dev1", "acme/api", { resource: "github-prod", roleSettings: { permission: "push" } });

async function hung(p: Promise<unknown>): Promise<ProviderError> {
  const started = Date.now();
  const err = await p.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  expect(Date.now() - started).toBeLessThan(BOUND);
  expect(err).toBeInstanceOf(ProviderError);
  const e = err as ProviderError;
  expect(e.retryable).toBe(true);
  expect(errorTexts(e)).not.toContain(TOKEN);
  return e;
}

let hole: BlackHole;
beforeAll(async () => {
  hole = await startBlackHole();
});
afterAll(async () => {
  await hole?.close();
});

describe("an API that accepts connections and never answers", () => {
  test(
    "every call fails at the request timeout, retries and throttling on",
    async () => {
      const env = { TB_GH_TOKEN: TOKEN, TB_GH_URL: `http://127.0.0.1:${hole.port}/api/v3` };
      const p = createGithubProvider({ resource: "github-prod", settings: SETTINGS, env }, { timeoutMs: 300 });
      const team = teamGrant();
      const repo = repoGrant();
      for (const call of [
        () => p.grant(team),
        () => p.revoke(team, []),
        () => p.isGranted(team),
        () => p.recordPriorAccess(repo, []),
        () => p.isGranted(repo),
        () => p.checkTarget("@acme/sre", "dev1"),
      ]) {
        const err = await hung(call());
        expect(err.message).toMatch(/^GitHub: could not .*: network error: timed out$/);
      }
    },
    TIMEOUT,
  );

  test(
    "through the provider pool the deadline bounds every call, and sets the request timeout",
    async () => {
      const env = { TB_GH_TOKEN: TOKEN, TB_GH_URL: `http://127.0.0.1:${hole.port}/api/v3` };
      const policy = { resources: { "github-prod": { provider: "github", settings: SETTINGS, roles: {} } } } as unknown as Policy;
      const pool = new ProviderPool(env, { timeoutMs: 300 });
      const p = pool.forResource(policy, "github-prod");
      const g = teamGrant();
      for (const call of [() => p.grant(g), () => p.revoke(g, []), () => p.isGranted(g)]) {
        const err = await hung(call());
        expect(err.message).toMatch(/github-prod|GitHub: could not/);
        expect(err.message).toMatch(/timed out|did not answer within 0\.3 s/);
      }
      await pool.close();
    },
    TIMEOUT,
  );
});

describe("once the deadline passed, the provider sends nothing more", () => {
  let server: http.Server;
  let port: number;
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    // Answers every read after 800 ms: "not a member" — a grant would then PUT the membership.
    server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "Not Found" }));
      }, 800);
    });
    server.on("connection", (s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  test(
    "a grant given up at the deadline never reaches its write",
    async () => {
      const env = { TB_GH_TOKEN: TOKEN, TB_GH_URL: `http://127.0.0.1:${port}/api/v3` };
      // The provider's own request timeout is long: only the deadline it is told about stops it.
      const raw = createGithubProvider({ resource: "github-prod", settings: SETTINGS, env }, { retry: false, throttle: false, timeoutMs: 5_000 });
      const p = withDeadline(raw, "github-prod", 300);
      const g = teamGrant();
      const err = await hung(p.grant(g));
      // The request is cut at the time left (its own "timed out"), or the wrapper answers first.
      expect(err.message).toMatch(/timed out|did not answer within 0\.3 s/);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.filter((s) => !s.startsWith("GET "))).toEqual([]);
    },
    TIMEOUT,
  );
});

/**
 * GitHub API metrics on a real Octokit (Probot's) talking to the emulated GitHub over HTTP: calls
 * by method, route template and status class, and the rate limit from the `x-ratelimit-*` headers.
 */
import { ProbotOctokit } from "probot";
import { Registry } from "prom-client";
import { FakeClock } from "../harness/clock.js";
import { GitHubEmulator } from "../harness/github/index.js";
import { GitHubApiMetrics, type HookableOctokit } from "../../src/metrics/index.js";

const clock = new FakeClock("2026-03-02T09:00:00Z");
let gh: GitHubEmulator;
beforeEach(async () => {
  gh = new GitHubEmulator({ clock });
  await gh.start();
  gh.createUser("dev1", { orgs: ["acme"] });
  gh.createRepo({ owner: "acme", name: "access", files: { "README.md": "# access\n" } });
});
afterEach(async () => {
  await gh.stop();
});

function client(token: string): InstanceType<typeof ProbotOctokit> {
  return new ProbotOctokit({ auth: { token }, baseUrl: gh.baseUrl, retry: { enabled: false }, throttle: { enabled: false } });
}

async function sample(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const { values } = await registry.getSingleMetric(name)!.get();
  return values.find((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))?.value;
}

test("each call is counted by method, route template and status class, concrete URLs included", async () => {
  const registry = new Registry();
  const m = new GitHubApiMetrics(registry);
  const octokit = m.instrument(client(gh.installationToken(1)), 1);

  await octokit.rest.repos.get({ owner: "acme", repo: "access" });
  await octokit.rest.repos.get({ owner: "acme", repo: "access" });
  await expect(octokit.rest.repos.get({ owner: "acme", repo: "missing" })).rejects.toMatchObject({ status: 404 });
  // A literal URL (no template) is still labelled with its route, never with its owner or repository.
  await octokit.request("GET /repos/acme/access/git/ref/heads%2Fmain");
  // A route GitHub does not have is `other`.
  await expect(octokit.request("GET /not/a/route/dev1")).rejects.toMatchObject({ status: 404 });

  expect(await sample(registry, "timebox_github_api_calls_total", { method: "GET", route: "/repos/{owner}/{repo}", status: "2xx" })).toBe(2);
  expect(await sample(registry, "timebox_github_api_calls_total", { method: "GET", route: "/repos/{owner}/{repo}", status: "4xx" })).toBe(1);
  expect(await sample(registry, "timebox_github_api_calls_total", { method: "GET", route: "/repos/{owner}/{repo}/git/ref/{ref}", status: "2xx" })).toBe(1);
  expect(await sample(registry, "timebox_github_api_calls_total", { method: "GET", route: "other", status: "4xx" })).toBe(1);
  const text = await registry.metrics();
  expect(text).not.toContain("acme");
  expect(text).not.toContain("dev1");
  expect(text).not.toContain("missing");
});

test("later pages of a paginated listing (absolute `next` URLs) count under the listing's route", async () => {
  for (let i = 0; i < 4; i++) gh.pushCommit({ files: { [`f${i}.txt`]: String(i) }, author: "dev1" });
  const registry = new Registry();
  const m = new GitHubApiMetrics(registry);
  const octokit = m.instrument(client(gh.installationToken(1)), 1);
  const commits = await octokit.paginate(octokit.rest.repos.listCommits, { owner: "acme", repo: "access", per_page: 2 });
  expect(commits.length).toBe(5);
  const pages = gh.callCount({ route: "/repos/{owner}/{repo}/commits" });
  expect(pages).toBe(3);
  expect(await sample(registry, "timebox_github_api_calls_total", { method: "GET", route: "/repos/{owner}/{repo}/commits", status: "2xx" })).toBe(pages);
  expect(await registry.metrics()).not.toContain("page=");
});

test("the rate-limit gauges follow GitHub's headers per installation, and the app's JWT calls apart", async () => {
  const registry = new Registry();
  const m = new GitHubApiMetrics(registry);
  const one = m.instrument(client(gh.installationToken(1)), 1);
  for (let i = 0; i < 3; i++) await one.rest.repos.get({ owner: "acme", repo: "access" });
  // A 404 still carries the headers (a 403 at the limit says remaining 0 the same way).
  await expect(one.rest.repos.get({ owner: "acme", repo: "missing" })).rejects.toMatchObject({ status: 404 });
  const now = clock.now().getTime();
  expect(gh.state.rateLimits.remaining("installation:1", now)).toBe(4996);
  expect(await sample(registry, "timebox_github_rate_limit_remaining", { installation: "1", resource: "core" })).toBe(4996);
  expect(await sample(registry, "timebox_github_rate_limit_limit", { installation: "1", resource: "core" })).toBe(5000);

  // The app-authenticated client (no installation): its own bucket.
  const app = m.instrument(client("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.c2ln"));
  await app.request("GET /app/installations");
  expect(await sample(registry, "timebox_github_rate_limit_remaining", { installation: "app", resource: "core" })).toBe(4999);
  expect(await sample(registry, "timebox_github_rate_limit_remaining", { installation: "1", resource: "core" })).toBe(4996);

  // A new window (an hour later): the budget is back, and the gauge follows.
  clock.advance(3600_000);
  await one.rest.repos.get({ owner: "acme", repo: "access" });
  expect(await sample(registry, "timebox_github_rate_limit_remaining", { installation: "1", resource: "core" })).toBe(4999);
});

test("a client hooked twice counts each call once; a request with no response counts as `error`", async () => {
  const registry = new Registry();
  const m = new GitHubApiMetrics(registry);
  const octokit = client(gh.installationToken(1));
  m.instrument(m.instrument(octokit, 1), 1);
  await octokit.rest.repos.get({ owner: "acme", repo: "access" });
  expect(await sample(registry, "timebox_github_api_calls_total", { route: "/repos/{owner}/{repo}", status: "2xx" })).toBe(1);

  await gh.stop();
  await expect(octokit.rest.repos.get({ owner: "acme", repo: "access" })).rejects.toThrow();
  expect(await sample(registry, "timebox_github_api_calls_total", { route: "/repos/{owner}/{repo}", status: "error" })).toBe(1);
});

test("responses arriving out of order within a window never raise the remaining count", async () => {
  const registry = new Registry();
  const m = new GitHubApiMetrics(registry);
  type After = (response: { status: number; headers: Record<string, string> }, options: { method: string; url: string }) => void;
  let after: After | undefined;
  const fake = { hook: { after: (_: "request", fn: After) => (after = fn), error: () => undefined } } as unknown as HookableOctokit;
  m.instrument(fake, 7);
  const respond = (remaining: number, reset: number) =>
    after!(
      { status: 200, headers: { "x-ratelimit-remaining": String(remaining), "x-ratelimit-limit": "5000", "x-ratelimit-reset": String(reset) } },
      { method: "GET", url: "/repos/{owner}/{repo}" },
    );
  const remaining = () => sample(registry, "timebox_github_rate_limit_remaining", { installation: "7" });

  respond(100, 1000);
  respond(102, 1000); // an older request answered late
  expect(await remaining()).toBe(100);
  respond(99, 1000);
  expect(await remaining()).toBe(99);
  respond(4999, 4600); // the next window
  expect(await remaining()).toBe(4999);
  respond(50, 1000); // a straggler from the previous window
  expect(await remaining()).toBe(4999);
});

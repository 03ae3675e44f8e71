/**
 * `npm run demo` as a newcomer runs it: the real app process, the emulated GitHub and the embedded
 * PostgreSQL, narrated step by step. `npm test` has built lib/ already (pretest), so the demo is
 * compiled here and its script run with --ignore-scripts: exactly the `demo` script line, without
 * `predemo` rebuilding lib/ under the other test files that are using it at the same time.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { jest } from "@jest/globals";
import { Cleanup } from "../../demo/cleanup.js";
import { repositoryRoot, runDemo } from "../../demo/run-demo.js";

jest.setTimeout(90_000);

const root = repositoryRoot();

beforeAll(() => {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.demo.json"], { cwd: root, stdio: "pipe" });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `npm run demo` in its own process group (so a Ctrl-C can reach all of it); `onOutput` sees stdout as it comes. */
function npmRunDemo(onOutput?: (stdout: string, pid: number) => void): Promise<Run> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // jest's flags are not the user's
  const child = spawn("npm", ["run", "demo", "--ignore-scripts", "--silent"], { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
    onOutput?.(stdout, child.pid!);
  });
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
}

const answers = (url: string) =>
  fetch(`${url}/ping`).then(
    (r) => r.ok,
    () => false,
  );

test("npm run demo tells the whole story, every step checked, and leaves nothing behind", async () => {
  const run = await npmRunDemo();
  // On failure, the demo's own report (from its ✗ on) is what explains it.
  const failure = run.stdout.includes("✗") ? run.stdout.slice(run.stdout.indexOf("✗")) : "";
  expect({ code: run.code, failure, stderr: run.code === 0 ? "" : run.stderr }).toEqual({ code: 0, failure: "", stderr: "" });

  const milestones = [
    "embedded PostgreSQL (PGlite)",
    "emulated GitHub at http://127.0.0.1:",
    "Timebox itself at http://127.0.0.1:",
    "dev1 opened pull request #1",
    "✓ timebox/validate: success",
    "✓ timebox/approval: action_required",
    "(signed with the wrong secret) is refused: HTTP 400",
    "dev2's review did not count",
    "✓ timebox/approval: success",
    "✓ PostgreSQL: pg_has_role('dev1_login', 'analytics_read', 'MEMBER') = true",
    "dev1_login is a member of timebox_",
    "Access granted",
    "one second past the expiry",
    "✓ PostgreSQL: pg_has_role(...) = false",
    'on main by timebox[bot]: "Revoke expired grant grants/dev1-prod-db.yaml"',
    "Approved-by: alice",
    "Revoke-Reason: expired",
    "grants/dev1-prod-db.yaml is gone from main",
    "Access revoked",
    "the same SHAs as on GitHub",
    "$ timebox audit --repo",
    "revoked because it expired",
    "Every step happened:",
  ];
  const positions = milestones.map((m) => run.stdout.indexOf(m));
  expect(milestones.filter((_, i) => positions[i] < 0)).toEqual([]);
  expect(positions).toEqual([...positions].sort((a, b) => a - b));
  expect(run.stdout).not.toContain("✗");

  // Nothing left running or lying around.
  const appUrl = /Timebox itself at (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stdout)![1];
  expect(await answers(appUrl)).toBe(false);
  const scratch = /Working files go to (\S+) \(removed at the end\)/.exec(run.stdout)![1];
  expect(existsSync(scratch)).toBe(false);
});

test("Ctrl-C stops the app process and removes the working files", async () => {
  let interrupted = false;
  const run = await npmRunDemo((stdout, pid) => {
    if (!interrupted && stdout.includes("Timebox itself at")) {
      interrupted = true;
      process.kill(-pid, "SIGINT"); // the whole process group, as a terminal's Ctrl-C does
    }
  });
  expect(interrupted).toBe(true);
  expect(run.stdout).toContain("Interrupted (SIGINT): stopping everything the demo started.");
  expect(run.code === 0).toBe(false);
  const appUrl = /Timebox itself at (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stdout)![1];
  expect(await answers(appUrl)).toBe(false);
  const scratch = /Working files go to (\S+) \(removed at the end\)/.exec(run.stdout)![1];
  expect(existsSync(scratch)).toBe(false);
});

test("a step that does not happen ends the demo with exit code 1, saying what was expected and what was seen", async () => {
  let output = "";
  let appUrl = "";
  let scratch = "";
  const code = await runDemo(
    { write: (text) => (output += text), cleanup: new Cleanup(() => undefined) },
    {
      preload: new URL("build/demo/demo/time-travel-preload.js", `file://${root}/`),
      scenario: async (n, world) => {
        appUrl = world.app.url;
        scratch = world.scratch;
        // A real observation that contradicts the expectation: the emulated GitHub has no PR yet.
        const pulls = world.gh.repo().repo.pulls.size;
        n.check(pulls === 1, "one pull request on acme/access", () => `${pulls} pull requests`);
      },
    },
  );
  expect(code).toBe(1);
  expect(output).toContain("   ✗ expected: one pull request on acme/access\n     got:      0 pull requests\n");
  expect(output).toMatch(/The demo failed after 3 checks\.\n$/);
  expect(output).not.toContain("Every step happened");
  expect(await answers(appUrl)).toBe(false);
  expect(existsSync(scratch)).toBe(false);
});

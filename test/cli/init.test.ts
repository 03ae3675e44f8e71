/** `timebox init`: the files it writes pass `timebox validate`, it never overwrites, and --apply sets the protection GitHub's API describes. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nock from "nock";
import { load as parse } from "js-yaml";
import { runCli } from "../../src/cli/program.js";
import { INIT_PROVIDERS } from "../../src/cli/init/templates.js";
import { parseRequestForm } from "../../src/commands/request-parse.js";
import { check, operation } from "../harness/github/openapi-check.js";
import { formBody } from "../commands/request-support.js";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
afterEach(() => nock.cleanAll());

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "timebox-init-"));
  made.push(dir);
  return dir;
}

async function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env });
  return { code, stdout, stderr };
}

/** The example grant of the grants README (the ```yaml block), as `login` would write it. */
function readmeExample(root: string, login: string): string {
  const readme = readFileSync(join(root, "grants/README.md"), "utf8");
  const block = /```yaml\n([\s\S]*?)\n\s*```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  return `${block!
    .split("\n")
    .map((l) => l.replace(/^ {3}/, ""))
    .join("\n")
    .replace("your-login", login)}\n`;
}

const WRITTEN = [".github/timebox.yml", ".github/ISSUE_TEMPLATE/timebox-request.yml", ".github/workflows/timebox.yml", "grants/README.md"];

test.each<[string]>([...INIT_PROVIDERS.map((p): [string] => [p]), ["postgres,github,kubernetes"]])(
  "--providers %s: the policy and the README's example grant pass timebox validate",
  async (providers) => {
    const root = tempDir();
    const init = await cli(["init", "repo", "--providers", providers, "--org", "acme"], root);
    expect(init).toMatchObject({ code: 0, stderr: "" });
    const repo = join(root, "repo");
    for (const f of WRITTEN) expect(existsSync(join(repo, f))).toBe(true);
    writeFileSync(join(repo, "grants/octocat-example.yaml"), readmeExample(repo, "octocat"));
    const validate = await cli(["validate", "--author", "octocat", "grants/octocat-example.yaml"], repo);
    expect(validate.stdout).toContain("1 grant file checked: 1 valid, 0 invalid; policy valid");
    expect(validate.code).toBe(0);
    for (const p of providers.split(",")) expect(readFileSync(join(repo, ".github/timebox.yml"), "utf8")).toContain(`provider: ${p}`);
  },
);

test("without --providers: a commented PostgreSQL and GitHub example; the protection is printed", async () => {
  const root = tempDir();
  const init = await cli(["init"], root);
  expect(init.code).toBe(0);
  const policy = readFileSync(join(root, ".github/timebox.yml"), "utf8");
  expect(policy).toContain("provider: postgres");
  expect(policy).toContain("provider: github");
  expect(policy).toMatch(/^# /m);
  expect(init.stdout).toContain('"context": "timebox/validate"');
  expect(init.stdout).toContain('"context": "timebox/approval"');
  expect(init.stdout).toContain("--app-id");
});

test("the issue form is what Timebox reads, and the workflow runs Timebox's action on pull requests", async () => {
  const root = tempDir();
  expect((await cli(["init", "--action", "acme/timebox@v2"], root)).code).toBe(0);
  const form = parse(readFileSync(join(root, ".github/ISSUE_TEMPLATE/timebox-request.yml"), "utf8")) as {
    body: Array<{ type: string; attributes: { label?: string } }>;
  };
  const labels = form.body.filter((b) => b.type !== "markdown").map((b) => b.attributes.label);
  expect(labels).toEqual(["Resource", "Role", "Duration", "Reason", "Ticket"]);
  // What GitHub renders from those fields is a request to Timebox.
  expect(parseRequestForm(formBody({ resource: "prod-db", role: "readonly", duration: "2h", reason: "x" }))).toEqual({
    input: { resource: "prod-db", role: "readonly", duration: "2h", reason: "x" },
  });
  const wf = parse(readFileSync(join(root, ".github/workflows/timebox.yml"), "utf8")) as {
    on: Record<string, unknown>;
    jobs: { validate: { steps: Array<{ uses?: string }> } };
  };
  expect(Object.keys(wf.on)).toEqual(["pull_request"]);
  expect(wf.jobs.validate.steps.map((s) => s.uses)).toEqual(["actions/checkout@v4", "acme/timebox@v2"]);
});

test("existing files are never overwritten without --force; nothing is written then", async () => {
  const root = tempDir();
  writeFileSync(join(root, "keep.txt"), "x");
  expect((await cli(["init"], root)).code).toBe(0);
  writeFileSync(join(root, "grants/README.md"), "ours\n");
  const again = await cli(["init", "--providers", "mysql"], root);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain(
    ".github/timebox.yml, .github/ISSUE_TEMPLATE/timebox-request.yml, .github/workflows/timebox.yml, grants/README.md already exist",
  );
  expect(readFileSync(join(root, "grants/README.md"), "utf8")).toBe("ours\n");
  expect(readFileSync(join(root, ".github/timebox.yml"), "utf8")).not.toContain("provider: mysql");
  expect((await cli(["init", "--providers", "mysql", "--force"], root)).code).toBe(0);
  expect(readFileSync(join(root, ".github/timebox.yml"), "utf8")).toContain("provider: mysql");
});

test.each([
  [["init", "--providers", "oracle"], "--providers takes"],
  [["init", "--org", "not an org"], "--org must be"],
  [["init", "--apply"], "--apply needs --repo"],
  [["init", "--apply", "--repo", "acme/access"], "--apply needs a token"],
])("usage errors exit 2 and write nothing: %j", async (args, message) => {
  const root = tempDir();
  const r = await cli(args, root);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(message);
  expect(existsSync(join(root, ".github"))).toBe(false);
});

describe("--apply", () => {
  beforeAll(() => nock.disableNetConnect());
  afterAll(() => nock.enableNetConnect());
  const env = { TIMEBOX_GITHUB_TOKEN: "ghp_secret", GITHUB_API_URL: "https://api.github.com" };

  test("sets the protection on the default branch, requiring both checks from the Timebox app, in the body GitHub's API describes", async () => {
    const route = operation("PUT", "/repos/{owner}/{repo}/branches/{branch}/protection");
    const schema = route!.requestBody.content["application/json"].schema;
    let sent: unknown;
    const scope = nock("https://api.github.com", { reqheaders: { authorization: "Bearer ghp_secret" } })
      .get("/repos/acme/access")
      .reply(200, { default_branch: "trunk" })
      .put("/repos/acme/access/branches/trunk/protection", (body) => ((sent = body), true))
      .reply(200, {});
    const root = tempDir();
    const r = await cli(["init", "--apply", "--repo", "acme/access", "--app-id", "4242"], root, env);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toContain("Branch protection set on acme/access@trunk");
    expect(scope.pendingMocks()).toEqual([]);
    // `contexts` is deprecated (it binds no app) though the description still lists it as required;
    // GitHub takes `checks` alone, which is what binds each check to the Timebox app.
    expect(check(schema, sent)).toEqual(["$.required_status_checks.contexts: missing (required)"]);
    expect(sent).toMatchObject({
      required_status_checks: {
        checks: [
          { context: "timebox/validate", app_id: 4242 },
          { context: "timebox/approval", app_id: 4242 },
        ],
      },
      enforce_admins: true,
      allow_force_pushes: false,
    });
    expect(r.stdout).not.toContain("ghp_secret");
  });

  test("without the app's id nothing is sent; a refusal by GitHub is reported without the token", async () => {
    const root = tempDir();
    const noId = await cli(["init", "--apply", "--repo", "acme/access"], root, env);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain("--app-id");
    const scope = nock("https://api.github.com")
      .put("/repos/acme/access/branches/main/protection")
      .reply(403, { message: "Resource not accessible by integration" });
    const refused = await cli(["init", "--apply", "--repo", "acme/access", "--branch", "main", "--app-id", "7"], root, env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("GitHub answered 403 to PUT /repos/acme/access/branches/main/protection: Resource not accessible by integration");
    expect(refused.stderr + refused.stdout).not.toContain("ghp_secret");
    expect(scope.pendingMocks()).toEqual([]);
  });
});

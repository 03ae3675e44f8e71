/** `timebox validate`, in process: exit codes, text and JSON output, paths; it changes nothing. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { MAX_YAML_BYTES } from "../../src/yaml/parse.js";
import { VALID_GRANT, cli, fingerprint, grantWith, removeTempRepos, tempRepo } from "./repo.js";

afterAll(removeTempRepos);

const OVER = grantWith("duration: 2h", "duration: 9h");
const LINE = /^(?<path>[^:\s]+):(?<line>\d+):(?<column>\d+) (?<severity>error|warning) (?<message>.+) \[(?<rule>[a-z]+(?:\.[A-Za-z0-9-]+)+)\]$/;

describe("exit codes", () => {
  test("0 when the policy and every grant are valid", async () => {
    const root = tempRepo({ "grants/dev1-prod-db.yaml": VALID_GRANT, "grants/dev1-again.yml": VALID_GRANT });
    const r = await cli(["validate", "grants/dev1-prod-db.yaml", "grants/dev1-again.yml", "--author", "dev1"], root);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout.trim()).toBe("2 grant files checked: 2 valid, 0 invalid; policy valid");
  });

  test("0 with only warnings (a team rule not checked offline), and the warning is printed", async () => {
    const root = tempRepo({ "grants/dev3.yaml": grantWith("requester: dev1", "requester: dev3") });
    const r = await cli(["validate", "grants/dev3.yaml"], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^grants\/dev3\.yaml:2:12 warning .*not checked offline.* \[policy\.requester-not-allowed\.unchecked\]$/m);
  });

  test("1 for an invalid grant; the text line is path:line:column severity message [rule]", async () => {
    const root = tempRepo({ "grants/x.yaml": OVER });
    const r = await cli(["validate", "grants/x.yaml"], root);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^grants\/x\.yaml:5:11 error duration 9h exceeds max_duration 8h for prod-db\/readonly\b.* \[policy\.max-duration\]$/);
    expect(lines[0]).toMatch(LINE);
    expect(lines.at(-1)).toBe("1 grant file checked: 0 valid, 1 invalid; policy valid");
  });

  test("1 when one of several grants is invalid", async () => {
    const root = tempRepo({ "grants/ok.yaml": VALID_GRANT, "grants/bad.yaml": grantWith("reason:", "reasn:") });
    const r = await cli(["validate", "grants/ok.yaml", "grants/bad.yaml"], root);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^grants\/bad\.yaml:\d+:1 error unknown key `reasn`; did you mean `reason`\?.* \[schema\.additionalProperties\]$/m);
    expect(r.stdout).not.toMatch(/^grants\/ok\.yaml/m);
  });

  test("1 for an invalid policy; its grants cannot pass", async () => {
    const root = tempRepo({ "grants/x.yaml": VALID_GRANT }, "version: 2\nowners: [sec1]\nresources: {}\n");
    const r = await cli(["validate", "grants/x.yaml"], root);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^\.github\/timebox\.yml:1:10 error .* \[schema\.const\]$/m);
    expect(r.stdout).toMatch(/^grants\/x\.yaml:1:1 error .* \[grant\.no-policy\]$/m);
    expect(r.stdout).toMatch(/policy invalid\n$/);
  });

  test("1 when the requester is not --author", async () => {
    const root = tempRepo({ "grants/x.yaml": VALID_GRANT });
    const r = await cli(["validate", "--author", "dev2", "grants/x.yaml"], root);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\[policy\.requester-not-author\]/);
  });

  test("1 for hostile files, without crashing", async () => {
    const root = tempRepo({
      "grants/bomb.yaml": `a: &a [x, x]\nb: [*a, *a]\n`,
      "grants/latin1.yaml": new Uint8Array([0x61, 0x3a, 0x20, 0xe9, 0x0a]),
      "grants/proto.yaml": `${VALID_GRANT}__proto__: { polluted: true }\n`,
      "grants/deep.yaml": `a: ${"[".repeat(10_000)}`,
      "grants/empty.yaml": "",
    });
    const files = ["bomb", "latin1", "proto", "deep", "empty"].map((f) => `grants/${f}.yaml`);
    const r = await cli(["validate", "--format", "json", ...files], root);
    expect(r.code).toBe(1);
    const body = JSON.parse(r.stdout);
    expect(body.files.map((f: { valid: boolean }) => f.valid)).toEqual([false, false, false, false, false]);
    expect(body.files.map((f: { diagnostics: Array<{ rule: string }> }) => f.diagnostics[0].rule)).toEqual([
      "yaml.anchor",
      "yaml.encoding",
      "yaml.forbidden-key",
      "yaml.too-deep",
      "yaml.empty",
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("2 for an unreadable grant file (missing, or a directory)", async () => {
    const root = tempRepo({ "grants/x.yaml": VALID_GRANT });
    mkdirSync(join(root, "grants/dir.yaml"));
    for (const file of ["grants/missing.yaml", "grants/dir.yaml"]) {
      const r = await cli(["validate", "grants/x.yaml", file], root);
      expect(r.code).toBe(2);
      expect(r.stdout).toMatch(new RegExp(`^${file.replace(".", "\\.")}:1:1 error .*cannot be read.* \\[file\\.unreadable\\]$`, "m"));
    }
  });

  test("2 for an unreadable file even when another file is invalid", async () => {
    const root = tempRepo({ "grants/x.yaml": OVER });
    expect((await cli(["validate", "grants/x.yaml", "grants/nope.yaml"], root)).code).toBe(2);
  });

  test("2 for a missing policy", async () => {
    const root = tempRepo({ "grants/x.yaml": VALID_GRANT }, null);
    const r = await cli(["validate", "grants/x.yaml"], root);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^\.github\/timebox\.yml:1:1 error policy file cannot be read.* \[file\.unreadable\]$/m);
  });

  test("2 for a missing --policy path", async () => {
    const root = tempRepo({ "grants/x.yaml": VALID_GRANT });
    const r = await cli(["validate", "--policy", "nope.yml", "grants/x.yaml"], root);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^nope\.yml:1:1 error .*\[file\.unreadable\]$/m);
  });

  test.each([
    ["an unknown option", ["validate", "--bogus", "grants/x.yaml"], /unknown option '--bogus'/],
    ["no files", ["validate"], /missing required argument/],
    ["an unknown format", ["validate", "--format", "xml", "grants/x.yaml"], /xml/],
    ["an unknown command", ["frobnicate"], /unknown command/],
    ["--policy without a value", ["validate", "grants/x.yaml", "--policy"], /argument missing/],
  ])("2 for %s, with a message on stderr and nothing on stdout", async (_name, args, message) => {
    const root = tempRepo({ "grants/x.yaml": VALID_GRANT });
    const r = await cli(args, root);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe("");
  });

  test("--help exits 0 and describes validate", async () => {
    const r = await cli(["validate", "--help"], tempRepo());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--policy <path>/);
    expect(r.stdout).toMatch(/--format <format>/);
  });
});

describe("--format json", () => {
  const parse = (stdout: string) => {
    expect(stdout.trim().startsWith("{")).toBe(true);
    return JSON.parse(stdout); // exactly one JSON value, nothing else
  };

  test("prints exactly one object of the documented shape", async () => {
    const root = tempRepo({ "grants/ok.yaml": VALID_GRANT, "grants/x.yaml": OVER });
    const r = await cli(["validate", "--format", "json", "grants/ok.yaml", "grants/x.yaml"], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    const body = parse(r.stdout);
    expect(Object.keys(body).sort()).toEqual(["files", "policy", "valid"]);
    expect(body.valid).toBe(false);
    expect(Object.keys(body.policy).sort()).toEqual(["diagnostics", "path", "valid"]);
    expect(body.policy).toEqual({ path: ".github/timebox.yml", valid: true, diagnostics: [] });
    expect(body.files).toHaveLength(2);
    for (const f of body.files) expect(Object.keys(f).sort()).toEqual(["diagnostics", "path", "valid"]);
    expect(body.files[0]).toEqual({ path: "grants/ok.yaml", valid: true, diagnostics: [] });
    expect(body.files[1].path).toBe("grants/x.yaml");
    expect(body.files[1].valid).toBe(false);
    const [d] = body.files[1].diagnostics;
    expect(Object.keys(d)).toEqual(expect.arrayContaining(["line", "column", "message", "rule"]));
    expect(d).toMatchObject({ line: 5, column: 11, rule: "policy.max-duration", message: expect.stringMatching(/^duration 9h exceeds max_duration 8h/) });
    expect(d).not.toHaveProperty("path");
  });

  test("valid run: valid true, exit 0", async () => {
    const root = tempRepo({ "grants/ok.yaml": VALID_GRANT });
    const r = await cli(["validate", "grants/ok.yaml", "--format", "json"], root);
    expect(r.code).toBe(0);
    expect(parse(r.stdout)).toEqual({
      valid: true,
      policy: { path: ".github/timebox.yml", valid: true, diagnostics: [] },
      files: [{ path: "grants/ok.yaml", valid: true, diagnostics: [] }],
    });
  });

  test("an invalid policy is reported under policy, with located diagnostics", async () => {
    const root = tempRepo(
      { "grants/x.yaml": VALID_GRANT },
      "version: 1\nowners: [sec1]\nresources:\n  db:\n    provider: oracle\n    roles:\n      r: { target: t, max_duration: 1h, approvers: [a] }\n",
    );
    const body = parse((await cli(["validate", "--format", "json", "grants/x.yaml"], root)).stdout);
    expect(body.valid).toBe(false);
    expect(body.policy.valid).toBe(false);
    expect(body.policy.diagnostics).toEqual([
      expect.objectContaining({ line: 5, column: 15, rule: "policy.provider", message: expect.stringContaining("unknown provider `oracle`") }),
    ]);
    expect(body.files[0].diagnostics.map((x: { rule: string }) => x.rule)).toEqual(["grant.no-policy"]);
  });

  test("unreadable files are still one JSON object (exit 2)", async () => {
    const root = tempRepo({}, null);
    const r = await cli(["validate", "--format", "json", "grants/nope.yaml"], root);
    expect(r.code).toBe(2);
    const body = parse(r.stdout);
    expect(body.policy.diagnostics[0].rule).toBe("file.unreadable");
    expect(body.files[0]).toMatchObject({
      path: "grants/nope.yaml",
      valid: false,
      diagnostics: [expect.objectContaining({ rule: "file.unreadable", line: 1, column: 1 })],
    });
  });
});

describe("paths", () => {
  test("grant paths are relative to the repository root (the folder holding .github/), from any cwd", async () => {
    const root = tempRepo({ "grants/x.yaml": OVER });
    const r = await cli(["validate", "x.yaml", "--policy", "../.github/timebox.yml"], join(root, "grants"));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^grants\/x\.yaml:5:11 /m);
  });

  test("a grant outside the policy's grants_path is refused", async () => {
    const root = tempRepo({ "other/x.yaml": VALID_GRANT });
    const r = await cli(["validate", "other/x.yaml"], root);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^other\/x\.yaml:1:1 error .* \[grant\.path\]$/m);
  });

  test("a policy elsewhere: paths relative to cwd", async () => {
    const root = tempRepo({ "policies/timebox.yml": (await import("../grants/helpers.js")).POLICY_TEXT, "grants/x.yaml": VALID_GRANT }, null);
    const r = await cli(["validate", "--policy", "policies/timebox.yml", "grants/x.yaml"], root);
    expect(r.code).toBe(0);
  });
});

test("validate changes nothing on disk", async () => {
  const root = tempRepo({
    "grants/ok.yaml": VALID_GRANT,
    "grants/x.yaml": OVER,
    "grants/big.yaml": `# ${"x".repeat(MAX_YAML_BYTES)}\n`,
  });
  const before = fingerprint(root);
  await cli(["validate", "grants/ok.yaml", "grants/x.yaml", "grants/big.yaml"], root);
  await cli(["validate", "--format", "json", "grants/ok.yaml", "grants/x.yaml", "grants/big.yaml"], root);
  expect(fingerprint(root)).toBe(before);
});

test("offline, a grant that cannot be checked names the policy file given, not the base branch", async () => {
  const root = tempRepo({ "grants/x.yaml": VALID_GRANT });
  const r = await cli(["validate", "--policy", "nope.yml", "grants/x.yaml"], root);
  const line = r.stdout.split("\n").find((l) => l.includes("[grant.no-policy]"))!;
  // Today: "cannot be checked: the policy (.github/timebox.yml) is missing or invalid on the base branch".
  expect(line).toContain("nope.yml");
  expect(line).not.toContain("base branch");
});

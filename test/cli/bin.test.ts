/** The built binary (`lib/cli/main.js`): it runs, and its exit codes reach the shell. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { VALID_GRANT, grantWith, removeTempRepos, tempRepo } from "./repo.js";

const BIN = fileURLToPath(new URL("../../lib/cli/main.js", import.meta.url));

afterAll(removeTempRepos);

// `npm test` builds lib/ first (pretest): a missing binary is a failure, not a skip.
test("node lib/cli/main.js validate: exit 0, 1 and 2 propagate; JSON goes to stdout", () => {
  const root = tempRepo({ "grants/ok.yaml": VALID_GRANT, "grants/x.yaml": grantWith("duration: 2h", "duration: 9h") });
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: "utf8", timeout: 30_000, env: { ...process.env, NODE_OPTIONS: "" } });

  const ok = run("validate", "grants/ok.yaml");
  expect({ status: ok.status, stderr: ok.stderr }).toEqual({ status: 0, stderr: "" });
  expect(ok.stdout).toMatch(/1 grant file checked: 1 valid, 0 invalid; policy valid/);

  const bad = run("validate", "--format", "json", "grants/ok.yaml", "grants/x.yaml");
  expect(bad.status).toBe(1);
  const body = JSON.parse(bad.stdout);
  expect(body.valid).toBe(false);
  expect(body.files[1].diagnostics[0]).toMatchObject({ line: 5, column: 11, rule: "policy.max-duration" });

  const usage = run("validate", "--bogus", "grants/ok.yaml");
  expect(usage.status).toBe(2);
  expect(usage.stderr).toMatch(/unknown option/);

  expect(run("validate", "grants/missing.yaml").status).toBe(2);
});

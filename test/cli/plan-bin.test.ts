/** The built binary runs `plan`: JSON on stdout, exit codes reach the shell. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { GRANT, T, accessRepo, mergePr, removeGitRepos, writeUnstaged } from "../plan/repo.js";

const BIN = fileURLToPath(new URL("../../lib/cli/main.js", import.meta.url));
afterAll(removeGitRepos);

// `npm test` builds lib/ first (pretest): a missing binary is a failure, not a skip.
test("node lib/cli/main.js plan: JSON to stdout, exit 0 then 1 once an invalid request is in the working tree", () => {
  const repo = accessRepo();
  mergePr(repo, 1, { "grants/dev1-prod-db.yaml": GRANT.dev1 }, T("09:00:00"));
  const run = () =>
    spawnSync(process.execPath, [BIN, "plan", "--at", T("10:00:00"), "--format", "json"], {
      cwd: repo.root,
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, NODE_OPTIONS: "" },
    });

  const ok = run();
  expect({ status: ok.status, stderr: ok.stderr }).toEqual({ status: 0, stderr: "" });
  expect(JSON.parse(ok.stdout).active).toEqual([expect.objectContaining({ path: "grants/dev1-prod-db.yaml", expires_at: T("11:00:00"), seconds_left: 3600 })]);

  writeUnstaged(repo, "grants/dev2.yaml", GRANT.dev2.replace("duration: 1h", "duration: forever"));
  const bad = run();
  expect(bad.status).toBe(1);
  expect(JSON.parse(bad.stdout).invalid).toEqual([expect.objectContaining({ path: "grants/dev2.yaml", where: "checkout" })]);
});

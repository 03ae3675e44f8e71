/**
 * What the lifecycle writes is what the audit reads: stories played by the real app on the
 * emulated GitHub (extension, outcome, break-glass closed unmerged), the repository cloned with
 * the real `git`, and `timebox audit` run over the clone.
 */
import { expect, jest, test } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cloneRepository, exportBareRepository } from "../harness/github/git-export.js";
import { grantYaml, withReadonlyBreakglass } from "../support/access-repo.js";
import { deliverOk, mergeApprovedGrant, postgresAccessPerTest, reconcile, mergePolicyChange } from "../support/lifecycle-flow.js";
import { cli } from "../cli/repo.js";
import { TRUST } from "./git-repo.js";

jest.setTimeout(90_000);

const env = postgresAccessPerTest();

type Row = Record<string, unknown>;

/** A plain clone of the access repository as it is now on the emulated GitHub, audited as JSON. */
async function audit(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "timebox-audit-e2e-"));
  try {
    const repo = env().gh.repo(env().fullName).repo;
    exportBareRepository(repo.git, repo.refs, repo.defaultBranch, join(dir, "bare.git"));
    cloneRepository(join(dir, "bare.git"), join(dir, "clone"));
    const run = await cli(["audit", ...TRUST(), "--repo", join(dir, "clone"), "--format", "json"], "/");
    expect(run.code).toBe(0);
    return (JSON.parse(run.stdout) as { grants: Row[] }).grants;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("an extended grant, its outcome and a break-glass PR closed unmerged, read back from a clone", async () => {
  const { gh, clock } = env();
  const path = "grants/dev1-prod-db.yaml";
  const first = await mergeApprovedGrant(env(), { path, content: grantYaml({ duration: "2h" }) });
  clock.set("2026-03-02T10:30:00Z");
  const ext = await mergeApprovedGrant(env(), { path, content: grantYaml({ duration: "3h" }) });
  clock.set("2026-03-02T13:31:00Z");
  await reconcile(env());
  clock.set("2026-03-02T14:00:00Z");
  await deliverOk(env(), gh.comment(ext.number, { author: "dev1", body: "/timebox outcome Found the missing index; fixed in CHG-42" }));

  // Break-glass on readonly for dev1, used and abandoned.
  const policy = withReadonlyBreakglass(gh.fileAt("main", ".github/timebox.yml")!);
  await mergePolicyChange(env(), policy);
  clock.set("2026-03-02T15:00:00Z");
  const emergency = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-emergency.yaml": grantYaml({ duration: "30m", emergency: true }) } });
  await deliverOk(env(), emergency);
  clock.set("2026-03-02T15:05:00Z");
  await deliverOk(env(), gh.close(emergency.number!, { by: "dev1" }));

  const rows = await audit();
  const byPr = (n: number) => rows.find((r) => r.pull_request === n)!;
  expect(byPr(first.number)).toMatchObject({ grant: path, status: "extended", granted_at: "2026-03-02T09:01:00Z", approved_by: ["alice"] });
  expect(byPr(ext.number)).toMatchObject({
    grant: path,
    status: "revoked",
    extension_of: first.number,
    extensions: 1,
    granted_at: "2026-03-02T10:31:00Z",
    expires_at: "2026-03-02T13:31:00Z",
    revoked_at: "2026-03-02T13:31:00Z",
    revoke_reason: "expired",
    outcome: "Found the missing index; fixed in CHG-42",
    outcome_by: "dev1",
  });
  expect(byPr(emergency.number!)).toMatchObject({
    grant: "grants/dev1-emergency.yaml",
    emergency: true,
    origin: "closed-unmerged",
    approved_by: [],
    granted_at: "2026-03-02T15:00:00Z",
    expires_at: "2026-03-02T15:30:00Z",
    revoked_at: "2026-03-02T15:05:00Z",
    revoke_reason: "pr-closed",
    review_due: "2026-03-02T17:00:00Z",
    reviewed_by: [],
  });
});

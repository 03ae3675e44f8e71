import { expect, jest, test } from "@jest/globals";
import { grantYaml } from "../support/access-repo.js";
import { commentsWith, deliverOk, mergeApprovedGrant, postgresAccessPerTest, reconcile, timeboxCommits, mergePolicyChange } from "../support/lifecycle-flow.js";
import { startPostgresAccess } from "../support/postgres-access.js";
import { POLICY } from "../support/access-repo.js";

jest.setTimeout(60_000);

const env = postgresAccessPerTest();
const PATH = "grants/dev1-prod-db.yaml";

/** dev1's 2h grant, merged at 09:01 (PR #1). */
async function activeGrant() {
  const first = await mergeApprovedGrant(env(), { path: PATH, content: grantYaml({ duration: "2h" }) });
  expect(await env().hasAccess()).toBe(true);
  return first;
}

test("an approved change of duration extends the grant from its own merge, with a comment linking the original PR", async () => {
  const { gh, clock } = env();
  const first = await activeGrant();
  clock.set("2026-03-02T10:30:00Z");
  const ext = await mergeApprovedGrant(env(), { path: PATH, content: grantYaml({ duration: "4h", reason: "INC-1234 still open: need more time" }) });
  const extended = commentsWith(env(), ext.number, "Access extended");
  expect(extended).toHaveLength(1);
  expect(extended[0].body).toContain(`extension 1 of the grant first requested in #${first.number}`);
  expect(extended[0].body).toContain("**Expires at:** 2026-03-02T14:31:00Z");

  // Past the original expiry (11:01): still active, nothing removed.
  clock.set("2026-03-02T11:30:00Z");
  await reconcile(env());
  expect(await env().hasAccess()).toBe(true);
  expect(gh.fileAt("main", PATH)).toBeDefined();

  // Past the extension's expiry (10:31 + 4h): revoked, with the extension in the trailers.
  clock.set("2026-03-02T14:31:00Z");
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
  expect(gh.fileAt("main", PATH)).toBeUndefined();
  const [removal] = timeboxCommits(env(), PATH).map((sha) => gh.commit(sha)!.message);
  expect(removal).toContain(`Pull-Request: #${ext.number}`);
  expect(removal).toContain(`Extension-Of: #${first.number}`);
  expect(removal).toContain("Extensions: 1");
  expect(removal).toContain(`Earlier-Version: #${first.number} approved-by alice`);
  expect(removal).toContain("Granted-at: 2026-03-02T10:31:00Z");
  expect(removal).toContain("Resource: prod-db");
  expect(removal).toContain("Role: readonly");
});

test("an extension merged without approval never extends: the grant ends at its original expiry", async () => {
  const { gh, clock, probot } = env();
  await activeGrant();
  clock.set("2026-03-02T10:00:00Z");
  const pr = gh.openPullRequest({ author: "dev1", files: { [PATH]: grantYaml({ duration: "8h" }) } });
  await deliverOk(env(), pr);
  expect(gh.checkRuns(pr.sha!, "timebox/validate").at(-1)?.conclusion).toBe("success");
  expect(gh.checkRuns(pr.sha!, "timebox/approval").at(-1)?.conclusion).not.toBe("success");
  await gh.deliver(probot, gh.merge(pr.number!, { by: "admin1" }));
  expect(gh.issues({ labels: ["timebox:unapproved"] })).toHaveLength(1);
  expect(await env().hasAccess()).toBe(true);

  clock.set("2026-03-02T11:01:00Z");
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
  expect(gh.fileAt("main", PATH)).toBeUndefined();
  const [removal] = timeboxCommits(env(), PATH).map((sha) => gh.commit(sha)!.message);
  expect(removal).toContain("Revoke-Reason: expired");
  expect(removal).toContain("Expires-at: 2026-03-02T11:01:00Z");
});

test("an extension may not change who gets what: a located error on the changed key", async () => {
  const { gh } = env();
  await activeGrant();
  const pr = gh.openPullRequest({ author: "dev1", files: { [PATH]: grantYaml({ role: "admin", duration: "1h" }) } });
  await deliverOk(env(), pr);
  const check = gh.checkRuns(pr.sha!, "timebox/validate").at(-1)!;
  expect(check.conclusion).toBe("failure");
  const annotation = check.output.annotations.find((a: { message: string }) => a.message.includes("an extension may change only duration"));
  expect(annotation).toMatchObject({ path: PATH, start_line: 3 });
});

test("max_extensions: the second extension is refused on the PR when the role allows one", async () => {
  const e = await startPostgresAccess({ pg: env().pg });
  try {
    // The shared per-test env has the fixture policy; this one caps readonly at one extension.
    expect(POLICY).toContain("approvals: 1");
    const capped = e.gh.fileAt("main", ".github/timebox.yml")!.replace("        approvals: 1\n", "        approvals: 1\n        max_extensions: 1\n");
    await mergePolicyChange(e, capped);
    await mergeApprovedGrant(e, { path: PATH, content: grantYaml({ duration: "2h" }) });
    await mergeApprovedGrant(e, { path: PATH, content: grantYaml({ duration: "3h" }) });
    expect(await e.hasAccess()).toBe(true);
    const pr = e.gh.openPullRequest({ author: "dev1", files: { [PATH]: grantYaml({ duration: "4h" }) } });
    await deliverOk(e, pr);
    const check = e.gh.checkRuns(pr.sha!, "timebox/validate").at(-1)!;
    expect(check.conclusion).toBe("failure");
    expect(check.output.annotations.map((a: { message: string }) => a.message).join("\n")).toContain(
      "already extended 1 time; prod-db/readonly allows at most 1",
    );
  } finally {
    await e.stop();
  }
});

test("a change to unapproved content is a new request, not an extension: who gets what may change", async () => {
  const { gh } = env();
  // Pushed straight to main: never applied, reported.
  await deliverOk(env(), gh.pushCommit({ author: "dev1", files: { [PATH]: grantYaml({ requester: "dev2" }) }, message: "sneaky" }));
  const pr = gh.openPullRequest({ author: "dev1", files: { [PATH]: grantYaml({ duration: "1h" }) } });
  await deliverOk(env(), pr);
  const check = gh.checkRuns(pr.sha!, "timebox/validate").at(-1)!;
  expect(check.output.annotations.map((a: { message: string }) => a.message).join("\n")).not.toContain("an extension may change only");
  expect(check.conclusion).toBe("success");
});

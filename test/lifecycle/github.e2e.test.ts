/**
 * The end-to-end story for the `github` provider, on the emulated GitHub: a PR adds a grant →
 * validation and approval checks → approve → merge → the person really is an active member of
 * the team / has push on the repository → the clock passes expiry → reconcile → removed, a
 * Timebox commit with trailers removes the file, the PR gets its closing comment. Access the
 * person had before Timebox stays. The provider acts with its own token, never the app's.
 */
import { jest } from "@jest/globals";
import type { AccessRepo } from "../support/access-repo.js";
import { policyWithGithubResource, startGithubAccess } from "../support/github-access.js";
import { markedComments, mergeApprovedGrant, removalCommits } from "../support/lifecycle-stage.js";
import { expectAppliedOnce, expectNextReconcileCommitsNothing } from "../support/provider-story.js";

jest.setTimeout(60_000);

const HOUR = 3600_000;

/** The fixture policy plus a GitHub resource: a team and a repository permission. */
const POLICY_WITH_GITHUB = policyWithGithubResource(
  "prod-admins",
  `      admins:
        target: "@acme/prod-admins"
        max_duration: 8h
        approvers: ["@acme/sre", "sre1"]
        approvals: 1
      payments-push:
        target: "acme/payments"
        settings: { permission: push }
        max_duration: 8h
        approvers: ["@acme/sre", "sre1"]
        approvals: 1
`,
);

let env: AccessRepo;
beforeEach(async () => {
  env = await startGithubAccess(POLICY_WITH_GITHUB, (gh) => {
    gh.createTeam({ org: "acme", slug: "prod-admins", members: ["dev3"] });
    // Not in Timebox's installation: only the provider's own token reaches it.
    gh.createRepo({ owner: "acme", name: "payments", installationId: null });
  });
});
afterEach(async () => {
  expect(env.gh.unknownRequests()).toEqual([]);
  await env.stop();
});

const isActiveMember = (login: string) => env.gh.teamMembers("acme", "prod-admins").some((m) => m.login === login && m.state === "active");

test("team membership and repository permission appear on merge and disappear at expiry; prior membership stays", async () => {
  const { gh, probot, clock } = env;

  // dev2 asks for the team; the checks pass before anything is granted.
  const pr = gh.openPullRequest({ author: "dev2", files: { "grants/dev2-prod-admins.yaml": grantFor("dev2", "admins") } });
  await gh.deliver(probot, pr);
  expect(gh.checkRuns(pr.sha!, "timebox/validate").at(-1)!.conclusion).toBe("success");
  await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  expect(gh.checkRuns(pr.sha!, "timebox/approval").at(-1)!.conclusion).toBe("success");
  expect(isActiveMember("dev2")).toBe(false);
  clock.advance(60_000);
  const merge = gh.merge(pr.number!, { by: "alice" });
  expect((await gh.deliver(probot, merge)).map((d) => d.status)).toEqual(merge.map(() => 200));
  expect(isActiveMember("dev2")).toBe(true);
  const applied = markedComments(gh, pr.number!, "applied");
  expect(applied).toHaveLength(1);
  expect(applied[0].body).toContain("Expires at:** 2026-03-02T11:01:00Z (in 2h)");
  expect(applied[0].body).toContain("team @acme/prod-admins");
  expect(gh.checkRuns(merge.sha!, "timebox/apply").at(-1)!.conclusion).toBe("success");

  // dev1 asks for push on acme/payments; dev3, already on the team, asks for the team too.
  expect(gh.collaboratorPermission("dev1", "acme/payments")).toBe("none");
  const push = await mergeApprovedGrant(gh, probot, {
    requester: "dev1",
    path: "grants/dev1-payments.yaml",
    fields: { resource: "prod-admins", role: "payments-push" },
    advanceMs: 0,
  });
  expect(gh.collaboratorPermission("dev1", "acme/payments")).toBe("write");
  const already = await mergeApprovedGrant(gh, probot, {
    requester: "dev3",
    path: "grants/dev3-prod-admins.yaml",
    fields: { resource: "prod-admins", role: "admins" },
    advanceMs: 0,
  });
  expect(isActiveMember("dev3")).toBe(true);
  expectAppliedOnce(gh, [push, already]);
  expect(markedComments(gh, already.number, "applied")[0].body).toContain("already before this grant; kept after it ends");

  // Expiry.
  clock.advance(2 * HOUR);
  await env.runtime.reconcileAll();
  expect(isActiveMember("dev2")).toBe(false);
  expect(gh.teamMembers("acme", "prod-admins").map((m) => m.login)).toEqual(["dev3"]);
  expect(gh.collaboratorPermission("dev1", "acme/payments")).toBe("none");

  for (const [p, path, who] of [
    [pr.number!, "grants/dev2-prod-admins.yaml", "dev2"],
    [push.number, "grants/dev1-payments.yaml", "dev1"],
    [already.number, "grants/dev3-prod-admins.yaml", "dev3"],
  ] as const) {
    expect(gh.fileAt("main", path)).toBeUndefined();
    const commits = removalCommits(gh, path);
    expect(commits).toHaveLength(1);
    expect(commits[0].message).toMatch(new RegExp(`^Revoke expired grant ${path.replace(/[./]/g, "\\$&")}`));
    for (const trailer of [
      `Timebox-Grant: ${path}`,
      `Requested-by: ${who}`,
      "Approved-by: alice",
      `Pull-Request: #${p}`,
      "Expires-at: ",
      "Revoked-at: ",
      "Revoke-Reason: expired",
    ]) {
      expect(commits[0].message).toContain(trailer);
    }
    expect(markedComments(gh, p, "revoked")).toHaveLength(1);
  }
  const dev2Removal = removalCommits(gh, "grants/dev2-prod-admins.yaml")[0].message;
  expect(dev2Removal).toContain("Granted-at: 2026-03-02T09:01:00Z");
  expect(dev2Removal).toContain("Expires-at: 2026-03-02T11:01:00Z");
  expect(dev2Removal).toContain("Revoked-at: 2026-03-02T11:01:00Z");

  // Nothing more happens on later ticks; dev3 keeps the membership they had before Timebox.
  await expectNextReconcileCommitsNothing(env);
  expect(isActiveMember("dev3")).toBe(true);

  // The provider acted with its own token: every membership and permission write, and every call
  // on acme/payments, came with it; the app's installation token changed no access.
  const accessWrites = gh.requestsMatching(
    (r) =>
      ["PUT", "DELETE"].includes(r.method) &&
      /^\/(orgs\/\{org\}\/teams\/\{team_slug\}\/memberships|repos\/\{owner\}\/\{repo\}\/collaborators)\/\{username\}$/.test(r.route ?? ""),
  );
  expect(accessWrites.length).toBeGreaterThanOrEqual(4); // add dev2, add dev1, remove dev2, remove dev1
  expect(accessWrites.every((r) => r.tokenKind === "provider")).toBe(true);
  expect(gh.requestsMatching((r) => r.path.startsWith("/repos/acme/payments")).every((r) => r.tokenKind === "provider")).toBe(true);
  expect(gh.requestsMatching((r) => r.tokenKind === "provider").every((r) => !r.path.startsWith(`/repos/${env.fullName}/`))).toBe(true);
  expect(gh.requestsMatching({ tokenKind: "provider", status: 401 })).toEqual([]);
});

function grantFor(requester: string, role: string): string {
  return [
    `requester: ${requester}`,
    "resource: prod-admins",
    `role: ${role}`,
    "duration: 2h",
    "reason: Rotate the payments deploy key",
    "ticket: INC-1234",
    "",
  ].join("\n");
}

/**
 * Break-glass and extension with a provider that has no per-grant handle (GitHub team
 * membership): the prior access recorded before the first grant must carry over, or an extension
 * would take the person's own membership for Timebox's, and a revoke would leave access behind.
 */
import { jest } from "@jest/globals";
import type { AccessRepo } from "../support/access-repo.js";
import { policyWithGithubResource, startGithubAccess } from "../support/github-access.js";
import { removalCommits } from "../support/lifecycle-stage.js";

jest.setTimeout(60_000);

const POLICY_WITH_TEAM = policyWithGithubResource(
  "prod-admins",
  `      admins:
        target: "@acme/prod-admins"
        max_duration: 8h
        approvers: ["@acme/sre", "sre1"]
        approvals: 1
        breakglass: { max_duration: 1h, review_within: 4h, requesters: ["dev2", "dev3"] }
`,
);

let env: AccessRepo;
beforeEach(async () => {
  env = await startGithubAccess(POLICY_WITH_TEAM, (gh) => gh.createTeam({ org: "acme", slug: "prod-admins", members: ["dev3"] }));
});
afterEach(async () => {
  expect(env.gh.unknownRequests()).toEqual([]);
  await env.stop();
});

const isMember = (login: string) => env.gh.teamMembers("acme", "prod-admins").some((m) => m.login === login && m.state === "active");
const grant = (requester: string, fields: Record<string, string> = {}) =>
  Object.entries({ requester, resource: "prod-admins", role: "admins", duration: "2h", reason: "Rotate the deploy key", ticket: "INC-1234", ...fields })
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n") + "\n";
const reconcile = () => env.runtime.reconcileRepo({ installationId: 1, owner: "acme", repo: "access" });

test("an extension keeps the membership to the new expiry, then removes it: the first grant's prior access carries over", async () => {
  const { gh, probot, clock } = env;
  const path = "grants/dev2-admins.yaml";
  const first = gh.openPullRequest({ author: "dev2", files: { [path]: grant("dev2") } });
  await gh.deliver(probot, first);
  await gh.deliver(probot, gh.submitReview(first.number!, { reviewer: "alice", state: "APPROVED" }));
  clock.advance(60_000);
  await gh.deliver(probot, gh.merge(first.number!, { by: "alice" })); // 09:01, until 11:01
  expect(isMember("dev2")).toBe(true);

  clock.set("2026-03-02T10:30:00Z");
  const ext = gh.openPullRequest({ author: "dev2", files: { [path]: grant("dev2", { duration: "3h" }) } });
  await gh.deliver(probot, ext);
  await gh.deliver(probot, gh.submitReview(ext.number!, { reviewer: "alice", state: "APPROVED" }));
  clock.set("2026-03-02T10:31:00Z");
  await gh.deliver(probot, gh.merge(ext.number!, { by: "alice" })); // until 13:31
  clock.set("2026-03-02T12:00:00Z");
  await reconcile();
  expect(isMember("dev2")).toBe(true);
  clock.set("2026-03-02T13:31:00Z");
  await reconcile();
  expect(isMember("dev2")).toBe(false);
  expect(removalCommits(gh, path)[0].message).toContain(`Extension-Of: #${first.number}`);
});

test("break-glass by someone already on the team: granted before review, and revoking it leaves their own membership", async () => {
  const { gh, probot, clock } = env;
  const pr = gh.openPullRequest({ author: "dev3", files: { "grants/dev3-admins.yaml": grant("dev3", { duration: "30m", emergency: "true" }) } });
  await gh.deliver(probot, pr);
  expect(gh.labels(pr.number!)).toContain("timebox:breakglass");
  clock.advance(10 * 60_000);
  await gh.deliver(probot, gh.close(pr.number!, { by: "dev3" }));
  expect(isMember("dev3")).toBe(true);
  expect(gh.repo().log("main")[0].message).toContain("Revoke-Reason: pr-closed");
});

test("break-glass by someone not on the team: a member at once, removed when it expires", async () => {
  const { gh, probot, clock } = env;
  const pr = gh.openPullRequest({ author: "dev2", files: { "grants/dev2-admins.yaml": grant("dev2", { duration: "30m", emergency: "true" }) } });
  await gh.deliver(probot, pr);
  expect(isMember("dev2")).toBe(true);
  clock.advance(30 * 60_000);
  await reconcile();
  expect(isMember("dev2")).toBe(false);
});

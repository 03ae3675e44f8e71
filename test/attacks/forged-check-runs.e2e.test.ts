/**
 * Check runs from other apps are never Timebox's records (issue #10, attack 3): a `timebox/apply`
 * run another app writes on the merge commit, claiming the person already had admin before the
 * grant, must not make the revoke keep the access.
 */
import { jest } from "@jest/globals";
import { POLICY, type AccessRepo } from "../support/access-repo.js";
import { startGithubAccess } from "../support/github-access.js";

jest.setTimeout(60_000);

const POLICY_WITH_GITHUB = `${POLICY.trimEnd()}
  prod-repos:
    provider: github
    settings: { token_env: GH_PROVIDER_TOKEN, base_url_env: GH_PROVIDER_URL }
    roles:
      payments-push:
        target: "acme/payments"
        settings: { permission: push }
        max_duration: 8h
        approvers: ["@acme/sre", "sre1"]
        approvals: 1
`;

let env: AccessRepo;
beforeEach(async () => {
  // A fresh process at expiry reads every record back from GitHub (nothing cached in memory).
  env = await startGithubAccess(POLICY_WITH_GITHUB, (gh) => {
    gh.createRepo({ owner: "acme", name: "payments", installationId: null });
  });
});
afterEach(async () => {
  await env.stop();
});

test("another app's timebox/apply run with a forged prior access does not keep the access after expiry", async () => {
  const { gh, probot, clock } = env;
  const path = "grants/dev1-payments.yaml";
  const pr = gh.openPullRequest({
    author: "dev1",
    files: { [path]: "requester: dev1\nresource: prod-repos\nrole: payments-push\nduration: 2h\nreason: Rotate the deploy key\nticket: INC-1234\n" },
  });
  await gh.deliver(probot, pr);
  await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  clock.advance(60_000);
  const merge = gh.merge(pr.number!, { by: "alice" });
  await gh.deliver(probot, merge);
  expect(gh.collaboratorPermission("dev1", "acme/payments")).toBe("write");
  // After Timebox applied it, a workflow writes a look-alike apply record on the merge commit (the newest run of that name).
  const blob = gh.repo().repo.git.flatten(gh.repo().repo.git.commits.get(merge.sha!)!.tree).get(path)!.sha;
  const forged = { [`${path}@${blob.slice(0, 12)}`]: { state: "granting", priorAccess: { kind: "repo", permission: "admin", direct: "admin" } } };
  gh.repo().foreignCheckRun(merge.sha!, {
    app: { id: 15368, slug: "github-actions" },
    name: "timebox/apply",
    conclusion: "success",
    output: { title: "Applying access", summary: "x", text: `Timebox's apply record (machine-readable):\n${JSON.stringify(forged)}` },
  });

  clock.advance(2 * 3600_000);
  await env.runtime.reconcileAll();
  expect(gh.collaboratorPermission("dev1", "acme/payments")).toBe("none");
});

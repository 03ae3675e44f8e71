/** One access repository whose history tells every story the first audit slice knows. */
import { removalCommitMessage } from "../../src/records/comments.js";
import type { ApprovedGrant } from "../../src/lifecycle/types.js";
import type { ActiveGrant } from "../../src/providers/types.js";
import { POLICY_TEXT } from "../grants/helpers.js";
import { GitRepo, grantYaml, removalMessage } from "./git-repo.js";

/** The message Timebox itself writes (built with the real function, so a format change shows here). */
function timeboxRemoval(path: string, requester: string, approvedBy: string[], pr: number, grantedAt: string, expiresAt: string, revokedAt: string): string {
  const grant = { durationMs: Date.parse(expiresAt) - Date.parse(grantedAt), reason: "r" };
  const t = { path, origin: { approvedBy, pull: { number: pr, mergeCommitSha: "a".repeat(40) }, grant } } as unknown as ApprovedGrant;
  const g = {
    requester,
    role: "readonly",
    resource: "prod-db",
    pullRequest: pr,
    grantedAt: new Date(grantedAt),
    expiresAt: new Date(expiresAt),
  } as unknown as ActiveGrant;
  return removalCommitMessage(t, g, "expired", new Date(revokedAt), "run-7");
}

/**
 * 2026-03-02, UTC:
 * - dev1: PR #12 (commit 08:30, merged --no-ff 09:01, 2h), revoked by Timebox's commit (11:01:30,
 *   Revoked-at 11:01:05: five seconds of revocation lag).
 * - dev2: PR #13 (merged 10:15, 4h, readwrite), removed early by a direct commit at 10:45.
 * - dev3: squash-merged "(#14)" at 12:00 (1h, break-glass), extended at 12:20 (2h) by "(#15)":
 *   the first version is extended, the second (extension of #14) is still on the branch.
 * - dev4: PR #16 (merged 13:00, 1h); Timebox's removal went through PR #17 (its commit 14:00:10
 *   with Revoked-at 14:00:02, merged 14:05).
 * - noise: a README change, a symlink under grants/, a non-YAML file under grants/.
 */
export function scenario(): GitRepo {
  const repo = new GitRepo();
  repo.write({ ".github/timebox.yml": POLICY_TEXT, "README.md": "access\n" }).commit("Initial policy", "2026-03-02T08:00:00Z");

  repo.branch("dev1-access").write({
    "grants/dev1-prod-db.yaml": grantYaml({ requester: "dev1", duration: "2h", reason: "Investigate INC-1234 slow checkout queries", ticket: "INC-1234" }),
  });
  repo.commit("Request prod-db readonly for dev1", "2026-03-02T08:30:00Z");
  repo.checkout("main").merge("dev1-access", "Merge pull request #12 from dev1/dev1-access\n\nRequest access", "2026-03-02T09:01:00Z");

  repo.write({ "README.md": "access repository\n" }).commit("Docs", "2026-03-02T09:30:00Z");

  repo.branch("dev2-access").write({
    "grants/dev2-prod-db.yaml": grantYaml({
      requester: "dev2",
      role: "readwrite",
      duration: "4h",
      reason: 'Backfill, with a comma and "quotes"',
      ticket: "INC-2000",
    }),
  });
  repo.commit("Request readwrite", "2026-03-02T10:00:00Z");
  repo.checkout("main").merge("dev2-access", "Merge pull request #13 from dev2/dev2-access", "2026-03-02T10:15:00Z");
  repo.rm("grants/dev2-prod-db.yaml").commit("Done early, removing my access", "2026-03-02T10:45:00Z");

  repo
    .rm("grants/dev1-prod-db.yaml")
    .commitAsTimebox(
      timeboxRemoval("grants/dev1-prod-db.yaml", "dev1", ["alice", "bob"], 12, "2026-03-02T09:01:00Z", "2026-03-02T11:01:00Z", "2026-03-02T11:01:05Z"),
      "2026-03-02T11:01:30Z",
    );

  repo.write({
    "grants/dev3-prod-db.yaml": grantYaml({ requester: "dev3", duration: "1h", reason: "Outage: checkout down", ticket: "INC-3000", emergency: true }),
  });
  repo.commit("Break-glass for dev3 (#14)", "2026-03-02T12:00:00Z");
  repo.write({
    "grants/dev3-prod-db.yaml": grantYaml({ requester: "dev3", duration: "2h", reason: "Outage: checkout down", ticket: "INC-3000", emergency: true }),
  });
  repo.commit("Extend dev3 (#15)", "2026-03-02T12:20:00Z");

  repo.symlink("grants/link.yaml", "../README.md").write({ "grants/notes.txt": "not a grant\n" }).commit("Noise", "2026-03-02T12:30:00Z");

  repo.branch("dev4-access").write({ "grants/dev4-prod-db.yaml": grantYaml({ requester: "dev4", duration: "1h", reason: "Rotate keys", ticket: "INC-4000" }) });
  repo.commit("Request for dev4", "2026-03-02T12:50:00Z");
  repo.checkout("main").merge("dev4-access", "Merge pull request #16 from dev4/dev4-access", "2026-03-02T13:00:00Z");
  repo.branch("timebox/remove/grants/dev4-prod-db.yaml").rm("grants/dev4-prod-db.yaml");
  repo.commitAsTimebox(
    removalMessage({
      path: "grants/dev4-prod-db.yaml",
      requester: "dev4",
      approvedBy: "carol",
      pr: 16,
      grantedAt: "2026-03-02T13:00:00Z",
      expiresAt: "2026-03-02T14:00:00Z",
      revokedAt: "2026-03-02T14:00:02Z",
      reason: "expired",
    }),
    "2026-03-02T14:00:10Z",
  );
  repo
    .checkout("main")
    .merge("timebox/remove/grants/dev4-prod-db.yaml", "Merge pull request #17 from org/timebox/remove/grants/dev4-prod-db.yaml", "2026-03-02T14:05:00Z");
  return repo;
}

/** The columns this scenario never fills (no --github, no break-glass trailers, no outcomes). */
const base = {
  resource: "prod-db",
  role: "readonly",
  emergency: false,
  origin: "pull-request",
  requested_at: null,
  approved_by: [] as string[],
  approved_at: null,
  extension_of: null as number | null,
  extensions: 0,
  review_due: null,
  reviewed_by: [] as string[],
  reviewed_at: null,
  outcome: null,
  outcome_by: null,
  outcome_at: null,
};

/** The rows the scenario must produce, in report order (status of dev3's second version depends on now). */
export const EXPECTED = [
  {
    ...base,
    grant: "grants/dev1-prod-db.yaml",
    requester: "dev1",
    reason: "Investigate INC-1234 slow checkout queries",
    ticket: "INC-1234",
    pull_request: 12,
    approved_by: ["alice", "bob"],
    granted_at: "2026-03-02T09:01:00Z",
    expires_at: "2026-03-02T11:01:00Z",
    revoked_at: "2026-03-02T11:01:05Z",
    revoke_reason: "expired",
    status: "revoked",
  },
  {
    ...base,
    grant: "grants/dev2-prod-db.yaml",
    requester: "dev2",
    role: "readwrite",
    reason: 'Backfill, with a comma and "quotes"',
    ticket: "INC-2000",
    pull_request: 13,
    granted_at: "2026-03-02T10:15:00Z",
    expires_at: "2026-03-02T14:15:00Z",
    revoked_at: "2026-03-02T10:45:00Z",
    revoke_reason: "removed",
    status: "removed",
  },
  {
    ...base,
    grant: "grants/dev3-prod-db.yaml",
    requester: "dev3",
    reason: "Outage: checkout down",
    ticket: "INC-3000",
    emergency: true,
    pull_request: 14,
    granted_at: "2026-03-02T12:00:00Z",
    expires_at: "2026-03-02T13:00:00Z",
    revoked_at: "2026-03-02T12:20:00Z",
    revoke_reason: "extended",
    status: "extended",
  },
  {
    ...base,
    grant: "grants/dev3-prod-db.yaml",
    requester: "dev3",
    reason: "Outage: checkout down",
    ticket: "INC-3000",
    emergency: true,
    pull_request: 15,
    extension_of: 14,
    extensions: 1,
    granted_at: "2026-03-02T12:20:00Z",
    expires_at: "2026-03-02T14:20:00Z",
    revoked_at: null,
    revoke_reason: null,
    status: "overdue",
  },
  {
    ...base,
    grant: "grants/dev4-prod-db.yaml",
    requester: "dev4",
    reason: "Rotate keys",
    ticket: "INC-4000",
    pull_request: 16,
    approved_by: ["carol"],
    granted_at: "2026-03-02T13:00:00Z",
    expires_at: "2026-03-02T14:00:00Z",
    revoked_at: "2026-03-02T14:00:02Z",
    revoke_reason: "expired",
    status: "revoked",
  },
];

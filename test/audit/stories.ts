/**
 * An access repository whose default branch tells every story the audit knows, with Timebox's
 * commits written as the trailer contract says. 2026-03-02 is a Monday; times are UTC.
 */
import { emptyRow, type AuditRow } from "../../src/audit/types.js";
import { POLICY_TEXT } from "../grants/helpers.js";
import { GitRepo, grantYaml } from "./git-repo.js";
import { closedUnmerged, outcome, removal, type RecordFields } from "./messages.js";

const D = "2026-03-02T";

/** A pull request merged with a merge commit: one commit on its branch 10 minutes before the merge. */
function mergePr(repo: GitRepo, n: number, files: Record<string, string | null>, mergedAt: string): void {
  const branch = `pr-${n}`;
  repo.branch(branch);
  for (const [path, content] of Object.entries(files)) {
    if (content === null) repo.rm(path);
    else repo.write({ [path]: content });
  }
  repo.commit(`PR ${n}`, new Date(Date.parse(mergedAt) - 600_000).toISOString());
  repo.checkout("main").merge(branch, `Merge pull request #${n} from org/${branch}`, mergedAt);
}

/** Timebox's revoke on the default branch: the grant's file removed in a commit carrying the removal's trailers. */
function revokeAsTimebox(repo: GitRepo, at: string, record: RecordFields): void {
  repo.rm(record.path).commitAsTimebox(removal(record), at);
}

export function storiesRepo(): GitRepo {
  const repo = new GitRepo();
  repo.write({ ".github/timebox.yml": POLICY_TEXT }).commit("Initial policy", `${D}00:00:00Z`);

  // Break-glass, reviewed in time: applied at 02:00 when the PR opened, reviewed 02:10 (due 02:15), merged 02:20.
  mergePr(
    repo,
    28,
    {
      "grants/oncall1-admin.yaml": grantYaml({
        requester: "oncall1",
        role: "admin",
        duration: "30m",
        reason: "Checkout down",
        ticket: "INC-28",
        emergency: true,
      }),
    },
    `${D}02:20:00Z`,
  );
  revokeAsTimebox(repo, `${D}02:30:05Z`, {
    path: "grants/oncall1-admin.yaml",
    requester: "oncall1",
    role: "admin",
    approvedBy: ["bob"],
    pr: 28,
    grantedAt: `${D}02:00:00Z`,
    expiresAt: `${D}02:30:00Z`,
    revokedAt: `${D}02:30:02Z`,
    reason: "expired",
    emergency: { reviewDue: `${D}02:15:00Z`, reviewedBy: ["bob"], reviewedAt: `${D}02:10:00Z` },
  });

  // Expired, revoked by Timebox; two outcomes, the later one wins.
  mergePr(repo, 21, { "grants/dev1.yaml": grantYaml({ requester: "dev1", duration: "2h", reason: "Slow queries", ticket: "INC-21" }) }, `${D}09:00:00Z`);
  // Removed early by another PR.
  mergePr(
    repo,
    22,
    { "grants/dev2.yaml": grantYaml({ requester: "dev2", role: "readwrite", duration: "4h", reason: "Backfill", ticket: "INC-22" }) },
    `${D}09:30:00Z`,
  );
  mergePr(repo, 23, { "grants/dev2.yaml": null }, `${D}10:00:00Z`);
  // Revoked by command.
  mergePr(repo, 24, { "grants/dev3.yaml": grantYaml({ requester: "dev3", duration: "2h", reason: "Rotate", ticket: "INC-24" }) }, `${D}10:00:30Z`);
  revokeAsTimebox(repo, `${D}10:30:01Z`, {
    path: "grants/dev3.yaml",
    requester: "dev3",
    approvedBy: ["alice"],
    pr: 24,
    grantedAt: `${D}10:00:30Z`,
    expiresAt: `${D}12:00:30Z`,
    revokedAt: `${D}10:30:00Z`,
    reason: "revoked-by:alice",
  });
  revokeAsTimebox(repo, `${D}11:00:20Z`, {
    path: "grants/dev1.yaml",
    requester: "dev1",
    approvedBy: ["alice", "carol"],
    pr: 21,
    grantedAt: `${D}09:00:00Z`,
    expiresAt: `${D}11:00:00Z`,
    revokedAt: `${D}11:00:03Z`,
    reason: "expired",
  });
  repo.commitAsTimebox(outcome({ path: "grants/dev1.yaml", pr: 21, text: "Partly", by: "dev1", at: `${D}11:30:00Z` }), `${D}11:30:01Z`);
  // Extended twice (#26 at 11:45, #27 at 13:00), then expired.
  mergePr(repo, 25, { "grants/dev4.yaml": grantYaml({ requester: "dev4", duration: "1h", reason: "Migration", ticket: "INC-25" }) }, `${D}11:00:00Z`);
  mergePr(repo, 26, { "grants/dev4.yaml": grantYaml({ requester: "dev4", duration: "2h", reason: "Migration, longer", ticket: "INC-25" }) }, `${D}11:45:00Z`);
  // Replaced by a different grant at the same path (another requester).
  mergePr(repo, 32, { "grants/shared.yaml": grantYaml({ requester: "dev7", duration: "1h", reason: "Shared 1", ticket: "INC-32" }) }, `${D}12:00:00Z`);
  repo.commitAsTimebox(
    outcome({ path: "grants/dev1.yaml", pr: 21, text: 'Fixed the index; "slow" <queries> gone', by: "dev1", at: `${D}12:00:00Z` }),
    `${D}12:00:01Z`,
  );
  mergePr(repo, 33, { "grants/shared.yaml": grantYaml({ requester: "dev8", duration: "1h", reason: "Shared 2", ticket: "INC-33" }) }, `${D}12:30:00Z`);
  mergePr(repo, 27, { "grants/dev4.yaml": grantYaml({ requester: "dev4", duration: "1h", reason: "Migration, last bit", ticket: "INC-25" }) }, `${D}13:00:00Z`);
  revokeAsTimebox(repo, `${D}14:00:05Z`, {
    path: "grants/dev4.yaml",
    requester: "dev4",
    approvedBy: ["alice"],
    pr: 27,
    grantedAt: `${D}13:00:00Z`,
    expiresAt: `${D}14:00:00Z`,
    revokedAt: `${D}14:00:01Z`,
    reason: "expired",
    extension: { of: 25, count: 2 },
  });
  // Break-glass never reviewed: applied 14:50, merged 15:00 without an approval, expired 15:20.
  mergePr(
    repo,
    29,
    { "grants/oncall2.yaml": grantYaml({ requester: "oncall2", role: "admin", duration: "30m", reason: "Disk full", ticket: "INC-29", emergency: true }) },
    `${D}15:00:00Z`,
  );
  revokeAsTimebox(repo, `${D}15:20:04Z`, {
    path: "grants/oncall2.yaml",
    requester: "oncall2",
    role: "admin",
    pr: 29,
    grantedAt: `${D}14:50:00Z`,
    expiresAt: `${D}15:20:00Z`,
    revokedAt: `${D}15:20:02Z`,
    reason: "expired",
    emergency: { reviewDue: `${D}15:05:00Z` },
  });
  // Break-glass whose PR was closed unmerged: only Timebox's empty record is on the branch.
  repo.commitAsTimebox(
    closedUnmerged({
      path: "grants/oncall1-admin.yaml",
      requester: "oncall1",
      role: "admin",
      pr: 30,
      grantedAt: `${D}16:00:00Z`,
      expiresAt: `${D}16:30:00Z`,
      revokedAt: `${D}16:20:01Z`,
      reason: "pr-closed",
      emergency: { reviewDue: `${D}16:15:00Z` },
      text: { reason: "False alarm", ticket: "INC-30" },
    }),
    `${D}16:20:03Z`,
  );
  // Unapproved: pushed straight to the default branch, never applied, removed by hand.
  repo
    .write({ "grants/dev5.yaml": grantYaml({ requester: "dev5", duration: "1h", reason: "Just me", ticket: "INC-5" }) })
    .commit("add my access", `${D}17:00:00Z`);
  // Drift: Timebox revoked it because the provider disagreed.
  mergePr(repo, 31, { "grants/dev6.yaml": grantYaml({ requester: "dev6", duration: "8h", reason: "Long job", ticket: "INC-31" }) }, `${D}18:00:00Z`);
  revokeAsTimebox(repo, `${D}18:30:02Z`, {
    path: "grants/dev6.yaml",
    requester: "dev6",
    approvedBy: ["bob"],
    pr: 31,
    grantedAt: `${D}18:00:00Z`,
    expiresAt: "2026-03-03T02:00:00Z",
    revokedAt: `${D}18:30:00Z`,
    reason: "drift",
  });
  repo.rm("grants/dev5.yaml").commit("remove my access", `${D}19:00:00Z`);
  return repo;
}

/** `now` for the expected rows: the next midnight. */
export const STORIES_NOW = new Date("2026-03-03T00:00:00Z");

const row = (fields: Partial<AuditRow> & Pick<AuditRow, "grant" | "granted_at">): AuditRow => ({
  ...emptyRow(fields.grant, fields.granted_at),
  resource: "prod-db",
  role: "readonly",
  origin: "pull-request",
  ...fields,
});

/** Every row the stories produce, in report order. */
export const STORY_ROWS: AuditRow[] = [
  row({
    grant: "grants/oncall1-admin.yaml",
    requester: "oncall1",
    role: "admin",
    reason: "Checkout down",
    ticket: "INC-28",
    emergency: true,
    pull_request: 28,
    approved_by: ["bob"],
    granted_at: `${D}02:00:00Z`,
    expires_at: `${D}02:30:00Z`,
    revoked_at: `${D}02:30:02Z`,
    revoke_reason: "expired",
    status: "revoked",
    review_due: `${D}02:15:00Z`,
    reviewed_by: ["bob"],
    reviewed_at: `${D}02:10:00Z`,
  }),
  row({
    grant: "grants/dev1.yaml",
    requester: "dev1",
    reason: "Slow queries",
    ticket: "INC-21",
    pull_request: 21,
    approved_by: ["alice", "carol"],
    granted_at: `${D}09:00:00Z`,
    expires_at: `${D}11:00:00Z`,
    revoked_at: `${D}11:00:03Z`,
    revoke_reason: "expired",
    status: "revoked",
    outcome: 'Fixed the index; "slow" <queries> gone',
    outcome_by: "dev1",
    outcome_at: `${D}12:00:00Z`,
  }),
  row({
    grant: "grants/dev2.yaml",
    requester: "dev2",
    role: "readwrite",
    reason: "Backfill",
    ticket: "INC-22",
    pull_request: 22,
    granted_at: `${D}09:30:00Z`,
    expires_at: `${D}13:30:00Z`,
    revoked_at: `${D}10:00:00Z`,
    revoke_reason: "removed",
    status: "removed",
  }),
  row({
    grant: "grants/dev3.yaml",
    requester: "dev3",
    reason: "Rotate",
    ticket: "INC-24",
    pull_request: 24,
    approved_by: ["alice"],
    granted_at: `${D}10:00:30Z`,
    expires_at: `${D}12:00:30Z`,
    revoked_at: `${D}10:30:00Z`,
    revoke_reason: "revoked-by:alice",
    status: "revoked",
  }),
  row({
    grant: "grants/dev4.yaml",
    requester: "dev4",
    reason: "Migration",
    ticket: "INC-25",
    pull_request: 25,
    granted_at: `${D}11:00:00Z`,
    expires_at: `${D}12:00:00Z`,
    revoked_at: `${D}11:45:00Z`,
    revoke_reason: "extended",
    status: "extended",
  }),
  row({
    grant: "grants/dev4.yaml",
    requester: "dev4",
    reason: "Migration, longer",
    ticket: "INC-25",
    pull_request: 26,
    granted_at: `${D}11:45:00Z`,
    expires_at: `${D}13:45:00Z`,
    revoked_at: `${D}13:00:00Z`,
    revoke_reason: "extended",
    status: "extended",
    extension_of: 25,
    extensions: 1,
  }),
  row({
    grant: "grants/shared.yaml",
    requester: "dev7",
    reason: "Shared 1",
    ticket: "INC-32",
    pull_request: 32,
    granted_at: `${D}12:00:00Z`,
    expires_at: `${D}13:00:00Z`,
    revoked_at: `${D}12:30:00Z`,
    revoke_reason: "replaced",
    status: "replaced",
  }),
  row({
    grant: "grants/shared.yaml",
    requester: "dev8",
    reason: "Shared 2",
    ticket: "INC-33",
    pull_request: 33,
    granted_at: `${D}12:30:00Z`,
    expires_at: `${D}13:30:00Z`,
    status: "overdue",
  }),
  row({
    grant: "grants/dev4.yaml",
    requester: "dev4",
    reason: "Migration, last bit",
    ticket: "INC-25",
    pull_request: 27,
    approved_by: ["alice"],
    granted_at: `${D}13:00:00Z`,
    expires_at: `${D}14:00:00Z`,
    revoked_at: `${D}14:00:01Z`,
    revoke_reason: "expired",
    status: "revoked",
    extension_of: 25,
    extensions: 2,
  }),
  row({
    grant: "grants/oncall2.yaml",
    requester: "oncall2",
    role: "admin",
    reason: "Disk full",
    ticket: "INC-29",
    emergency: true,
    pull_request: 29,
    granted_at: `${D}14:50:00Z`,
    expires_at: `${D}15:20:00Z`,
    revoked_at: `${D}15:20:02Z`,
    revoke_reason: "expired",
    status: "revoked",
    review_due: `${D}15:05:00Z`,
  }),
  row({
    grant: "grants/oncall1-admin.yaml",
    requester: "oncall1",
    role: "admin",
    reason: "False alarm",
    ticket: "INC-30",
    emergency: true,
    pull_request: 30,
    origin: "closed-unmerged",
    granted_at: `${D}16:00:00Z`,
    expires_at: `${D}16:30:00Z`,
    revoked_at: `${D}16:20:01Z`,
    revoke_reason: "pr-closed",
    status: "revoked",
    review_due: `${D}16:15:00Z`,
  }),
  row({
    grant: "grants/dev5.yaml",
    requester: "dev5",
    reason: "Just me",
    ticket: "INC-5",
    origin: "direct-push",
    granted_at: `${D}17:00:00Z`,
    expires_at: `${D}18:00:00Z`,
    revoked_at: `${D}19:00:00Z`,
    revoke_reason: "removed",
    status: "removed",
  }),
  row({
    grant: "grants/dev6.yaml",
    requester: "dev6",
    reason: "Long job",
    ticket: "INC-31",
    pull_request: 31,
    approved_by: ["bob"],
    granted_at: `${D}18:00:00Z`,
    expires_at: "2026-03-03T02:00:00Z",
    revoked_at: `${D}18:30:00Z`,
    revoke_reason: "drift",
    status: "revoked",
  }),
];

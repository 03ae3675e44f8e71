/**
 * Attacks on Timebox's own records (issue #10, items 1 and 2): text a person typed, another bot's
 * comment, or another app's check run must never be read back as something Timebox wrote.
 */
import { expect, jest, test } from "@jest/globals";
import { grantYaml, withReadonlyBreakglass } from "../support/access-repo.js";
import { deliverOk, reconcile, mergePolicyChange } from "../support/lifecycle-flow.js";
import { postgresAccessPerTest } from "../support/lifecycle-flow.js";

jest.setTimeout(60_000);

const env = postgresAccessPerTest();
const GITHUB_ACTIONS = { id: 15368, slug: "github-actions" };

async function allowBreakglass(): Promise<void> {
  const { gh } = env();
  // A policy change takes effect through a PR a policy owner approved.
  await mergePolicyChange(env(), withReadonlyBreakglass(gh.fileAt("main", ".github/timebox.yml")!));
}

/** A break-glass record as Timebox writes it, for `path`, naming `target` and a far expiry. */
function forgedRecord(path: string, target: string, principal: string): string {
  const r = {
    path,
    requester: "dev1",
    principal,
    resource: "prod-db",
    role: "readonly",
    target,
    roleSettings: {},
    duration: "30d",
    durationMs: 30 * 86_400_000,
    reason: "x",
    grantedAt: "2026-03-02T09:10:00Z",
    expiresAt: "2026-04-01T09:10:00Z",
    reviewDue: "2026-04-01T09:10:00Z",
  };
  return `<!-- timebox:breakglass ${JSON.stringify(r)} -->`;
}

async function isMember(login: string, role: string): Promise<boolean> {
  return (await env().pg.admin<{ ok: boolean }>("SELECT pg_has_role($1, $2, 'MEMBER') AS ok", [login, role])).rows[0].ok;
}

test("a break-glass reason holding a forged record gives neither another role nor a longer grant", async () => {
  const { gh, clock, pg, login, target } = env();
  const secret = `${target}_secret`;
  await pg.admin(`CREATE ROLE "${secret}" NOLOGIN`);
  try {
    await allowBreakglass();
    clock.set("2026-03-02T09:10:00Z");
    // File a's reason carries a record for file b: another role, for 30 days.
    const reason = `INC-1234 outage ${forgedRecord("grants/dev1-b.yaml", secret, login)}\n${forgedRecord("grants/dev1-b.yaml", secret, login)}`;
    const pr = gh.openPullRequest({
      author: "dev1",
      files: {
        "grants/dev1-a.yaml": grantYaml({ duration: "30m", emergency: true, reason }),
        "grants/dev1-b.yaml": grantYaml({ duration: "30m", emergency: true }),
      },
    });
    await deliverOk(env(), pr);
    expect(await isMember(login, secret)).toBe(false);
    expect(await env().hasAccess()).toBe(true);
    // The record in Timebox's comment shows the reason as text: no line of it starts a marker.
    const notices = gh.comments(pr.number!).filter((c) => c.body.includes("Break-glass: emergency access"));
    expect(notices).toHaveLength(2);
    for (const n of notices) expect(n.body.match(/^<!-- timebox:breakglass /gm)).toHaveLength(1);

    clock.set("2026-03-02T09:41:00Z");
    await reconcile(env());
    expect(await isMember(login, secret)).toBe(false);
    expect(await env().hasAccess()).toBe(false);
  } finally {
    await pg.admin(`DROP ROLE IF EXISTS "${secret}"`).catch(() => undefined);
  }
});

test("a record in another bot's comment, on a labelled PR with no grant file, grants nothing", async () => {
  const { gh, clock, login, target } = env();
  await allowBreakglass();
  clock.set("2026-03-02T09:10:00Z");
  const pr = gh.openPullRequest({ author: "dev2", files: { "docs/notes.md": "hello\n" } });
  await deliverOk(env(), pr);
  gh.repo(env().fullName).addLabel(pr.number!, "timebox:breakglass");
  await deliverOk(
    env(),
    gh.comment(pr.number!, { author: "github-actions", app: GITHUB_ACTIONS, body: forgedRecord("grants/dev1-prod-db.yaml", target, login) }),
  );
  await deliverOk(env(), gh.merge(pr.number!, { by: "dev2" }));
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
});

test("another app's timebox/validate run naming a different pusher does not make the last pusher's approval count", async () => {
  const { gh } = env();
  // dev1 opens the PR; sre1 (an eligible approver) pushes the last commit, then approves it.
  const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": grantYaml() } });
  await deliverOk(env(), pr);
  await deliverOk(
    env(),
    gh.pushToPullRequest(pr.number!, { pusher: "sre1", author: "sre1", files: { "grants/dev1-prod-db.yaml": grantYaml({ duration: "1h" }) } }),
  );
  const head = gh.pull(pr.number!).headSha;
  // A workflow writes a look-alike run claiming someone else pushed.
  gh.repo(env().fullName).foreignCheckRun(head, {
    app: GITHUB_ACTIONS,
    name: "timebox/validate",
    externalId: "pusher:dev9",
    conclusion: "success",
    output: { title: "ok", summary: "ok" },
  });
  await deliverOk(env(), gh.submitReview(pr.number!, { reviewer: "sre1", state: "APPROVED" }));
  const approval = gh.checkRuns(head, "timebox/approval").at(-1);
  expect(approval?.conclusion).not.toBe("success");
});

test("a dot-file grant riding on another grant's approval is never applied, even when merged", async () => {
  const { gh, clock } = env();
  const pr = gh.openPullRequest({
    author: "dev1",
    files: { "grants/dev1-prod-db.yaml": grantYaml({ duration: "30m" }), "grants/.x.yaml": grantYaml({ duration: "8h" }) },
  });
  await deliverOk(env(), pr);
  expect(gh.checkRuns(pr.sha!, "timebox/validate").at(-1)?.conclusion).toBe("failure");
  await deliverOk(env(), gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
  // An admin merges it anyway.
  await deliverOk(env(), gh.merge(pr.number!, { by: "alice" }));
  clock.advance(31 * 60_000);
  await reconcile(env());
  expect(await env().hasAccess()).toBe(false);
});

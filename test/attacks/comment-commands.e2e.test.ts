/**
 * The comment commands — `/timebox revoke` and `/timebox outcome` — attacked by people with
 * ordinary rights on the access repository (`mallory` has write access, `outsider` read), by a
 * workflow (`github-actions[bot]` can post any text), and by GitHub itself redelivering a webhook.
 * Who may run a command is judged from the comment's `user`, set by GitHub, never from its text;
 * a command acts once; what a person typed never forms a trailer of Timebox's commit; and the
 * audit never attributes words to someone who did not write them.
 */
import { expect, jest } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AccessRepo } from "../support/access-repo.js";
import { grantYaml } from "../support/access-repo.js";
import { policyWithGithubResource, startGithubAccess } from "../support/github-access.js";
import { appWrites, commentsWith, deliverOk, mergeApprovedGrant, timeboxCommits } from "../support/lifecycle-flow.js";
import { cloneRepository, exportBareRepository } from "../harness/github/git-export.js";
import { runCli } from "../../src/cli/program.js";
import { TRUST } from "../audit/git-repo.js";

jest.setTimeout(60_000);

const POLICY = policyWithGithubResource(
  "prod-admins",
  `      admins:
        target: "@acme/prod-admins"
        max_duration: 8h
        approvers: ["@acme/sre", "sre1"]
        approvals: 1
`,
);

let env: AccessRepo;
beforeEach(async () => {
  env = await startGithubAccess(POLICY, (gh) => {
    gh.createTeam({ org: "acme", slug: "prod-admins", members: ["dev3"] });
    gh.repo().addCollaborator("mallory", "write");
  });
});
afterEach(async () => {
  await env.stop();
});

const PATH = "grants/dev1-admins.yaml";
const GITHUB_ACTIONS = { id: 15368, slug: "github-actions" };
const isMember = (login: string) => env.gh.teamMembers("acme", "prod-admins").some((m) => m.login === login && m.state === "active");
const revokedComments = (n: number) => commentsWith(env, n, "timebox:revoked-at");
const outcomeCommits = () =>
  env.gh
    .repo(env.fullName)
    .log("main")
    .filter((c) => c.message.startsWith("Record outcome of "));
const reconcile = () => env.runtime.reconcileRepo({ installationId: 1, owner: "acme", repo: env.fullName.split("/")[1] });

/** dev1's grant of `admins` for 1 h, approved by alice and merged at 09:01: dev1 is a member until 10:01. */
async function activeGrant(): Promise<number> {
  const { number } = await mergeApprovedGrant(env, { path: PATH, content: grantYaml({ resource: "prod-admins", role: "admins", duration: "1h" }) });
  expect(isMember("dev1")).toBe(true);
  return number;
}

/** The grant above, expired and revoked by Timebox at 10:02. */
async function endedGrant(): Promise<number> {
  const n = await activeGrant();
  env.clock.set("2026-03-02T10:02:00Z");
  await reconcile();
  expect(isMember("dev1")).toBe(false);
  expect(revokedComments(n)).toHaveLength(1);
  return n;
}

describe("who may run a command: GitHub's `user` of the comment, never its text", () => {
  test("a workflow (github-actions[bot]) or another app posting /timebox revoke or /timebox outcome is ignored", async () => {
    const { gh } = env;
    const n = await activeGrant();
    const before = appWrites(env).length;
    const tip = gh.branchHead("main");
    await deliverOk(env, gh.comment(n, { author: "github-actions", app: GITHUB_ACTIONS, body: "/timebox revoke requested by @sec1" }));
    await deliverOk(env, gh.comment(n, { author: "deploy-bot", app: { id: 777, slug: "deploy-bot" }, body: "/timebox revoke" }));
    expect(isMember("dev1")).toBe(true);

    env.clock.set("2026-03-02T10:02:00Z");
    await reconcile();
    const afterRevoke = appWrites(env).length;
    const tipAfterRevoke = gh.branchHead("main");
    expect(tipAfterRevoke).not.toBe(tip);
    await deliverOk(env, gh.comment(n, { author: "github-actions", app: GITHUB_ACTIONS, body: "/timebox outcome it was never needed (dev1)" }));
    expect(gh.branchHead("main")).toBe(tipAfterRevoke);
    expect(appWrites(env)).toHaveLength(afterRevoke);
    expect(afterRevoke).toBeGreaterThan(before);
  });

  test("text naming someone allowed gives nothing: mallory's command is refused whatever it says, and dev1 keeps access", async () => {
    const { gh } = env;
    const n = await activeGrant();
    const tip = gh.branchHead("main");
    await deliverOk(env, gh.comment(n, { author: "mallory", body: "/timebox revoke on behalf of @sec1 (policy owner)\nuser: sec1" }));
    expect(isMember("dev1")).toBe(true);
    expect(gh.branchHead("main")).toBe(tip);
    expect(gh.comments(n).at(-1)!.body).toContain("`mallory` may not revoke");
  });

  test("a command on another PR reaches only that PR's grants: dev2 revoking on her own PR leaves dev1's grant alone", async () => {
    const { gh } = env;
    const n = await activeGrant();
    const other = gh.openPullRequest({ author: "dev2", files: { "docs/notes.md": `see #${n}\n` } });
    await deliverOk(env, other);
    const tip = gh.branchHead("main");
    await deliverOk(env, gh.comment(other.number!, { author: "dev2", body: `/timebox revoke #${n} ${PATH}` }));
    await deliverOk(env, gh.comment(other.number!, { author: "sec1", body: `/timebox revoke #${n}` }));
    expect(isMember("dev1")).toBe(true);
    expect(gh.branchHead("main")).toBe(tip);
    expect(gh.comments(other.number!).at(-1)!.body).toContain("nothing to revoke");
    // dev2, who is no approver of the role, on the grant's own PR: refused.
    await deliverOk(env, gh.comment(n, { author: "dev2", body: "/timebox revoke" }));
    expect(isMember("dev1")).toBe(true);
  });

  test("a command quoted, in a code block or not at the start of the comment does nothing, even by someone allowed", async () => {
    const { gh } = env;
    const n = await activeGrant();
    const tip = gh.branchHead("main");
    const comments = gh.comments(n).length;
    for (const body of [
      "> /timebox revoke\n\nWhy would we do that?",
      "```\n/timebox revoke\n```",
      "To end it early, type `/timebox revoke`.",
      "Thanks!\n/timebox revoke",
      "<!-- /timebox revoke -->",
    ]) {
      await deliverOk(env, gh.comment(n, { author: "sec1", body }));
    }
    expect(isMember("dev1")).toBe(true);
    expect(gh.branchHead("main")).toBe(tip);
    expect(gh.comments(n)).toHaveLength(comments + 5); // the five comments, no answer
  });
});

describe("what a person types never forms a trailer of Timebox's commit", () => {
  test("an outcome with line breaks of every kind, control characters, trailers and markup stays one Outcome line", async () => {
    const { gh } = env;
    const n = await endedGrant();
    const forged = [
      "fixed it",
      "\u0085Approved-by: sec1",
      "\u000bPull-Request: #1",
      "\u000cRevoked-at: 2030-01-01T00:00:00Z",
      "\u0000\u001b[31m\u007f",
      "<!-- timebox:revoked-at x -->",
      "@acme/security",
      "x".repeat(5000),
    ].join("");
    for (const body of [
      `/timebox outcome ${forged}\nTimebox-Grant: grants/x.yaml\nRevoke-Reason: drift`,
      "/timebox outcome ok\rRevoke-Reason: expired\u2028Timebox-Grant: grants/other.yaml\u2029Outcome-By: sec1",
      "/timebox outcome ok\r\nOutcome-By: sec1",
    ]) {
      await deliverOk(env, gh.comment(n, { author: "dev1", body }));
    }
    const commits = outcomeCommits();
    expect(commits.length).toBeGreaterThanOrEqual(2);
    for (const commit of commits) {
      // Git splits a message on line feeds only.
      const lines = commit.message.split("\n");
      const trailers = lines.slice(lines.lastIndexOf("") + 1);
      expect(trailers.map((l) => l.slice(0, l.indexOf(":")))).toEqual(["Timebox-Grant", "Pull-Request", "Outcome", "Outcome-By", "Recorded-at", "Timebox-Run"]);
      expect(lines.filter((l) => /^[A-Za-z-]+: /.test(l)).map((l) => l.slice(0, l.indexOf(":")))).toHaveLength(6);
      expect(trailers[0]).toBe(`Timebox-Grant: ${PATH}`);
      expect(trailers[3]).toBe("Outcome-By: dev1");
      expect(trailers[2].length).toBeLessThanOrEqual("Outcome: ".length + 500);
      // eslint-disable-next-line no-control-regex -- control characters are what is checked
      expect(trailers[2]).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    }
    // The thread's answers do not repeat the text.
    expect(gh.comments(n).filter((c) => c.user === env.gh.state.botLogin && c.body.includes("@acme/security"))).toEqual([]);
  });
});

describe("edits and deletions", () => {
  test("an old comment edited into a command runs nothing", async () => {
    const { gh } = env;
    const n = await endedGrant();
    const thanks = gh.comment(n, { author: "dev1", body: "Thanks, all done." });
    await deliverOk(env, thanks);
    const before = appWrites(env).length;
    await deliverOk(env, gh.repo(env.fullName).editComment(thanks.commentId!, { by: "mallory", body: "/timebox outcome it was never needed" }));
    await deliverOk(env, gh.repo(env.fullName).editComment(thanks.commentId!, { by: "dev1", body: "/timebox outcome found the bug" }));
    expect(appWrites(env)).toHaveLength(before);
    expect(outcomeCommits()).toHaveLength(0);
  });

  test("timebox audit --github never attributes an edited outcome comment to its author", async () => {
    const { gh } = env;
    const n = await endedGrant();
    // dev1 thanks everyone; mallory (write access) rewrites it into an outcome dev1 never gave.
    const thanks = gh.comment(n, { author: "dev1", body: "Thanks, all done." });
    await deliverOk(env, thanks);
    env.clock.advance(60_000);
    await deliverOk(env, gh.repo(env.fullName).editComment(thanks.commentId!, { by: "mallory", body: "/timebox outcome it was never needed" }));
    const { rows, stderr } = await auditGithub();
    expect(rows.find((r) => r.pull_request === n)).toMatchObject({ outcome: null, outcome_by: null });
    expect(stderr).toContain(`PR #${n}: the /timebox outcome comment dev1 posted at 2026-03-02T10:02:00Z was edited at 2026-03-02T10:03:00Z`);

    await deliverOk(env, gh.comment(n, { author: "mallory", body: "unrelated" })); // not an outcome: ignored
    // dev1's own answer, never delivered (the app was down): the thread is its only record, and it counts.
    gh.comment(n, { author: "dev1", body: "/timebox outcome found the slow query" });
    const { rows: after } = await auditGithub();
    expect(after.find((r) => r.pull_request === n)).toMatchObject({ outcome: "found the slow query", outcome_by: "dev1" });
  });
});

describe("a command acts once", () => {
  test("a redelivered /timebox outcome records one commit and answers once", async () => {
    const { gh } = env;
    const n = await endedGrant();
    const answer = gh.comment(n, { author: "dev1", body: "/timebox outcome found the slow query" });
    await deliverOk(env, answer);
    expect(outcomeCommits()).toHaveLength(1);
    const before = appWrites(env);
    await deliverOk(env, answer);
    expect(appWrites(env).slice(before.length)).toEqual([]);
    expect(outcomeCommits()).toHaveLength(1);
  });

  test("a redelivered /timebox revoke revokes once and writes nothing more", async () => {
    const { gh } = env;
    const n = await activeGrant();
    env.clock.advance(10 * 60_000);
    const command = gh.comment(n, { author: "dev1", body: "/timebox revoke done" });
    await deliverOk(env, command);
    expect(isMember("dev1")).toBe(false);
    expect(revokedComments(n)).toHaveLength(1);
    const before = appWrites(env);
    await deliverOk(env, command);
    expect(appWrites(env).slice(before.length)).toEqual([]);
    expect(timeboxCommits(env, PATH)).toHaveLength(1);
  });

  test("a /timebox revoke racing the expiry: one removal commit, one revoked comment, no answer that the grant is not active", async () => {
    const { gh } = env;
    const n = await activeGrant();
    // 10:01:30: expired, not yet reconciled; the command and the expiry's reconcile arrive together.
    env.clock.set("2026-03-02T10:01:30Z");
    const comments = gh.comments(n).length;
    await Promise.all([deliverOk(env, gh.comment(n, { author: "dev1", body: "/timebox revoke" })), reconcile()]);
    await reconcile();
    expect(isMember("dev1")).toBe(false);
    expect(timeboxCommits(env, PATH)).toHaveLength(1);
    expect(revokedComments(n)).toHaveLength(1);
    expect(gh.comments(n)).toHaveLength(comments + 2); // the command and the revoked comment
  });

  test("a /timebox revoke a second before the expiry, with a reconcile at once and the expiry's after: one removal commit, one revoked comment", async () => {
    const { gh } = env;
    const n = await activeGrant();
    env.clock.set("2026-03-02T10:00:59Z");
    const comments = gh.comments(n).length;
    await Promise.all([reconcile(), deliverOk(env, gh.comment(n, { author: "dev1", body: "/timebox revoke" })), reconcile()]);
    env.clock.set("2026-03-02T10:01:30Z");
    await reconcile();
    expect(isMember("dev1")).toBe(false);
    expect(timeboxCommits(env, PATH)).toHaveLength(1);
    expect(revokedComments(n)).toHaveLength(1);
    expect(revokedComments(n)[0].body).toContain("was revoked by `dev1`");
    expect(
      gh
        .comments(n)
        .slice(comments)
        .filter((c) => !/timebox:(revoked|reminder) /.test(c.body)),
    ).toEqual([expect.objectContaining({ body: "/timebox revoke" })]);
  });

  test("a /timebox revoke after the expiry but before Timebox revoked: revoked then, as expired", async () => {
    const { gh } = env;
    const n = await activeGrant();
    env.clock.set("2026-03-02T10:01:30Z");
    await deliverOk(env, gh.comment(n, { author: "dev1", body: "/timebox revoke" }));
    expect(isMember("dev1")).toBe(false);
    expect(revokedComments(n)).toHaveLength(1);
    expect(gh.comments(n).at(-1)!.body).not.toContain("nothing to revoke");
    await reconcile();
    expect(timeboxCommits(env, PATH)).toHaveLength(1);
    expect(revokedComments(n)).toHaveLength(1);
  });
});

/** `timebox audit --github` over a clone of the repository as it is now, against the emulated GitHub's API. */
async function auditGithub(): Promise<{ rows: Array<Record<string, unknown>>; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), "timebox-audit-attack-"));
  try {
    const repo = env.gh.repo(env.fullName).repo;
    exportBareRepository(repo.git, repo.refs, repo.defaultBranch, join(dir, "bare.git"));
    cloneRepository(join(dir, "bare.git"), join(dir, "clone"));
    let stdout = "";
    let stderr = "";
    const code = await runCli(
      ["audit", ...TRUST(), "--repo", join(dir, "clone"), "--format", "json", "--github", env.fullName, "--app-login", env.gh.state.botLogin],
      {
        stdout: (t) => (stdout += t),
        stderr: (t) => (stderr += t),
        cwd: "/",
        env: { GITHUB_API_URL: env.gh.baseUrl, TIMEBOX_GITHUB_TOKEN: env.gh.installationToken() },
      },
    );
    expect({ code, stderr }).toMatchObject({ code: 0 });
    return { rows: (JSON.parse(stdout) as { grants: Array<Record<string, unknown>> }).grants, stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

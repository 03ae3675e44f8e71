/**
 * End to end on MySQL/MariaDB: a grant PR on the emulated GitHub, approved and merged, makes the
 * account really able to read what the role gives in a brand-new session (no SET ROLE); at expiry
 * Timebox revokes it, the account really cannot read any more, the grant file is removed with its
 * trailers. Runs against the real server (TIMEBOX_TEST_MYSQL_URL); skipped with a printed reason
 * without it (TIMEBOX_REQUIRE_MYSQL=1 fails instead).
 */
import { jest } from "@jest/globals";
import { POLICY, VALID_GRANT, startAccessRepo, type AccessRepo } from "../support/access-repo.js";
import { Made, findTestMysql, ident, startTestMysql, type TestMysql } from "../providers/mysql-server.js";
import { uniqueSuffix } from "../providers/mysql-server.js";

jest.setTimeout(60_000);

const probe = await findTestMysql("mysql lifecycle test");
const describeMysql = probe.available || probe.required ? describe : describe.skip;

const HOUR = 3600_000;

describeMysql("a grant on MySQL/MariaDB through a merged PR", () => {
  let my: TestMysql;
  let made: Made;
  let env: AccessRepo | undefined;
  let db: string;
  let user: string;

  beforeAll(async () => {
    my = await startTestMysql();
    made = new Made(() => my);
  });
  afterEach(async () => {
    await env?.stop();
    env = undefined;
    await made.dropAll();
  });
  afterAll(async () => {
    await my?.stop();
  });

  async function canSelect(): Promise<boolean> {
    const c = await my.connectAs(user, made.password);
    try {
      await c.query(`SELECT x FROM ${ident(db)}.t`);
      return true;
    } catch (err) {
      if ((err as { errno?: number }).errno === 1142) return false;
      throw err;
    } finally {
      await c.end();
    }
  }

  test("merge applies the grant (a fresh session can SELECT); expiry revokes it (it cannot) and removes the file", async () => {
    const table = await made.readableTable();
    db = table.db;
    const account = await made.account();
    user = account.slice(0, account.lastIndexOf("@"));
    // The fixture policy, with prod-db on MySQL: the role's target is the reader role, dev1's identity the account.
    const policy = POLICY.replace("provider: postgres", "provider: mysql")
      .replace("target: analytics_read", `target: ${table.role}`)
      .replace("dev1: { postgres: dev1_login }", `dev1: { mysql: "${account}" }`)
      .replace("settings: { url_env: PROD_DB_URL }", "settings: { url_env: PROD_DB_URL, kill_sessions: true }");
    expect(policy).toContain("provider: mysql");
    env = await startAccessRepo({ policy, env: { PROD_DB_URL: my.url }, repo: `access-${uniqueSuffix()}` });
    const { gh, probot, clock } = env;

    const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": VALID_GRANT } });
    await gh.deliver(probot, pr);
    expect(gh.checkRuns(pr.sha!, "timebox/validate").at(-1)!.conclusion).toBe("success");
    await gh.deliver(probot, gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" }));
    expect(gh.checkRuns(pr.sha!, "timebox/approval").at(-1)!.conclusion).toBe("success");
    expect(await canSelect()).toBe(false);

    clock.advance(60_000);
    const merge = gh.merge(pr.number!, { by: "alice" });
    await gh.deliver(probot, merge);
    expect(await canSelect()).toBe(true);
    const applied = gh.comments(pr.number!).filter((c: { body: string }) => c.body.includes("timebox:applied"));
    expect(applied).toHaveLength(1);
    expect(applied[0].body).toContain("Expires at:** 2026-03-02T11:01:00Z (in 2h)");
    expect(applied[0].body).toContain(`given to \`${account}\` through its default role`);
    // The emulated clock is in 2026, so an event at the expiry would be in the server's future; it is
    // scheduled only when the server's event_scheduler is on, and the comment says which.
    expect(applied[0].body).toMatch(
      /the database itself ends it at 2026-03-02T11:01:00.000Z|no expiry event in the database: the server.s event_scheduler is|no expiry event in the database: the expiry has already passed/,
    );
    expect(gh.checkRuns(merge.sha!, "timebox/apply").at(-1)!.conclusion).toBe("success");

    // An open session of the account is ended by the revoke.
    const open = await my.connectAs(user, made.password);
    open.on("error", () => undefined);
    clock.advance(2 * HOUR);
    await env.runtime.reconcileAll();
    expect(await canSelect()).toBe(false);
    await expect(open.query("SELECT 1")).rejects.toMatchObject({ fatal: true });
    open.destroy();
    expect(gh.fileAt("main", "grants/dev1-prod-db.yaml")).toBeUndefined();
    const head = gh.commit(gh.branchHead("main")!)!;
    expect(head.message).toMatch(/^Revoke expired grant grants\/dev1-prod-db.yaml/);
    expect(head.message).toContain("Revoke-Reason: expired");
    expect(gh.comments(pr.number!).filter((c: { body: string }) => c.body.includes("timebox:revoked"))).toHaveLength(1);
    expect(gh.unknownRequests()).toEqual([]);
  });
});

if (describeMysql === describe.skip) describe.skip(`mysql lifecycle: ${probe.reason}`, () => test("needs a server", () => undefined));

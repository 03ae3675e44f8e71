/**
 * The target check with fake providers and a fake GitHub: what goes into the `timebox:misconfigured`
 * issue, and what happens when a provider is down, hangs, or is set up wrong. The end-to-end test
 * against PostgreSQL is target-check.e2e.test.ts.
 */
import { describe, expect, it } from "@jest/globals";
import { ProviderPool } from "../../src/lifecycle/provider-pool.js";
import { MISCONFIGURED_LABEL, TargetCheck, type CheckGateway } from "../../src/lifecycle/target-check.js";
import type { Policy } from "../../src/policy/types.js";
import { ProviderError, type Provider } from "../../src/providers/types.js";
import type { Diagnostic } from "../../src/diagnostics.js";
import { FakeClock } from "../harness/clock.js";

const policyText = (extra = "") => `version: 1
owners: ["sec1"]
identities:
  dev1: { postgres: dev1_login }
  dev2: { postgres: dev2_login }
  dev3: { github: dev3 }
resources:
  prod-db:
    provider: postgres
    settings: { url_env: PROD_DB_URL }
    roles:
      readonly: { target: analytics_read, max_duration: 8h, approvers: ["sre1"] }
      admin: { target: db_admin, max_duration: 1h, approvers: ["sre1"] }
${extra}`;

const SECOND = `  other-db:
    provider: postgres
    settings: { url_env: OTHER_DB_URL }
    roles:
      readonly: { target: reporting, max_duration: 8h, approvers: ["sre1"] }
`;

type Answer = (target: string, principal?: string) => Promise<Diagnostic[]>;
const diag = (rule: string, message: string): Diagnostic => ({ path: "", line: 1, column: 1, rule, severity: "error", message });

/** Providers whose `checkTarget` answers as `answers[resource]` says; every call recorded. */
class FakePool extends ProviderPool {
  readonly calls: Array<{ resource: string; target: string; principal?: string }> = [];
  constructor(readonly answers: Record<string, Answer>) {
    super({}, { timeoutMs: 200 });
  }
  override forResource(_policy: Policy, resource: string): Provider {
    const answer = this.answers[resource];
    if (!answer) throw new ProviderError(`resource ${resource}: setting \`url_env\` is wrong`, false);
    return {
      id: "postgres",
      checkTarget: (target, principal) => {
        this.calls.push({ resource, target, principal });
        return answer(target, principal);
      },
      grant: async () => ({ summary: "" }),
      revoke: async () => undefined,
      isGranted: async () => false,
    };
  }
}

/** The policy at each commit, and the one issue with its comments, as GitHub would keep them. */
class FakeGitHub implements CheckGateway {
  /** The gateway's two resources the check uses, both played by this fake. */
  readonly contents = this;
  readonly issues = this;
  files = new Map<string, string>();
  issue?: { title: string; body: string; open: boolean; comments: string[] };
  writes = 0;
  async blobShaAt(commit: string): Promise<string | undefined> {
    const text = this.files.get(commit);
    return text === undefined ? undefined : `blob-${text.length}-${[...text].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 0)}`;
  }
  async readFile(commit: string): Promise<string | undefined> {
    return this.files.get(commit);
  }
  async upsertLabelledIssue(label: string, _marker: string, title: string, body: string): Promise<number> {
    expect(label).toBe(MISCONFIGURED_LABEL);
    this.writes++;
    if (this.issue?.open) Object.assign(this.issue, { title, body });
    else this.issue = { title, body, open: true, comments: [] };
    return 1;
  }
  async closeLabelledIssue(_label: string, _marker: string, closing: string): Promise<void> {
    if (!this.issue?.open) return;
    this.writes++;
    this.issue.comments.push(closing);
    this.issue.open = false;
  }
}

const quiet = { info: () => undefined, warn: () => undefined };
const setup = (answers: Record<string, Answer>, options: { budgetMs?: number; retryMs?: number } = {}) => {
  const clock = new FakeClock("2026-03-02T09:00:00Z");
  const pool = new FakePool(answers);
  const gh = new FakeGitHub();
  const check = new TargetCheck({
    pool,
    providers: new Map([
      ["postgres", ["url_env"]],
      ["github", []],
    ]),
    log: quiet,
    clock,
    ...options,
  });
  return { clock, pool, gh, check };
};
const fine: Answer = async () => [];

describe("the target check", () => {
  it("checks each role's target once and each principal of the resource's provider once, and reports what is missing", async () => {
    const { pool, gh, check } = setup({
      "prod-db": async (target, principal) =>
        principal === "dev2_login"
          ? [diag("provider.target", "again about the target"), diag("provider.principal", "login role `dev2_login` does not exist; ask @acme/dba <b>now</b>")]
          : target === "db_admin" && principal === undefined
            ? [diag("provider.target", "PostgreSQL role `db_admin` does not exist on prod-db")]
            : [],
    });
    gh.files.set("c1", policyText());
    const result = await check.checkIfPolicyChanged(gh, "acme/access", "c1");
    expect(pool.calls).toEqual([
      { resource: "prod-db", target: "analytics_read", principal: undefined },
      { resource: "prod-db", target: "db_admin", principal: undefined },
      { resource: "prod-db", target: "analytics_read", principal: "dev1_login" },
      { resource: "prod-db", target: "analytics_read", principal: "dev2_login" },
    ]);
    expect(result?.problems.map((p) => p.subject)).toEqual([
      { kind: "role", role: "admin", target: "db_admin" },
      { kind: "identity", login: "dev2", principal: "dev2_login" },
    ]);
    expect(gh.issue?.title).toBe("Policy misconfigured: 2 problems at prod-db");
    // A provider's text cannot mention anyone or carry HTML into the issue.
    expect(gh.issue?.body).toContain("ask @\u2060acme/dba &lt;b&gt;now&lt;/b&gt;");
    expect(gh.issue?.body).not.toContain("again about the target");
  });

  it("does nothing while the policy's blob is unchanged, and checks again when it changes", async () => {
    const { pool, gh, check } = setup({ "prod-db": fine });
    gh.files.set("c1", policyText());
    gh.files.set("c2", policyText()); // another commit, the same policy
    expect(await check.checkIfPolicyChanged(gh, "acme/access", "c1")).toMatchObject({ problems: [], issue: "closed" });
    const n = pool.calls.length;
    expect(await check.checkIfPolicyChanged(gh, "acme/access", "c2")).toBeUndefined();
    expect(pool.calls).toHaveLength(n);
    gh.files.set("c3", policyText().replace("db_admin", "db_owner"));
    await check.checkIfPolicyChanged(gh, "acme/access", "c3");
    expect(pool.calls.length).toBeGreaterThan(n);
    // Another repository is checked on its own.
    await check.checkIfPolicyChanged(gh, "acme/other", "c3");
    expect(gh.writes).toBe(0);
  });

  it("a provider that is down opens no issue, keeps an open one, and is checked again after the retry delay", async () => {
    let down = true;
    const { clock, pool, gh, check } = setup(
      {
        "prod-db": async (target) =>
          down
            ? Promise.reject(new ProviderError("postgres: connection to prod-db failed (ECONNREFUSED)"))
            : target === "db_admin"
              ? [diag("provider.target", "missing")]
              : [],
      },
      { retryMs: 60_000 },
    );
    gh.files.set("c1", policyText());
    const result = await check.checkIfPolicyChanged(gh, "acme/access", "c1");
    expect(result?.unchecked).toEqual([{ resource: "prod-db", error: "postgres: connection to prod-db failed (ECONNREFUSED)" }]);
    expect(pool.calls).toHaveLength(1); // the first failure ends the resource's check
    expect(gh.issue).toBeUndefined();
    clock.advance(30_000);
    expect(await check.checkIfPolicyChanged(gh, "acme/access", "c1")).toBeUndefined();
    down = false;
    clock.advance(31_000);
    expect((await check.checkIfPolicyChanged(gh, "acme/access", "c1"))?.problems).toHaveLength(1);
    expect(gh.issue?.open).toBe(true);
    // Down again with the issue open: it is neither closed nor emptied.
    down = true;
    gh.files.set("c2", policyText("# a comment\n"));
    expect((await check.checkIfPolicyChanged(gh, "acme/access", "c2"))?.issue).toBe("none");
    expect(gh.issue?.open).toBe(true);
    expect(gh.issue?.body).toContain("missing");
  });

  it("a resource whose provider hangs is given up after the budget; the others are still checked and reported", async () => {
    const { gh, check } = setup(
      {
        "prod-db": async (target) => (target === "db_admin" ? [diag("provider.target", "no db_admin")] : []),
        "other-db": () => new Promise<Diagnostic[]>(() => undefined),
      },
      { budgetMs: 100 },
    );
    gh.files.set("c1", policyText(SECOND));
    const started = Date.now();
    const result = await check.checkIfPolicyChanged(gh, "acme/access", "c1");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result?.problems.map((p) => p.resource)).toEqual(["prod-db"]);
    expect(result?.unchecked).toEqual([{ resource: "other-db", error: "no answer within 0.1 s" }]);
    expect(gh.issue?.body).toContain("Not checked this time");
    expect(gh.issue?.body).toContain("`other-db`");
  });

  it("a provider that cannot be built for bad settings is a problem with the resource, and never shows a raw error", async () => {
    const { gh, check } = setup({
      "prod-db": async () => Promise.reject(new Error("password authentication failed for user timebox (postgres://timebox:hunter2@db)")),
    });
    gh.files.set("c1", policyText(SECOND));
    const result = await check.checkIfPolicyChanged(gh, "acme/access", "c1");
    expect(result?.problems).toEqual([{ resource: "other-db", subject: { kind: "settings" }, message: "resource other-db: setting `url_env` is wrong" }]);
    expect(result?.unchecked).toEqual([{ resource: "prod-db", error: "the provider failed unexpectedly (details in the app's logs)" }]);
    expect(gh.issue?.body).not.toContain("hunter2");
    expect(gh.issue?.body).toContain("`resources.other-db.settings`");
  });

  it("an invalid policy, or none, is not checked at providers; a policy that is gone closes the issue", async () => {
    const { pool, gh, check } = setup({ "prod-db": async (target) => (target === "db_admin" ? [diag("provider.target", "missing")] : []) });
    gh.files.set("bad", "version: 1\nresources: [\n");
    expect(await check.checkIfPolicyChanged(gh, "acme/access", "bad")).toBeUndefined();
    expect(pool.calls).toHaveLength(0);
    gh.files.set("c1", policyText());
    await check.checkIfPolicyChanged(gh, "acme/access", "c1");
    expect(gh.issue?.open).toBe(true);
    expect(await check.checkIfPolicyChanged(gh, "acme/access", "none")).toMatchObject({ problems: [], issue: "closed" });
    expect(gh.issue?.open).toBe(false);
  });
});

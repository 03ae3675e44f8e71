import { generateKeyPairSync } from "node:crypto";
import nock from "nock";
import {
  createGithubProvider,
  githubProviderFactory,
  parseTarget,
  roleSettingsKeys,
  settingsKeys,
  type GithubProvider,
} from "../../src/providers/github/index.js";
import { ProviderError, type ActiveGrant } from "../../src/providers/types.js";
import { errorTexts, makeActiveGrant } from "./contract.js";
import { FAKE_BASE_URL, FAKE_ORIGIN, FakeGitHub } from "./github-fake.js";

const TOKEN = "ghp_SuperSecretTokenValue0123456789abcdef";
const SETTINGS = { token_env: "TB_GH_TOKEN", base_url_env: "TB_GH_URL" };
const ENV = { TB_GH_TOKEN: TOKEN, TB_GH_URL: FAKE_BASE_URL };

function makeProvider(env: Record<string, string | undefined> = ENV, settings: Record<string, string> = SETTINGS): GithubProvider {
  return createGithubProvider({ resource: "github-prod", settings, env }, { retry: false, throttle: false });
}

/** What the lifecycle does: persist prior access, then grant. */
async function lifecycleGrant(p: GithubProvider, g: ActiveGrant, stillActive: ActiveGrant[] = []): Promise<ActiveGrant> {
  const withPrior = { ...g, priorAccess: await p.recordPriorAccess(g, stillActive) };
  await p.grant(withPrior);
  return withPrior;
}

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());

// -------------------------------------------------------------------------------------------------
describe("github provider: targets", () => {
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });

  test("parses teams and repositories", () => {
    expect(parseTarget("@acme/sre")).toEqual({ ok: true, value: expect.objectContaining({ kind: "team", org: "acme", slug: "sre", display: "@acme/sre" }) });
    expect(parseTarget("@acme/on_call-2")).toMatchObject({ ok: true, value: { kind: "team", slug: "on_call-2" } });
    expect(parseTarget("acme/prod.config")).toEqual({ ok: true, value: expect.objectContaining({ kind: "repo", owner: "acme", repo: "prod.config" }) });
  });

  test("suggests the lower-case slug", () => {
    const r = parseTarget("@acme/SRE");
    expect(r).toEqual({ ok: false, error: expect.stringContaining('did you mean "@acme/sre"') });
  });

  const hostile = [
    "../../admin",
    "@acme/../x",
    "@acme/..",
    "acme/..",
    "acme/.",
    "../acme",
    "acme/repo/extra",
    "@acme/sre/../../admin",
    "@acme/sre team",
    " acme/repo",
    "acme/repo ",
    "acme /repo",
    "@acme/sre\n",
    "acme/re%2e%2e",
    "acme%2Frepo",
    "@асme/sre", // Cyrillic "а"
    "@acme/ѕre", // Cyrillic "ѕ"
    "acme／repo", // full-width solidus
    "аcme/repo", // Cyrillic "а"
    "acme/repo\u200b", // zero-width space
    "@/sre",
    "@acme/",
    "/repo",
    "acme/",
    "-acme/repo",
    "@acme-/sre",
    "acme",
    "@acme",
    "",
    "acme\\repo",
    "acme/repo?x=1",
    "acme/repo#x",
  ];

  test.each(hostile)("rejects hostile target %j before any HTTP call", async (target) => {
    expect(parseTarget(target).ok).toBe(false);
    const fake = new FakeGitHub(TOKEN).install();
    try {
      const p = makeProvider();
      const g = makeActiveGrant("dev1", target);
      for (const call of [() => p.grant(g), () => p.revoke(g, []), () => p.isGranted(g), () => p.recordPriorAccess(g)]) {
        const err = await rejection(call());
        expect(err.retryable).toBe(false);
        expect(err.message).toMatch(/GitHub target|missing/);
      }
      const diags = await p.checkTarget(target);
      expect(diags).toEqual([expect.objectContaining({ path: "", line: 1, column: 1, rule: "provider.target", severity: "error" })]);
      expect(fake.requests).toEqual([]);
    } finally {
      fake.uninstall();
    }
  });

  test.each(["../admin", "dev 1", "dev1/x", "dеv1", "-dev1", "a".repeat(40), ""])("rejects hostile principal %j before any HTTP call", async (principal) => {
    const fake = new FakeGitHub(TOKEN).install();
    try {
      const p = makeProvider();
      const g = makeActiveGrant(principal, "@acme/sre");
      const err = await rejection(p.grant(g));
      expect(err.retryable).toBe(false);
      expect(err.message).toContain("is not a GitHub login");
      await rejection(p.revoke(g, []));
      await rejection(p.isGranted(g));
      expect(fake.requests).toEqual([]);
    } finally {
      fake.uninstall();
    }
  });

  test("bad role settings are refused before any HTTP call", async () => {
    const fake = new FakeGitHub(TOKEN).install();
    try {
      const p = makeProvider();
      const cases: Array<[string, ActiveGrant["roleSettings"], RegExp]> = [
        ["acme/app", { permission: "write" }, /must be one of pull, triage, push, maintain, admin/],
        ["acme/app", { team_role: "maintainer" }, /applies to team targets/],
        ["@acme/sre", { permission: "push" }, /applies to repository targets/],
        ["@acme/sre", { team_role: "owner" }, /member or maintainer/],
        ["@acme/sre", { colour: "red" }, /unknown GitHub role setting/],
      ];
      for (const [target, roleSettings, message] of cases) {
        const err = await rejection(p.grant(makeActiveGrant("dev1", target, { roleSettings })));
        expect(err.message).toMatch(message);
        expect(err.retryable).toBe(false);
      }
      expect(fake.requests).toEqual([]);
    } finally {
      fake.uninstall();
    }
  });
});

// -------------------------------------------------------------------------------------------------
describe("github provider: settings and credentials", () => {
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });

  test("factory", () => {
    expect(githubProviderFactory.id).toBe("github");
    expect(githubProviderFactory.settingsKeys).toEqual(["token_env", "app_id_env", "private_key_env", "installation_id_env", "base_url_env"]);
    expect(settingsKeys).toBe(githubProviderFactory.settingsKeys);
    expect(roleSettingsKeys).toEqual(["permission", "team_role"]);
    const p = githubProviderFactory.create({ resource: "r", settings: SETTINGS, env: ENV });
    expect(p.id).toBe("github");
    expect(p.listManaged).toBeUndefined();
  });

  test("a missing environment variable is named, and no value is shown", async () => {
    const p = makeProvider({ TB_GH_URL: FAKE_BASE_URL });
    const err = await rejection(p.isGranted(makeActiveGrant("dev1", "@acme/sre")));
    expect(err.message).toContain("TB_GH_TOKEN");
    expect(err.message).not.toContain(FAKE_BASE_URL);
    expect(err.retryable).toBe(false);
  });

  test.each([
    [{}, /needs its own credentials/],
    [{ token_env: "A", app_id_env: "B" }, /either `token_env` or the GitHub App settings/],
    [{ app_id_env: "B", private_key_env: "C" }, /also need `installation_id_env`/],
    [{ token_env: "not a name!" }, /must name an environment variable/],
    [{ token_env: "A", password: "hunter2" }, /unknown GitHub provider setting/],
  ] as Array<[Record<string, string>, RegExp]>)("bad settings %j", async (settings, message) => {
    const p = makeProvider({ A: "x", B: "1", C: "k" }, settings);
    const err = await rejection(p.checkTarget("@acme/sre"));
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain("hunter2");
  });

  test("a base URL with credentials in it is refused without showing it", async () => {
    const p = makeProvider({ TB_GH_TOKEN: TOKEN, TB_GH_URL: "https://user:s3cret@ghe.example/api/v3" });
    const err = await rejection(p.checkTarget("@acme/sre"));
    expect(err.message).toContain("TB_GH_URL");
    expect(err.message).not.toContain("s3cret");
  });

  test("acts as its own GitHub App installation, not with any other token", async () => {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
    });
    const scope = nock(FAKE_ORIGIN)
      .post("/api/v3/app/installations/4242/access_tokens")
      .matchHeader("authorization", /^bearer /i)
      .reply(201, { token: "ghs_InstallationToken0123456789", expires_at: new Date(Date.now() + 3600_000).toISOString() })
      .get("/api/v3/orgs/acme/teams/sre/memberships/dev1")
      .matchHeader("authorization", "token ghs_InstallationToken0123456789")
      .reply(200, { state: "active", role: "member" });
    const p = createGithubProvider(
      {
        resource: "github-prod",
        settings: { app_id_env: "TB_APP_ID", private_key_env: "TB_APP_KEY", installation_id_env: "TB_APP_INST", base_url_env: "TB_GH_URL" },
        env: { TB_APP_ID: "123", TB_APP_KEY: privateKey.replace(/\n/g, "\\n"), TB_APP_INST: "4242", TB_GH_URL: FAKE_BASE_URL },
      },
      { retry: false, throttle: false },
    );
    expect(await p.isGranted(makeActiveGrant("dev1", "@acme/sre"))).toBe(true);
    expect(scope.pendingMocks()).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------
describe("github provider: teams", () => {
  let fake: FakeGitHub;
  let p: GithubProvider;
  const team = "@acme/sre";

  beforeEach(() => {
    fake = new FakeGitHub(TOKEN);
    fake.addOrg("acme", ["dev1", "dev2", "lead"]);
    fake.addUser("dev1");
    fake.addUser("dev2");
    fake.addUser("lead");
    fake.addUser("outsider");
    fake.addTeam("acme", "sre");
    fake.install();
    p = makeProvider();
  });
  afterEach(() => {
    fake.uninstall();
    expect(nock.pendingMocks()).toEqual([]);
  });

  test("grant, isGranted, revoke", async () => {
    const g0 = makeActiveGrant("dev1", team);
    expect(await p.isGranted(g0)).toBe(false);
    const g = await lifecycleGrant(p, g0);
    expect(g.priorAccess).toEqual({ kind: "team", state: "none", role: "none" });
    expect(fake.membership("acme", "sre", "dev1")).toEqual({ role: "member", state: "active" });
    expect(await p.isGranted(g)).toBe(true);
    const summary = (await p.grant(g)).summary; // idempotent
    expect(summary).toBe("@dev1 is a member of team @acme/sre");
    expect(fake.writes()).toEqual(["PUT /orgs/acme/teams/sre/memberships/dev1"]);
    await p.revoke(g, []);
    expect(fake.membership("acme", "sre", "dev1")).toBeUndefined();
    expect(await p.isGranted(g)).toBe(false);
    await p.revoke(g, []); // idempotent
    expect(fake.writes()).toEqual(["PUT /orgs/acme/teams/sre/memberships/dev1", "DELETE /orgs/acme/teams/sre/memberships/dev1"]);
  });

  test("a person who was already a member stays one", async () => {
    fake.setMembership("acme", "sre", "dev1", "member");
    const g = await lifecycleGrant(p, makeActiveGrant("dev1", team));
    expect(g.priorAccess).toEqual({ kind: "team", state: "active", role: "member" });
    expect((await p.grant(g)).summary).toContain("already before this grant");
    await p.revoke(g, []);
    expect(fake.membership("acme", "sre", "dev1")).toEqual({ role: "member", state: "active" });
    expect(fake.writes()).toEqual([]);
  });

  test("a maintainer is never demoted by a member grant, nor removed at revoke", async () => {
    fake.setMembership("acme", "sre", "lead", "maintainer");
    const g = await lifecycleGrant(p, makeActiveGrant("lead", team));
    await p.revoke(g, []);
    expect(fake.membership("acme", "sre", "lead")).toEqual({ role: "maintainer", state: "active" });
    expect(fake.writes()).toEqual([]);
  });

  test("a maintainer grant over a prior membership is lowered back to member, not removed", async () => {
    fake.setMembership("acme", "sre", "dev1", "member");
    const g = await lifecycleGrant(p, makeActiveGrant("dev1", team, { roleSettings: { team_role: "maintainer" } }));
    expect(fake.membership("acme", "sre", "dev1")).toEqual({ role: "maintainer", state: "active" });
    expect(await p.isGranted(g)).toBe(true);
    await p.revoke(g, []);
    expect(fake.membership("acme", "sre", "dev1")).toEqual({ role: "member", state: "active" });
    expect(await p.isGranted(g)).toBe(false);
  });

  test("overlapping grants: revoking one keeps the membership another still gives", async () => {
    const g1 = await lifecycleGrant(p, makeActiveGrant("dev1", team));
    // The lifecycle passes the grants still in effect, so g1's membership is not g2's prior access.
    const g2 = await lifecycleGrant(p, makeActiveGrant("DEV1", "@ACME/sre"), [g1]);
    expect(g2.priorAccess).toEqual({ kind: "team", state: "none", role: "none" });
    await p.revoke(g1, [g2]);
    expect(fake.membership("acme", "sre", "dev1")).toEqual({ role: "member", state: "active" });
    expect(await p.isGranted(g2)).toBe(true);
    await p.revoke(g2, []);
    expect(fake.membership("acme", "sre", "dev1")).toBeUndefined();
  });

  test("overlapping grants keep prior access recorded by the first one", async () => {
    fake.setMembership("acme", "sre", "dev1", "member");
    const g1 = await lifecycleGrant(p, makeActiveGrant("dev1", team, { roleSettings: { team_role: "maintainer" } }));
    const g2 = await lifecycleGrant(p, makeActiveGrant("dev1", team, { roleSettings: { team_role: "maintainer" } }), [g1]);
    expect(g2.priorAccess).toEqual({ kind: "team", state: "active", role: "member" });
    await p.revoke(g1, [g2]);
    expect(fake.membership("acme", "sre", "dev1")?.role).toBe("maintainer");
    await p.revoke(g2, []);
    expect(fake.membership("acme", "sre", "dev1")).toEqual({ role: "member", state: "active" });
  });

  test("prior access recorded by an overlapping grant but removed since is not carried forward", async () => {
    fake.setMembership("acme", "sre", "dev1", "member");
    const g1 = await lifecycleGrant(p, makeActiveGrant("dev1", team));
    fake.teams.get("acme/sre")!.delete("dev1"); // an admin removed them meanwhile
    const g2 = await lifecycleGrant(p, makeActiveGrant("dev1", team), [g1]);
    expect(g2.priorAccess).toEqual({ kind: "team", state: "none", role: "none" });
    await p.revoke(g1, [g2]);
    await p.revoke(g2, []);
    expect(fake.membership("acme", "sre", "dev1")).toBeUndefined();
  });

  test("without stillActive, access seen before a grant counts as prior (kept: the safe side)", async () => {
    const g1 = await lifecycleGrant(p, makeActiveGrant("dev1", team));
    const g2 = await lifecycleGrant(p, makeActiveGrant("dev1", team));
    expect(g2.priorAccess).toEqual({ kind: "team", state: "active", role: "member" });
    await p.revoke(g1, [g2]);
    await p.revoke(g2, []);
    expect(fake.membership("acme", "sre", "dev1")).toBeDefined();
  });

  test("another person's or another team's grant does not keep the membership", async () => {
    fake.addTeam("acme", "dba");
    const g = await lifecycleGrant(p, makeActiveGrant("dev1", team));
    const other = [makeActiveGrant("dev2", team), makeActiveGrant("dev1", "@acme/dba"), makeActiveGrant("dev1", "acme/sre")];
    await p.revoke(g, other);
    expect(fake.membership("acme", "sre", "dev1")).toBeUndefined();
  });

  test("someone outside the organisation: a pending invitation is not access", async () => {
    const g = makeActiveGrant("outsider", team);
    const withPrior = { ...g, priorAccess: await p.recordPriorAccess(g) };
    const err = await rejection(p.grant(withPrior));
    expect(err.message).toContain("@outsider is not a member of the organisation acme; the invitation is pending");
    expect(err.retryable).toBe(false);
    // the invitation the PUT caused was withdrawn: a failed grant changes nothing
    expect(fake.membership("acme", "sre", "outsider")).toBeUndefined();
    expect(await p.isGranted(withPrior)).toBe(false);
  });

  test("a pending invitation from before Timebox is left alone", async () => {
    fake.setMembership("acme", "sre", "outsider", "member", "pending");
    const g = makeActiveGrant("outsider", team);
    const withPrior = { ...g, priorAccess: await p.recordPriorAccess(g) };
    expect(withPrior.priorAccess).toEqual({ kind: "team", state: "pending", role: "member" });
    expect(await p.isGranted(withPrior)).toBe(false);
    await rejection(p.grant(withPrior));
    await p.revoke(withPrior, []);
    expect(fake.membership("acme", "sre", "outsider")).toEqual({ role: "member", state: "pending" });
  });

  test("checkTarget", async () => {
    expect(await p.checkTarget(team, "dev1")).toEqual([]);
    expect(await p.checkTarget(team)).toEqual([]);
    const bad = await p.checkTarget("@acme/nope", "dev1");
    expect(bad).toEqual([{ path: "", line: 1, column: 1, rule: "provider.target", severity: "error", message: expect.stringContaining("@acme/nope") }]);
    const nobody = await p.checkTarget(team, "ghost");
    expect(nobody).toEqual([
      { path: "", line: 1, column: 1, rule: "provider.principal", severity: "error", message: expect.stringContaining("@ghost does not exist") },
    ]);
    const org = await p.checkTarget(team, "acme");
    expect(org).toEqual([expect.objectContaining({ rule: "provider.principal", message: expect.stringContaining("not a user") })]);
    expect(fake.writes()).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------
describe("github provider: repositories", () => {
  let fake: FakeGitHub;
  let p: GithubProvider;
  const repo = "acme/app";

  beforeEach(() => {
    fake = new FakeGitHub(TOKEN);
    fake.addOrg("acme", ["dev1", "dev2", "boss"]);
    for (const u of ["dev1", "dev2", "boss", "outsider"]) fake.addUser(u);
    fake.addRepo("acme", "app");
    fake.install();
    p = makeProvider();
  });
  afterEach(() => {
    fake.uninstall();
    expect(nock.pendingMocks()).toEqual([]);
  });

  test("grant push (the default), read back, revoke removes the collaborator", async () => {
    const g = await lifecycleGrant(p, makeActiveGrant("dev1", repo));
    expect(g.priorAccess).toEqual({ kind: "repo", permission: "none", role_name: "none", direct: "none" });
    expect(fake.effective(repo, "dev1")).toBe("push");
    expect(await p.isGranted(g)).toBe(true);
    expect((await p.grant(g)).summary).toBe("@dev1 has push on acme/app");
    await p.revoke(g, []);
    expect(fake.effective(repo, "dev1")).toBe("none");
    expect(await p.isGranted(g)).toBe(false);
    await p.revoke(g, []);
    expect(fake.writes()).toEqual(["PUT /repos/acme/app/collaborators/dev1", "DELETE /repos/acme/app/collaborators/dev1"]);
  });

  test("the role's permission setting is used", async () => {
    const g = await lifecycleGrant(p, makeActiveGrant("dev1", repo, { roleSettings: { permission: "maintain" } }));
    expect(fake.effective(repo, "dev1")).toBe("maintain");
    expect(await p.isGranted(g)).toBe(true);
    expect(await p.isGranted({ ...g, roleSettings: { permission: "admin" } })).toBe(false);
  });

  test("an admin stays admin when a grant gives push", async () => {
    fake.setDirect(repo, "boss", "admin");
    const g = await lifecycleGrant(p, makeActiveGrant("boss", repo, { roleSettings: { permission: "push" } }));
    expect(g.priorAccess).toMatchObject({ kind: "repo", permission: "admin" });
    expect(await p.isGranted(g)).toBe(true);
    await p.revoke(g, []);
    expect(fake.effective(repo, "boss")).toBe("admin");
    expect(fake.writes()).toEqual([]);
  });

  test("a lower direct permission held before is restored, not removed", async () => {
    fake.setDirect(repo, "dev1", "triage");
    const g = await lifecycleGrant(p, makeActiveGrant("dev1", repo));
    expect(g.priorAccess).toEqual({ kind: "repo", permission: "triage", role_name: "triage", direct: "triage" });
    expect(fake.effective(repo, "dev1")).toBe("push");
    await p.revoke(g, []);
    expect(fake.effective(repo, "dev1")).toBe("triage");
    expect(fake.repo(repo).direct.get("dev1")).toBe("triage");
  });

  test("access through the organisation's base role is left to it: the direct collaborator is removed", async () => {
    fake.repo(repo).base = "pull";
    for (let i = 0; i < 150; i++) fake.setDirect(repo, fake.addUser(`filler${i}`), "pull"); // paginated lookup
    const g = await lifecycleGrant(p, makeActiveGrant("dev1", repo));
    expect(g.priorAccess).toEqual({ kind: "repo", permission: "pull", role_name: "read", direct: "none" });
    expect(fake.requests.filter((r) => r === "GET /repos/acme/app/collaborators")).toHaveLength(2);
    await p.revoke(g, []);
    expect(fake.repo(repo).direct.has("dev1")).toBe(false);
    expect(fake.effective(repo, "dev1")).toBe("pull");
  });

  test("overlapping grants keep the highest permission still given", async () => {
    const push = await lifecycleGrant(p, makeActiveGrant("dev1", repo, { roleSettings: { permission: "push" } }));
    const admin = await lifecycleGrant(p, makeActiveGrant("dev1", repo, { roleSettings: { permission: "admin" } }));
    expect(fake.effective(repo, "dev1")).toBe("admin");
    await p.revoke(admin, [push]);
    expect(fake.effective(repo, "dev1")).toBe("push");
    expect(await p.isGranted(push)).toBe(true);
    await p.revoke(push, []);
    expect(fake.effective(repo, "dev1")).toBe("none");
  });

  test("overlapping repository grants: the second records the first's prior access", async () => {
    fake.setDirect(repo, "dev1", "pull");
    const push = await lifecycleGrant(p, makeActiveGrant("dev1", repo, { roleSettings: { permission: "push" } }));
    const again = await lifecycleGrant(p, makeActiveGrant("dev1", repo, { roleSettings: { permission: "push" } }), [push]);
    expect(again.priorAccess).toEqual({ kind: "repo", permission: "pull", role_name: "pull", direct: "pull" });
    const admin = await lifecycleGrant(p, makeActiveGrant("dev1", repo, { roleSettings: { permission: "admin" } }), [push, again]);
    expect(admin.priorAccess).toEqual({ kind: "repo", permission: "pull", role_name: "pull", direct: "pull" });
    await p.revoke(push, [again, admin]);
    await p.revoke(admin, [again]);
    expect(fake.effective(repo, "dev1")).toBe("push");
    await p.revoke(again, []);
    expect(fake.effective(repo, "dev1")).toBe("pull");
  });

  test("revoking the lower of two overlapping grants changes nothing", async () => {
    const push = await lifecycleGrant(p, makeActiveGrant("dev1", repo, { roleSettings: { permission: "push" } }));
    const admin = await lifecycleGrant(p, makeActiveGrant("dev1", repo, { roleSettings: { permission: "admin" } }));
    const before = fake.writes().length;
    await p.revoke(push, [admin]);
    expect(fake.effective(repo, "dev1")).toBe("admin");
    expect(fake.writes()).toHaveLength(before);
  });

  test("access raised by someone else above the grant is not Timebox's to lower", async () => {
    const g = await lifecycleGrant(p, makeActiveGrant("dev1", repo));
    fake.setDirect(repo, "dev1", "admin");
    await p.revoke(g, []);
    expect(fake.effective(repo, "dev1")).toBe("admin");
  });

  test("an outside collaborator's invitation is not access: clear error, invitation withdrawn", async () => {
    const g = makeActiveGrant("outsider", repo);
    const withPrior = { ...g, priorAccess: await p.recordPriorAccess(g) };
    const err = await rejection(p.grant(withPrior));
    expect(err.message).toContain("@outsider is not a member of the organisation or a collaborator of acme/app; the invitation is pending");
    expect(err.retryable).toBe(false);
    expect(fake.repo(repo).invitations.size).toBe(0);
    expect(await p.isGranted(withPrior)).toBe(false);
  });

  test("checkTarget", async () => {
    expect(await p.checkTarget(repo, "dev1")).toEqual([]);
    expect(await p.checkTarget("acme/nope")).toEqual([
      { path: "", line: 1, column: 1, rule: "provider.target", severity: "error", message: expect.stringContaining("acme/nope") },
    ]);
    const both = await p.checkTarget("acme/nope", "ghost");
    expect(both.map((d) => d.rule)).toEqual(["provider.target", "provider.principal"]);
  });
});

// -------------------------------------------------------------------------------------------------
describe("github provider: errors", () => {
  const scope = () => nock(FAKE_ORIGIN);
  const membership = "/api/v3/orgs/acme/teams/sre/memberships/dev1";
  const g = makeActiveGrant("dev1", "@acme/sre");

  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });

  test("404 on DELETE is fine (already gone)", async () => {
    scope().get(membership).reply(200, { state: "active", role: "member" }).delete(membership).reply(404, { message: "Not Found" });
    await expect(makeProvider().revoke(g, [])).resolves.toBeUndefined();
  });

  test("a repository collaborator already gone is fine", async () => {
    const rg = makeActiveGrant("dev1", "acme/app");
    scope()
      .get("/api/v3/repos/acme/app/collaborators/dev1/permission")
      .reply(200, { permission: "write", role_name: "write", user: { login: "dev1" } })
      .delete("/api/v3/repos/acme/app/collaborators/dev1")
      .reply(404, { message: "Not Found" });
    await expect(makeProvider().revoke(rg, [])).resolves.toBeUndefined();
  });

  test("5xx is a retryable ProviderError with status and reason", async () => {
    scope().get(membership).reply(502, { message: "Server Error" });
    const err = await rejection(makeProvider().isGranted(g));
    expect(err.retryable).toBe(true);
    expect(err.message).toBe("GitHub: could not read @dev1's membership of team @acme/sre: 502 Server Error");
  });

  test("4xx is not retryable; the validation detail is kept short", async () => {
    scope()
      .get(membership)
      .reply(404, { message: "Not Found" })
      .put(membership)
      .reply(422, { message: "Validation Failed", errors: [{ code: "custom", message: "Team synchronization is enabled" }] });
    const err = await rejection(makeProvider().grant(g));
    expect(err.retryable).toBe(false);
    expect(err.message).toBe("GitHub: could not add @dev1 to team @acme/sre as member: 422 Validation Failed: Team synchronization is enabled");
  });

  test.each([
    [403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999" }, "API rate limit exceeded"],
    [403, { "retry-after": "120" }, "You have exceeded a secondary rate limit"],
    [429, {}, "Too many requests"],
  ] as Array<[number, Record<string, string>, string]>)("rate limits (%d) are retryable", async (status, headers, message) => {
    scope().get(membership).reply(status, { message }, headers);
    const err = await rejection(makeProvider().isGranted(g));
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(`${status} ${message}`);
  });

  test("403 without a rate limit is not retryable", async () => {
    scope().get(membership).reply(403, { message: "Resource not accessible by personal access token" });
    const err = await rejection(makeProvider().isGranted(g));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("403 Resource not accessible");
  });

  test("a hung GitHub times out as a retryable error", async () => {
    scope().get(membership).delay(2000).reply(200, { state: "active", role: "member" });
    const p = createGithubProvider({ resource: "github-prod", settings: SETTINGS, env: ENV }, { retry: false, throttle: false, timeoutMs: 100 });
    const err = await rejection(p.isGranted(g));
    expect(err.retryable).toBe(true);
    expect(err.message).toBe("GitHub: could not read @dev1's membership of team @acme/sre: network error: timed out");
  });

  test("network failures are retryable and summarised", async () => {
    scope().get(membership).replyWithError({ code: "ECONNRESET", message: "socket hang up" });
    const err = await rejection(makeProvider().isGranted(g));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/^GitHub: could not read @dev1's membership of team @acme\/sre: network error: /);
  });

  test("the token never appears in any error, even when GitHub echoes it", async () => {
    const fake = new FakeGitHub("ghp_TheRightToken000000000000").install();
    try {
      fake.addOrg("acme", ["dev1"]);
      fake.addUser("dev1");
      fake.addTeam("acme", "sre");
      const p = makeProvider(); // uses TOKEN, which the fake does not accept (and echoes back)
      const calls = [
        () => p.checkTarget("@acme/sre", "dev1"),
        () => p.grant(g),
        () => p.revoke(g, []),
        () => p.isGranted(g),
        () => p.recordPriorAccess(g),
        () => p.grant(makeActiveGrant("dev1", "acme/app")),
      ];
      for (const call of calls) {
        const err = await rejection(call());
        expect(err.message).toContain("401 Bad credentials");
        expect(err.retryable).toBe(false);
        const text = errorTexts(err);
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain(TOKEN.slice(4, 20));
        expect(text.toLowerCase()).not.toContain("authorization");
      }
    } finally {
      fake.uninstall();
    }
    // Also through a server error whose body carries the token.
    scope()
      .get(membership)
      .reply(500, { message: `boom ${TOKEN}` });
    const err = await rejection(makeProvider().isGranted(g));
    expect(errorTexts(err)).not.toContain(TOKEN);
    expect(err.message).toContain("500 boom [REDACTED]");
  });
});

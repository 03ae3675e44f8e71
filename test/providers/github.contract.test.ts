/**
 * The shared provider contract, run against the GitHub provider twice (team targets and
 * repository targets), over the stateful fake GitHub served through nock.
 */
import nock from "nock";
import { createGithubProvider, type GithubProvider } from "../../src/providers/github/index.js";
import type { ActiveGrant } from "../../src/providers/types.js";
import { describeProviderContract, type ContractFixture } from "./contract.js";
import { FAKE_BASE_URL, FakeGitHub } from "./github-fake.js";

const TOKEN = "ghp_ContractSuiteToken0123456789abcdef";
const BAD_TOKEN = "ghp_WrongContractToken9876543210fedcba";
const settings = { token_env: "TB_GH_TOKEN", base_url_env: "TB_GH_URL" };
const build = (token: string): GithubProvider =>
  createGithubProvider({ resource: "contract", settings, env: { TB_GH_TOKEN: token, TB_GH_URL: FAKE_BASE_URL } }, { retry: false, throttle: false });

function fixture(kind: "team" | "repo"): () => Promise<ContractFixture> {
  return async (): Promise<ContractFixture> => {
    nock.disableNetConnect();
    const fake = new FakeGitHub(TOKEN).install();
    fake.addOrg("acme");
    let n = 0;
    return {
      provider: build(TOKEN),
      resource: "contract",
      roleSettings: (kind === "repo" ? { permission: "push" } : {}) as ActiveGrant["roleSettings"],
      makePrincipal: async () => {
        const login = fake.addUser(`person${++n}`);
        fake.addOrgMember("acme", login);
        return login;
      },
      makeTarget: async () => (kind === "team" ? fake.addTeam("acme", `team${++n}`) : fake.addRepo("acme", `repo${++n}`)),
      missingTarget: () => (kind === "team" ? "@acme/no-such-team" : "acme/no-such-repo"),
      missingPrincipal: () => "no-such-user",
      grantOutsideTimebox: async (p, t) => {
        if (kind === "team") fake.setMembership("acme", t.slice("@acme/".length), p, "member");
        else fake.setDirect(t, p, "push");
      },
      hasAccess: async (p, t) =>
        kind === "team"
          ? fake.membership("acme", t.slice("@acme/".length), p)?.state === "active"
          : ["push", "maintain", "admin"].includes(fake.effective(t, p)),
      withBadCredentials: async () => ({ provider: build(BAD_TOKEN), secrets: [BAD_TOKEN] }),
      teardown: async () => {
        fake.uninstall();
        expect(nock.pendingMocks()).toEqual([]);
        nock.enableNetConnect();
      },
    };
  };
}

describeProviderContract("github (team membership)", fixture("team"));
describeProviderContract("github (repository permission)", fixture("repo"));

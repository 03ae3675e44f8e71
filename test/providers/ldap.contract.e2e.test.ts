/**
 * The shared provider contract, run against the LDAP provider on a real slapd twice: a
 * groupOfNames (`member`, principals by DN) and a posixGroup (`memberUid`, principals by login
 * name resolved under base_dn). The provider binds as the least-privilege account of
 * test/providers/ldap-server.ts, never as the rootdn.
 */
import { ldapProviderFactory } from "../../src/providers/ldap/index.js";
import { describeProviderContract, type ContractFixture } from "./contract.js";
import { describeWithSlapd, GROUPS, PEOPLE, startTestSlapd } from "./ldap-server.js";

function fixture(kind: "member" | "memberUid"): () => Promise<ContractFixture> {
  return async () => {
    const ldap = await startTestSlapd();
    const build = (env: Record<string, string>) => ldapProviderFactory.create({ resource: "contract", settings: ldap.settings, env, timeoutMs: 10_000 });
    return {
      provider: build(ldap.env),
      resource: "contract",
      roleSettings: { member_attribute: kind },
      // The member value is the principal itself: a DN for `member`, a login name for `memberUid`.
      makePrincipal: async () => {
        const uid = ldap.unique("person");
        const dn = await ldap.addUser(uid);
        return kind === "member" ? dn : uid;
      },
      makeTarget: async () => ldap.addGroup(ldap.unique("group"), kind === "member" ? "groupOfNames" : "posixGroup"),
      missingTarget: () => `cn=no-such-group,${GROUPS}`,
      missingPrincipal: () => (kind === "member" ? `uid=no-such-person,${PEOPLE}` : "no-such-person"),
      grantOutsideTimebox: async (p, t) => ldap.addValue(t, kind, p),
      hasAccess: async (p, t) => ldap.holds(t, kind, p),
      withBadCredentials: async () => {
        const wrong = "Wr0ng-LDAP-Passw0rd-for-contract";
        return { provider: build({ ...ldap.env, LDAP_BIND_PASSWORD: wrong }), secrets: [wrong, ldap.timeboxPassword] };
      },
      teardown: () => ldap.stop(),
    };
  };
}

describeWithSlapd("ldap provider on slapd", () => {
  describeProviderContract("ldap (groupOfNames, member)", fixture("member"));
  describeProviderContract("ldap (posixGroup, memberUid)", fixture("memberUid"));
});

/**
 * The end-to-end story for the `ldap` provider, on the emulated GitHub and a real slapd: PRs add
 * grants for a groupOfNames (`member`, dev1 named by DN in `identities`, dev2 by login name) and a
 * posixGroup (`memberUid`) → approve → merge → the people really are members (read by the
 * directory's administrator, not the provider) → the clock passes expiry → reconcile → removed,
 * Timebox commits remove the files, the PRs get their closing comments. dev3, a member before
 * Timebox, stays a member after their grant ends.
 */
import { jest } from "@jest/globals";
import { startAccessRepo, type AccessRepo } from "../support/access-repo.js";
import { markedComments, mergeApprovedGrant } from "../support/lifecycle-stage.js";
import { expectAppliedOnce, expectNextReconcileCommitsNothing, expectRemovedAtExpiry, policyWithResource } from "../support/provider-story.js";
import { describeWithSlapd, PEOPLE, startTestSlapd, type TestSlapd } from "../providers/ldap-server.js";

jest.setTimeout(60_000);

const HOUR = 3600_000;
const OPS = "cn=ops,ou=groups,dc=example,dc=org";
const SHELL = "cn=shell,ou=groups,dc=example,dc=org";
const DEV1 = `uid=dev1,${PEOPLE}`;

/** The fixture policy plus a directory resource; dev1 is mapped to a DN, dev2 and dev3 go by login name. */
function policyWithLdap(): string {
  return policyWithResource(
    `  dev1: { postgres: dev1_login, ldap: "${DEV1}" }\n`,
    `  corp-directory:
    provider: ldap
    settings: { url_env: LDAP_URL, bind_dn_env: LDAP_BIND_DN, bind_password_env: LDAP_BIND_PASSWORD, base_dn: "${PEOPLE}" }
    roles:
      ops:
        target: "${OPS}"
        max_duration: 8h
        approvers: ["@acme/sre", "sre1"]
        approvals: 1
      shell:
        target: "${SHELL}"
        settings: { member_attribute: memberUid }
        max_duration: 8h
        approvers: ["@acme/sre", "sre1"]
        approvals: 1
`,
  );
}

describeWithSlapd("ldap provider, end to end", () => {
  let ldap: TestSlapd;
  let env: AccessRepo;
  beforeEach(async () => {
    ldap = await startTestSlapd();
    for (const uid of ["dev1", "dev2", "dev3"]) await ldap.addUser(uid);
    await ldap.addGroup("ops", "groupOfNames", [`uid=dev3,${PEOPLE}`]);
    await ldap.addGroup("shell", "posixGroup");
    env = await startAccessRepo({ policy: policyWithLdap(), env: ldap.env });
  });
  afterEach(async () => {
    await env?.stop();
    await ldap?.stop();
  });

  test("group memberships appear on merge and disappear at expiry; prior membership stays", async () => {
    const { gh, probot, clock } = env;
    const dev1 = await mergeApprovedGrant(gh, probot, { requester: "dev1", path: "grants/dev1-ops.yaml", fields: { resource: "corp-directory", role: "ops" } });
    const dev2 = await mergeApprovedGrant(gh, probot, {
      requester: "dev2",
      path: "grants/dev2-shell.yaml",
      fields: { resource: "corp-directory", role: "shell" },
      advanceMs: 0,
    });
    const dev3 = await mergeApprovedGrant(gh, probot, {
      requester: "dev3",
      path: "grants/dev3-ops.yaml",
      fields: { resource: "corp-directory", role: "ops" },
      advanceMs: 0,
    });
    expectAppliedOnce(gh, [dev1, dev2, dev3]);
    expect(markedComments(gh, dev1.number, "applied")[0].body).toContain(`\`${DEV1}\` is a member of LDAP group \`${OPS}\``);
    expect(markedComments(gh, dev3.number, "applied")[0].body).toContain("already before this grant; kept after it ends");

    // Read by the directory's administrator, not through the provider.
    expect((await ldap.values(OPS, "member")).sort()).toEqual([DEV1, `uid=dev3,${PEOPLE}`]);
    expect(await ldap.values(SHELL, "memberUid")).toEqual(["dev2"]);

    clock.advance(2 * HOUR);
    await env.runtime.reconcileAll();
    expect(await ldap.values(OPS, "member")).toEqual([`uid=dev3,${PEOPLE}`]);
    expect(await ldap.values(SHELL, "memberUid")).toEqual([]);
    expectRemovedAtExpiry(gh, [dev1, dev2, dev3]);

    // Nothing more happens on a later tick; dev3 keeps the membership they had before Timebox.
    await expectNextReconcileCommitsNothing(env);
    expect(await ldap.holds(OPS, "member", `uid=dev3,${PEOPLE}`)).toBe(true);
  });
});

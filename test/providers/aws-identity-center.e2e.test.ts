/**
 * The `aws-identity-center` provider beyond the shared contract: strict targets (no API call
 * before parsing), settings validation, the session-duration note at apply, overlapping grants
 * and prior access through `stillActive`, and provisioning that AWS reports IN_PROGRESS first
 * (moto answers SUCCEEDED at once, so that part runs against a scripted client).
 */
import type { IdentitystoreClient } from "@aws-sdk/client-identitystore";
import type { SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { createAwsIdentityCenterProvider } from "../../src/providers/aws-identity-center/index.js";
import { AwsIdentityCenterProvider } from "../../src/providers/aws-identity-center/provider.js";
import { parseSessionDuration, parseTarget } from "../../src/providers/aws-identity-center/target.js";
import { ProviderError } from "../../src/providers/types.js";
import { makeActiveGrant } from "./contract.js";
import { describeWithMoto, ENDPOINT_ENV, freePort, startTestMoto, type TestMoto } from "./moto-server.js";

const SETTINGS = {
  instance_arn: "arn:aws:sso:::instance/ssoins-0123456789abcdef",
  identity_store_id: "d-0123456789",
  region: "eu-west-1",
  endpoint_env: ENDPOINT_ENV,
};

describe("aws-identity-center targets and settings", () => {
  test("targets are <12-digit account>/<permission set name>, nothing else", () => {
    expect(parseTarget("123456789012/ReadOnly")).toEqual({ ok: true, value: { accountId: "123456789012", permissionSetName: "ReadOnly" } });
    for (const bad of [
      "12345678901/ReadOnly",
      "1234567890123/ReadOnly",
      "123456789012",
      "123456789012/",
      "123456789012/a/b",
      "abcdefghijkl/X",
      "123456789012/has space",
    ]) {
      expect(parseTarget(bad).ok).toBe(false);
    }
    expect(parseTarget(`123456789012/${"x".repeat(33)}`).ok).toBe(false);
  });

  test("session durations are ISO 8601 hours, minutes, seconds", () => {
    expect(parseSessionDuration("PT1H")).toBe(3600_000);
    expect(parseSessionDuration("PT12H")).toBe(12 * 3600_000);
    expect(parseSessionDuration("PT1H30M")).toBe(90 * 60_000);
    expect(parseSessionDuration("P1D")).toBeUndefined();
    expect(parseSessionDuration("PT")).toBeUndefined();
  });

  test("bad settings are refused when the provider is built", () => {
    const build = (settings: Record<string, string>) => () => createAwsIdentityCenterProvider({ resource: "aws", settings, env: {} });
    expect(build({ ...SETTINGS, secret_key: "x" })).toThrow("unknown setting `secret_key`");
    expect(build({ ...SETTINGS, instance_arn: "ssoins-1" })).toThrow("`instance_arn`");
    expect(build({ ...SETTINGS, identity_store_id: "store" })).toThrow("`identity_store_id`");
    expect(build({ ...SETTINGS, region: "Europe" })).toThrow("`region`");
    expect(build({ ...SETTINGS, endpoint_env: "http://localhost" })).toThrow("`endpoint_env`");
  });

  test("a malformed target is reported before any API call", async () => {
    // The endpoint is a port nobody listens on: any request would fail the call.
    const provider = createAwsIdentityCenterProvider({ resource: "aws", settings: SETTINGS, env: { [ENDPOINT_ENV]: `http://127.0.0.1:${await freePort()}` } });
    try {
      const diags = await provider.checkTarget("prod/ReadOnly");
      expect(diags).toEqual([expect.objectContaining({ rule: "provider.target", severity: "error" })]);
      const g = makeActiveGrant("dev1@example.com", "prod/ReadOnly");
      await expect(provider.grant(g)).rejects.toThrow(/account id must be 12 digits/);
      await expect(provider.revoke(g)).rejects.toBeInstanceOf(ProviderError);
      await expect(provider.isGranted(g)).rejects.toThrow(/account id must be 12 digits/);
    } finally {
      await provider.close();
    }
  });
});

/** A scripted SSO admin client: the statuses AWS reports, in order. */
function scripted(creation: string[], options: { failureReason?: string } = {}) {
  const calls: string[] = [];
  let assigned = false;
  const status = (s: string) => ({ Status: s, RequestId: "req-1", FailureReason: s === "FAILED" ? options.failureReason : undefined });
  const sso = {
    send: async (command: { constructor: { name: string } }) => {
      const name = command.constructor.name;
      calls.push(name);
      switch (name) {
        case "ListPermissionSetsCommand":
          return { PermissionSets: ["arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-1"] };
        case "DescribePermissionSetCommand":
          return { PermissionSet: { Name: "ReadOnly", SessionDuration: "PT1H" } };
        case "ListAccountAssignmentsCommand":
          return { AccountAssignments: assigned ? [{ PrincipalType: "USER", PrincipalId: "user-1" }] : [] };
        case "CreateAccountAssignmentCommand":
        case "DescribeAccountAssignmentCreationStatusCommand": {
          const s = creation.shift() ?? "SUCCEEDED";
          if (s === "SUCCEEDED") assigned = true;
          return { AccountAssignmentCreationStatus: status(s) };
        }
        default:
          throw new Error(`unexpected ${name}`);
      }
    },
    destroy: () => undefined,
  } as unknown as SSOAdminClient;
  const identity = { send: async () => ({ UserId: "user-1" }), destroy: () => undefined } as unknown as IdentitystoreClient;
  const provider = new AwsIdentityCenterProvider({
    resource: "aws",
    instanceArn: SETTINGS.instance_arn,
    identityStoreId: SETTINGS.identity_store_id,
    sso,
    identity,
    pollIntervalMs: 5,
    provisioningTimeoutMs: 2000,
  });
  return { provider, calls };
}

describe("aws-identity-center provisioning status (scripted client: moto never reports IN_PROGRESS)", () => {
  test("grant waits while the assignment is IN_PROGRESS and resolves once it SUCCEEDED", async () => {
    const { provider, calls } = scripted(["IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"]);
    const g = makeActiveGrant("dev1@example.com", "123456789012/ReadOnly", { expiresAt: new Date(Date.now() + 3600_000) });
    await provider.grant(g);
    expect(calls.filter((c) => c === "DescribeAccountAssignmentCreationStatusCommand")).toHaveLength(2);
    expect(await provider.isGranted(g)).toBe(true);
  });

  test("a FAILED provisioning is a retryable error carrying AWS's reason", async () => {
    const { provider } = scripted(["IN_PROGRESS", "FAILED"], { failureReason: "Received a 404 status error: account not in organization" });
    const err = await provider.grant(makeActiveGrant("dev1@example.com", "123456789012/ReadOnly")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).message).toContain("account not in organization");
    expect((err as ProviderError).retryable).toBe(true);
  });

  test("provisioning that never finishes is given up within the bound", async () => {
    const { provider } = scripted(Array(10_000).fill("IN_PROGRESS"));
    await expect(provider.grant(makeActiveGrant("dev1@example.com", "123456789012/ReadOnly"))).rejects.toThrow("still in progress");
  });
});

describeWithMoto("aws-identity-center provider on moto", () => {
  let moto: TestMoto;
  let provider: AwsIdentityCenterProvider;
  beforeAll(async () => {
    moto = await startTestMoto();
    provider = createAwsIdentityCenterProvider({ resource: "aws", settings: moto.settings, env: moto.env, timeoutMs: 10_000 }, { pollIntervalMs: 20 });
  }, 30_000);
  afterAll(async () => {
    await provider?.close();
    await moto?.stop();
  });

  async function fresh(sessionDuration = "PT1H"): Promise<{ user: string; userId: string; target: string; account: string; ps: string }> {
    const user = `${moto.unique("dev")}@example.com`;
    const userId = await moto.addUser(user);
    const ps = moto.unique("PS");
    await moto.addPermissionSet(ps, sessionDuration);
    const account = moto.account();
    return { user, userId, target: `${account}/${ps}`, account, ps };
  }

  test("the apply summary says when the permission set's sessions outlive the grant", async () => {
    const long = await fresh("PT12H");
    const g = makeActiveGrant(long.user, long.target, { expiresAt: new Date(Date.now() + 2 * 3600_000) });
    const { summary } = await provider.grant(g);
    expect(summary).toContain(`assigned permission set ${long.ps} in account ${long.account} to ${long.user}`);
    expect(summary).toContain("session duration (12 h) is longer than the grant");
    await provider.revoke(g);

    const short = await fresh("PT1H");
    const g2 = makeActiveGrant(short.user, short.target, { expiresAt: new Date(Date.now() + 4 * 3600_000) });
    expect((await provider.grant(g2)).summary).not.toContain("session duration");
    await provider.revoke(g2);
  });

  test("the assignment is the user's id under the permission set, read back by the administrator", async () => {
    const f = await fresh();
    const g = makeActiveGrant(f.user, f.target);
    await provider.grant(g);
    await provider.grant(g);
    // One assignment, though moto would record a duplicate per CreateAccountAssignment.
    expect(await moto.assignedUserIds(f.account, f.ps)).toEqual([f.userId]);
    await provider.revoke(g);
    expect(await moto.assignedUserIds(f.account, f.ps)).toEqual([]);
  });

  test("revoke keeps the assignment while another live grant of the same user and target needs it", async () => {
    const f = await fresh();
    const g1 = makeActiveGrant(f.user, f.target);
    const p1 = await provider.recordPriorAccess(g1, []);
    expect(p1).toEqual({ assignment: "absent" });
    await provider.grant({ ...g1, priorAccess: p1 });
    const g2 = makeActiveGrant(f.user, f.target);
    // Present, but explained by g1 (which found it absent): not prior access.
    const p2 = await provider.recordPriorAccess(g2, [{ ...g1, priorAccess: p1 }]);
    expect(p2).toEqual({ assignment: "absent" });
    await provider.grant({ ...g2, priorAccess: p2 });
    await provider.revoke({ ...g2, priorAccess: p2 }, [{ ...g1, priorAccess: p1 }]);
    expect(await moto.assignedUserIds(f.account, f.ps)).toEqual([f.userId]);
    await provider.revoke({ ...g1, priorAccess: p1 }, []);
    expect(await moto.assignedUserIds(f.account, f.ps)).toEqual([]);
  });

  test("an assignment made outside Timebox is recorded as prior and kept", async () => {
    const f = await fresh();
    await moto.assign(f.account, f.ps, f.userId);
    const g = makeActiveGrant(f.user, f.target);
    const prior = await provider.recordPriorAccess(g, []);
    expect(prior).toEqual({ assignment: "present" });
    await provider.grant({ ...g, priorAccess: prior });
    await provider.revoke({ ...g, priorAccess: prior }, []);
    expect(await moto.assignedUserIds(f.account, f.ps)).toEqual([f.userId]);
  });

  test("grant names a missing user or permission set without retrying", async () => {
    const f = await fresh();
    const noUser = await provider.grant(makeActiveGrant("nobody@example.com", f.target)).catch((e: unknown) => e);
    expect(noUser).toBeInstanceOf(ProviderError);
    expect((noUser as ProviderError).message).toContain("Identity Store user `nobody@example.com` does not exist");
    expect((noUser as ProviderError).retryable).toBe(false);
    const noSet = await provider.grant(makeActiveGrant(f.user, `${f.account}/NoSuchSet`)).catch((e: unknown) => e);
    expect((noSet as ProviderError).message).toContain("permission set `NoSuchSet` does not exist");
    expect(await provider.isGranted(makeActiveGrant(f.user, `${f.account}/NoSuchSet`))).toBe(false);
  });
});

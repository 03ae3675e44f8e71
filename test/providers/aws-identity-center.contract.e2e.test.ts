/**
 * The shared provider contract, run against the `aws-identity-center` provider on moto's server
 * (see test/providers/moto-server.ts for where moto departs from AWS). Targets are
 * `<account>/<permission set>` with a fresh account id per target; principals are Identity Store
 * user names; "outside Timebox" is an assignment the administrator's client creates.
 */
import { createAwsIdentityCenterProvider } from "../../src/providers/aws-identity-center/index.js";
import { describeProviderContract } from "./contract.js";
import { describeWithMoto, ENDPOINT_ENV, freePort, startTestMoto, TEST_SECRET_KEY } from "./moto-server.js";

describeWithMoto("aws-identity-center provider on moto", () => {
  describeProviderContract("aws-identity-center", async () => {
    const moto = await startTestMoto();
    const build = (env: Record<string, string>) =>
      createAwsIdentityCenterProvider({ resource: "contract", settings: moto.settings, env, timeoutMs: 10_000 }, { pollIntervalMs: 50 });
    const provider = build(moto.env);
    return {
      provider,
      makePrincipal: async () => {
        const name = `${moto.unique("person")}@example.com`;
        await moto.addUser(name);
        return name;
      },
      makeTarget: async () => {
        const name = moto.unique("PS");
        await moto.addPermissionSet(name);
        return `${moto.account()}/${name}`;
      },
      missingTarget: () => "123456789012/NoSuchPermissionSet",
      missingPrincipal: () => "no-such-person@example.com",
      grantOutsideTimebox: async (p, t) => {
        const [account, ps] = t.split("/");
        await moto.assign(account!, ps!, moto.userId(p));
      },
      hasAccess: async (p, t) => {
        const [account, ps] = t.split("/");
        return (await moto.assignedUserIds(account!, ps!)).includes(moto.userId(p));
      },
      // moto checks no credentials: the broken provider talks to a port nobody listens on.
      withBadCredentials: async () => {
        const unreachable = `http://127.0.0.1:${await freePort()}`;
        return { provider: build({ [ENDPOINT_ENV]: unreachable }), secrets: [TEST_SECRET_KEY, unreachable] };
      },
      teardown: async () => {
        await provider.close();
        await moto.stop();
      },
    };
  });
});

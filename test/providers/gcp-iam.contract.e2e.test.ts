/**
 * The shared provider contract, run against the gcp-iam provider talking over HTTP on 127.0.0.1 to
 * the emulated Resource Manager IAM endpoint (test/harness/gcp/): `hasAccess` and
 * `grantOutsideTimebox` read and change the emulator's policies directly, as an administrator would.
 */
import { randomBytes } from "node:crypto";
import { gcpIamProviderFactory } from "../../src/providers/gcp-iam/index.js";
import { startResourceManager, type ResourceManagerEmulator } from "../harness/gcp/resource-manager.js";
import { describeProviderContract, type ContractFixture } from "./contract.js";

const settings = { credentials_env: "TB_GCP_KEY", endpoint_env: "TB_GCP_ENDPOINT" };
const split = (t: string) => t.split("#") as [string, string];

describeProviderContract("gcp-iam (emulated Resource Manager)", async (): Promise<ContractFixture> => {
  const rm: ResourceManagerEmulator = await startResourceManager();
  const env = { TB_GCP_KEY: rm.keyJson, TB_GCP_ENDPOINT: rm.url };
  let n = 0;
  return {
    provider: gcpIamProviderFactory.create({ resource: "contract", settings, env }),
    resource: "contract",
    makePrincipal: async () => {
      const p = `user:person${++n}@acme.example`;
      rm.addPrincipal(p);
      return p;
    },
    makeTarget: async () => {
      const project = `projects/acme-${randomBytes(4).toString("hex")}`;
      rm.addResource(project);
      return `${project}#roles/cloudsql.client`;
    },
    missingTarget: () => "projects/no-such-project#roles/viewer",
    grantOutsideTimebox: async (p, t) => {
      const [resource, role] = split(t);
      rm.addBinding(resource, { role, members: [p] });
    },
    hasAccess: async (p, t) => rm.hasAccess(p, ...split(t)),
    withBadCredentials: async () => {
      // A key the token endpoint does not know (another private key), then no key at all reachable.
      const other = await startResourceManager();
      const key = JSON.parse(other.keyJson) as Record<string, string>;
      await other.stop();
      const wrong = JSON.stringify({ ...key, token_uri: `${rm.url}/token` });
      return {
        provider: gcpIamProviderFactory.create({ resource: "contract", settings, env: { TB_GCP_KEY: wrong, TB_GCP_ENDPOINT: rm.url } }),
        secrets: [key.private_key!.split("\n")[1]!, key.private_key_id!, "BEGIN PRIVATE KEY"],
      };
    },
    teardown: async () => {
      expect(rm.violations).toEqual([]);
      await rm.stop();
    },
  };
});

/**
 * Every provider Timebox knows, keyed by its factory's `id` (the `provider:` value in the
 * policy). Adding a provider = a folder under src/providers/ exporting a factory + one line here;
 * a test checks that the folders and this list agree.
 */
import { awsIdentityCenterProviderFactory } from "./aws-identity-center/index.js";
import { gcpIamProviderFactory } from "./gcp-iam/index.js";
import { githubProviderFactory } from "./github/index.js";
import { kubernetesProviderFactory } from "./kubernetes/index.js";
import { ldapProviderFactory } from "./ldap/index.js";
import { mysqlProviderFactory } from "./mysql/index.js";
import { postgresProviderFactory } from "./postgres/index.js";
import type { ProviderFactory } from "./types.js";
import { webhookProviderFactory } from "./webhook/index.js";

const factories: readonly ProviderFactory[] = [
  awsIdentityCenterProviderFactory,
  gcpIamProviderFactory,
  githubProviderFactory,
  kubernetesProviderFactory,
  ldapProviderFactory,
  mysqlProviderFactory,
  postgresProviderFactory,
  webhookProviderFactory,
];

export const providerRegistry: ReadonlyMap<string, ProviderFactory> = new Map(factories.map((f) => [f.id, f]));

if (providerRegistry.size !== factories.length) throw new Error("two provider factories share an id");

/** Known provider ids, sorted (for messages and schema enums). */
export function providerIds(): string[] {
  return [...providerRegistry.keys()].sort();
}

export function getProviderFactory(id: string): ProviderFactory {
  const factory = providerRegistry.get(id);
  if (!factory) throw new Error(`unknown provider \`${id}\`; must be one of: ${providerIds().join(", ")}`);
  return factory;
}

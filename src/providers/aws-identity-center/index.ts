/**
 * The `aws-identity-center` provider factory: a temporary account assignment (an Identity Store
 * user × a permission set × an AWS account) in AWS IAM Identity Center.
 *
 * Resource settings (plain values, not secrets):
 * - `instance_arn` (required): the Identity Center instance, `arn:aws:sso:::instance/ssoins-…`.
 * - `identity_store_id` (required): its Identity Store, `d-…`, where user names are resolved.
 * - `region` (required): the region Identity Center lives in, e.g. `eu-west-1`.
 * - `endpoint_env` (optional): the name of an environment variable holding a custom endpoint URL
 *   (a local emulator in tests); absent or empty: AWS's endpoints.
 * Credentials come from the AWS SDK's default chain (environment, shared config and SSO profiles,
 * web identity, ECS/EC2 instance roles) — never from the policy.
 * Role `target`: `<account id>/<permission set name>`; principal: an Identity Store user name.
 * Timeouts are not settings: each request stays within the provider pool's call deadline
 * (TIMEBOX_PROVIDER_TIMEOUT_MS) — see docs/providers/aws-identity-center.md.
 */
import { IdentitystoreClient } from "@aws-sdk/client-identitystore";
import { SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { ProviderError, type ProviderFactory, type ProviderOptions } from "../types.js";
import { AwsIdentityCenterProvider } from "./provider.js";

const SETTINGS = ["instance_arn", "identity_store_id", "region", "endpoint_env"] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INSTANCE_ARN = /^arn:aws[a-z-]*:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/;
const IDENTITY_STORE_ID = /^(d-[0-9a-z]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
/** Cap on one HTTP request, whatever the call deadline. */
const REQUEST_TIMEOUT_CAP_MS = 15_000;

export interface AwsIdentityCenterTestOptions {
  /** Provisioning-status poll interval (ms); default 1000. */
  pollIntervalMs?: number;
  /** SDK attempts per request; default 2. */
  maxAttempts?: number;
}

export function createAwsIdentityCenterProvider(
  { resource, settings, env, timeoutMs }: ProviderOptions,
  testOptions: AwsIdentityCenterTestOptions = {},
): AwsIdentityCenterProvider {
  const bad = (msg: string) => new ProviderError(`aws-identity-center: resource ${resource}: ${msg}`, false);
  const unknown = Object.keys(settings).filter((k) => !(SETTINGS as readonly string[]).includes(k));
  if (unknown.length > 0) throw bad(`unknown setting ${unknown.map((k) => `\`${k}\``).join(", ")}; allowed: ${SETTINGS.join(", ")}`);
  const plain = (key: (typeof SETTINGS)[number], pattern: RegExp, what: string): string => {
    const v = settings[key];
    if (typeof v !== "string" || !pattern.test(v)) throw bad(`setting \`${key}\` must be ${what}`);
    return v;
  };
  const instanceArn = plain("instance_arn", INSTANCE_ARN, "the Identity Center instance ARN, e.g. arn:aws:sso:::instance/ssoins-0123456789abcdef");
  const identityStoreId = plain("identity_store_id", IDENTITY_STORE_ID, "the Identity Store id, e.g. d-0123456789");
  const region = plain("region", REGION, "the AWS region of the Identity Center instance, e.g. eu-west-1");
  let endpoint: string | undefined;
  if (settings.endpoint_env !== undefined) {
    const name = settings.endpoint_env;
    if (typeof name !== "string" || !ENV_NAME.test(name)) throw bad("setting `endpoint_env` must name the environment variable holding a custom endpoint URL");
    endpoint = env[name] || undefined;
  }
  const requestTimeout = Math.min(timeoutMs ?? REQUEST_TIMEOUT_CAP_MS, REQUEST_TIMEOUT_CAP_MS);
  const common = {
    region,
    endpoint,
    maxAttempts: testOptions.maxAttempts ?? 2,
    requestHandler: { requestTimeout, connectionTimeout: Math.min(requestTimeout, 5_000) },
  };
  return new AwsIdentityCenterProvider({
    resource,
    instanceArn,
    identityStoreId,
    sso: new SSOAdminClient(common),
    identity: new IdentitystoreClient(common),
    pollIntervalMs: testOptions.pollIntervalMs,
    provisioningTimeoutMs: timeoutMs,
  });
}

export const awsIdentityCenterProviderFactory: ProviderFactory = {
  id: "aws-identity-center",
  settingsKeys: SETTINGS,
  create: (options) => createAwsIdentityCenterProvider(options),
};

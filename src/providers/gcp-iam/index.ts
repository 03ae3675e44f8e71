/**
 * The `gcp-iam` provider factory: temporary Google Cloud IAM role bindings whose expiry Google
 * enforces itself (an IAM condition on `request.time`).
 *
 * Resource settings (from the policy):
 * - `credentials_env` (required): the name of the environment variable holding the service-account
 *   key JSON Timebox authenticates with. Never in the repository, in messages, or in logs.
 * - `endpoint_env` (optional): the name of an environment variable holding the Resource Manager
 *   base URL (default https://cloudresourcemanager.googleapis.com); for tests and private endpoints.
 * Role `target`: `<resource>#<role>`, e.g. `projects/acme-prod#roles/cloudsql.client`. Principal:
 * `user:…`, `group:…` or `serviceAccount:…`. See docs/providers/gcp-iam.md.
 */
import { ProviderError, type ProviderFactory, type ProviderOptions } from "../types.js";
import { DEFAULT_ENDPOINT, IamClient, parseServiceAccountKey, type ServiceAccountKey } from "./client.js";
import { GcpIamProvider } from "./provider.js";

const SETTINGS = ["credentials_env", "endpoint_env"] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REQUEST_TIMEOUT_MS = 10_000;

export const gcpIamProviderFactory = {
  id: "gcp-iam",
  settingsKeys: SETTINGS,
  /** Bad settings throw here; a missing or malformed key fails when the provider is first used. */
  create({ resource, settings, env, timeoutMs }: ProviderOptions): GcpIamProvider {
    const bad = (msg: string) => new ProviderError(`gcp-iam: resource ${resource}: ${msg}`, false);
    const unknown = Object.keys(settings).filter((k) => !(SETTINGS as readonly string[]).includes(k));
    if (unknown.length > 0) throw bad(`unknown setting ${unknown.map((k) => `\`${k}\``).join(", ")}; allowed: ${SETTINGS.join(", ")}`);
    const credentialsEnv = settings.credentials_env;
    if (typeof credentialsEnv !== "string" || !ENV_NAME.test(credentialsEnv)) {
      throw bad("setting `credentials_env` must name the environment variable that holds the service-account key JSON");
    }
    let endpoint = DEFAULT_ENDPOINT;
    if (settings.endpoint_env !== undefined) {
      const endpointEnv = settings.endpoint_env;
      if (typeof endpointEnv !== "string" || !ENV_NAME.test(endpointEnv)) throw bad("setting `endpoint_env` must name an environment variable");
      const url = env[endpointEnv];
      if (url) {
        if (!/^https?:\/\/[^/?#\s]+\/?$/.test(url))
          throw bad(`the environment variable ${endpointEnv} must hold a base URL such as https://cloudresourcemanager.googleapis.com`);
        endpoint = url.replace(/\/$/, "");
      }
    }
    let key: ServiceAccountKey | undefined;
    const client = new IamClient(
      () => (key ??= parseServiceAccountKey(env[credentialsEnv], credentialsEnv)),
      endpoint,
      Math.min(REQUEST_TIMEOUT_MS, timeoutMs ?? REQUEST_TIMEOUT_MS),
    );
    return new GcpIamProvider({ resource, client });
  },
} satisfies ProviderFactory;

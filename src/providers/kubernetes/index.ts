/**
 * The `kubernetes` provider factory: temporary RBAC bindings.
 *
 * Resource settings (from the policy):
 * - `kubeconfig_env` (optional): the name of the environment variable holding a kubeconfig —
 *   its YAML content, or the path of a kubeconfig file. Its current context is used. Absent:
 *   the in-cluster service account (KUBERNETES_SERVICE_HOST and the mounted token).
 * Role `target`: `ClusterRole/<name>` (a ClusterRoleBinding), `<namespace>/ClusterRole/<name>` or
 * `<namespace>/Role/<name>` (a RoleBinding in the namespace). Principal: a user name or
 * `group:<name>`. Timeouts follow the provider pool's call deadline (TIMEBOX_PROVIDER_TIMEOUT_MS).
 */
import { KubeConfig } from "@kubernetes/client-node";
import { ProviderError, type ProviderFactory, type ProviderOptions } from "../types.js";
import { KubernetesProvider } from "./provider.js";

export { KubernetesProvider } from "./provider.js";

const SETTINGS = ["kubeconfig_env"] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export const kubernetesProviderFactory = {
  id: "kubernetes",
  settingsKeys: SETTINGS,
  /** Bad settings throw here; a missing or unreadable kubeconfig only fails when first used. */
  create({ resource, settings, env, timeoutMs }: ProviderOptions): KubernetesProvider {
    const bad = (msg: string, retryable = false) => new ProviderError(`kubernetes: resource ${resource}: ${msg}`, retryable);
    const unknown = Object.keys(settings).filter((k) => !(SETTINGS as readonly string[]).includes(k));
    if (unknown.length > 0) throw bad(`unknown setting ${unknown.map((k) => `\`${k}\``).join(", ")}; allowed: ${SETTINGS.join(", ")}`);
    const envName = settings.kubeconfig_env;
    if (envName !== undefined && (typeof envName !== "string" || !ENV_NAME.test(envName))) {
      throw bad("setting `kubeconfig_env` must name the environment variable that holds a kubeconfig (its content or its path)");
    }
    const loadConfig = (): KubeConfig => {
      const kc = new KubeConfig();
      try {
        if (envName === undefined) {
          if (!env.KUBERNETES_SERVICE_HOST) throw bad("no `kubeconfig_env` setting and not running in a cluster (KUBERNETES_SERVICE_HOST is not set)");
          kc.loadFromCluster();
        } else {
          const value = env[envName];
          if (!value) throw bad(`environment variable ${envName} (setting \`kubeconfig_env\`) is not set`);
          if (/[\n{]/.test(value)) kc.loadFromString(value);
          else kc.loadFromFile(value);
        }
      } catch (error) {
        if (error instanceof ProviderError) throw error;
        // The library's message could quote the file; say only which setting is at fault.
        throw bad(`could not load the kubeconfig named by ${envName === undefined ? "the in-cluster service account" : `\`kubeconfig_env\` (${envName})`}`);
      }
      if (!kc.getCurrentCluster()) throw bad("the kubeconfig has no current context with a cluster");
      return kc;
    };
    return new KubernetesProvider({
      resource,
      loadConfig,
      requestTimeoutMs: timeoutMs ? Math.min(timeoutMs, DEFAULT_REQUEST_TIMEOUT_MS) : DEFAULT_REQUEST_TIMEOUT_MS,
    });
  },
} satisfies ProviderFactory;

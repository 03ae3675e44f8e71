/**
 * The `webhook` provider factory: for any system Timebox has no provider for. Settings (from the
 * policy resource), each the name of an environment variable, never a value:
 * - `url_env` (required): the receiver's URL (https://, or http:// to a loopback address);
 * - `secret_env` (required): the HMAC-SHA256 signing secret (at least 32 characters).
 * The role's `target` and `settings` are passed through to the receiver as they are.
 * Timeouts and retries are not policy settings: they follow the provider pool's call deadline
 * (TIMEBOX_PROVIDER_TIMEOUT_MS) — see `timingWithin` and docs/providers/webhook.md.
 */
import { ProviderError, type ProviderFactory, type ProviderOptions } from "../types.js";
import { WebhookProvider, timingWithin, type WebhookTiming } from "./provider.js";

export { WebhookProvider } from "./provider.js";
export type { WebhookTiming } from "./provider.js";

const SETTINGS = ["url_env", "secret_env"] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Builds the provider; tests pass a faster `timing`. */
export function createWebhookProvider({ resource, settings, env, timeoutMs }: ProviderOptions, timing: Partial<WebhookTiming> = {}): WebhookProvider {
  const bad = (msg: string) => new ProviderError(`webhook: resource ${resource}: ${msg}`, false);
  const unknown = Object.keys(settings).filter((k) => !(SETTINGS as readonly string[]).includes(k));
  if (unknown.length > 0) throw bad(`unknown setting ${unknown.map((k) => `\`${k}\``).join(", ")}; allowed: ${SETTINGS.join(", ")}`);
  const name = (key: (typeof SETTINGS)[number], what: string): string => {
    const value = settings[key];
    if (typeof value !== "string" || !ENV_NAME.test(value)) throw bad(`setting \`${key}\` must name the environment variable that holds ${what}`);
    return value;
  };
  const urlEnv = name("url_env", "the receiver's URL");
  const secretEnv = name("secret_env", "the signing secret");
  // A missing variable fails at first use, so building every resource's provider never crashes.
  return new WebhookProvider({
    resource,
    urlEnv,
    url: env[urlEnv] || undefined,
    secretEnv,
    secret: env[secretEnv] || undefined,
    timing: { ...timingWithin(timeoutMs), ...timing },
  });
}

export const webhookProviderFactory = {
  id: "webhook",
  settingsKeys: SETTINGS,
  create: (options: ProviderOptions): WebhookProvider => createWebhookProvider(options),
} satisfies ProviderFactory;

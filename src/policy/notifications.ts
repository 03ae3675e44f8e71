import type { PathSegment } from "../yaml/parse.js";
import type { NotificationSpec } from "./types.js";

type Report = (at: PathSegment[], rule: string, message: string, key?: string) => void;

/**
 * Environment variables that hold the app's own credentials: a notification channel may never send
 * one anywhere (as a Slack token, a webhook URL or a signing key).
 */
const APP_OWN = new Set([
  "APP_ID",
  "PRIVATE_KEY",
  "PRIVATE_KEY_PATH",
  "WEBHOOK_SECRET",
  "GITHUB_CLIENT_ID",
  "GITHUB_CLIENT_SECRET",
  "GITHUB_TOKEN",
  "REDIS_URL",
  "TIMEBOX_METRICS_TOKEN",
]);

interface RawResource {
  settings?: Record<string, string | number | boolean>;
  roles: Record<string, unknown>;
}

/**
 * What the schema cannot say about `notifications`: each entry names exactly one channel; routing
 * names resources and roles the policy has; and the environment variables it names are not the
 * app's own credentials nor a provider's (a policy could otherwise have Timebox send a database
 * password to Slack as a bot token).
 */
export function checkNotifications(list: NotificationSpec[] | undefined, resources: Record<string, RawResource>, error: Report): void {
  const providerEnv = new Set<string>();
  for (const r of Object.values(resources)) {
    for (const [key, value] of Object.entries(r.settings ?? {})) if (key.endsWith("_env") && typeof value === "string") providerEnv.add(value);
  }
  (list ?? []).forEach((entry, i) => {
    const at: PathSegment[] = ["notifications", i];
    if (entry.slack && entry.webhook) {
      error(at, "policy.notification-channel", "a notification entry names one channel: `slack` or `webhook`, not both; split it into two entries");
    } else if (!entry.slack && !entry.webhook) {
      error(at, "policy.notification-channel", "a notification entry needs its channel: `slack: { token_env, channel }` or `webhook: { url_env, secret_env }`");
    }
    const names: Array<[string, string, string]> = [
      ...(entry.slack ? [["slack", "token_env", entry.slack.token_env] as [string, string, string]] : []),
      ...(entry.webhook
        ? [
            ["webhook", "url_env", entry.webhook.url_env] as [string, string, string],
            ["webhook", "secret_env", entry.webhook.secret_env] as [string, string, string],
          ]
        : []),
    ];
    for (const [channel, key, name] of names) {
      if (APP_OWN.has(name))
        error([...at, channel, key], "policy.notification-env", `\`${name}\` holds Timebox's own credentials; name a variable set only for this channel`);
      else if (providerEnv.has(name))
        error([...at, channel, key], "policy.notification-env", `\`${name}\` is a provider's setting; give the channel a variable of its own`);
    }
    const named = entry.resources ?? [];
    named.forEach((name, j) => {
      if (!Object.hasOwn(resources, name))
        error(
          [...at, "resources", j],
          "policy.notification-routing",
          `unknown resource \`${name}\`; must be one of: ${Object.keys(resources).sort().join(", ")}`,
        );
    });
    const roleSource = named.length ? named.filter((n) => Object.hasOwn(resources, n)) : Object.keys(resources);
    const roles = new Set(roleSource.flatMap((n) => Object.keys(resources[n].roles)));
    (entry.roles ?? []).forEach((role, j) => {
      if (!roles.has(role))
        error(
          [...at, "roles", j],
          "policy.notification-routing",
          `unknown role \`${role}\`${named.length ? " on the resources listed" : ""}; must be one of: ${[...roles].sort().join(", ")}`,
        );
    });
  });
}

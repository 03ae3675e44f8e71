import { Registry } from "prom-client";
import { timeboxEvent, type EventName, type GrantEventData, type TimeboxEvent } from "../../src/events/event.js";
import { NotificationMetrics } from "../../src/metrics/notifications.js";
import { Notifier, type NotifierOptions } from "../../src/notify/notifier.js";
import { checkPolicyFile } from "../../src/policy/check.js";
import { knownProviders } from "../../src/policy/providers.js";
import type { Policy } from "../../src/policy/types.js";

export const SLACK_TOKEN = "xoxb-test-0000-secret-token";

/** A policy with the given `notifications:` YAML (indented list items) and `identities:` entries. */
export function policyWith(notifications: string, identities = "  dev1: { postgres: dev1_login }\n  sre1: { slack: U0SRE0001 }\n"): Policy {
  const text = `version: 1
owners: ["@acme/security"]
identities:
${identities}resources:
  prod-db:
    provider: postgres
    settings: { url_env: PROD_DB_URL }
    roles:
      readonly: { target: analytics_read, max_duration: 8h, approvers: ["@acme/sre", "sre1", "alice"] }
  staging-db:
    provider: postgres
    settings: { url_env: STAGING_DB_URL }
    roles:
      readonly: { target: analytics_read, max_duration: 8h, approvers: ["bob"] }
notifications:
${notifications}`;
  const verdict = checkPolicyFile(".github/timebox.yml", text, { providers: knownProviders() });
  if (!verdict.policy) throw new Error(JSON.stringify(verdict.diagnostics));
  return verdict.policy;
}

export function event(name: EventName, data: Partial<GrantEventData> = {}, unique = "1"): TimeboxEvent {
  return timeboxEvent(
    name,
    "2026-03-02T09:00:00Z",
    {
      repository: "acme/access",
      grant: "grants/dev1-prod-db.yaml",
      requester: "dev1",
      resource: "prod-db",
      role: "readonly",
      duration: "2h",
      reason: "Investigate INC-1234 slow checkout queries",
      ticket: "INC-1234",
      pull_request: 7,
      url: "https://github.com/acme/access/pull/7",
      ...data,
    },
    unique,
  );
}

interface LogLine {
  level: string;
  obj: object;
  msg: string;
}

/** A notifier with a metrics registry, a log that keeps its lines, and waits that are recorded, not slept. */
export function testNotifier(options: Partial<NotifierOptions> = {}) {
  const registry = new Registry();
  const metrics = new NotificationMetrics(registry);
  const lines: LogLine[] = [];
  const log = {
    info: (obj: object, msg: string) => lines.push({ level: "info", obj, msg }),
    warn: (obj: object, msg: string) => lines.push({ level: "warn", obj, msg }),
    error: (obj: object, msg: string) => lines.push({ level: "error", obj, msg }),
  };
  const waits: number[] = [];
  const notifier = new Notifier({
    env: { SLACK_BOT_TOKEN: SLACK_TOKEN },
    log,
    metrics,
    retryDelaysMs: [10, 20, 40],
    sleep: async (ms) => {
      waits.push(ms);
    },
    timeoutMs: 5_000,
    ...options,
  });
  const count = async (labels: Record<string, string>) => {
    const values = (await registry.getSingleMetric("timebox_notifications_total")!.get()).values;
    return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
  };
  return { notifier, lines, waits, count, registry };
}

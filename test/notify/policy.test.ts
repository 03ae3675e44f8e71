import { expect, test } from "@jest/globals";
import { checkPolicyFile } from "../../src/policy/check.js";
import { knownProviders } from "../../src/policy/providers.js";

const BASE = `version: 1
owners: ["@acme/security"]
resources:
  prod-db:
    provider: postgres
    settings: { url_env: PROD_DB_URL }
    roles:
      readonly: { target: analytics_read, max_duration: 8h, approvers: ["@acme/sre"] }
notifications:
`;

const check = (notifications: string) => checkPolicyFile(".github/timebox.yml", BASE + notifications, { providers: knownProviders() });
const problems = (notifications: string) => check(notifications).diagnostics.map((d) => ({ line: d.line, rule: d.rule, message: d.message }));

test("a Slack channel and a routed webhook, as in the docs, are a valid policy and kept as written", () => {
  const verdict = check(`  - slack: { token_env: SLACK_BOT_TOKEN, channel: "#access" }
  - webhook: { url_env: AUDIT_HOOK_URL, secret_env: AUDIT_HOOK_SECRET }
    resources: [prod-db]
    roles: [readonly]
    events: [breakglass.used, revoked]
`);
  expect(verdict.diagnostics).toEqual([]);
  expect(verdict.policy?.notifications).toEqual([
    { slack: { token_env: "SLACK_BOT_TOKEN", channel: "#access" } },
    {
      webhook: { url_env: "AUDIT_HOOK_URL", secret_env: "AUDIT_HOOK_SECRET" },
      resources: ["prod-db"],
      roles: ["readonly"],
      events: ["breakglass.used", "revoked"],
    },
  ]);
});

test("routing to a resource or role the policy does not have is a located error", () => {
  expect(problems('  - slack: { token_env: SLACK_BOT_TOKEN, channel: "#access" }\n    resources: [prod-db, prod-dbb]\n    roles: [admin]\n')).toEqual([
    { line: 11, rule: "policy.notification-routing", message: "unknown resource `prod-dbb`; must be one of: prod-db" },
    { line: 12, rule: "policy.notification-routing", message: "unknown role `admin` on the resources listed; must be one of: readonly" },
  ]);
});

test("an entry names exactly one channel", () => {
  const both = problems(
    '  - slack: { token_env: SLACK_BOT_TOKEN, channel: "#access" }\n    webhook: { url_env: AUDIT_HOOK_URL, secret_env: AUDIT_HOOK_SECRET }\n',
  );
  expect(both).toEqual([expect.objectContaining({ line: 10, rule: "policy.notification-channel", message: expect.stringMatching(/not both/) })]);
  expect(problems("  - resources: [prod-db]\n")).toEqual([expect.objectContaining({ rule: "policy.notification-channel" })]);
});

test("secrets only by environment variable name, never the app's own or a provider's", () => {
  expect(check('  - slack: { token_env: "xoxb-1234567890-abcdefghijkl", channel: "#access" }\n').valid).toBe(false);
  expect(problems('  - slack: { token_env: slack_token, channel: "#access" }\n').map((p) => p.rule)).toEqual(["schema.pattern"]);
  expect(problems('  - slack: { token_env: PRIVATE_KEY, channel: "#access" }\n')).toEqual([
    expect.objectContaining({ line: 10, rule: "policy.notification-env", message: expect.stringMatching(/Timebox's own credentials/) }),
  ]);
  expect(problems("  - webhook: { url_env: PROD_DB_URL, secret_env: AUDIT_HOOK_SECRET }\n")).toEqual([
    expect.objectContaining({ rule: "policy.notification-env", message: expect.stringMatching(/a provider's setting/) }),
  ]);
});

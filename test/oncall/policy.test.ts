/** On-call schedules in the policy: where they may appear, how a malformed one is reported, and the identity they need. */
import { expect, test } from "@jest/globals";
import { checkPolicyFile } from "../../src/policy/check.js";
import { knownProviders } from "../../src/policy/providers.js";

const PATH = ".github/timebox.yml";
const policy = (requesters: string, approvers = '["sre1"]', identities = "  dev1: { pagerduty: dev1@example.com, opsgenie: dev1@example.com }") => `version: 1
owners: ["@acme/security"]
identities:
${identities}
resources:
  prod-db:
    provider: postgres
    settings: { url_env: PROD_DB_URL }
    roles:
      readonly:
        target: analytics_read
        max_duration: 8h
        approvers: ${approvers}
        approvals: 2
        breakglass: { max_duration: 1h, review_within: 2h, requesters: ${requesters} }
`;
const check = (text: string) => checkPolicyFile(PATH, text, { providers: knownProviders() });

test("break-glass requesters and approvers may name a PagerDuty schedule id or an Opsgenie schedule name", () => {
  const v = check(policy('["pagerduty:PSRE01", "opsgenie:SRE Primary", "oncall1"]', '["pagerduty:PSRE01", "sre1"]'));
  expect(v.diagnostics).toEqual([]);
  expect(v.valid).toBe(true);
  expect(v.policy?.resources["prod-db"].roles.readonly.breakglass?.requesters).toEqual(["pagerduty:PSRE01", "opsgenie:SRE Primary", "oncall1"]);
});

test("a schedule counts as a group for approvals: two approvals from one login and one schedule are reachable", () => {
  expect(check(policy('["oncall1"]', '["pagerduty:PSRE01", "sre1"]')).valid).toBe(true);
});

test("a malformed schedule reference is a located error that says what is allowed", () => {
  const v = check(policy('["pagerduty:bad id"]'));
  expect(v.valid).toBe(false);
  expect(v.diagnostics).toEqual([
    expect.objectContaining({
      line: 15,
      message: expect.stringMatching(/value `pagerduty:bad id` is not valid — .*pagerduty:<schedule id>/),
      severity: "error",
    }),
  ]);
});

test("schedules are not accepted where the issue does not put them (owners)", () => {
  const v = check(policy('["oncall1"]').replace('owners: ["@acme/security"]', 'owners: ["pagerduty:PSRE01"]'));
  expect(v.valid).toBe(false);
});

test("a schedule no identity can be matched to: a warning at the reference, the policy stays valid", () => {
  const v = check(policy('["oncall1", "opsgenie:SRE Primary"]', '["sre1", "sre2"]', "  dev1: { pagerduty: dev1@example.com }"));
  expect(v.valid).toBe(true);
  expect(v.diagnostics).toEqual([
    expect.objectContaining({
      line: 15,
      rule: "policy.oncall-unmapped",
      severity: "warning",
      message: expect.stringContaining("no entry of `identities` has the key `opsgenie`, so nobody on call can be matched to a GitHub login"),
    }),
  ]);
});

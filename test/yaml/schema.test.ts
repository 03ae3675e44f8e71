/**
 * Table-driven tests of both JSON Schemas through checkSchema: valid documents pass; each
 * invalid one breaks the expected rule, and the diagnostic points at the offending node (a
 * missing key: the mapping that should hold it).
 */
import { parseYaml } from "../../src/yaml/parse.js";
import { checkSchema } from "../../src/yaml/schema.js";
import { GRANT_TEXT, POLICY_TEXT, expectWellFormed } from "../grants/helpers.js";
import { at } from "./locate.js";

function schemaDiagnostics(name: "grant" | "policy", text: string) {
  const parsed = parseYaml("f.yaml", text);
  if (!parsed.ok) throw new Error(`test document does not parse: ${JSON.stringify(parsed.diagnostics)}`);
  return checkSchema(name, "f.yaml", parsed.yaml);
}

const GRANT = `requester: dev1
resource: prod-db
role: readonly
duration: 2h
reason: Investigate INC-1234 slow checkout queries
`;
const g = (from: string, to: string) => {
  if (!GRANT.includes(from)) throw new Error(`${from} not in GRANT`);
  return GRANT.replace(from, to);
};

describe("grant schema", () => {
  test.each([
    ["the fixture grant", GRANT_TEXT],
    ["the five required keys", GRANT],
    ["with ticket and emergency", `${GRANT}ticket: INC-1\nemergency: false\n`],
    ["ISO 8601 duration", g("2h", "PT1H30M")],
    ["a hyphenated 39-character login", g("dev1", `a${"-b".repeat(19)}`)],
    ["JSON flow style", '{"requester": "dev1", "resource": "prod-db", "role": "readonly", "duration": "2h", "reason": "why"}'],
    ["quoted values and a comment", `# a grant\n${g("reason: Investigate", 'reason: "Investigate')}`.replace("queries\n", 'queries"\n')],
    ["resource and role with dots and underscores", g("prod-db", "prod.db_eu-1").replace("readonly", "read_only.v2")],
  ])("valid: %s", (_name, text) => {
    expect(schemaDiagnostics("grant", text).diagnostics).toEqual([]);
  });

  // [name, document, rule, where the diagnostic points (see at()), text the message must contain]
  const invalid: Array<[string, string, string, string, string?]> = [
    ["no reason", g("reason: Investigate INC-1234 slow checkout queries\n", ""), "schema.required", "|requester", "missing required key `reason`"],
    ["no reason, after a comment line", `# hi\n${g("reason: Investigate INC-1234 slow checkout queries\n", "")}`, "schema.required", "|requester", "`reason`"],
    ["no requester", g("requester: dev1\n", ""), "schema.required", "|resource", "`requester`"],
    ["unknown key (typo)", g("reason:", "reasn:"), "schema.additionalProperties", "|reasn", "did you mean `reason`?"],
    ["unknown key (capitalised)", g("requester:", "Requester:"), "schema.additionalProperties", "|Requester", "did you mean `requester`?"],
    [
      "unknown key (unrelated)",
      `${GRANT}expires_at: tomorrow\n`,
      "schema.additionalProperties",
      "|expires_at",
      "allowed keys: requester, resource, role, duration, reason, ticket, emergency",
    ],
    ["duration as a number", g("duration: 2h", "duration: 2"), "schema.type", "duration: |2", "must be a string"],
    ["requester as a list", g("requester: dev1", "requester: [dev1]"), "schema.type", "requester: |[", "not a list"],
    ["emergency as a string", `${GRANT}emergency: "true"\n`, "schema.type", 'emergency: |"true"', "must be a boolean"],
    ["reason as a mapping", g("reason: Investigate INC-1234 slow checkout queries", "reason: {a: b}"), "schema.type", "reason: |{", "not a mapping"],
    ["login with an underscore", g("requester: dev1", "requester: dev_1"), "schema.pattern", "requester: |dev_1", "`dev_1`"],
    ["login with a leading hyphen", g("requester: dev1", "requester: -dev1"), "schema.pattern", "requester: |-dev1"],
    ["login with two hyphens in a row", g("requester: dev1", "requester: dev--1"), "schema.pattern", "requester: |dev--1"],
    ["login of 40 characters", g("requester: dev1", `requester: ${"a".repeat(40)}`), "schema.pattern", "requester: |aaaa"],
    ["login with an @", g("requester: dev1", 'requester: "@dev1"'), "schema.pattern", 'requester: |"@dev1"'],
    ["resource with a space", g("resource: prod-db", 'resource: "prod db"'), "schema.pattern", 'resource: |"prod db"'],
    ["role with a slash", g("role: readonly", "role: ro/rw"), "schema.pattern", "role: |ro/rw"],
    ["empty reason", g("reason: Investigate INC-1234 slow checkout queries", 'reason: ""'), "schema.minLength", 'reason: |""', "must not be empty"],
    ["blank reason", g("reason: Investigate INC-1234 slow checkout queries", 'reason: "   "'), "schema.pattern", 'reason: |"   "'],
    ["reason of tabs and newlines", g("reason: Investigate INC-1234 slow checkout queries", 'reason: "\\t\\n"'), "schema.pattern", 'reason: |"'],
    [
      "reason too long",
      g("reason: Investigate INC-1234 slow checkout queries", `reason: ${"x".repeat(1001)}`),
      "schema.maxLength",
      "reason: |xxx",
      "at most 1000",
    ],
    ["null reason", g("reason: Investigate INC-1234 slow checkout queries", "reason:"), "schema.type", "reason:|", "not empty"],
    ["empty duration", g("duration: 2h", 'duration: ""'), "schema.minLength", 'duration: |""'],
    ["duration too long", g("duration: 2h", `duration: ${"1".repeat(41)}h`), "schema.maxLength", "duration: |111"],
    ["empty ticket", `${GRANT}ticket: ""\n`, "schema.minLength", 'ticket: |""'],
    ["a list document", "- requester: dev1\n", "schema.type", "|-", "the file must be a mapping"],
    ["a scalar document", "dev1\n", "schema.type", "|dev1", "must be a mapping"],
  ];

  test.each(invalid.map(([n, t, r, w, m]) => [n, r, t, w, m ?? ""] as const))("invalid: %s → %s", (_name, rule, text, where, message) => {
    const { diagnostics, invalidKeys } = schemaDiagnostics("grant", text);
    expectWellFormed(diagnostics, "f.yaml");
    const hit = diagnostics.find((d) => d.rule === rule);
    expect({ rules: diagnostics.map((d) => d.rule), hit: !!hit }).toEqual({ rules: diagnostics.map((d) => d.rule), hit: true });
    expect({ line: hit!.line, column: hit!.column }).toEqual(at(text, where));
    if (message) expect(hit!.message).toContain(message);
    expect(invalidKeys.size).toBeGreaterThan(0);
  });

  test("a required key's message explains the key (its schema description)", () => {
    const { diagnostics } = schemaDiagnostics("grant", g("reason: Investigate INC-1234 slow checkout queries\n", ""));
    expect(diagnostics[0].message).toMatch(/auditor/);
  });

  test("every mistake is reported (allErrors), each at its own node", () => {
    const text = "requester: dev_1\nresource: prod-db\nrole: 7\nduration: 2h\nreason: ''\nextra: 1\n";
    const { diagnostics, invalidKeys } = schemaDiagnostics("grant", text);
    expect(diagnostics.map((d) => [d.rule, d.line])).toEqual(
      expect.arrayContaining([
        ["schema.pattern", 1],
        ["schema.type", 3],
        ["schema.minLength", 5],
        ["schema.additionalProperties", 6],
      ]),
    );
    expect([...invalidKeys].sort()).toEqual(expect.arrayContaining(["reason", "requester", "role"]));
  });

  test("values are echoed as one-line code spans, clipped", () => {
    const { diagnostics } = schemaDiagnostics("grant", g("requester: dev1", `requester: "${"`x`\\n".repeat(40)}"`));
    const message = diagnostics[0].message;
    expect(message).not.toMatch(/\n/);
    expect(message).toMatch(/…/);
    expect(message.match(/`/g)!.length).toBe(2 + (message.match(/`requester`/) ? 2 : 0));
  });
});

const POLICY = `version: 1
owners: ["@acme/security"]
resources:
  prod-db:
    provider: postgres
    settings: { url_env: PROD_DB_URL }
    roles:
      readonly:
        target: analytics_read
        max_duration: 8h
        approvers:
          - "@acme/sre"
          - sre1
`;
const p = (from: string, to: string) => {
  if (!POLICY.includes(from)) throw new Error(`${from} not in POLICY`);
  return POLICY.replace(from, to);
};
const ROLE_EXTRA = (lines: string) => `${POLICY}${lines}`;

describe("policy schema", () => {
  test.each([
    ["the fixture policy", POLICY_TEXT],
    ["the minimal policy", POLICY],
    [
      "every optional key",
      `$schema: https://timebox.dev/schemas/policy.schema.json
${POLICY.replace("version: 1\n", 'version: 1\ngrants_path: access/grants\nrequest_ttl: P1D\nrequesters: [dev1, "@acme/eng"]\nallow_on_behalf: true\nticket_pattern: "^INC-\\\\d+$"\nidentities:\n  dev1: { postgres: dev1_login, github: dev1 }\n')}        approvals: 2
        breakglass: { max_duration: 30m, review_within: 24h, requesters: [oncall1] }
        settings: { permission: push, maintain: false, level: 3 }
`,
    ],
    ["a description", p("provider: postgres", "provider: postgres\n    description: The production database")],
    [
      "a github resource with a team target",
      p("provider: postgres", "provider: github").replace("url_env: PROD_DB_URL", "token_env: GH_TOKEN").replace("analytics_read", '"@acme/prod-admins"'),
    ],
  ])("valid: %s", (_name, text) => {
    expect(schemaDiagnostics("policy", text).diagnostics).toEqual([]);
  });

  const invalid: Array<[string, string, string, string, string?]> = [
    ["version 2", p("version: 1", "version: 2"), "schema.const", "version: |2", "must be 1"],
    ["version as a string", p("version: 1", 'version: "1"'), "schema.const", 'version: |"1"'],
    ["no owners", p('owners: ["@acme/security"]\n', ""), "schema.required", "|version", "`owners`"],
    ["no resources", `version: 1\nowners: [sec1]\n`, "schema.required", "|version", "`resources`"],
    ["no roles in a resource", p("    roles:", "    rolez:"), "schema.required", "    |provider", "`roles` in `resources.prod-db`"],
    ["no target in a role", p("        target: analytics_read\n", ""), "schema.required", "        |max_duration", "`target`"],
    [
      "breakglass without requesters",
      ROLE_EXTRA("        breakglass: { max_duration: 30m, review_within: 24h }\n"),
      "schema.required",
      "breakglass: |{",
      "`requesters`",
    ],
    ["unknown key at the top", p("owners:", "ownrs:"), "schema.additionalProperties", "|ownrs", "did you mean `owners`?"],
    ["unknown key in a role", ROLE_EXTRA("        aprovals: 2\n"), "schema.additionalProperties", "|aprovals", "did you mean `approvals`?"],
    ["unknown key in a resource", p("    provider:", "    providr:"), "schema.additionalProperties", "|providr", "did you mean `provider`?"],
    ["approvals 0", ROLE_EXTRA("        approvals: 0\n"), "schema.minimum", "approvals: |0", "at least 1"],
    ["approvals 11", ROLE_EXTRA("        approvals: 11\n"), "schema.maximum", "approvals: |11", "at most 10"],
    ["approvals 1.5", ROLE_EXTRA("        approvals: 1.5\n"), "schema.type", "approvals: |1.5", "integer"],
    ["approvals as a string", ROLE_EXTRA('        approvals: "2"\n'), "schema.type", 'approvals: |"2"'],
    ["empty approvers", p('approvers:\n          - "@acme/sre"\n          - sre1', "approvers: []"), "schema.minItems", "approvers: |[]", "at least 1"],
    ["empty owners", p('owners: ["@acme/security"]', "owners: []"), "schema.minItems", "owners: |[]"],
    ["duplicate approvers", p("          - sre1", "          - sre1\n          - sre1"), "schema.uniqueItems", "sre1\n          - |sre1", "twice"],
    [
      "approvers as a string",
      p('approvers:\n          - "@acme/sre"\n          - sre1', "approvers: sre1"),
      "schema.type",
      "approvers: |sre1",
      "must be a list",
    ],
    ["no roles at all", p(/ {4}roles:[\s\S]*/.exec(POLICY)![0], "    roles: {}\n"), "schema.minProperties", "roles: |{}"],
    ["no resources at all", `version: 1\nowners: [sec1]\nresources: {}\n`, "schema.minProperties", "resources: |{}"],
    ["settings with a nested object", p("url_env: PROD_DB_URL", "url_env: { value: PROD_DB_URL }"), "schema.type", "url_env: |{ value"],
    ["settings with a list", p("url_env: PROD_DB_URL", "url_env: [A, B]"), "schema.type", "url_env: |[A"],
    ["settings key in capitals", p("url_env: PROD_DB_URL", "URL_env: PROD_DB_URL"), "schema.propertyNames", "|URL_env"],
    ["resource name with a space", p("  prod-db:", '  "prod db":'), "schema.propertyNames", '|"prod db"'],
    ["provider in capitals", p("provider: postgres", "provider: Postgres"), "schema.pattern", "provider: |Postgres"],
    ["absolute grants_path", `grants_path: /etc/\n${POLICY}`, "schema.pattern", "grants_path: |/etc/"],
    ["grants_path escaping the repository", `grants_path: grants/../../x\n${POLICY}`, "schema.pattern", "grants_path: |grants"],
    ["allow_on_behalf as a string", `allow_on_behalf: "yes"\n${POLICY}`, "schema.type", 'allow_on_behalf: |"yes"'],
    ["identity with a bad provider key", `identities:\n  dev1: { Postgres: dev1_login }\n${POLICY}`, "schema.propertyNames", "|Postgres"],
    ["identity for a bad login", `identities:\n  dev_1: { postgres: dev1_login }\n${POLICY}`, "schema.propertyNames", "|dev_1"],
    ["empty ticket_pattern", `ticket_pattern: ""\n${POLICY}`, "schema.minLength", 'ticket_pattern: |""'],
    ["empty target", p("target: analytics_read", 'target: ""'), "schema.minLength", 'target: |""'],
    ["owners as a string", p('owners: ["@acme/security"]', "owners: sec1"), "schema.type", "owners: |sec1"],
    // Items of a list: the diagnostic must point at the item, not at the list.
    ["bad team slug (no slug)", p('- "@acme/sre"', '- "@acme/"'), "schema.pattern", '- |"@acme/"', "`@acme/`"],
    ["bad team slug (space)", p('- "@acme/sre"', '- "@acme/sre team"'), "schema.pattern", '- |"@acme/sre team"'],
    ["bad login in approvers (second item)", p("- sre1", "- sre_1"), "schema.pattern", "- |sre_1", "`sre_1`"],
    ["bad owner in a flow list", p('owners: ["@acme/security"]', 'owners: ["@acme/security", "bad login"]'), "schema.pattern", '|"bad login"'],
  ];

  test.each(invalid.map(([n, t, r, w, m]) => [n, r, t, w, m ?? ""] as const))("invalid: %s → %s", (_name, rule, text, where, message) => {
    const { diagnostics } = schemaDiagnostics("policy", text);
    expectWellFormed(diagnostics, "f.yaml");
    const hit = diagnostics.find((d) => d.rule === rule);
    expect({ rules: diagnostics.map((d) => d.rule), hit: !!hit }).toEqual({ rules: diagnostics.map((d) => d.rule), hit: true });
    expect({ line: hit!.line, column: hit!.column }).toEqual(at(text, where));
    if (message) expect(hit!.message).toContain(message);
  });

  test("a setting of the wrong type names the allowed types in plain words", () => {
    const { diagnostics } = schemaDiagnostics("policy", p("url_env: PROD_DB_URL", "url_env: { value: PROD_DB_URL }"));
    // Today: "must be a string,number,boolean, not a mapping".
    expect(diagnostics[0].message).not.toMatch(/string,number/);
    expect(diagnostics[0].message).toMatch(/string, (a )?number,? or (a )?boolean/);
  });
});

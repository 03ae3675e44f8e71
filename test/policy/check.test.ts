/** checkPolicyFile: schema first, then what a schema cannot say; defaults on success. */
import { checkPolicyFile } from "../../src/policy/check.js";
import { knownProviders } from "../../src/policy/providers.js";
import { at } from "../yaml/locate.js";
import { POLICY_TEXT, PROVIDERS, expectWellFormed, rules } from "../grants/helpers.js";

const PATH = ".github/timebox.yml";
const check = (text: string | Uint8Array, providers = PROVIDERS) => {
  const v = checkPolicyFile(PATH, text, { providers });
  expectWellFormed(v.diagnostics, PATH);
  return v;
};

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
        approvers: [sre1, sre2]
`;
const p = (from: string, to: string) => {
  if (!POLICY.includes(from)) throw new Error(`${from} not in POLICY`);
  return POLICY.replace(from, to);
};
const role = (lines: string) => `${POLICY}${lines}`;

describe("valid policies", () => {
  test("the fixture policy, with the app's real provider list", () => {
    const v = check(POLICY_TEXT, knownProviders());
    expect(v).toMatchObject({ valid: true, diagnostics: [] });
    expect(v.policy?.resources["prod-db"].roles.admin.breakglass?.requesters).toEqual(["@acme/oncall", "oncall1"]);
    expect(v.policy?.identities).toEqual({ dev1: { postgres: "dev1_login" } });
  });

  test("defaults: grants_path grants/, request_ttl 24h, approvals 1, allow_on_behalf false, empty settings and identities", () => {
    const v = check(p("    settings: { url_env: PROD_DB_URL }\n", "    settings: { url_env: PROD_DB_URL }\n"));
    expect(v.valid).toBe(true);
    expect(v.policy).toMatchObject({
      version: 1,
      grants_path: "grants/",
      request_ttl: "24h",
      allow_on_behalf: false,
      identities: {},
      owners: ["@acme/security"],
    });
    expect(v.policy?.requesters).toBeUndefined();
    expect(v.policy?.ticket_pattern).toBeUndefined();
    expect(v.policy?.resources["prod-db"].roles.readonly.approvals).toBe(1);
    const noSettings = check(p("    settings: { url_env: PROD_DB_URL }\n", ""));
    expect(noSettings.policy?.resources["prod-db"].settings).toEqual({});
  });

  test.each([
    ["access/grants", "access/grants/"],
    ["./access/grants/", "access/grants/"],
    ["grants", "grants/"],
  ])("grants_path %s is normalised to %s", (given, normal) => {
    expect(check(`grants_path: ${given}\n${POLICY}`).policy?.grants_path).toBe(normal);
  });

  test("identities are keyed by lower-case login", () => {
    const v = check(`identities:\n  Dev1: { postgres: dev1_login }\n${POLICY}`);
    expect(v.policy?.identities).toEqual({ dev1: { postgres: "dev1_login" } });
  });

  test("approvals above the number of approvers is fine when a team is listed", () => {
    expect(check(role("        approvals: 3\n").replace("[sre1, sre2]", '[sre1, "@acme/sre"]')).valid).toBe(true);
  });

  test("approvals equal to the number of individual approvers", () => {
    expect(check(role("        approvals: 2\n")).valid).toBe(true);
  });

  test("a github resource with its settings", () => {
    const text = p("provider: postgres", "provider: github").replace("url_env: PROD_DB_URL", "token_env: GH_TOKEN, base_url_env: GHE_URL");
    expect(check(text, knownProviders())).toMatchObject({ valid: true, diagnostics: [] });
  });

  test("non-secret settings of every type", () => {
    expect(check(p("url_env: PROD_DB_URL", "url_env: PROD_DB_URL, terminate_sessions: false, pool_size: 1")).valid).toBe(true);
  });
});

describe("sense checks", () => {
  // [name, document, rule, where, message]
  const table: Array<[string, string, string, string, RegExp]> = [
    [
      "approvals exceed individual approvers, no teams",
      role("        approvals: 3\n"),
      "policy.approvals-unreachable",
      "approvals: |3",
      /needs 3 approvals but lists only 2 approvers/,
    ],
    [
      "approvals 2 with one approver",
      role("        approvals: 2\n").replace("[sre1, sre2]", "[sre1]"),
      "policy.approvals-unreachable",
      "approvals: |2",
      /lists only 1 approver;/,
    ],
    [
      "bad max_duration",
      p("max_duration: 8h", "max_duration: forever"),
      "policy.duration",
      "max_duration: |forever",
      /max_duration.*`forever` is not a duration/,
    ],
    ["calendar max_duration", p("max_duration: 8h", "max_duration: P1M"), "policy.duration", "max_duration: |P1M", /years or months/],
    ["zero max_duration", p("max_duration: 8h", "max_duration: 0m"), "policy.duration", "max_duration: |0m", /positive/],
    ["max_duration over a year", p("max_duration: 8h", "max_duration: 400d"), "policy.duration", "max_duration: |400d", /366 days/],
    ["bad request_ttl", `request_ttl: a day\n${POLICY}`, "policy.duration", "request_ttl: |a day", /`request_ttl`/],
    [
      "bad breakglass.max_duration",
      role("        breakglass: { max_duration: soon, review_within: 24h, requesters: [oncall1] }\n"),
      "policy.duration",
      "max_duration: |soon",
      /breakglass\.max_duration/,
    ],
    [
      "bad breakglass.review_within",
      role("        breakglass: { max_duration: 30m, review_within: P1Y, requesters: [oncall1] }\n"),
      "policy.duration",
      "review_within: |P1Y",
      /review_within/,
    ],
    [
      "unknown provider",
      p("provider: postgres", "provider: mysql"),
      "policy.provider",
      "provider: |mysql",
      /unknown provider `mysql` for resource `prod-db`; must be one of: github, postgres/,
    ],
    ["unclosed group in ticket_pattern", `ticket_pattern: "^(INC"\n${POLICY}`, "policy.ticket-pattern", 'ticket_pattern: |"', /not a valid regular expression/],
    [
      "bad escape in ticket_pattern (unicode mode)",
      `ticket_pattern: '^\\-INC\\q'\n${POLICY}`,
      "policy.ticket-pattern",
      "ticket_pattern: |'",
      /not a valid regular expression/,
    ],
    [
      "a database URL with a password",
      p("url_env: PROD_DB_URL", 'url_env: "postgres://u:p@h/db"'),
      "policy.secret",
      'url_env: |"postgres',
      /looks like a credential/,
    ],
    [
      "a GitHub token",
      p("provider: postgres", "provider: github").replace("url_env: PROD_DB_URL", "token_env: ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
      "policy.secret",
      "token_env: |ghp_",
      /looks like a credential/,
    ],
    [
      "a fine-grained GitHub token",
      p("provider: postgres", "provider: github").replace("url_env: PROD_DB_URL", "token_env: github_pat_11ABCDEFG0123456789_abcdefghijklmnop"),
      "policy.secret",
      "token_env: |github_pat",
      /credential/,
    ],
    ["an AWS key id", p("url_env: PROD_DB_URL", "url_env: AKIAIOSFODNN7EXAMPLE"), "policy.secret", "url_env: |AKIA", /credential/],
    ["a private key", p("url_env: PROD_DB_URL", 'url_env: "-----BEGIN RSA PRIVATE KEY-----"'), "policy.secret", 'url_env: |"-----BEGIN', /credential/],
    [
      "a secret in a role's settings",
      role("        settings: { permission: ghp_abcdefghijklmnopqrstuvwxyz0123456789 }\n"),
      "policy.secret",
      "permission: |ghp_",
      /credential/,
    ],
    ["an _env setting not in UPPER_CASE", p("url_env: PROD_DB_URL", "url_env: prod_db_url"), "policy.settings", "url_env: |prod_db_url", /UPPER_CASE/],
    ["an _env setting with a dash", p("url_env: PROD_DB_URL", "url_env: PROD-DB-URL"), "policy.settings", "url_env: |PROD-DB-URL", /environment variable/],
    ["an _env setting that is a number", p("url_env: PROD_DB_URL", "url_env: 5"), "policy.settings", "url_env: |5", /environment variable/],
    [
      "an unknown settings key",
      p("url_env: PROD_DB_URL", "url_env: PROD_DB_URL, host: db.internal"),
      "policy.settings",
      "|host",
      /unknown setting `host`; this provider understands: url_env, terminate_sessions, pool_size/,
    ],
  ];

  test.each(table.map(([n, t, r, w, m]) => [n, r, t, w, m] as const))("%s → %s", (_name, rule, text, where, message) => {
    const v = check(text);
    expect(v.valid).toBe(false);
    expect(v.policy).toBeUndefined();
    const hit = v.diagnostics.find((d) => d.rule === rule);
    expect({ rules: rules(v.diagnostics), hit: !!hit }).toEqual({ rules: rules(v.diagnostics), hit: true });
    expect({ line: hit!.line, column: hit!.column }).toEqual(at(text, where));
    expect(hit!.message).toMatch(message);
  });

  test("unknown provider with the app's real provider list names them all", () => {
    const v = check(p("provider: postgres", "provider: oracle"), knownProviders());
    expect(v.diagnostics).toEqual([
      expect.objectContaining({
        rule: "policy.provider",
        message: expect.stringContaining(`must be one of: ${[...knownProviders().keys()].sort().join(", ")}`),
      }),
    ]);
  });

  test("a secret is never echoed in the message", () => {
    for (const secret of ["postgres://admin:hunter2@db.internal/prod", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"]) {
      const v = check(p("url_env: PROD_DB_URL", `url_env: "${secret}"`));
      expect(rules(v.diagnostics)).toContain("policy.secret");
      for (const d of v.diagnostics) {
        expect(d.message).not.toContain("hunter2");
        expect(d.message).not.toContain("ghp_abc");
      }
    }
  });

  test("a credential in a description or target is refused too", () => {
    const v = check(p("provider: postgres", 'provider: postgres\n    description: "postgres://admin:hunter2@db.internal/prod"'));
    expect(rules(v.diagnostics)).toContain("policy.secret");
  });

  test("all sense problems are reported together", () => {
    const text = `request_ttl: nope\nticket_pattern: "("\n${p("provider: postgres", "provider: mysql")}        approvals: 5\n`;
    expect(rules(check(text).diagnostics).sort()).toEqual(["policy.approvals-unreachable", "policy.duration", "policy.provider", "policy.ticket-pattern"]);
  });

  test("schema errors come alone (sense checks need a well-formed policy)", () => {
    const v = check(`${p("version: 1", "version: 2")}        approvals: 9\n`);
    expect(rules(v.diagnostics)).toEqual(["schema.const"]);
  });
});

describe("hostile policy files", () => {
  test.each([
    ["empty", "", "yaml.empty"],
    ["a list", "- version: 1\n", "schema.type"],
    ["an alias", `x: &a [sre1]\n${POLICY}`, "yaml.anchor"],
    ["a __proto__ resource", p("  prod-db:", "  __proto__:"), "yaml.forbidden-key"],
    ["a constructor role", p("      readonly:", "      constructor:"), "yaml.forbidden-key"],
    ["a tag", p("target: analytics_read", "target: !!js/function 'function(){}'"), "yaml.tag"],
    ["duplicate resources", `${POLICY}  prod-db:\n    provider: postgres\n    roles: {}\n`, "yaml.duplicate-key"],
    ["too deep", `x: ${"[".repeat(1000)}\n${POLICY}`, "yaml.too-deep"],
  ])("%s, no exception, nothing polluted", (_name, text, rule) => {
    let v: ReturnType<typeof check> | undefined;
    expect(() => (v = check(text))).not.toThrow();
    expect(v!.valid).toBe(false);
    expect(rules(v!.diagnostics)).toContain(rule);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("resource and role names that exist on every object work as plain names", () => {
    const text = p("  prod-db:", "  toString:").replace("      readonly:", "      valueOf:");
    const v = check(text);
    expect(v.valid).toBe(true);
    expect(Object.keys(v.policy!.resources)).toEqual(["toString"]);
    const name: string = "toString";
    expect(Object.keys(v.policy!.resources[name].roles)).toEqual(["valueOf"]);
  });
});

describe("targets that escalate beyond a temporary grant (issue #10 item 14)", () => {
  const GH = `version: 1
owners: ["@acme/security"]
resources:
  gh:
    provider: github
    settings: { token_env: GH_TOKEN }
    roles:
      r:
        target: TARGET
        max_duration: 8h
        approvers: ["@acme/sre", sre1]
SETTINGS`;
  const gh = (target: string, settings = "") => GH.replace("TARGET", target).replace("SETTINGS", settings ? `        settings: ${settings}\n` : "");
  const pg = (target: string) => p("target: analytics_read", `target: ${target}`);
  const ldap = (target: string) =>
    GH.replace(
      "provider: github\n    settings: { token_env: GH_TOKEN }",
      'provider: ldap\n    settings: { url_env: LDAP_URL, bind_dn_env: LDAP_BIND_DN, bind_password_env: LDAP_BIND_PASSWORD, base_dn: "dc=example,dc=org" }',
    )
      .replace("TARGET", JSON.stringify(target))
      .replace("SETTINGS", "");
  const privileged = (text: string) => text.replace("        max_duration: 8h\n", "        max_duration: 8h\n        privileged: true\n");

  // [name, policy text, where the error points, message]
  const table: Array<[string, string, string, RegExp]> = [
    ["PostgreSQL postgres", pg("postgres"), "target: |postgres", /superuser-like PostgreSQL role/],
    ["PostgreSQL rds_superuser", pg("rds_superuser"), "target: |rds_superuser", /superuser-like/],
    ["PostgreSQL cloudsqlsuperuser (any case)", pg("CloudSQLSuperUser"), "target: |CloudSQLSuperUser", /superuser-like/],
    ["PostgreSQL pg_read_server_files", pg("pg_read_server_files"), "target: |pg_read_server_files", /predefined PostgreSQL server role/],
    ["PostgreSQL pg_write_all_data", pg("pg_write_all_data"), "target: |pg_write_all_data", /pg_\*/],
    ["GitHub repository admin", gh("acme/payments", "{ permission: admin }"), "", /repository permission `admin`/],
    ["GitHub repository maintain", gh("acme/payments", "{ permission: maintain }"), "", /repository permission `maintain`/],
    ["GitHub team maintainer", gh('"@acme/prod-admins"', "{ team_role: maintainer }"), "", /team_role `maintainer`/],
    ["GitHub team that approves", gh('"@acme/sre"'), 'target: |"@acme/sre"', /a team that approves grants/],
    ["GitHub team that owns the policy", gh('"@ACME/Security"'), 'target: |"@ACME/Security"', /a team that owns this policy/],
    ["LDAP Domain Admins", ldap("CN=Domain Admins,CN=Users,DC=example,DC=org"), "", /directory administrators' group/],
  ];

  test.each(table)("%s is refused without privileged: true", (_name, text, where, message) => {
    const v = check(text, knownProviders());
    expect(v.valid).toBe(false);
    const hit = v.diagnostics.find((d) => d.rule === "policy.privileged-target");
    expect(hit?.message).toMatch(message);
    expect(hit?.message).toMatch(/privileged: true/);
    expect(hit?.severity).toBe("error");
    if (where) expect(at(text, where)).toMatchObject({ line: hit!.line, column: hit!.column });
  });

  test.each(table)("%s is accepted with privileged: true, flagged as a warning", (_name, text) => {
    const v = check(privileged(text), knownProviders());
    expect(v.valid).toBe(true);
    expect(v.diagnostics.map((d) => [d.rule, d.severity])).toEqual([["policy.privileged-role", "warning"]]);
    const roles = Object.values(v.policy!.resources)[0]!.roles;
    expect(roles.r ?? roles.readonly).toMatchObject({ privileged: true });
  });

  test.each([
    ["an ordinary PostgreSQL role", pg("analytics_read")],
    ["a PostgreSQL role merely containing pg_", pg("app_pg_reader")],
    ["GitHub push", gh("acme/payments", "{ permission: push }")],
    ["GitHub triage", gh("acme/payments", "{ permission: triage }")],
    ["an ordinary LDAP group", ldap("cn=analysts,ou=groups,dc=example,dc=org")],
    ["GitHub team member of a team that approves nothing", gh('"@acme/prod-admins"')],
    ["GitHub team member with team_role member", gh('"@acme/prod-admins"', "{ team_role: member }")],
  ])("%s needs no privileged flag", (_name, text) => {
    const v = check(text, knownProviders());
    expect(v).toMatchObject({ valid: true, diagnostics: [] });
  });

  test("privileged must be a boolean", () => {
    const v = check(privileged(pg("postgres")).replace("privileged: true", "privileged: yes please"), knownProviders());
    expect(v.valid).toBe(false);
  });
});

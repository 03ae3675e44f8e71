/** checkGrantFile against the fixture policy: rules, locations, team rules offline, and no crashes. */
import { checkGrantFile, isGrantPath, requesterTeamQueries, type GrantCheckContext } from "../../src/grants/check.js";
import type { Policy } from "../../src/policy/types.js";
import { at } from "../yaml/locate.js";
import { GRANT_TEXT, expectWellFormed, fixturePolicy, grantYaml, members, rules } from "./helpers.js";

const policy = fixturePolicy();
const PATH = "grants/dev1-prod-db.yaml";

function check(text: string, ctx: Partial<GrantCheckContext> = {}, path = PATH) {
  const verdict = checkGrantFile(path, text, { policy, author: "dev1", ...ctx });
  expectWellFormed(verdict.diagnostics, path);
  return verdict;
}

describe("a valid grant", () => {
  test("the fixture grant is valid for its author, with the parsed grant and role", () => {
    const v = check(GRANT_TEXT);
    expect(v).toMatchObject({ valid: true, diagnostics: [] });
    expect(v.grant).toEqual({
      path: PATH,
      requester: "dev1",
      resource: "prod-db",
      role: "readonly",
      duration: "2h",
      durationMs: 2 * 3600_000,
      reason: "Investigate INC-1234 slow checkout queries",
      ticket: "INC-1234",
      emergency: false,
    });
    expect(v.role).toBe(policy.resources["prod-db"].roles.readonly);
  });

  test("the same bytes as a Uint8Array", () => {
    expect(check(GRANT_TEXT, {}, PATH).valid).toBe(checkGrantFile(PATH, new TextEncoder().encode(GRANT_TEXT), { policy, author: "dev1" }).valid);
  });

  test("ISO duration, exactly max_duration, .yml extension, logins compared case-insensitively", () => {
    expect(check(grantYaml({ duration: "PT8H" })).valid).toBe(true);
    expect(check(grantYaml({ duration: "8h" }), {}, "grants/x.yml").valid).toBe(true);
    expect(check(grantYaml({ requester: "DEV1" }), { author: "dev1" }).valid).toBe(true);
  });

  test("without an author (offline CLI without --author) the author rule is not checked", () => {
    expect(check(grantYaml({ requester: "dev2" }), { author: undefined }).valid).toBe(true);
  });

  test("a break-glass grant by a listed break-glass requester", () => {
    const v = check(grantYaml({ requester: "oncall1", role: "admin", duration: "30m", emergency: "true" }), { author: "oncall1" });
    expect(v.diagnostics).toEqual([]);
    expect(v.grant?.emergency).toBe(true);
  });
});

describe("policy rules", () => {
  // [name, document, context, rule, where, message]
  const table: Array<[string, string, Partial<GrantCheckContext>, string, string, RegExp]> = [
    [
      "unknown resource",
      grantYaml({ resource: "prod-cache" }),
      {},
      "policy.unknown-resource",
      "resource: |prod-cache",
      /unknown resource `prod-cache`; the policy has prod-db/,
    ],
    [
      "unknown role",
      grantYaml({ role: "superuser" }),
      {},
      "policy.unknown-role",
      "role: |superuser",
      /unknown role `superuser`; `prod-db` has readonly, admin/,
    ],
    [
      "over max_duration",
      grantYaml({ duration: "9h" }),
      {},
      "policy.max-duration",
      "duration: |9h",
      /^duration 9h exceeds max_duration 8h for prod-db\/readonly/,
    ],
    ["over max_duration (ISO)", grantYaml({ duration: "P1D" }), {}, "policy.max-duration", "duration: |P1D", /at most 8h/],
    [
      "over breakglass.max_duration",
      grantYaml({ requester: "oncall1", role: "admin", duration: "45m", emergency: "true" }),
      { author: "oncall1" },
      "policy.max-duration",
      "duration: |45m",
      /breakglass\.max_duration 30m/,
    ],
    ["emergency on a role without breakglass", grantYaml({ emergency: "true" }), {}, "policy.no-breakglass", "emergency: |true", /does not allow break-glass/],
    [
      "emergency by a non-breakglass requester",
      grantYaml({ role: "admin", duration: "20m", emergency: "true" }),
      { isMember: members({}) },
      "policy.breakglass-requester",
      "emergency: |true",
      /`dev1` may not use break-glass.*`@acme\/oncall`, `oncall1`/,
    ],
    ["missing ticket", grantYaml({ ticket: undefined }), {}, "policy.ticket-required", "|requester", /ticket is required/],
    ["ticket not matching", grantYaml({ ticket: "JIRA-1" }), {}, "policy.ticket-pattern", "ticket: |JIRA-1", /`JIRA-1` does not match/],
    [
      "requester is not the author",
      grantYaml({ requester: "dev2" }),
      { author: "dev1" },
      "policy.requester-not-author",
      "requester: |dev2",
      /`dev2` is not the pull request's author `dev1`/,
    ],
    [
      "requester not in requesters",
      grantYaml({ requester: "mallory" }),
      { author: "mallory", isMember: members({}) },
      "policy.requester-not-allowed",
      "requester: |mallory",
      /`mallory` may not request access/,
    ],
    ["a bad duration", grantYaml({ duration: "2 hours" }), {}, "grant.duration", "duration: |2 hours", /not a duration/],
  ];

  test.each(table)("%s", (_name, text, ctx, rule, where, message) => {
    const v = check(text, ctx);
    expect(v.valid).toBe(false);
    expect(v.grant).toBeUndefined();
    const hit = v.diagnostics.find((d) => d.rule === rule);
    expect({ rules: rules(v.diagnostics), hit: !!hit }).toEqual({ rules: rules(v.diagnostics), hit: true });
    expect({ line: hit!.line, column: hit!.column }).toEqual(at(text, where));
    expect(hit!.message).toMatch(message);
    expect(hit!.severity).toBe("error");
  });

  test("on-behalf requests are allowed when the policy says so", () => {
    const onBehalf: Policy = { ...policy, allow_on_behalf: true };
    expect(checkGrantFile(PATH, grantYaml({ requester: "dev2" }), { policy: onBehalf, author: "dev1" }).valid).toBe(true);
  });

  test("no ticket rule without a ticket_pattern", () => {
    const noTickets: Policy = { ...policy, ticket_pattern: undefined };
    expect(checkGrantFile(PATH, grantYaml({ ticket: undefined }), { policy: noTickets, author: "dev1" }).valid).toBe(true);
  });

  test("every mistake is reported once: a field the schema rejected is not judged again", () => {
    const v = check(grantYaml({ duration: "120", resource: "'prod db'" }));
    expect(rules(v.diagnostics).filter((r) => r.startsWith("policy.unknown"))).toEqual([]);
    const numeric = check(grantYaml({ duration: "120" }));
    expect(rules(numeric.diagnostics)).toEqual(["schema.type"]);
  });

  test("all independent problems of one file are reported together", () => {
    const v = check(grantYaml({ requester: "dev2", duration: "9h", ticket: "NOPE" }));
    expect(rules(v.diagnostics).sort()).toEqual(["policy.max-duration", "policy.requester-not-author", "policy.ticket-pattern"]);
  });

  test("without a policy the grant cannot pass", () => {
    const v = checkGrantFile(PATH, GRANT_TEXT, { author: "dev1" });
    expect(v.valid).toBe(false);
    expect(v.diagnostics).toEqual([expect.objectContaining({ rule: "grant.no-policy", line: 1, column: 1, severity: "error" })]);
  });
});

describe("paths and Git entry kinds", () => {
  test.each([
    ["outside grants/", "other/dev1.yaml", "grant.path", /under `grants\/`/],
    ["a .json file", "grants/dev1.json", "grant.path", /\.yaml or \.yml/],
    ["no extension", "grants/dev1", "grant.path", /\.yaml or \.yml/],
    ["a look-alike folder", "grants-old/dev1.yaml", "grant.path", /under `grants\/`/],
  ])("%s", (_name, path, rule, message) => {
    const v = check(GRANT_TEXT, {}, path);
    expect(v.valid).toBe(false);
    expect(v.diagnostics).toEqual([expect.objectContaining({ rule, line: 1, column: 1, message: expect.stringMatching(message) })]);
  });

  test.each(["symlink", "submodule"] as const)("a %s is never a grant, whatever it points at", (entryKind) => {
    const v = check(GRANT_TEXT, { entryKind });
    expect(v.valid).toBe(false);
    expect(v.diagnostics).toEqual([
      expect.objectContaining({
        rule: "grant.not-regular-file",
        line: 1,
        column: 1,
        message: expect.stringContaining(entryKind === "symlink" ? "symbolic link" : "submodule"),
      }),
    ]);
  });

  test("isGrantPath", () => {
    expect(isGrantPath("grants/a.yaml", policy)).toBe(true);
    expect(isGrantPath("grants/sub/a.yml", policy)).toBe(true);
    expect(isGrantPath("grants/a.json", policy)).toBe(false);
    expect(isGrantPath("grantsx/a.yaml", policy)).toBe(false);
    expect(isGrantPath(".github/timebox.yml", policy)).toBe(false);
  });
});

describe("team rules offline", () => {
  // dev3 is allowed to request only through @acme/engineering.
  const text = grantYaml({ requester: "dev3" });

  test("no membership lookup: a warning ending in .unchecked, and the file stays valid", () => {
    const v = check(text, { author: "dev3" });
    expect(v.valid).toBe(true);
    expect(v.diagnostics).toHaveLength(1);
    const [d] = v.diagnostics;
    expect(d.severity).toBe("warning");
    expect(d.rule).toMatch(/\.unchecked$/);
    expect(d.rule).toBe("policy.requester-not-allowed.unchecked");
    expect(d.message).toMatch(/`dev3`.*`@acme\/engineering`.*not checked/);
    expect({ line: d.line, column: d.column }).toEqual(at(text, "requester: |dev3"));
  });

  test("a lookup that says no: an error", () => {
    const v = check(text, { author: "dev3", isMember: members({ "@acme/engineering": ["someone-else"] }) });
    expect(v.valid).toBe(false);
    expect(v.diagnostics).toEqual([expect.objectContaining({ rule: "policy.requester-not-allowed", severity: "error" })]);
  });

  test("a lookup that says yes: valid, no diagnostics", () => {
    const v = check(text, { author: "dev3", isMember: members({ "@acme/engineering": ["DEV3"] }) });
    expect(v).toMatchObject({ valid: true, diagnostics: [] });
  });

  test("a lookup that could not decide (undefined) is still unchecked", () => {
    const v = check(text, { author: "dev3", isMember: () => undefined });
    expect(v.valid).toBe(true);
    expect(rules(v.diagnostics)).toEqual(["policy.requester-not-allowed.unchecked"]);
  });

  test("a login listed by name needs no lookup", () => {
    const lookups: string[] = [];
    const v = check(GRANT_TEXT, { isMember: (l, t) => (lookups.push(`${l}@${t}`), false) });
    expect(v).toMatchObject({ valid: true, diagnostics: [] });
    expect(lookups).toEqual([]);
  });

  test("break-glass through a team: unchecked warning offline, error when not a member, valid when a member", () => {
    const bg = grantYaml({ requester: "dev1", role: "admin", duration: "20m", emergency: "true" });
    const offline = check(bg);
    expect(offline.valid).toBe(true);
    expect(offline.diagnostics).toEqual([expect.objectContaining({ rule: "policy.breakglass-requester.unchecked", severity: "warning" })]);
    expect(check(bg, { isMember: members({}) }).valid).toBe(false);
    expect(check(bg, { isMember: members({ "@acme/oncall": ["dev1"] }) })).toMatchObject({ valid: true, diagnostics: [] });
  });

  test("requesterTeamQueries names exactly the lookups that decide", () => {
    expect(requesterTeamQueries({ requester: "dev1", resource: "prod-db", role: "readonly" }, policy)).toEqual([]);
    expect(requesterTeamQueries({ requester: "dev3", resource: "prod-db", role: "readonly" }, policy)).toEqual([{ login: "dev3", team: "@acme/engineering" }]);
    expect(requesterTeamQueries({ requester: "dev1", resource: "prod-db", role: "admin", emergency: true }, policy)).toEqual([
      { login: "dev1", team: "@acme/oncall" },
    ]);
    expect(requesterTeamQueries({ requester: "dev3", resource: "prod-db", role: "admin", emergency: true }, policy)).toEqual([
      { login: "dev3", team: "@acme/engineering" },
      { login: "dev3", team: "@acme/oncall" },
    ]);
    expect(requesterTeamQueries({ resource: "prod-db" }, policy)).toEqual([]);
    expect(requesterTeamQueries({ requester: "dev3", resource: "nope", role: "x", emergency: true }, policy)).toEqual([
      { login: "dev3", team: "@acme/engineering" },
    ]);
  });
});

describe("names that exist on every JavaScript object are not resources or roles", () => {
  test.each([
    ["resource", "constructor", "policy.unknown-resource"],
    ["resource", "toString", "policy.unknown-resource"],
    ["resource", "hasOwnProperty", "policy.unknown-resource"],
    ["role", "constructor", "policy.unknown-role"],
    ["role", "toString", "policy.unknown-role"],
    ["role", "valueOf", "policy.unknown-role"],
  ])("%s: %s → %s, no exception", (field, value, rule) => {
    let v: ReturnType<typeof check> | undefined;
    expect(() => (v = check(grantYaml({ [field]: value })))).not.toThrow();
    expect(v!.valid).toBe(false);
    expect(v!.role).toBeUndefined();
    expect(rules(v!.diagnostics)).toContain(rule);
  });

  test("requesterTeamQueries does not throw on them either", () => {
    expect(() => requesterTeamQueries({ requester: "dev3", resource: "constructor", role: "readonly", emergency: true }, policy)).not.toThrow();
    expect(() => requesterTeamQueries({ requester: "dev3", resource: "prod-db", role: "constructor", emergency: true }, policy)).not.toThrow();
  });
});

describe("user-supplied values in messages", () => {
  test("are one-line code spans: no raw backticks, newlines or @mentions outside a code span", () => {
    const v = check(grantYaml({ ticket: '"INC-1 `@acme/all` ping\\nnext"' }));
    const d = v.diagnostics.find((x) => x.rule === "policy.ticket-pattern")!;
    expect(d.message).not.toMatch(/\n/);
    // Every @ sits inside a pair of backticks.
    const outside = d.message
      .split("`")
      .filter((_, i) => i % 2 === 0)
      .join("");
    expect(outside).not.toMatch(/@/);
  });

  test("a reason full of mentions and markdown is free text: valid, kept verbatim", () => {
    const reason = "@acme/everyone ![x](https://evil.example/p.png) <img src=x onerror=alert(1)>";
    const v = check(grantYaml({ reason: JSON.stringify(reason) }));
    expect(v.valid).toBe(true);
    expect(v.grant?.reason).toBe(reason);
  });
});

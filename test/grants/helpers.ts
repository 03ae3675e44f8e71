/** Shared fixtures for grant, policy and CLI tests. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Diagnostic } from "../../src/diagnostics.js";
import { checkPolicyFile } from "../../src/policy/check.js";
import type { Policy } from "../../src/policy/types.js";
import type { MembershipLookup } from "../../src/policy/principals.js";

export const ACCESS_REPO = fileURLToPath(new URL("../fixtures/access-repo/", import.meta.url));
export const HOSTILE_DIR = fileURLToPath(new URL("../fixtures/hostile/", import.meta.url));

export const POLICY_TEXT = readFileSync(`${ACCESS_REPO}.github/timebox.yml`, "utf8");
export const GRANT_TEXT = readFileSync(`${ACCESS_REPO}grants/dev1-prod-db.yaml`, "utf8");

/** The providers and settings keys the app knows (kept static so these tests do not load provider code). */
export const PROVIDERS: ReadonlyMap<string, readonly string[]> = new Map([
  ["github", ["token_env", "app_id_env", "private_key_env", "installation_id_env", "base_url_env"]],
  ["postgres", ["url_env", "terminate_sessions", "pool_size"]],
]);

/** The fixture policy, validated and with defaults applied. */
export function fixturePolicy(): Policy {
  const verdict = checkPolicyFile(".github/timebox.yml", POLICY_TEXT, { providers: PROVIDERS });
  if (!verdict.valid || !verdict.policy) throw new Error(`fixture policy is invalid: ${JSON.stringify(verdict.diagnostics)}`);
  return verdict.policy;
}

/** A grant file with the fixture's fields, some replaced or removed (undefined). */
export function grantYaml(fields: Record<string, string | undefined> = {}): string {
  const base: Record<string, string | undefined> = {
    requester: "dev1",
    resource: "prod-db",
    role: "readonly",
    duration: "2h",
    reason: "Investigate INC-1234 slow checkout queries",
    ticket: "INC-1234",
    ...fields,
  };
  return Object.entries(base)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}\n`)
    .join("");
}

/** Team membership from a table: team slug → logins (anything else is "not a member"). */
export function members(table: Record<string, string[]>): MembershipLookup {
  return (login, team) => (table[team] ?? []).some((m) => m.toLowerCase() === login.toLowerCase());
}

/** Every diagnostic must be located, worded and named — the contract of design §2.10. */
export function expectWellFormed(diagnostics: readonly Diagnostic[], path: string): void {
  for (const d of diagnostics) {
    expect(d.path).toBe(path);
    expect(Number.isInteger(d.line) && d.line >= 1).toBe(true);
    expect(Number.isInteger(d.column) && d.column >= 1).toBe(true);
    expect(typeof d.message).toBe("string");
    expect(d.message.trim().length).toBeGreaterThan(5);
    expect(d.message).not.toMatch(/[\r\n]/);
    expect(d.rule).toMatch(/^[a-z]+(?:\.[A-Za-z0-9-]+)+$/);
    expect(["error", "warning"]).toContain(d.severity);
  }
}

export const rules = (diagnostics: readonly Diagnostic[]) => diagnostics.map((d) => d.rule);

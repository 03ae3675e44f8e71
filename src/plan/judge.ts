/** Validation of stored files for the plan: the app's own checks, plus what a stored file can add. */
import { code, type Diagnostic } from "../diagnostics.js";
import { checkGrantFile, type GrantCheckContext, type GrantVerdict } from "../grants/check.js";
import { checkPolicyFile, type PolicyVerdict } from "../policy/check.js";
import type { Policy, RoleSpec } from "../policy/types.js";
import { MAX_YAML_BYTES, parseYaml } from "../yaml/parse.js";
import type { StoredFile } from "./facts.js";
import type { GrantSummary, PlanDiagnostic } from "./types.js";

const fileLevel = (path: string, rule: string, message: string): Diagnostic => ({ path, line: 1, column: 1, rule, message, severity: "error" });
const tooLarge = (path: string, size: number) =>
  fileLevel(path, "yaml.too-large", `file is ${size} bytes; at most ${MAX_YAML_BYTES} bytes (64 KiB) are allowed`);

/** A grant file as stored, checked like `timebox validate` checks it. */
export function checkStoredGrant(path: string, file: StoredFile, ctx: GrantCheckContext): GrantVerdict {
  if (file.kind !== "file") return checkGrantFile(path, "", { ...ctx, entryKind: file.kind });
  if (!file.content) return { path, valid: false, diagnostics: [tooLarge(path, file.size)] };
  return checkGrantFile(path, file.content, ctx);
}

/** A policy file as stored, checked like the app checks it. */
export function checkStoredPolicy(path: string, file: StoredFile, providers: ReadonlyMap<string, readonly string[]>): PolicyVerdict {
  if (file.kind !== "file") return { path, valid: false, diagnostics: [fileLevel(path, "policy.not-regular-file", `is a ${file.kind === "symlink" ? "symbolic link" : "submodule"}; the policy must be a regular file`)] };
  if (!file.content) return { path, valid: false, diagnostics: [tooLarge(path, file.size)] };
  return checkPolicyFile(path, file.content, { providers });
}

export const toPlanDiagnostic = (d: Diagnostic): PlanDiagnostic => ({ line: d.line, column: d.column, message: d.message, rule: d.rule, severity: d.severity });

/**
 * The extension cap for a role: the role's `max_extensions`, else the policy's; null when
 * unlimited. Read defensively (a non-negative integer or nothing), whatever the policy type says.
 */
export function maxExtensionsOf(policy: Policy, role: RoleSpec): number | null {
  const cap = (v: unknown) => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined);
  return cap((role as { max_extensions?: unknown }).max_extensions) ?? cap((policy as { max_extensions?: unknown }).max_extensions) ?? null;
}

/** A grant file's fields as plain values, when the content is a YAML mapping. */
export function fieldsOf(file: StoredFile | undefined): Record<string, unknown> | undefined {
  if (file?.kind !== "file" || !file.content) return undefined;
  const parsed = parseYaml("grant", file.content);
  const value = parsed.ok ? parsed.yaml.value : undefined;
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The fields an extension may not change: who gets what. */
const IDENTITY = ["requester", "resource", "role"] as const;

/** Identity fields `after` changes compared with `before` (logins compare case-insensitively). */
export function changedIdentity(before: Record<string, unknown>, after: Record<string, unknown>): Array<(typeof IDENTITY)[number]> {
  const norm = (key: string, v: unknown) => (key === "requester" && typeof v === "string" ? v.toLowerCase() : v);
  return IDENTITY.filter((k) => norm(k, before[k]) !== norm(k, after[k]));
}

/**
 * The extension rules, for a change to a grant file already on the default branch: who gets what
 * stays the same, and the role's `max_extensions` is not exceeded. Added only where the grant
 * check did not already report them (it does when it knows the previous version).
 */
export function extensionProblems(path: string, file: StoredFile, previous: StoredFile, extensionsSoFar: number, cap: number | null, already: readonly Diagnostic[]): Diagnostic[] {
  if (file.kind !== "file" || !file.content) return [];
  const parsed = parseYaml(path, file.content);
  const after = parsed.ok ? parsed.yaml.value : undefined;
  const before = fieldsOf(previous);
  if (!parsed.ok || typeof after !== "object" || after === null || Array.isArray(after) || !before) return [];
  const fields = after as Record<string, unknown>;
  const has = (rule: string) => already.some((d) => d.rule === rule);
  const at = (key: string) => (Object.hasOwn(fields, key) ? parsed.yaml.locate([key]) : { line: 1, column: 1 });
  const out: Diagnostic[] = [];
  if (!has("grant.extension-changes-identity")) {
    for (const key of changedIdentity(before, fields)) {
      out.push({
        path,
        ...at(key),
        rule: "grant.extension-changes-identity",
        message: `an extension may change only duration, reason and ticket; ${key} was ${code(String(before[key] ?? ""))}. To ask for something else, remove this grant and add a new file`,
        severity: "error",
      });
    }
  }
  if (cap !== null && extensionsSoFar + 1 > cap && !has("policy.max-extensions")) {
    out.push({
      path,
      ...at("duration"),
      rule: "policy.max-extensions",
      message: `this grant was already extended ${extensionsSoFar} time${extensionsSoFar === 1 ? "" : "s"}; the role allows at most ${cap}. Request a new grant instead`,
      severity: "error",
    });
  }
  return out;
}

export function summaryOf(verdict: GrantVerdict): GrantSummary | null {
  const g = verdict.grant;
  if (!g) return null;
  return { requester: g.requester, resource: g.resource, role: g.role, duration: g.duration, reason: g.reason, ticket: g.ticket ?? null, emergency: g.emergency };
}

/** Validation of stored files for the plan: the app's own checks, plus what a stored file can add. */
import type { Diagnostic } from "../diagnostics.js";
import { checkGrantFile, type GrantCheckContext, type GrantVerdict } from "../grants/check.js";
import { checkPolicyFile, type PolicyVerdict } from "../policy/check.js";
import { MAX_YAML_BYTES } from "../yaml/parse.js";
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
  if (file.kind !== "file")
    return {
      path,
      valid: false,
      diagnostics: [
        fileLevel(path, "policy.not-regular-file", `is a ${file.kind === "symlink" ? "symbolic link" : "submodule"}; the policy must be a regular file`),
      ],
    };
  if (!file.content) return { path, valid: false, diagnostics: [tooLarge(path, file.size)] };
  return checkPolicyFile(path, file.content, { providers });
}

export const toPlanDiagnostic = (d: Diagnostic): PlanDiagnostic => ({ line: d.line, column: d.column, message: d.message, rule: d.rule, severity: d.severity });

export function summaryOf(verdict: GrantVerdict): GrantSummary | null {
  const g = verdict.grant;
  if (!g) return null;
  return {
    requester: g.requester,
    resource: g.resource,
    role: g.role,
    duration: g.duration,
    reason: g.reason,
    ticket: g.ticket ?? null,
    emergency: g.emergency,
  };
}

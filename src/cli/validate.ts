import { plural } from "../markdown.js";
import { readFileSync } from "node:fs";
import { dirname, relative, resolve, sep } from "node:path";
import { formatDiagnostic, type Diagnostic } from "../diagnostics.js";
import { checkGrantFile } from "../grants/check.js";
import { checkPolicyFile } from "../policy/check.js";
import { knownProviders } from "../policy/providers.js";

export interface ValidateOptions {
  policy: string;
  author?: string;
  format: "text" | "json";
}

export interface CliResult {
  exitCode: 0 | 1 | 2;
  stdout: string;
}

type JsonDiagnostic = Pick<Diagnostic, "line" | "column" | "message" | "rule"> & { severity: Diagnostic["severity"] };
const toJson = (d: Diagnostic): JsonDiagnostic => ({ line: d.line, column: d.column, message: d.message, rule: d.rule, severity: d.severity });

/** `timebox validate`: checks the policy, then each grant file against it. Offline; changes nothing. */
export async function runValidate(files: string[], options: ValidateOptions, cwd = process.cwd()): Promise<CliResult> {
  const policyFile = resolve(cwd, options.policy);
  // Grant ids are repository paths: relative to the folder holding `.github/`, when the policy is there.
  const root = dirname(policyFile).endsWith(`${sep}.github`) ? dirname(dirname(policyFile)) : cwd;
  const repoPath = (file: string) => relative(root, resolve(cwd, file)).split(sep).join("/");
  let unreadable = false;

  const policyPath = repoPath(options.policy);
  const policyText = readOrUndefined(policyFile);
  const policy = policyText
    ? checkPolicyFile(policyPath, policyText, { providers: knownProviders() })
    : { path: policyPath, valid: false, diagnostics: [unreadableDiagnostic(policyPath, "policy file")] };
  if (!policyText) unreadable = true;

  const results = [];
  for (const file of files) {
    const absolute = resolve(cwd, file);
    const path = relative(root, absolute).split(sep).join("/");
    const bytes = readOrUndefined(absolute);
    if (bytes === undefined) {
      unreadable = true;
      results.push({ path, valid: false, diagnostics: [unreadableDiagnostic(path, "file")] });
      continue;
    }
    results.push(checkGrantFile(path, bytes, { policy: policy.policy, author: options.author, policyPath }));
  }

  const valid = policy.valid && results.every((r) => r.valid);
  const exitCode = unreadable ? 2 : valid ? 0 : 1;
  if (options.format === "json") {
    const body = {
      valid,
      policy: { path: policy.path, valid: policy.valid, diagnostics: policy.diagnostics.map(toJson) },
      files: results.map((r) => ({ path: r.path, valid: r.valid, diagnostics: r.diagnostics.map(toJson) })),
    };
    return { exitCode, stdout: `${JSON.stringify(body, null, 2)}\n` };
  }
  const lines = [...policy.diagnostics, ...results.flatMap((r) => r.diagnostics)].map(formatDiagnostic);
  const invalid = results.filter((r) => !r.valid).length;
  lines.push(
    `${plural(results.length, "grant file")} checked: ${results.length - invalid} valid, ${invalid} invalid; policy ${policy.valid ? "valid" : "invalid"}`,
  );
  return { exitCode, stdout: `${lines.join("\n")}\n` };
}

/**
 * A file's bytes, or undefined when it cannot be read (missing, a directory, no permission). Read
 * synchronously: the promise `readFile` costs four thread-pool round trips per file, and awaited
 * one file after another that was two thirds of this command's time (docs/decisions.md).
 */
function readOrUndefined(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

function unreadableDiagnostic(path: string, what: string): Diagnostic {
  return { path, line: 1, column: 1, message: `${what} cannot be read (missing or not a file)`, rule: "file.unreadable", severity: "error" };
}

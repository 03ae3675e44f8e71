/** A located finding about a file: what is wrong, where, and which rule it breaks. */
export interface Diagnostic {
  /** Repository-relative path of the file the finding is about. */
  path: string;
  /** 1-based line of the offending YAML node (1 when the whole file is at fault). */
  line: number;
  /** 1-based column of the offending YAML node. */
  column: number;
  /** What is wrong and how to fix it, in words a requester can act on. */
  message: string;
  /** Stable identifier of the rule broken, e.g. `schema.required`, `policy.max-duration`. */
  rule: string;
  /** `error` makes the file invalid; `warning` is reported but does not (e.g. a team rule not checked offline). */
  severity: "error" | "warning";
}

export const isError = (d: Diagnostic): boolean => d.severity === "error";

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.path}:${d.line}:${d.column} ${d.severity} ${d.message} [${d.rule}]`;
}

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

/** Control characters, bidirectional overrides and zero-width characters: shown escaped, never raw. */
// eslint-disable-next-line no-control-regex -- control characters are what this pattern is for
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g;

/** A user-supplied value shown as a code span: clipped, one line, no backticks (and so no @mentions). */
export function code(value: string, max = 60): string {
  const clipped = value.length > max ? `${value.slice(0, max)}…` : value;
  const visible = clipped.replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return `\`${visible.replace(/`/g, "'")}\``;
}

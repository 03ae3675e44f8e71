import { Schema, Type } from "js-yaml";

/**
 * The js-yaml schema Timebox reads grant and policy files with: YAML 1.2's core schema, resolved
 * exactly as the YAML 1.2.2 spec (and the `yaml` package Timebox used before) resolves it — so
 * `yes`, `on`, `1_000` and `0b1` stay strings, `0o17` is 15 — and nothing else: no merge keys, no
 * timestamps, no binary, no sets.
 *
 * Tags are refused by the parser (`yaml.tag`); to report every one of them, not only the first,
 * any explicit tag is accepted here and leaves its node's text as it is.
 */

/** Tags of the implicit types: a space cannot occur in a written tag, so no file can name these. */
export const IMPLICIT_TAG_PREFIX = "timebox implicit ";

const NULL = /^(?:~|[Nn]ull|NULL)$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT = /^[-+]?[0-9]+$/;
const INT_OCT = /^0o[0-7]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT_SPECIAL = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;

/** Whether a plain scalar could be a number at all: the cheap test before the patterns. */
function numberLike(s: string): boolean {
  const c = s.charCodeAt(0);
  return (c >= 0x30 && c <= 0x39) || c === 0x2b /* + */ || c === 0x2d /* - */ || c === 0x2e; /* . */
}

const implicit = (name: string, resolve: (s: string) => boolean, construct: (s: string) => unknown) =>
  new Type(`${IMPLICIT_TAG_PREFIX}${name}`, { kind: "scalar", resolve: (s: unknown) => typeof s === "string" && resolve(s), construct });

const nullType = implicit(
  "null",
  (s) => NULL.test(s),
  () => null,
);
const boolType = implicit(
  "bool",
  (s) => BOOL.test(s),
  (s) => s[0] === "t" || s[0] === "T",
);
const intType = implicit(
  "int",
  (s) => numberLike(s) && (INT.test(s) || INT_OCT.test(s) || INT_HEX.test(s)),
  (s) => (s[1] === "o" ? parseInt(s.slice(2), 8) : s[1] === "x" ? parseInt(s.slice(2), 16) : parseInt(s, 10)),
);
const floatType = implicit(
  "float",
  (s) => numberLike(s) && (FLOAT.test(s) || FLOAT_EXP.test(s) || FLOAT_SPECIAL.test(s)),
  (s) => (FLOAT_SPECIAL.test(s) ? (s.endsWith("nan") || s.endsWith("NaN") || s.endsWith("NAN") ? NaN : s[0] === "-" ? -Infinity : Infinity) : parseFloat(s)),
);

/** Any explicitly tagged node, kept as written; the parser reports the tag. */
const anyTag = (kind: "scalar" | "sequence" | "mapping") => new Type("", { kind, multi: true, construct: (data: unknown) => data });

export const CORE_SCHEMA = new Schema({
  implicit: [nullType, boolType, intType, floatType],
  explicit: [anyTag("scalar"), anyTag("sequence"), anyTag("mapping")],
});

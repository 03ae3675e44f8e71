import type { YAMLException } from "js-yaml";
import { code } from "../markdown.js";
import { isKey, nodeStart, type NodeRecorder, type YamlNode } from "./nodes.js";
import { lineAndColumn, skipSeparation, skipToken } from "./source.js";

/** A problem found while reading, at an offset into the text; located only when it is reported. */
export interface Problem {
  offset: number;
  rule: string;
  message: string;
}

/** What js-yaml's reasons (its error and warning texts) mean for a person: a rule and the words for it. */
const REASONS: Array<[RegExp, string, string]> = [
  [
    /^(unknown escape sequence|expected hexadecimal character)/,
    "bad-dq-escape",
    "invalid escape sequence in a double-quoted string; write \\\\ for a backslash, or use single quotes",
  ],
  [/^tab characters must not be used in indentation/, "tab-as-indent", "tabs are not allowed as indentation; indent with spaces"],
  [/^unexpected end of the (stream|document) within a (single|double) quoted scalar/, "missing-char", "a quoted string is not closed; add the closing quote"],
  [/^unexpected end of the stream within a flow collection/, "missing-char", "a `[` or `{` is not closed; add the closing `]` or `}`"],
  [/^missed comma between flow collection entries/, "missing-char", "a `[` or `{` is not closed, or a comma is missing between its entries"],
  [/^expected the node content, but found ','/, "unexpected-token", "an entry between two commas is empty"],
  [
    /^bad indentation of a (mapping|sequence) entry/,
    "bad-indent",
    "bad indentation: entries of one mapping or list must line up, and a value cannot run on into a more indented line that looks like a key",
  ],
  [/^deficient indentation/, "bad-indent", "this line is indented less than the value it continues"],
  [/^can not read an implicit mapping pair; a colon is missed/, "missing-char", "a `:` is missing after a key"],
  [/^can not read a block mapping entry; a multiline key may not be an implicit key/, "multiline-implicit-key", "a key must fit on one line"],
  [/^incomplete explicit mapping pair; a key node is missed/, "key", "a `:` with no key before it; mapping keys must be plain words"],
  [/^nested arrays are not supported inside keys/, "key", "mapping keys must be plain words"],
  [/^a whitespace character is expected after the key-value separator/, "missing-char", "a space is needed after the `:` of a key"],
  [/^end of the stream or a document separator is expected/, "unexpected-token", "unexpected text after the end of the document"],
  [/^(the stream contains non-printable characters|expected valid JSON character)/, "bad-char", "the file contains a non-printable character"],
  [
    /^(missing indentation for block scalar|bad explicit indentation width|repeat of an indentation width|repeat of a chomping mode)/,
    "block-scalar-header",
    "a block scalar (`|` or `>`) has a bad header or no indented text",
  ],
  [
    /(directive|directives end mark|YAML version|TAG directive|previously declared suffix|tag handle \(first argument\)|tag prefix)/,
    "bad-directive",
    "a `%` directive is malformed or not supported; grant and policy files need none",
  ],
  [/(tag property|verbatim tag|tag handle|tag suffix|tag name|unknown tag|explicit tag|node kind for !<)/, "tag", ""],
  [/anchor/, "anchor", ""],
  [/alias/, "alias", ""],
];

/** Turns a js-yaml error or warning into a located problem, pointing where a person should look. */
export function fromException(error: YAMLException, recorder: NodeRecorder): Problem {
  const text = recorder.text;
  const reason = String(error.reason ?? error.message);
  const at = error.mark?.position ?? 0;
  const [, rule, message] = REASONS.find(([pattern]) => pattern.test(reason)) ?? [undefined, "syntax", ""];
  const innermost = recorder.open.length > 0 ? recorder.open[recorder.open.length - 1] : undefined;
  switch (rule) {
    case "tag":
    case "anchor":
    case "alias": {
      const offset = innermost ? propertyOffset(text, innermost, rule) : at;
      return { offset, rule: `yaml.${rule}`, message: refusalMessage(rule, text.slice(offset, skipToken(text, offset))) };
    }
    case "bad-indent":
      return { offset: (reason.startsWith("bad indentation of a mapping") && overrunValue(recorder, at)) || at, rule: "yaml.bad-indent", message };
    case "bad-dq-escape":
      // js-yaml stops after the backslash; the escape starts at it.
      return { offset: Math.max(text.lastIndexOf("\\", at), 0), rule: "yaml.bad-dq-escape", message };
    case "bad-directive": {
      // js-yaml notices some directive problems only once it has read the whole `%` line.
      const lineStart = text.lastIndexOf("\n", Math.max(at - 1, 0) - 1) + 1;
      return { offset: text[lineStart] === "%" ? lineStart : at, rule: "yaml.bad-directive", message };
    }
    case "syntax":
      return { offset: at, rule: "yaml.syntax", message: `could not be read as YAML (${reason})` };
    default:
      return { offset: at, rule: `yaml.${rule}`, message };
  }
}

/** js-yaml reports a duplicate key at the key; the message names it. */
export function duplicateKey(error: YAMLException, recorder: NodeRecorder): Problem | undefined {
  if (!String(error.reason).startsWith("duplicated mapping key")) return undefined;
  const offset = skipSeparation(recorder.text, error.mark?.position ?? 0);
  const mapping = recorder.open.at(-1);
  const key = [...(mapping?.children ?? [])].reverse().find((child) => isKey(recorder.text, child) && nodeStart(recorder.text, child) === offset);
  const name = key && (typeof key.value === "string" || typeof key.value === "number") ? `key ${code(String(key.value))}` : "a key";
  return { offset, rule: "yaml.duplicate-key", message: `${name} appears twice in one mapping; each key may appear once` };
}

export function refusalMessage(rule: "tag" | "anchor" | "alias", written: string): string {
  switch (rule) {
    case "tag":
      return `YAML tag ${code(written.replace("tag:yaml.org,2002:", "!!"))} is not allowed; remove it`;
    case "anchor":
      return "YAML anchors (&name) are not allowed; write the value out";
    case "alias":
      return "YAML aliases (*name) are not allowed; write the value out";
  }
}

/** Where a node's tag (`!`), anchor (`&`) or alias (`*`) is written: its properties precede its content. */
export function propertyOffset(text: string, node: YamlNode, rule: "tag" | "anchor" | "alias"): number {
  const marker = { tag: 0x21, anchor: 0x26, alias: 0x2a }[rule];
  const start = nodeStart(text, node);
  let i = start;
  for (let n = 0; n < 3; n++) {
    const c = text.charCodeAt(i);
    if (c === marker) return i;
    if (c !== 0x21 && c !== 0x26) break;
    i = skipSeparation(text, skipToken(text, i));
  }
  return start;
}

/**
 * "Bad indentation of a mapping entry" is noticed where the next key should start; when the value
 * before it began on an earlier line (a plain value that ran on into an over-indented `key:`
 * line), the mistake is best seen at that value.
 */
function overrunValue(recorder: NodeRecorder, at: number): number | undefined {
  const last = recorder.open.at(-1)?.children?.at(-1);
  if (!last) return undefined;
  const start = nodeStart(recorder.text, last);
  return lineAndColumn(recorder.text, start).line < lineAndColumn(recorder.text, at).line ? start : undefined;
}

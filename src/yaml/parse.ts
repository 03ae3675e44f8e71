import { LineCounter, parseAllDocuments, isAlias, isMap, isNode, isScalar, isSeq, visit } from "yaml";
import type { Document, Node, Pair } from "yaml";
import type { Diagnostic } from "../diagnostics.js";

/** Files larger than this are refused before parsing. */
export const MAX_YAML_BYTES = 64 * 1024;
/** Deeper nesting than this is refused (grant files are flat; the policy nests about six levels). */
export const MAX_YAML_DEPTH = 16;
/** Keys that could reach an object's prototype if some code merged them carelessly. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export type PathSegment = string | number;

/** A parsed, safe YAML document that can say where each of its nodes is. */
export interface LocatedYaml {
  readonly value: unknown;
  /** Line and column of the node at `path`; with `key`, of that key in the mapping at `path`. */
  locate(path: readonly PathSegment[], key?: string): { line: number; column: number };
}

export type YamlResult = { ok: true; yaml: LocatedYaml } | { ok: false; diagnostics: Diagnostic[] };

/**
 * Parses untrusted YAML: one document, core schema, no tags, no anchors or aliases (no alias
 * bombs), no duplicate keys, no prototype keys, bounded size and depth. Never throws.
 */
export function parseYaml(path: string, input: string | Uint8Array): YamlResult {
  const fail = (message: string, rule: string, line = 1, column = 1): YamlResult => ({
    ok: false,
    diagnostics: [{ path, line, column, message, rule, severity: "error" }],
  });
  const size = typeof input === "string" ? Buffer.byteLength(input) : input.byteLength;
  if (size > MAX_YAML_BYTES) {
    return fail(`file is ${size} bytes; at most ${MAX_YAML_BYTES} bytes (64 KiB) are allowed`, "yaml.too-large");
  }
  let text: string;
  try {
    text = typeof input === "string" ? input : new TextDecoder("utf-8", { fatal: true }).decode(input);
  } catch {
    return fail("file is not valid UTF-8 text; save it as UTF-8", "yaml.encoding");
  }
  // A BOM is fine; so are CRLF and old Mac CR-only line endings.
  text = text.replace(/^\uFEFF/, "").replace(/\r(?!\n)/g, "\n");
  if (text.includes("\u0000")) return fail("file contains a NUL byte; it must be plain text", "yaml.encoding");
  const deepLine = findRunawayNesting(text);
  if (deepLine) return fail(`nesting is too deep; at most ${MAX_YAML_DEPTH} levels are allowed`, "yaml.too-deep", deepLine);
  try {
    return parseText(path, text);
  } catch (error) {
    if (error instanceof RangeError) {
      return fail(`nesting is too deep; at most ${MAX_YAML_DEPTH} levels are allowed`, "yaml.too-deep");
    }
    return fail(`could not be read as YAML (${(error as Error).message.split("\n")[0]})`, "yaml.syntax");
  }
}

function parseText(path: string, text: string): YamlResult {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter,
    schema: "core",
    merge: false,
    uniqueKeys: true,
    strict: true,
    prettyErrors: false,
    keepSourceTokens: false,
  });
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const diagnostics: Diagnostic[] = [];
  const report = (offset: number, message: string, rule: string) => diagnostics.push({ path, ...at(offset), message, rule, severity: "error" });

  if (!Array.isArray(docs) || docs.length === 0) {
    return {
      ok: false,
      diagnostics: [{ path, line: 1, column: 1, message: "file is empty; a YAML mapping is expected", rule: "yaml.empty", severity: "error" }],
    };
  }
  if (docs.length > 1) {
    report(docs[1].range[0], `file holds ${docs.length} YAML documents; exactly one is allowed (remove the extra \`---\`)`, "yaml.multi-document");
  }
  const doc = docs[0];
  // Unresolved tags are reported once, by checkNodes, which refuses every tag.
  for (const problem of [...doc.errors, ...doc.warnings.filter((w) => w.code !== "TAG_RESOLVE_FAILED")]) {
    const message = problem.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    report(problem.pos[0], describeYamlProblem(problem.code, message), `yaml.${problem.code.toLowerCase().replace(/_/g, "-")}`);
  }
  checkNodes(doc, text, report);
  if (diagnostics.length > 0) return { ok: false, diagnostics: capped(dedupe(diagnostics)) };

  const value: unknown = doc.toJS({ maxAliasCount: 0 });
  return {
    ok: true,
    yaml: {
      value,
      locate(segments, key) {
        const node = key === undefined ? nodeAt(doc, segments) : keyNodeAt(doc, segments, key);
        return at(node?.range?.[0] ?? doc.contents?.range?.[0] ?? 0);
      },
    },
  };
}

/**
 * A linear pre-scan that bounds nesting before the (recursive) YAML composer sees the text, so a
 * hostile file cannot exhaust the stack. It over-estimates (brackets inside plain scalars count),
 * hence the generous limit; the exact depth is checked on the parsed nodes.
 */
function findRunawayNesting(text: string): number | undefined {
  const limit = MAX_YAML_DEPTH * 4;
  let flow = 0;
  let quote: string | undefined;
  const indents: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    let i = 0;
    if (!quote && flow === 0) {
      const indent = /^ */.exec(line)![0].length;
      const dashes = /^(?:[-?:] +)*/.exec(line.slice(indent))![0].replace(/ /g, "").length;
      while (indents.length && indents[indents.length - 1] >= indent) indents.pop();
      if (line.trim() !== "") indents.push(indent);
      if (indents.length + dashes > limit) return n + 1;
      i = indent;
    }
    for (; i < line.length; i++) {
      const c = line[i];
      if (quote) {
        if (c === "\\" && quote === '"') i++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === "#" && (i === 0 || line[i - 1] === " ")) break;
      else if (c === "[" || c === "{") {
        if (++flow + indents.length > limit) return n + 1;
      } else if ((c === "]" || c === "}") && flow > 0) flow--;
    }
  }
  return undefined;
}

function describeYamlProblem(code: string, message: string): string {
  switch (code) {
    case "DUPLICATE_KEY":
      return `${message}; each key may appear once`;
    case "TAG_RESOLVE_FAILED":
      return `${message}; YAML tags are not allowed`;
    default:
      return message;
  }
}

type Report = (offset: number, message: string, rule: string) => void;

/** Refuses what safe grant and policy files never need: tags, anchors, aliases, odd keys, deep nesting. */
function checkNodes(doc: Document.Parsed, text: string, report: Report): void {
  visit(doc, {
    Node(_key, node, path) {
      const offset = node.range?.[0] ?? 0;
      if (isAlias(node)) {
        report(offset, "YAML aliases (*name) are not allowed; write the value out", "yaml.alias");
        return visit.SKIP;
      }
      // Anchors and tags stand before the value they decorate: point at them, not at the value.
      if (node.anchor) report(markerBefore(text, offset, "&"), "YAML anchors (&name) are not allowed; write the value out", "yaml.anchor");
      if (node.tag) report(markerBefore(text, offset, "!"), `YAML tag ${node.tag.replace("tag:yaml.org,2002:", "!!")} is not allowed; remove it`, "yaml.tag");
      const depth = path.filter((p) => isMap(p) || isSeq(p)).length;
      if (depth > MAX_YAML_DEPTH) {
        report(offset, `nesting is too deep; at most ${MAX_YAML_DEPTH} levels are allowed`, "yaml.too-deep");
        return visit.BREAK;
      }
      return undefined;
    },
    Pair(_key, pair) {
      const key = pair.key;
      const offset = isNode(key) ? (key.range?.[0] ?? 0) : 0;
      if (!isScalar(key) || (typeof key.value !== "string" && typeof key.value !== "number")) {
        report(offset, "mapping keys must be plain words", "yaml.key");
      } else if (FORBIDDEN_KEYS.has(String(key.value))) {
        report(offset, `key \`${String(key.value)}\` is not allowed`, "yaml.forbidden-key");
      }
      return undefined;
    },
  });
}

/** The offset of the nearest `marker` (`&` or `!`) before a node on its line, else the node's own. */
function markerBefore(text: string, offset: number, marker: string): number {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  let at = text.lastIndexOf(marker, offset);
  while (at > lineStart && text[at - 1] === marker) at--;
  return at >= lineStart ? at : offset;
}

function findPair(node: unknown, key: PathSegment): Pair | undefined {
  if (!isMap(node)) return undefined;
  return node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
}

function nodeAt(doc: Document.Parsed, segments: readonly PathSegment[]): Node | undefined {
  let node: unknown = doc.contents;
  for (const seg of segments) {
    const pair = findPair(node, seg);
    if (pair) {
      node = isNode(pair.value) ? pair.value : pair.key;
    } else if (isSeq(node) && /^\d+$/.test(String(seg))) {
      node = node.items[Number(seg)];
    } else {
      break;
    }
  }
  return isNode(node) ? node : undefined;
}

function keyNodeAt(doc: Document.Parsed, segments: readonly PathSegment[], key: string): Node | undefined {
  const pair = findPair(nodeAt(doc, segments), key);
  return pair && isNode(pair.key) ? pair.key : nodeAt(doc, segments);
}

/** A hostile file can have thousands of problems; the first few say enough. */
const MAX_DIAGNOSTICS = 50;

function capped(list: Diagnostic[]): Diagnostic[] {
  if (list.length <= MAX_DIAGNOSTICS) return list;
  const last = list[MAX_DIAGNOSTICS - 1];
  return [
    ...list.slice(0, MAX_DIAGNOSTICS - 1),
    { ...last, rule: "yaml.too-many-problems", message: `${list.length - MAX_DIAGNOSTICS + 1} more problems not shown; fix the ones above first` },
  ];
}

function dedupe(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    const id = `${d.line}:${d.column}:${d.rule}`;
    return seen.has(id) ? false : (seen.add(id), true);
  });
}

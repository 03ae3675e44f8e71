import { loadAll, YAMLException } from "js-yaml";
import type { Diagnostic } from "../diagnostics.js";
import { CORE_SCHEMA } from "./core-schema.js";
import { itemsOf, NestingTooDeep, NodeRecorder, nodeStart, pairsOf, type Pair, type Refusal, type YamlNode } from "./nodes.js";
import { lineAndColumn, skipSeparation } from "./source.js";
import { duplicateKey, fromException, propertyOffset, refusalMessage, type Problem } from "./syntax.js";

/** Files larger than this are refused before parsing. */
export const MAX_YAML_BYTES = 64 * 1024;
/** Deeper nesting than this is refused (grant files are flat; the policy nests about six levels). */
export const MAX_YAML_DEPTH = 16;
/**
 * How many nodes js-yaml may have open inside each other before loading stops: bounds its recursion
 * (so a hostile file cannot exhaust the stack) well above what MAX_YAML_DEPTH allows, since js-yaml
 * opens up to two nodes per level of nesting.
 */
const MAX_OPEN_NODES = MAX_YAML_DEPTH * 4;

export type PathSegment = string | number;

/** A parsed, safe YAML document that can say where each of its nodes is. */
export interface LocatedYaml {
  readonly value: unknown;
  /** Line and column of the node at `path`; with `key`, of that key in the mapping at `path`. */
  locate(path: readonly PathSegment[], key?: string): { line: number; column: number };
}

export type YamlResult = { ok: true; yaml: LocatedYaml } | { ok: false; diagnostics: Diagnostic[] };

const TOO_DEEP = `nesting is too deep; at most ${MAX_YAML_DEPTH} levels are allowed`;

/**
 * Parses untrusted YAML with js-yaml: one document, core schema, no tags, no anchors or aliases (no
 * alias bombs), no duplicate keys, no prototype keys, bounded size and depth. Positions come from
 * js-yaml's listener events (see nodes.ts). Never throws.
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
    text = typeof input === "string" ? input : utf8.decode(input);
  } catch {
    return fail("file is not valid UTF-8 text; save it as UTF-8", "yaml.encoding");
  }
  // A BOM is fine; so are CRLF and old Mac CR-only line endings (read as line breaks, offsets unchanged).
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.includes("\r")) text = text.replace(/\r(?!\n)/g, "\n");
  if (text.includes("\u0000")) return fail("file contains a NUL byte; it must be plain text", "yaml.encoding");
  try {
    return read(path, text);
  } catch (error) {
    if (error instanceof RangeError) return fail(TOO_DEEP, "yaml.too-deep");
    return fail(`could not be read as YAML (${(error as Error).message.split("\n")[0]})`, "yaml.syntax");
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function read(path: string, text: string): YamlResult {
  const recorder = new NodeRecorder(text, MAX_OPEN_NODES);
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  let documents: unknown[] | undefined;
  try {
    documents = loadAll(text, null, {
      schema: CORE_SCHEMA,
      listener: recorder.listener,
      onWarning: (warning) => warnings.push(fromException(warning, recorder)),
    });
    // What js-yaml only warns about (under-indented continuation lines, unknown directives) is refused too;
    // after an error, its warnings are mostly echoes of that error and are left out.
    problems.push(...warnings);
  } catch (error) {
    if (error instanceof NestingTooDeep) problems.push({ offset: nodeStart(text, error.node), rule: "yaml.too-deep", message: TOO_DEEP });
    else if (error instanceof YAMLException) problems.push(duplicateKey(error, recorder) ?? fromException(error, recorder));
    else throw error;
    recorder.checkUnfinished();
  }
  const count = documents?.length ?? recorder.documents;
  const root = recorder.roots[0];
  if (documents && (count === 0 || (count === 1 && documents[0] == null && !/^[ \t]*[^\s#]/m.test(text)))) {
    return {
      ok: false,
      diagnostics: [{ path, line: 1, column: 1, message: "file is empty; a YAML mapping is expected", rule: "yaml.empty", severity: "error" }],
    };
  }
  if (count > 1 && root) {
    const message = `file holds ${count} YAML documents; exactly one is allowed (remove the extra \`---\`)`;
    problems.push({ offset: secondDocumentStart(text, root), rule: "yaml.multi-document", message });
  }
  for (const refusal of recorder.refusals) problems.push(locateRefusal(text, refusal));
  if (root && root.height > MAX_YAML_DEPTH) problems.push({ offset: nodeStart(text, firstTooDeep(root)), rule: "yaml.too-deep", message: TOO_DEEP });

  if (problems.length > 0 || !documents || !root) return { ok: false, diagnostics: report(path, text, withoutEchoes(problems)) };
  return { ok: true, yaml: located(text, documents[0], root) };
}

/** A key that is a list or a mapping is reported as such, not as the duplicate js-yaml made of it. */
function withoutEchoes(problems: Problem[]): Problem[] {
  const badKeys = new Set(problems.filter((p) => p.rule === "yaml.key").map((p) => p.offset));
  return problems.filter((p) => p.rule !== "yaml.duplicate-key" || !badKeys.has(p.offset));
}

/** The first document ends where its root node does; the second starts after an optional `...`. */
function secondDocumentStart(text: string, first: YamlNode): number {
  const at = skipSeparation(text, first.end);
  return text.startsWith("...", at) ? skipSeparation(text, at + 3) : at;
}

function locateRefusal(text: string, refusal: Refusal): Problem {
  if (!("node" in refusal)) return { offset: refusal.offset, rule: refusal.rule, message: "mapping keys must be plain words" };
  const node = refusal.node;
  switch (refusal.rule) {
    case "yaml.tag":
      return { offset: propertyOffset(text, node, "tag"), rule: refusal.rule, message: refusalMessage("tag", node.tag ?? "") };
    case "yaml.anchor":
    case "yaml.alias": {
      const kind = refusal.rule === "yaml.anchor" ? "anchor" : "alias";
      return { offset: propertyOffset(text, node, kind), rule: refusal.rule, message: refusalMessage(kind, "") };
    }
    case "yaml.key":
      return { offset: nodeStart(text, node), rule: refusal.rule, message: "mapping keys must be plain words" };
    case "yaml.forbidden-key":
      return { offset: nodeStart(text, node), rule: refusal.rule, message: `key \`${refusal.key}\` is not allowed` };
  }
}

/** The first node, in document order, inside more than MAX_YAML_DEPTH collections. */
function firstTooDeep(root: YamlNode): YamlNode {
  let node = root;
  let around = 0;
  while (around <= MAX_YAML_DEPTH) {
    const inside = around + (node.kind === "mapping" || node.kind === "sequence" ? 1 : 0);
    const next = node.children?.find((child) => inside + child.height > MAX_YAML_DEPTH);
    if (!next) break;
    node = next;
    around = inside;
  }
  return node;
}

function located(text: string, value: unknown, root: YamlNode): LocatedYaml {
  const findPair = (node: YamlNode, key: PathSegment): Pair | undefined =>
    node.kind === "mapping" ? pairsOf(text, node).find((p) => p.key.kind === "scalar" && String(p.key.value) === String(key)) : undefined;
  const nodeAt = (segments: readonly PathSegment[]): YamlNode | undefined => {
    let node = root;
    for (const segment of segments) {
      const pair = findPair(node, segment);
      if (pair) {
        node = pair.value ?? pair.key;
      } else if (node.kind === "sequence" && /^\d+$/.test(String(segment))) {
        const item = itemsOf(text, node)[Number(segment)];
        if (!item) return undefined;
        node = item;
      } else {
        break;
      }
    }
    return node;
  };
  return {
    value,
    locate(segments, key) {
      const container = nodeAt(segments);
      const node = key !== undefined && container ? (findPair(container, key)?.key ?? container) : container;
      return lineAndColumn(text, nodeStart(text, node ?? root));
    },
  };
}

/** A hostile file can have thousands of problems; the first few say enough. */
const MAX_DIAGNOSTICS = 50;

/** Problems in document order, each once, at most MAX_DIAGNOSTICS of them. */
function report(path: string, text: string, problems: Problem[]): Diagnostic[] {
  const seen = new Set<string>();
  const list: Diagnostic[] = [];
  for (const p of [...problems].sort((a, b) => a.offset - b.offset)) {
    const id = `${p.offset}:${p.rule}`;
    if (seen.has(id)) continue;
    seen.add(id);
    list.push({ path, ...lineAndColumn(text, p.offset), message: p.message, rule: p.rule, severity: "error" });
  }
  if (list.length <= MAX_DIAGNOSTICS) return list;
  const last = list[MAX_DIAGNOSTICS - 1];
  return [
    ...list.slice(0, MAX_DIAGNOSTICS - 1),
    { ...last, rule: "yaml.too-many-problems", message: `${list.length - MAX_DIAGNOSTICS + 1} more problems not shown; fix the ones above first` },
  ];
}

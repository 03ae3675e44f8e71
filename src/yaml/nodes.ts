import type { State } from "js-yaml";
import { IMPLICIT_TAG_PREFIX } from "./core-schema.js";
import { skipBlanks, skipSeparation } from "./source.js";

/**
 * The node tree of a YAML text, recorded from js-yaml's `listener` events while it loads: js-yaml
 * opens and closes one event pair per node it composes, in document order, with its position at
 * both ends, the node's kind and value, and its tag and anchor when it closes. That is enough to
 * say where each key and value starts — which is all a located diagnostic needs — without a second
 * parser. The recorder also notes what the safe subset refuses (tags, anchors, aliases, keys that
 * are not plain words, prototype keys) and bounds the parser's recursion.
 */

type Kind = "scalar" | "sequence" | "mapping" | null;

export interface YamlNode {
  /** js-yaml's position when it began composing the node: before any blanks, line breaks or comments. */
  readonly open: number;
  /** Its position when the node was complete. */
  end: number;
  kind: Kind;
  value: unknown;
  /** A tag written on the node (`!foo`, `!!str`), else null. */
  tag: string | null;
  anchored: boolean;
  /** Nodes composed inside this one, in document order (for a mapping: its keys and values). */
  children: YamlNode[] | undefined;
  /** The most collections nested on one path down from here, counting this node, to a node inside. */
  height: number;
  /** For a mapping (and a single pair in a flow sequence): its pairs, once worked out. */
  pairs?: Pair[];
  /** For a mapping: values that follow a `:` with no key node before them. */
  keyless?: YamlNode[];
  /** For a sequence: the node of each item, once worked out (undefined for an empty item). */
  items?: Array<YamlNode | undefined>;
  /** A single pair in a flow sequence (`[a: 1]`), which js-yaml composes as a key and a value. */
  synthetic?: true;
}

export interface Pair {
  key: YamlNode;
  value: YamlNode | undefined;
}

/** What the safe subset refuses, noted while loading; located only if the file is reported. */
export type Refusal =
  | { rule: "yaml.tag"; node: YamlNode }
  | { rule: "yaml.anchor"; node: YamlNode }
  | { rule: "yaml.alias"; node: YamlNode }
  | { rule: "yaml.key"; node: YamlNode }
  | { rule: "yaml.key"; offset: number }
  | { rule: "yaml.forbidden-key"; node: YamlNode; key: string };

/** Thrown from the listener when nesting passes the bound: stops js-yaml before its stack can overflow. */
export class NestingTooDeep extends Error {
  constructor(readonly node: YamlNode) {
    super("nesting is too deep");
  }
}

/** Keys that could reach an object's prototype if some code merged them carelessly. */
const FORBIDDEN_KEYS = ["__proto__", "constructor", "prototype"] as const;

/** Whether a key is one of FORBIDDEN_KEYS (compared by length first: most strings are not even close). */
const isForbiddenKey = (s: string): boolean => (s.length === 9 && (s === "__proto__" || s === "prototype")) || (s.length === 11 && s === "constructor");

type LoaderState = State & { tag: string | null; anchor: string | null };

const COLON = 0x3a;
const QUESTION = 0x3f;

export class NodeRecorder {
  /** The root node of each document, in order. */
  readonly roots: YamlNode[] = [];
  /** Nodes being composed, innermost last (what was open when js-yaml threw). */
  readonly open: YamlNode[] = [];
  readonly refusals: Refusal[] = [];
  /** How many documents js-yaml started, including one it did not finish. */
  documents = 0;
  private anchors = 0;

  /**
   * @param text the text js-yaml reads (offsets are into it)
   * @param maxOpen how many nodes may be open inside each other before loading stops
   */
  constructor(
    readonly text: string,
    private readonly maxOpen: number,
  ) {}

  readonly listener = (event: "open" | "close", state: State): void => {
    if (event === "open") {
      const node: YamlNode = { open: state.position, end: state.position, kind: null, value: null, tag: null, anchored: false, children: undefined, height: 0 };
      if (this.open.length === 0) this.documents++;
      this.open.push(node);
      if (this.open.length > this.maxOpen) throw new NestingTooDeep(node);
    } else {
      this.close(state as LoaderState);
    }
  };

  private close(state: LoaderState): void {
    const node = this.open.pop()!;
    node.end = state.position;
    node.kind = state.kind as Kind;
    node.value = state.result;
    const tag = state.tag;
    if (tag !== null && tag !== "?" && !tag.startsWith(IMPLICIT_TAG_PREFIX)) {
      node.tag = tag;
      this.refusals.push({ rule: "yaml.tag", node });
    }
    if (state.anchor !== null) {
      node.anchored = true;
      this.anchors++;
      this.refusals.push({ rule: "yaml.anchor", node });
    }
    // Without an anchor there is nothing to alias (js-yaml throws on an unknown alias).
    if (this.anchors > 0 && node.kind === null && this.text.charCodeAt(nodeStart(this.text, node)) === 0x2a /* * */) {
      this.refusals.push({ rule: "yaml.alias", node });
    }

    const children = node.children;
    if (children !== undefined) {
      const only = children.length === 1 ? children[0] : undefined;
      if (only !== undefined && only.kind === node.kind && Object.is(only.value, node.value)) {
        // js-yaml tried to read a mapping key, found none, and kept what it read as this node.
        node.children = only.children;
        node.height = only.height;
        node.pairs = only.pairs;
      } else {
        let height = 0;
        for (const child of children) if (child.height > height) height = child.height;
        node.height = height + (node.kind === "mapping" || node.kind === "sequence" ? 1 : 0);
        if (node.kind === "mapping" || node.kind === "sequence") this.checkKeys(node, children);
      }
    }

    const parent = this.open.length > 0 ? this.open[this.open.length - 1] : undefined;
    if (parent === undefined) this.roots.push(node);
    else if (parent.children === undefined) parent.children = [node];
    else parent.children.push(node);
  }

  /**
   * When js-yaml stopped on an error, the collections it was reading never closed: their keys read
   * so far are still judged, so a bad key is reported along with the error it led to.
   */
  checkUnfinished(): void {
    for (const node of this.open) for (const child of node.children ?? []) if (isKey(this.text, child)) this.checkKey(child);
  }

  /**
   * Keys must be plain words, and never a prototype's name. Most children are plain words that are
   * no prototype's name, whether keys or values: only the others need to be told apart. (A
   * sequence's children can be keys too: `[a: 1]` is a list holding a one-pair mapping.)
   */
  private checkKeys(collection: YamlNode, children: readonly YamlNode[]): void {
    for (const child of children) {
      const value = child.value;
      const plain = child.kind === "scalar" && (typeof value === "number" || (typeof value === "string" && !isForbiddenKey(value)));
      if (!plain && isKey(this.text, child)) this.checkKey(child);
    }
    if (collection.kind !== "mapping") return;
    const object = collection.value as object;
    // An empty explicit key (`?` alone, then `: value`) has no node; js-yaml names it "null".
    if (Object.hasOwn(object, "null")) {
      pairsOf(this.text, collection);
      for (const value of collection.keyless ?? []) this.refusals.push({ rule: "yaml.key", offset: value.open - 1 });
    }
    // Whatever the key nodes said, the object itself never keeps such a key.
    for (const name of FORBIDDEN_KEYS) {
      if (Object.hasOwn(object, name) && !children.some((c) => c.kind === "scalar" && c.value === name && isKey(this.text, c))) {
        this.refusals.push({ rule: "yaml.forbidden-key", node: collection, key: name });
      }
    }
  }

  private checkKey(key: YamlNode): void {
    if (key.kind !== "scalar" || (typeof key.value !== "string" && typeof key.value !== "number")) {
      this.refusals.push({ rule: "yaml.key", node: key });
    } else if (isForbiddenKey(String(key.value))) {
      this.refusals.push({ rule: "yaml.forbidden-key", node: key, key: String(key.value) });
    }
  }
}

/** Where a node's text starts: after the blanks, line breaks and comments before it (an empty node: where it would be). */
export function nodeStart(text: string, node: YamlNode): number {
  const empty = node.kind === null && node.value === null && node.tag === null && !node.anchored;
  return empty ? skipBlanks(text, node.open) : skipSeparation(text, node.open);
}

/** Whether js-yaml read a node as a mapping key: a `:` follows it on the line it starts on, or a `?` stands before it. */
export function isKey(text: string, node: YamlNode): boolean {
  const colon = skipBlanks(text, node.end);
  if (text.charCodeAt(colon) === COLON) {
    const lineBreak = text.indexOf("\n", nodeStart(text, node));
    if (lineBreak === -1 || lineBreak >= colon) return true;
  }
  let i = node.open - 1;
  while (i >= 0 && (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09)) i--;
  if (text.charCodeAt(i) !== QUESTION) return false;
  const before = i === 0 ? 0x0a : text.charCodeAt(i - 1);
  const after = text.charCodeAt(i + 1);
  const separates = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  return (separates(before) || before === 0x7b || before === 0x5b || before === 0x2c) && (separates(after) || Number.isNaN(after));
}

const isEmpty = (node: YamlNode) => node.kind === null && node.value === null && node.tag === null && !node.anchored && node.end === node.open;

/**
 * A mapping's pairs from its children: each key, then its value unless the next child is another
 * key. A child that is no key and follows none is a key without a value (`{a, b: 1}`); an empty
 * child there is js-yaml finding no further key.
 */
export function pairsOf(text: string, mapping: YamlNode): Pair[] {
  if (mapping.pairs) return mapping.pairs;
  const pairs: Pair[] = [];
  let pending: YamlNode | undefined;
  for (const child of mapping.children ?? []) {
    if (isKey(text, child)) {
      if (pending) pairs.push({ key: pending, value: undefined });
      pending = child;
    } else if (pending) {
      pairs.push({ key: pending, value: child });
      pending = undefined;
    } else if (text.charCodeAt(child.open - 1) === COLON) {
      (mapping.keyless ??= []).push(child);
    } else if (!isEmpty(child)) {
      pairs.push({ key: child, value: undefined });
    }
  }
  if (pending) pairs.push({ key: pending, value: undefined });
  mapping.pairs = pairs;
  return pairs;
}

/** A sequence's item nodes, aligned with its items (a single pair in a flow sequence is one item). */
export function itemsOf(text: string, sequence: YamlNode): Array<YamlNode | undefined> {
  if (sequence.items) return sequence.items;
  const nodes: YamlNode[] = [];
  const children = sequence.children ?? [];
  for (let i = 0; i < children.length; i++) {
    const child = children[i];
    if (!isKey(text, child)) {
      nodes.push(child);
      continue;
    }
    // `[a: 1]`: one item, a mapping of one pair, starting at its key.
    const value = children[i + 1] !== undefined && !isKey(text, children[i + 1]) ? children[++i] : undefined;
    nodes.push({ ...child, kind: "mapping", children: undefined, pairs: [{ key: child, value }], synthetic: true });
  }
  const values = Array.isArray(sequence.value) ? (sequence.value as unknown[]) : [];
  // A block sequence's empty entry (`-` alone) has no node: where the counts differ, align by value.
  const matches = (node: YamlNode, value: unknown) => (node.synthetic ? typeof value === "object" && value !== null : Object.is(node.value, value));
  const items: Array<YamlNode | undefined> = [];
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const node = nodes[n];
    if (node !== undefined && (nodes.length - n === values.length - i || matches(node, values[i]))) {
      items.push(node);
      n++;
    } else {
      items.push(undefined);
    }
  }
  sequence.items = items;
  return items;
}

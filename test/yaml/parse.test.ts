/** parseYaml: safe, bounded, located — and never throws. */
import { MAX_YAML_BYTES, MAX_YAML_DEPTH, parseYaml } from "../../src/yaml/parse.js";
import { expectWellFormed } from "../grants/helpers.js";
import { at } from "./locate.js";

const ok = (input: string | Uint8Array) => {
  const r = parseYaml("f.yaml", input);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.yaml;
};
const fail = (input: string | Uint8Array) => {
  const r = parseYaml("f.yaml", input);
  if (r.ok) throw new Error(`parsed: ${JSON.stringify(r.yaml.value)}`);
  expectWellFormed(r.diagnostics, "f.yaml");
  return r.diagnostics;
};

describe("parseYaml accepts plain YAML", () => {
  test("a mapping, with the core schema (yes/on stay strings, numbers are numbers)", () => {
    expect(ok("a: yes\nb: on\nc: 2\nd: true\ne: ~\nf: 0o17\n").value).toEqual({ a: "yes", b: "on", c: 2, d: true, e: null, f: 15 });
  });

  test("a BOM and CRLF line endings, as text and as bytes, with locations unchanged", () => {
    const text = "\uFEFFa: 1\r\nb: two\r\n";
    for (const input of [text, new TextEncoder().encode(text)]) {
      const y = ok(input);
      expect(y.value).toEqual({ a: 1, b: "two" });
      expect(y.locate(["b"])).toEqual({ line: 2, column: 4 });
      expect(y.locate([], "b")).toEqual({ line: 2, column: 1 });
    }
  });

  test("UTF-8 bytes with multi-byte characters", () => {
    expect(ok(new TextEncoder().encode("reason: café ☕ 日本\n")).value).toEqual({ reason: "café ☕ 日本" });
  });

  test(`nesting up to ${MAX_YAML_DEPTH} levels`, () => {
    const text = `a: ${"[".repeat(MAX_YAML_DEPTH - 1)}1${"]".repeat(MAX_YAML_DEPTH - 1)}\n`;
    expect(ok(text).value).toBeDefined();
  });

  test("exactly MAX_YAML_BYTES is fine, one more byte is not", () => {
    const fits = `a: ${"x".repeat(MAX_YAML_BYTES - 4)}\n`;
    expect(Buffer.byteLength(fits)).toBe(MAX_YAML_BYTES);
    expect(ok(fits).value).toEqual({ a: "x".repeat(MAX_YAML_BYTES - 4) });
    expect(fail(`${fits} `)[0]).toMatchObject({ rule: "yaml.too-large", line: 1, column: 1 });
  });

  test("locate: values, keys, list items, nested paths, and fallbacks", () => {
    const text = "top:\n  list:\n    - first\n    - second: 2\n  k: v\n";
    const y = ok(text);
    expect(y.locate(["top", "k"])).toEqual(at(text, "k: |v"));
    expect(y.locate(["top"], "k")).toEqual(at(text, "|k: v"));
    expect(y.locate(["top", "list", 1, "second"])).toEqual(at(text, "second: |2"));
    expect(y.locate(["top", "list", 0])).toEqual(at(text, "- |first"));
    // A missing key is located at the nearest mapping that exists.
    expect(y.locate(["top", "nope"])).toEqual(at(text, "  |list"));
    expect(y.locate([])).toEqual({ line: 1, column: 1 });
  });

  test("locate: a list index given as a string (as JSON pointers give it) finds the item", () => {
    const text = "list:\n  - a\n  - b\n";
    const y = ok(text);
    expect(y.locate(["list", "1"])).toEqual(at(text, "- |b"));
  });
});

describe("parseYaml refuses what grant and policy files never need", () => {
  test.each([
    ["an anchor", "a: &x 1\n", "yaml.anchor", "a: |&x"],
    ["an alias", "a: 1\nb: [*x]\n", "yaml.*", "b: [|*x"],
    ["a custom tag", "a: !foo bar\n", "yaml.tag", "a: |!foo"],
    ["!!python/object", "a: !!python/object:os.system [ls]\n", "yaml.tag", "a: |!!python"],
    ["!!binary", "a: !!binary aGk=\n", "yaml.tag", ""],
    ["!!set", "!!set {a, b}\n", "yaml.tag", ""],
    ["a duplicate key", "a: 1\nb: 2\na: 3\n", "yaml.duplicate-key", "b: 2\n|a"],
    ["a second document", "a: 1\n---\nb: 2\n", "yaml.multi-document", "|---"],
    ["__proto__", "a: 1\n__proto__: { x: 1 }\n", "yaml.forbidden-key", "|__proto__"],
    ["a quoted __proto__ in a flow mapping", '{ "a": 1, "__proto__": 2 }', "yaml.forbidden-key", '|"__proto__"'],
    ["constructor", "x:\n  constructor: 1\n", "yaml.forbidden-key", "|constructor"],
    ["prototype", "x:\n  prototype: 1\n", "yaml.forbidden-key", "|prototype"],
    ["a mapping as a key", "? { a: 1 }\n: b\n", "yaml.key", "? |{"],
    ["a boolean key", "true: 1\n", "yaml.key", "|true"],
    ["tabs as indentation", "a:\n\tb: 1\n", "yaml.tab-as-indent", "|\tb"],
    ["an unterminated quote", 'a: "open\nb: 1\n', "yaml.*", ""],
    ["a NUL byte", "a: 1\u0000\n", "yaml.encoding", ""],
    ["deep flow nesting", `a: ${"[".repeat(MAX_YAML_DEPTH + 1)}${"]".repeat(MAX_YAML_DEPTH + 1)}\n`, "yaml.too-deep", ""],
    ["10,000 open brackets", `a: ${"[".repeat(10_000)}`, "yaml.too-deep", ""],
    ["empty text", "", "yaml.empty", "|"],
    ["only comments and blank lines", "# a\n\n   # b\n", "yaml.empty", "|"],
  ])("%s", (_name, text, rule, where) => {
    const diagnostics = fail(text);
    const hit = diagnostics.find((d) => (rule.endsWith(".*") ? d.rule.startsWith(rule.slice(0, -1)) : d.rule === rule));
    expect({ rules: diagnostics.map((d) => d.rule), hit: !!hit }).toEqual({ rules: diagnostics.map((d) => d.rule), hit: true });
    if (where) expect({ line: hit!.line, column: hit!.column }).toEqual(at(text, where));
  });

  test("a lone document marker is a document holding null (the schema then asks for a mapping)", () => {
    const r = parseYaml("f.yaml", "---\n");
    expect(r.ok && r.yaml.value).toBeNull();
  });

  test("non-UTF-8 bytes: Latin-1, UTF-16 with BOM, a lone continuation byte", () => {
    for (const bytes of [
      [0x61, 0x3a, 0x20, 0xe9, 0x0a],
      [0xff, 0xfe, 0x61, 0x00],
      [0x61, 0x3a, 0x20, 0x80],
    ]) {
      expect(fail(new Uint8Array(bytes))[0]).toMatchObject({ rule: "yaml.encoding", line: 1, column: 1, message: expect.stringMatching(/UTF-8/) });
    }
  });

  test("size is measured in bytes, before decoding", () => {
    const text = `a: ${"日".repeat(Math.ceil(MAX_YAML_BYTES / 3))}\n`;
    expect(text.length).toBeLessThan(MAX_YAML_BYTES);
    expect(fail(text)[0].rule).toBe("yaml.too-large");
    expect(fail(new TextEncoder().encode(text))[0].rule).toBe("yaml.too-large");
  });

  test("a billion-laughs document is refused without expanding anything", () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    const names = "abcdefghij";
    for (let i = 1; i < names.length; i++)
      lines.push(
        `${names[i]}: &${names[i]} [${Array(9)
          .fill(`*${names[i - 1]}`)
          .join(",")}]`,
      );
    const started = Date.now();
    const diagnostics = fail(lines.join("\n"));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(diagnostics.map((d) => d.rule)).toEqual(expect.arrayContaining(["yaml.anchor", "yaml.alias"]));
    expect(({} as Record<string, unknown>).lol).toBeUndefined();
  });

  test("prototype keys never reach an object's prototype", () => {
    fail("__proto__: { polluted: true }\n");
    fail('{ "constructor": { "prototype": { "polluted": true } } }');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("CR-only (classic Mac) line endings are read as line breaks, not as one long comment", () => {
    const r = parseYaml("f.yaml", "# a grant\rrequester: dev1\rresource: prod-db\r");
    expect(r.ok && r.yaml.value).toEqual({ requester: "dev1", resource: "prod-db" });
  });

  test("never throws, whatever the input", () => {
    const inputs: Array<string | Uint8Array> = [
      "\u0000",
      "\uFEFF",
      "\uFEFF\uFEFF",
      "%YAML 9.9\n---\na: 1\n",
      "%TAG ! tag:evil,2000:\n--- !x\na: 1\n",
      "a: 'unterminated",
      "]]]]]]",
      "}{",
      "- - - - - - - - - - - - - - - - - - - - x",
      "? ? ? ? ? ? ? ? ? ? ? ? ? ? ? ? ? ? ? x",
      "a:\n" + " ".repeat(5000) + "b: 1",
      "\\x00\\xff",
      new Uint8Array([0xc0, 0x80]),
      new Uint8Array([]),
      'a: "\\uD800"\n',
      "*unknownAlias\n",
      "&anchorOnly\n",
      "!\n",
      "a: |\n  block\n   text\n",
      "a: >-\n\n\n",
    ];
    for (const input of inputs) {
      expect(() => parseYaml("f.yaml", input)).not.toThrow();
      const r = parseYaml("f.yaml", input);
      if (!r.ok) expectWellFormed(r.diagnostics, "f.yaml");
    }
  });
});

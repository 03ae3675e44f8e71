/**
 * parseYaml reads with js-yaml and takes positions from its listener events: values resolve as
 * YAML 1.2's core schema (not js-yaml's defaults), and every kind of node a grant or policy can
 * hold is located where a person would look.
 */
import { parseYaml } from "../../src/yaml/parse.js";
import { expectWellFormed } from "../grants/helpers.js";
import { at } from "./locate.js";

const ok = (text: string) => {
  const r = parseYaml("f.yaml", text);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.yaml;
};
const fail = (text: string) => {
  const r = parseYaml("f.yaml", text);
  if (r.ok) throw new Error(`parsed: ${JSON.stringify(r.yaml.value)}`);
  expectWellFormed(r.diagnostics, "f.yaml");
  return r.diagnostics;
};

describe("values: YAML 1.2 core schema", () => {
  test("numbers, booleans and nulls as the core schema writes them; everything else stays text", () => {
    const text = "a: 1_000\nb: 0b1\nc: .inf\nd: -.inf\ne: 0x1F\nf: +12\ng: True\nh: Null\ni: 2001-12-14\nj: 1.5e3\nk: 0o17\nl: =\n";
    expect(ok(text).value).toEqual({
      a: "1_000",
      b: "0b1",
      c: Infinity,
      d: -Infinity,
      e: 31,
      f: 12,
      g: true,
      h: null,
      i: "2001-12-14",
      j: 1500,
      k: 15,
      l: "=",
    });
    expect(ok("n: .nan\n").value).toEqual({ n: NaN });
  });

  test("`<<` is a key like any other, not a merge", () => {
    expect(ok("<<: { role: admin }\nrole: readonly\n").value).toEqual({ "<<": { role: "admin" }, role: "readonly" });
  });
});

describe("positions from the listener", () => {
  test("a single pair inside a flow sequence, and the item after it", () => {
    const text = "list: [a: 1, b]\n";
    const y = ok(text);
    expect(y.value).toEqual({ list: [{ a: 1 }, "b"] });
    expect(y.locate(["list", 0, "a"])).toEqual(at(text, "a: |1"));
    expect(y.locate(["list", 1])).toEqual(at(text, "|b]"));
  });

  test("an explicit key and its value", () => {
    const text = "? k\n: v\n";
    const y = ok(text);
    expect(y.locate(["k"])).toEqual(at(text, ": |v"));
    expect(y.locate([], "k")).toEqual(at(text, "? |k"));
  });

  test("a flow value on the line after its key, past a comment", () => {
    const text = "a:\n  # note\n  [1, 2]\nb: x\n";
    const y = ok(text);
    expect(y.locate(["a"])).toEqual(at(text, "|[1, 2]"));
    expect(y.locate(["a", 1])).toEqual(at(text, "|2]"));
    expect(y.locate(["b"])).toEqual(at(text, "b: |x"));
  });

  test("an empty value is where it would be written", () => {
    const text = "a:\nb: 1\n";
    expect(ok(text).locate(["a"])).toEqual({ line: 1, column: 3 });
  });

  test("a list of mappings in block style", () => {
    const text = "roles:\n  - name: a\n    max: 1\n  - name: b\n";
    const y = ok(text);
    expect(y.locate(["roles", 1, "name"])).toEqual(at(text, "name: |b"));
    expect(y.locate(["roles", 0], "max")).toEqual(at(text, "|max"));
  });
});

describe("refusals located by the listener", () => {
  test("a prototype key inside a flow sequence's pair", () => {
    const text = "list: [__proto__: 1]\n";
    const d = fail(text).find((x) => x.rule === "yaml.forbidden-key");
    expect(d && { line: d.line, column: d.column }).toEqual(at(text, "[|__proto__"));
  });

  test("a key left empty (`?` alone, then `: value`)", () => {
    expect(fail("?\n: v\n").map((d) => d.rule)).toContain("yaml.key");
  });

  test("a duplicate key is named and located at its second occurrence", () => {
    const text = "a: 1\nb: 2\na: 3\n";
    const d = fail(text).find((x) => x.rule === "yaml.duplicate-key")!;
    expect({ line: d.line, column: d.column }).toEqual(at(text, "b: 2\n|a"));
    expect(d.message).toContain("`a`");
  });

  test("a bad escape points at its backslash", () => {
    const text = 'a: "x\\qy"\n';
    const d = fail(text)[0];
    expect({ rule: d.rule, line: d.line, column: d.column }).toEqual({ rule: "yaml.bad-dq-escape", ...at(text, "x|\\q") });
  });

  test("an unknown directive points at its `%`", () => {
    expect(fail("%FOO bar\n---\na: 1\n")[0]).toMatchObject({ rule: "yaml.bad-directive", line: 1, column: 1 });
  });

  test("a tag's name is shown escaped", () => {
    const d = fail("a: !foo\u200b x\n").find((x) => x.rule.startsWith("yaml.tag"));
    expect(d?.message).not.toMatch(/\u200b/);
  });
});

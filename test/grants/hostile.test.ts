/**
 * The hostile corpus (test/fixtures/hostile/): every malformed or hostile grant file gets a
 * located, worded diagnostic — never an exception — and checking it changes nothing.
 */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { checkGrantFile, type EntryKind, type GrantVerdict } from "../../src/grants/check.js";
import { MAX_YAML_BYTES } from "../../src/yaml/parse.js";
import { GRANT_TEXT, HOSTILE_DIR, expectWellFormed, fixturePolicy, members, rules } from "./helpers.js";

interface HostileCase {
  file: string;
  path?: string;
  rule?: string;
  line?: number;
  column?: number;
  message?: string;
  valid?: boolean;
  author?: string;
  members?: Record<string, string[]>;
  entryKind?: EntryKind;
  note?: string;
}

const cases: HostileCase[] = JSON.parse(readFileSync(`${HOSTILE_DIR}cases.json`, "utf8"));
const policy = fixturePolicy();
const policyBefore = structuredClone(policy);

/** Control and invisible format characters (NUL, ESC, zero-width, bidi overrides) must never reach a message raw. */
const INVISIBLE = /[\p{Cc}\p{Cf}]/u;

const protoNames = (o: object) => Object.getOwnPropertyNames(o).sort();
const objectProtoBefore = protoNames(Object.prototype);
const arrayProtoBefore = protoNames(Array.prototype);
const dirHash = () => {
  const h = createHash("sha256");
  for (const f of readdirSync(HOSTILE_DIR).sort()) h.update(f).update(readFileSync(`${HOSTILE_DIR}${f}`));
  return h.digest("hex");
};
const hashBefore = dirHash();

function check(c: HostileCase, input: string | Uint8Array): GrantVerdict {
  return checkGrantFile(c.path ?? `grants/${c.file}`, input, {
    policy,
    author: c.author ?? "dev1",
    entryKind: c.entryKind,
    ...(c.members ? { isMember: members(c.members) } : {}),
  });
}

function expectUntouched(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  expect(protoNames(Object.prototype)).toEqual(objectProtoBefore);
  expect(protoNames(Array.prototype)).toEqual(arrayProtoBefore);
  expect(policy).toEqual(policyBefore);
}

describe("hostile grant corpus", () => {
  test("has at least 40 cases, one file each, and every file is listed", () => {
    const listed = cases.map((c) => c.file);
    expect(cases.filter((c) => !c.valid).length).toBeGreaterThanOrEqual(40);
    expect(new Set(listed).size).toBe(listed.length);
    const files = readdirSync(HOSTILE_DIR).filter((f) => f !== "cases.json" && f !== "README.md");
    expect(files.sort()).toEqual([...listed].sort());
  });

  test.each(cases.map((c) => [c.file, c] as const))("%s", (_name, c) => {
    const bytes = readFileSync(`${HOSTILE_DIR}${c.file}`);
    let verdict: GrantVerdict | undefined;
    expect(() => (verdict = check(c, new Uint8Array(bytes)))).not.toThrow();
    const { valid, diagnostics } = verdict!;
    const path = c.path ?? `grants/${c.file}`;
    expectWellFormed(diagnostics, path);
    for (const d of diagnostics) expect(d.message).not.toMatch(INVISIBLE);

    if (c.valid) {
      expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      expect(valid).toBe(true);
    } else {
      expect(valid).toBe(false);
      expect(verdict!.grant).toBeUndefined();
      expect(diagnostics.length).toBeGreaterThanOrEqual(1);
      const wanted = c.rule!;
      const matches = diagnostics.filter((d) => (wanted.endsWith(".*") ? d.rule.startsWith(wanted.slice(0, -1)) : d.rule === wanted));
      expect({ rules: rules(diagnostics), has: matches.length > 0 }).toEqual({ rules: rules(diagnostics), has: true });
      const d = matches[0];
      if (c.line !== undefined) expect(d.line).toBe(c.line);
      if (c.column !== undefined) expect(d.column).toBe(c.column);
      if (c.message !== undefined) expect(d.message).toContain(c.message);
    }
    expectUntouched();
  });

  test("text input gives the same verdict as bytes for every UTF-8 case", () => {
    for (const c of cases) {
      const bytes = readFileSync(`${HOSTILE_DIR}${c.file}`);
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        continue;
      }
      const asRules = (input: string | Uint8Array) => {
        try {
          return rules(check(c, input).diagnostics);
        } catch (error) {
          return `threw: ${(error as Error).message}`; // reported by the case's own test
        }
      };
      expect([c.file, asRules(text)]).toEqual([c.file, asRules(new Uint8Array(bytes))]);
    }
  });

  test("nothing was changed: fixture files, prototypes, the policy", () => {
    expect(dirHash()).toBe(hashBefore);
    expectUntouched();
  });
});

describe("generated hostile inputs", () => {
  const c: HostileCase = { file: "generated.yaml" };

  test.each([
    ["a comment pushing the file over 64 KiB", `# ${"x".repeat(MAX_YAML_BYTES)}\n${GRANT_TEXT}`],
    ["a reason of one byte too many", `${"reason: ".padEnd(MAX_YAML_BYTES + 1, "x")}\n`],
    ["multi-byte characters over the byte limit (not the character limit)", `reason: ${"é".repeat(MAX_YAML_BYTES / 2)}\n`],
    ["a 1 MiB alias bomb", `a: &a [${"x,".repeat(512 * 1024)}]\nb: [*a, *a]\n`],
  ])("oversized: %s → yaml.too-large at 1:1", (_name, text) => {
    for (const input of [text, new TextEncoder().encode(text)]) {
      const v = check(c, input);
      expect(v.valid).toBe(false);
      expect(v.diagnostics).toHaveLength(1);
      expect(v.diagnostics[0]).toMatchObject({ rule: "yaml.too-large", line: 1, column: 1 });
      expect(v.diagnostics[0].message).toMatch(/64 KiB/);
    }
  });

  test("exactly 64 KiB is still read", () => {
    const head = GRANT_TEXT;
    const text = `${head}# ${"x".repeat(MAX_YAML_BYTES - Buffer.byteLength(head) - 3)}\n`;
    expect(Buffer.byteLength(text)).toBe(MAX_YAML_BYTES);
    expect(check(c, text).valid).toBe(true);
  });

  test.each([
    ["60,000 open brackets", `requester: ${"[".repeat(60_000)}`],
    ["30,000 balanced brackets", `${"[".repeat(15_000)}${"]".repeat(15_000)}`],
    ["60,000 open braces in a block sequence", `- ${"{a: ".repeat(15_000)}`],
    ["10,000 nested block sequences on one line", `${"- ".repeat(10_000)}x\n`],
    ["a 300-level indentation staircase", Array.from({ length: 300 }, (_, i) => `${" ".repeat(i)}- `).join("\n")],
    ["a 300-level staircase of mappings", Array.from({ length: 300 }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n")],
  ])("deep nesting: %s → yaml.too-deep, no stack overflow", (_name, text) => {
    const v = check(c, text);
    expect(v.valid).toBe(false);
    expect(rules(v.diagnostics)).toContain("yaml.too-deep");
    expectWellFormed(v.diagnostics, "grants/generated.yaml");
  });

  test("thousands of aliases produce a bounded, well-formed report quickly", () => {
    const text = `a: &a x\nb: [${Array(5000).fill("*a").join(", ")}]\n`;
    const started = Date.now();
    const v = check(c, text);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(v.valid).toBe(false);
    expect(rules(v.diagnostics)).toContain("yaml.alias");
    expectUntouched();
  });
});

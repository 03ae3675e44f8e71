/** Check JSON values against GitHub's OpenAPI description: required properties, types and enums. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

type Schema = Record<string, any>;
let spec: Schema | undefined;

export function loadSpec(): Schema {
  if (!spec) {
    const require = createRequire(import.meta.url);
    spec = JSON.parse(readFileSync(require.resolve("@octokit/openapi/generated/api.github.com.json"), "utf8")) as Schema;
  }
  return spec;
}

function deref(s: Schema): Schema {
  let cur = s;
  while (cur && cur.$ref) {
    const parts = String(cur.$ref).replace(/^#\//, "").split("/");
    cur = parts.reduce((o: any, k) => o?.[k], loadSpec());
  }
  return cur;
}

export function operation(method: string, template: string): Schema | undefined {
  return loadSpec().paths[template]?.[method.toLowerCase()];
}

export function responseSchema(method: string, template: string, status: number): Schema | undefined {
  const op = operation(method, template);
  const res = op && deref(op.responses?.[String(status)] ?? {});
  return res?.content?.["application/json"]?.schema;
}

const typeOf = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "number" ? (Number.isInteger(v) ? "integer" : "number") : typeof v;

/** Problems found (empty when the value fits). Checks required keys, types, enums, recursively. */
export function check(schemaIn: Schema, value: unknown, path = "$"): string[] {
  const s = deref(schemaIn);
  if (!s || Object.keys(s).length === 0) return [];
  if (s.allOf) return s.allOf.flatMap((x: Schema) => check(x, value, path));
  const variants = s.anyOf ?? s.oneOf;
  if (variants) {
    if (value === null && s.nullable) return [];
    const results = variants.map((x: Schema) => check(x, value, path));
    if (results.some((r: string[]) => r.length === 0)) return [];
    return results.reduce((a: string[], b: string[]) => (b.length < a.length ? b : a));
  }
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const t = typeOf(value);
  if (value === null) return s.nullable || types.includes("null") || types.length === 0 ? [] : [`${path}: null but schema is ${types.join("|")}`];
  if (types.length && !types.includes(t) && !(t === "integer" && types.includes("number"))) return [`${path}: ${t} but schema is ${types.join("|")}`];
  if (s.enum && !s.enum.includes(value)) return [`${path}: ${JSON.stringify(value)} not in enum ${JSON.stringify(s.enum)}`];
  const out: string[] = [];
  if (t === "object") {
    const obj = value as Record<string, unknown>;
    for (const k of s.required ?? []) if (!(k in obj)) out.push(`${path}.${k}: missing (required)`);
    for (const [k, sub] of Object.entries<Schema>(s.properties ?? {})) if (k in obj) out.push(...check(sub, obj[k], `${path}.${k}`));
  }
  if (t === "array" && s.items) (value as unknown[]).slice(0, 3).forEach((v, i) => out.push(...check(s.items, v, `${path}[${i}]`)));
  return out;
}

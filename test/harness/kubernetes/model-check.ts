/**
 * Keeps the emulated Kubernetes API server honest. No npm package here ships Kubernetes' OpenAPI
 * document (`kubernetes-types` is TypeScript only), so the checks are derived from the models
 * @kubernetes/client-node generates from that document: each model's attribute map gives the
 * JSON property names and types, and its declaration file which properties are required (no `?`).
 * A body the emulator sends or accepts must use only known properties, with the declared types,
 * and carry every required one — the same checks test/harness/github/openapi-check.ts makes
 * against GitHub's OpenAPI description.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as k8s from "@kubernetes/client-node";

interface Attribute {
  name: string;
  baseName: string;
  type: string;
}

const require = createRequire(import.meta.url);
const modelsDir = join(dirname(require.resolve("@kubernetes/client-node")), "gen", "models");
const requiredCache = new Map<string, string[]>();

function attributes(model: string): Attribute[] | undefined {
  const cls = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] }>)[model];
  return cls?.getAttributeTypeMap?.();
}

/** Properties the generated declaration marks required (`'name': type;`, no `?`). */
function requiredOf(model: string): string[] {
  let req = requiredCache.get(model);
  if (!req) {
    const dts = readFileSync(join(modelsDir, `${model}.d.ts`), "utf8");
    req = [...dts.matchAll(/^\s{4}'([A-Za-z0-9_$]+)': /gm)].map((m) => m[1]);
    requiredCache.set(model, req);
  }
  return req;
}

const typeOf = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

/** Problems found (empty when `value` fits the generated model `type`). */
export function checkModel(type: string, value: unknown, path = "$"): string[] {
  if (value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array)
    return Array.isArray(value) ? value.flatMap((v, i) => checkModel(array[1], v, `${path}[${i}]`)) : [`${path}: ${typeOf(value)} but model is ${type}`];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeOf(value) !== "object") return [`${path}: ${typeOf(value)} but model is a map`];
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => checkModel(map[1], v, `${path}.${k}`));
  }
  if (type === "string") return typeof value === "string" ? [] : [`${path}: ${typeOf(value)} but model is string`];
  if (type === "number") return typeof value === "number" ? [] : [`${path}: ${typeOf(value)} but model is number`];
  if (type === "boolean") return typeof value === "boolean" ? [] : [`${path}: ${typeOf(value)} but model is boolean`];
  if (type === "Date") return typeof value === "string" && !Number.isNaN(Date.parse(value)) ? [] : [`${path}: not a date-time string`];
  if (type === "any") return [];
  const attrs = attributes(type);
  if (!attrs) return [`${path}: unknown model ${type}`];
  if (typeOf(value) !== "object") return [`${path}: ${typeOf(value)} but model is ${type}`];
  const obj = value as Record<string, unknown>;
  const out: string[] = [];
  const byJson = new Map(attrs.map((a) => [a.baseName, a]));
  for (const k of Object.keys(obj)) if (!byJson.has(k)) out.push(`${path}.${k}: not a property of ${type}`);
  for (const name of requiredOf(type)) {
    const a = attrs.find((x) => x.name === name);
    if (a && !(a.baseName in obj)) out.push(`${path}.${a.baseName}: missing (required by ${type})`);
  }
  for (const a of attrs) if (a.baseName in obj) out.push(...checkModel(a.type, obj[a.baseName], `${path}.${a.baseName}`));
  return out;
}

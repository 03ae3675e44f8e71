import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import { closest } from "fastest-levenshtein";
import type { Diagnostic } from "../diagnostics.js";
import { code } from "../markdown.js";
import type { LocatedYaml, PathSegment } from "./parse.js";

type SchemaName = "grant" | "policy";

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
const compiled = new Map<SchemaName, ValidateFunction>();

/** The JSON Schema for a file kind, compiled once per process. */
function validatorFor(name: SchemaName): ValidateFunction {
  let validate = compiled.get(name);
  if (!validate) {
    const file = new URL(`../../schemas/${name}.schema.json`, import.meta.url);
    validate = ajv.compile(JSON.parse(readFileSync(file, "utf8")));
    compiled.set(name, validate);
  }
  return validate;
}

export interface SchemaCheck {
  diagnostics: Diagnostic[];
  /** Top-level keys whose values the schema rejected, so later checks do not judge them twice. */
  invalidKeys: Set<string>;
}

/** Validates a parsed document against a schema; every error becomes a located diagnostic. */
export function checkSchema(name: SchemaName, path: string, yaml: LocatedYaml): SchemaCheck {
  const validate = validatorFor(name);
  if (validate(yaml.value)) return { diagnostics: [], invalidKeys: new Set() };
  const errors = (validate.errors ?? []).filter((e) => !isNoise(e));
  return {
    diagnostics: errors.map((e) => toDiagnostic(path, yaml, e)),
    invalidKeys: new Set(errors.map((e) => String(segments(e.instancePath)[0] ?? ""))),
  };
}

/** `if`/`anyOf` wrappers repeat what their inner errors already said. */
const isNoise = (e: ErrorObject) => e.keyword === "if" || e.keyword === "anyOf" || e.keyword === "oneOf";

function segments(instancePath: string): PathSegment[] {
  if (instancePath === "") return [];
  return instancePath
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function toDiagnostic(path: string, yaml: LocatedYaml, e: ErrorObject): Diagnostic {
  const at = segments(e.instancePath);
  const field = at.length ? `\`${at.join(".")}\`` : "the file";
  const description = (e.parentSchema as { description?: string } | undefined)?.description;
  // Built field by field: an object literal that starts with a spread and adds keys is slow in V8 (Node 20).
  const made = (where: { line: number; column: number }, message: string): Diagnostic => ({
    path,
    line: where.line,
    column: where.column,
    message,
    rule: `schema.${e.keyword}`,
    severity: "error",
  });
  switch (e.keyword) {
    case "required": {
      const missing = String(e.params.missingProperty);
      const props = (e.parentSchema as { properties?: Record<string, { description?: string }> }).properties ?? {};
      const hint = props[missing]?.description;
      const where = at.length ? ` in ${field}` : "";
      return made(yaml.locate(at), `missing required key \`${missing}\`${where}${hint ? ` — ${hint}` : ""}`);
    }
    case "additionalProperties": {
      const extra = String(e.params.additionalProperty);
      const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {}).filter((k) => k !== "$schema");
      const guess = allowed.length ? closest(extra, allowed) : undefined;
      const suggestion = guess && similar(extra, guess) ? `did you mean \`${guess}\`? ` : "";
      return made(yaml.locate(at, extra), `unknown key ${code(extra)}${at.length ? ` in ${field}` : ""}; ${suggestion}allowed keys: ${allowed.join(", ")}`);
    }
    case "propertyNames": {
      const name = String(e.params.propertyName);
      return made(yaml.locate(at, name), `${code(name)} is not a valid name in ${field}${description ? ` (${description})` : ""}`);
    }
    case "type":
      return made(yaml.locate(at), `${field} must be ${article(String(e.params.type))}, not ${describe(e.data)}${description ? ` — ${description}` : ""}`);
    case "pattern":
    case "format":
      return made(yaml.locate(at), `${field} value ${code(String(e.data))} is not valid — ${description ?? e.message}`);
    case "minLength":
      return made(yaml.locate(at), `${field} must not be empty${description ? ` — ${description}` : ""}`);
    case "maxLength":
      return made(yaml.locate(at), `${field} is too long (${String(e.data).length} characters; at most ${e.params.limit})`);
    case "minItems":
      return made(yaml.locate(at), `${field} must list at least ${e.params.limit} entr${e.params.limit === 1 ? "y" : "ies"}`);
    case "maxItems":
      return made(yaml.locate(at), `${field} lists too many entries (at most ${e.params.limit})`);
    case "minProperties":
      return made(yaml.locate(at), `${field} must have at least ${e.params.limit} entr${e.params.limit === 1 ? "y" : "ies"}`);
    case "uniqueItems":
      return made(yaml.locate([...at, Number(e.params.i)]), `${field} lists the same entry twice (items ${e.params.j + 1} and ${e.params.i + 1})`);
    case "const":
      return made(yaml.locate(at), `${field} must be ${JSON.stringify(e.params.allowedValue)}`);
    case "enum":
      return made(yaml.locate(at), `${field} must be one of: ${(e.params.allowedValues as unknown[]).join(", ")}`);
    case "minimum":
    case "maximum":
      return made(yaml.locate(at), `${field} must be ${e.keyword === "minimum" ? "at least" : "at most"} ${e.params.limit}`);
    default:
      return made(yaml.locate(at), `${field} ${e.message ?? "is not valid"}`);
  }
}

const similar = (a: string, b: string) => a.toLowerCase()[0] === b.toLowerCase()[0] || Math.abs(a.length - b.length) <= 2;
const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}…` : s);
const article = (type: string): string =>
  type.includes(",")
    ? type
        .split(",")
        .map((t): string => article(t))
        .join(", ")
        .replace(/, ([^,]*)$/, " or $1")
    : (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`).replace("an object", "a mapping").replace("an array", "a list");

function describe(value: unknown): string {
  if (value === null) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${article(typeof value)} (${clip(String(value as string | number | boolean | bigint))})`; // a YAML scalar
}

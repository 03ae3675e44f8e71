/**
 * The parts of Google's Cloud Resource Manager API v3 discovery document the emulator serves,
 * embedded because no machine-readable copy is available offline (the `googleapis` npm package
 * ships them, but weighs well over 100 MB). Source: https://cloudresourcemanager.googleapis.com/$discovery/rest?version=v3
 * (schemas Policy, Binding, Expr, GetIamPolicyRequest, GetPolicyOptions, SetIamPolicyRequest,
 * Status; methods projects/folders/organizations.getIamPolicy and .setIamPolicy), with the field
 * documentation the emulator's behaviour follows quoted in `doc`.
 *
 * `checkSchema` validates request and response bodies against these schemas: unknown fields,
 * types, formats (int32, byte) — the emulator refuses requests that do not fit (as Google does,
 * 400 INVALID_ARGUMENT "Invalid JSON payload received. Unknown name …") and the tests assert that
 * every answer it gives fits.
 */

type Field = {
  type: "string" | "integer" | "array" | "object" | "any";
  format?: "int32" | "byte" | "google-fieldmask";
  items?: Field;
  $ref?: string;
  doc?: string;
};
type Schema = { properties: Record<string, Field> };

const DISCOVERY: {
  rootUrl: string;
  version: string;
  methods: Record<string, { path: string; httpMethod: string; request: string; response: string }>;
  schemas: Record<string, Schema>;
} = {
  rootUrl: "https://cloudresourcemanager.googleapis.com/",
  version: "v3",
  methods: {
    "projects.getIamPolicy": { path: "v3/{+resource}:getIamPolicy", httpMethod: "POST", request: "GetIamPolicyRequest", response: "Policy" },
    "projects.setIamPolicy": { path: "v3/{+resource}:setIamPolicy", httpMethod: "POST", request: "SetIamPolicyRequest", response: "Policy" },
    "folders.getIamPolicy": { path: "v3/{+resource}:getIamPolicy", httpMethod: "POST", request: "GetIamPolicyRequest", response: "Policy" },
    "folders.setIamPolicy": { path: "v3/{+resource}:setIamPolicy", httpMethod: "POST", request: "SetIamPolicyRequest", response: "Policy" },
    "organizations.getIamPolicy": { path: "v3/{+resource}:getIamPolicy", httpMethod: "POST", request: "GetIamPolicyRequest", response: "Policy" },
    "organizations.setIamPolicy": { path: "v3/{+resource}:setIamPolicy", httpMethod: "POST", request: "SetIamPolicyRequest", response: "Policy" },
  },
  schemas: {
    GetIamPolicyRequest: { properties: { options: { type: "object", $ref: "GetPolicyOptions" } } },
    GetPolicyOptions: {
      properties: {
        requestedPolicyVersion: {
          type: "integer",
          format: "int32",
          doc: "Optional. The maximum policy version that will be used to format the policy. Valid values are 0, 1, and 3. Requests specifying an invalid value will be rejected. Requests for policies with any conditional role bindings must specify version 3. Policies with no conditional role bindings may specify any valid value or leave the field unset.",
        },
      },
    },
    SetIamPolicyRequest: {
      properties: {
        policy: { type: "object", $ref: "Policy" },
        updateMask: {
          type: "string",
          format: "google-fieldmask",
          doc: 'OPTIONAL: A FieldMask specifying which fields of the policy to modify. Only the fields in the mask will be modified. If no mask is provided, the following default mask is used: `paths: "bindings, etag"`',
        },
      },
    },
    Policy: {
      properties: {
        version: {
          type: "integer",
          format: "int32",
          doc: "Specifies the format of the policy. Valid values are `0`, `1`, and `3`. Requests that specify an invalid value are rejected. Any operation that affects conditional role bindings must specify version `3`.",
        },
        bindings: { type: "array", items: { type: "object", $ref: "Binding" } },
        auditConfigs: { type: "array", items: { type: "any" } },
        etag: {
          type: "string",
          format: "byte",
          doc: "`etag` is used for optimistic concurrency control as a way to help prevent simultaneous updates of a policy from overwriting each other. … If an `etag` is provided in the call to `setIamPolicy`, then the existing policy is overwritten only if its etag matches (otherwise ABORTED / 409). Important: If you use IAM Conditions, you must include the `etag` field whenever you call `setIamPolicy`.",
        },
      },
    },
    Binding: {
      properties: {
        role: {
          type: "string",
          doc: "Role that is assigned to the list of `members`, or principals. For example, `roles/viewer`, `roles/editor`, or `roles/owner`.",
        },
        members: {
          type: "array",
          items: { type: "string" },
          doc: "`allUsers`, `allAuthenticatedUsers`, `user:{emailid}`, `serviceAccount:{emailid}`, `group:{emailid}`, `domain:{domain}`, `principal://…`, `principalSet://…`, `deleted:user:{emailid}?uid={uniqueid}`, …",
        },
        condition: {
          type: "object",
          $ref: "Expr",
          doc: "The condition that is associated with this binding. If the condition evaluates to `true`, then this binding applies to the current request.",
        },
      },
    },
    Expr: {
      properties: {
        expression: { type: "string", doc: "Textual representation of an expression in Common Expression Language syntax." },
        title: { type: "string", doc: "Optional. Title for the expression, i.e. a short string describing its purpose." },
        description: { type: "string" },
        location: { type: "string" },
      },
    },
    Status: { properties: { code: { type: "integer", format: "int32" }, message: { type: "string" }, details: { type: "array", items: { type: "any" } } } },
  },
};

const typeOf = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "number" ? (Number.isInteger(v) ? "integer" : "number") : typeof v;

function checkField(f: Field, v: unknown, path: string): string[] {
  if (f.type === "any") return [];
  if (f.$ref) return checkSchema(f.$ref, v, path);
  const t = typeOf(v);
  if (f.type === "integer" && t === "string" && f.format !== "int32") return []; // int64 travels as a string in JSON
  if (t !== f.type) return [`${path}: ${t} but the discovery document says ${f.type}`];
  if (f.format === "int32" && ((v as number) < -(2 ** 31) || (v as number) >= 2 ** 31)) return [`${path}: out of int32 range`];
  if (f.format === "byte" && !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v as string)) return [`${path}: not base64 (format byte)`];
  if (f.type === "array" && f.items) return (v as unknown[]).flatMap((x, i) => checkField(f.items!, x, `${path}[${i}]`));
  return [];
}

/** Problems with `value` as an instance of the named schema: unknown fields and wrong types. */
export function checkSchema(name: string, value: unknown, path = "$"): string[] {
  const schema = DISCOVERY.schemas[name];
  if (!schema) return [`${path}: no schema ${name}`];
  if (typeOf(value) !== "object") return [`${path}: ${typeOf(value)} but ${name} is an object`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const f = schema.properties[k];
    if (!f) out.push(`${path}.${k}: unknown field of ${name}`);
    else out.push(...checkField(f, v, `${path}.${k}`));
  }
  return out;
}

/**
 * An emulated Cloud Resource Manager v3 IAM endpoint (getIamPolicy / setIamPolicy for projects,
 * folders and organizations) plus an OAuth 2.0 token endpoint, on 127.0.0.1 (node:http). It
 * follows the API's published description (see ./discovery.ts, which also checks every request
 * and answer against the discovery document's schemas):
 *
 * - Policy versions: `requestedPolicyVersion` must be 0, 1 or 3 (else 400 INVALID_ARGUMENT). A
 *   policy with conditional bindings read at a version below 3 comes back as version 1 with those
 *   bindings' roles suffixed `_withcond_<hash>` and their conditions left out (IAM docs, "Policy
 *   versions"); such a policy cannot be written back. A policy without conditions is version 1.
 *   Writing a conditional binding needs `policy.version: 3` (else 400).
 * - `etag`: a new one on every write; a write carrying a stale etag fails with 409 ABORTED; a
 *   write without one overwrites blindly (as Google does — and loses conditions written meanwhile).
 * - Conditions: `expression` required, `title` required (at most 100 characters), `description`
 *   at most 256. Bindings with the same role and condition are merged; bindings left without
 *   members are dropped.
 * - Members: `user:`, `group:`, `serviceAccount:` (e-mail), `domain:`, `allUsers`,
 *   `allAuthenticatedUsers`, `deleted:…`; other shapes 400. A user, group or service account the
 *   emulator was not told exists is 400 ("… does not exist"), as Google refuses unknown accounts.
 * - A resource it does not know is 403 PERMISSION_DENIED (Google does not say "not found" to
 *   callers who cannot see it). Requests need a bearer token the token endpoint issued (401).
 *
 * Not emulated (the gap, documented in docs/providers/gcp-iam.md): whether a role exists or can be
 * granted on that resource type, policy size limits (1,500 members), IAM propagation delay, CEL
 * beyond `request.time < timestamp("…")` (`hasAccess` treats other conditions as not granting).
 */
import { createHash, createVerify, generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { checkSchema } from "./discovery.js";

interface Expr {
  expression: string;
  title?: string;
  description?: string;
  location?: string;
}
export interface Binding {
  role: string;
  members: string[];
  condition?: Expr;
}
interface Stored {
  bindings: Binding[];
  etag: string;
  serial: number;
}

export interface ResourceManagerEmulator {
  /** Base URL (for `endpoint_env`). */
  url: string;
  /** A service-account key JSON whose `token_uri` points at the emulator. */
  keyJson: string;
  /** The key's private key (for tests that check it never leaks). */
  privateKey: string;
  addResource(resource: string): void;
  addPrincipal(member: string): void;
  /** The stored policy (version 3 view), as an administrator would see it. */
  bindings(resource: string): Binding[];
  /** What an administrator does outside Timebox: add a binding (unconditioned unless given). */
  addBinding(resource: string, binding: Binding): void;
  /** Does `member` hold `role` on `resource` at `at`, evaluating `request.time < timestamp(…)` conditions? */
  hasAccess(member: string, resource: string, role: string, at?: Date): boolean;
  /** The next `n` setIamPolicy calls lose the race: another writer changes the policy just before each. */
  interfere(n: number): void;
  /** While true, API requests get no answer at all. */
  hang: boolean;
  /** Every API request: method, resource, body. */
  readonly requests: Array<{ method: string; resource: string; body: Record<string, any>; status: number }>;
  /** Requests or answers that did not fit the discovery document (should stay empty). */
  readonly violations: string[];
  stop(): Promise<void>;
}

const RESOURCE = /^\/v3\/((?:projects\/[a-z][a-z0-9-]{4,28}[a-z0-9])|(?:folders\/\d+)|(?:organizations\/\d+)):(getIamPolicy|setIamPolicy)$/;
const EMAIL = /^[^\s@:]+@[^\s@:]+\.[A-Za-z]{2,}$/;
const EXPIRY = /^request\.time < timestamp\("([^"]+)"\)$/;

function validMember(m: string): boolean {
  if (m === "allUsers" || m === "allAuthenticatedUsers") return true;
  const [kind, ...rest] = m.split(":");
  const value = rest.join(":");
  if (kind === "user" || kind === "group" || kind === "serviceAccount") return EMAIL.test(value);
  if (kind === "domain") return /^[a-z0-9.-]+\.[a-z]{2,}$/.test(value);
  if (kind === "deleted") return /^(user|group|serviceAccount):[^\s]+\?uid=\d+$/.test(value);
  return false;
}

const condKey = (b: Binding) =>
  `${b.role}\u0000${b.condition ? JSON.stringify([b.condition.expression, b.condition.title ?? "", b.condition.description ?? ""]) : ""}`;

export async function startResourceManager(): Promise<ResourceManagerEmulator> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const clientEmail = "timebox@acme-admin.iam.gserviceaccount.com";
  const policies = new Map<string, Stored>();
  const principals = new Set<string>();
  const tokens = new Set<string>();
  const sockets = new Set<Socket>();
  const requests: ResourceManagerEmulator["requests"] = [];
  const violations: string[] = [];
  let interfering = 0;
  let serialCounter = 0;

  const newEtag = (): { etag: string; serial: number } => {
    const serial = ++serialCounter;
    return { etag: createHash("sha256").update(`etag ${serial}`).digest().subarray(0, 8).toString("base64"), serial };
  };
  const write = (resource: string, bindings: Binding[]) => policies.set(resource, { bindings, ...newEtag() });

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json; charset=UTF-8" });
    res.end(JSON.stringify(body));
  };
  const googleError = (res: ServerResponse, code: number, status: string, message: string) => {
    const problems = checkSchema("Status", { code, message });
    violations.push(...problems);
    send(res, code, { error: { code, message, status } });
    return code;
  };

  /** The answer for a stored policy at a requested version. */
  const view = (p: Stored, version: number) => {
    const conditional = p.bindings.some((b) => b.condition);
    const bindings = p.bindings.map((b) => {
      if (!b.condition || version === 3) return { role: b.role, members: [...b.members], ...(b.condition ? { condition: { ...b.condition } } : {}) };
      const hash = createHash("sha256").update(condKey(b)).digest("hex").slice(0, 24);
      return { role: `${b.role}_withcond_${hash}`, members: [...b.members] };
    });
    const policy: Record<string, unknown> = { version: conditional && version === 3 ? 3 : 1, etag: p.etag };
    if (bindings.length > 0) policy.bindings = bindings;
    violations.push(...checkSchema("Policy", policy, "response"));
    return policy;
  };

  function handleToken(body: string, res: ServerResponse): void {
    const form = new URLSearchParams(body);
    const assertion = form.get("assertion") ?? "";
    const [h, c, s] = assertion.split(".");
    let ok = form.get("grant_type") === "urn:ietf:params:oauth:grant-type:jwt-bearer" && !!h && !!c && !!s;
    if (ok) {
      ok = createVerify("RSA-SHA256").update(`${h}.${c}`).verify(publicKey, s!, "base64url");
      const claims = ok ? (JSON.parse(Buffer.from(c!, "base64url").toString()) as Record<string, unknown>) : {};
      ok = ok && claims.iss === clientEmail && typeof claims.scope === "string" && typeof claims.exp === "number";
    }
    if (!ok) return send(res, 400, { error: "invalid_grant", error_description: "Invalid JWT Signature." });
    const token = `ya29.${randomBytes(24).toString("base64url")}`;
    tokens.add(token);
    send(res, 200, { access_token: token, expires_in: 3599, token_type: "Bearer" });
  }

  function handleApi(resource: string, method: string, raw: string, req: IncomingMessage, res: ServerResponse): number {
    const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
    if (!auth || !tokens.has(auth[1]!)) return googleError(res, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
    let body: Record<string, any>;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, any>) : {};
    } catch {
      return googleError(res, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    const request = method === "getIamPolicy" ? "GetIamPolicyRequest" : "SetIamPolicyRequest";
    const problems = checkSchema(request, body, "request");
    if (problems.length > 0) return googleError(res, 400, "INVALID_ARGUMENT", `Invalid JSON payload received. ${problems.join("; ")}`);
    const stored = policies.get(resource);
    if (!stored) return googleError(res, 403, "PERMISSION_DENIED", `The caller does not have permission`);

    if (method === "getIamPolicy") {
      const version = body.options?.requestedPolicyVersion ?? 0;
      if (![0, 1, 3].includes(version)) return googleError(res, 400, "INVALID_ARGUMENT", `Invalid requested policy version: ${version}.`);
      send(res, 200, view(stored, version));
      return 200;
    }

    const policy = body.policy as Record<string, any> | undefined;
    if (!policy) return googleError(res, 400, "INVALID_ARGUMENT", "Request contains an invalid argument: policy is required.");
    const mask = typeof body.updateMask === "string" ? body.updateMask.split(",").map((x: string) => x.trim()) : ["bindings", "etag"];
    if (interfering > 0) {
      interfering--;
      write(resource, [...stored.bindings, { role: "roles/browser", members: ["domain:interference.example.com"] }]);
    }
    const current = policies.get(resource)!;
    const version = policy.version ?? 1;
    if (![0, 1, 3].includes(version)) return googleError(res, 400, "INVALID_ARGUMENT", `Invalid policy version: ${version}.`);
    if (mask.includes("etag") && policy.etag !== undefined && policy.etag !== current.etag) {
      return googleError(res, 409, "ABORTED", "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.");
    }
    if (!mask.includes("bindings")) {
      send(res, 200, view(current, 3));
      return 200;
    }
    const merged = new Map<string, Binding>();
    for (const b of (policy.bindings ?? []) as Binding[]) {
      if (
        typeof b.role !== "string" ||
        !/^(roles|projects\/[^/]+\/roles|organizations\/\d+\/roles)\/[A-Za-z0-9_.]+$/.test(b.role) ||
        b.role.includes("_withcond_")
      ) {
        return googleError(res, 400, "INVALID_ARGUMENT", `Role ${String(b.role)} is not supported for this resource.`);
      }
      if (b.condition) {
        if (version !== 3) return googleError(res, 400, "INVALID_ARGUMENT", "Conditional bindings require policy version 3 (set policy.version to 3).");
        if (!b.condition.expression) return googleError(res, 400, "INVALID_ARGUMENT", "Condition expression is required.");
        if (!b.condition.title || b.condition.title.length > 100)
          return googleError(res, 400, "INVALID_ARGUMENT", "Condition title is required and at most 100 characters.");
        if ((b.condition.description ?? "").length > 256) return googleError(res, 400, "INVALID_ARGUMENT", "Condition description is at most 256 characters.");
      }
      for (const m of b.members ?? []) {
        if (!validMember(m)) return googleError(res, 400, "INVALID_ARGUMENT", `Invalid member: ${m}.`);
        if (/^(user|group|serviceAccount):/.test(m) && !principals.has(m)) {
          return googleError(
            res,
            400,
            "INVALID_ARGUMENT",
            `${m.startsWith("user:") ? "User" : m.startsWith("group:") ? "Group" : "Service account"} ${m.slice(m.indexOf(":") + 1)} does not exist.`,
          );
        }
      }
      const key = condKey(b);
      const into = merged.get(key) ?? { role: b.role, members: [], ...(b.condition ? { condition: { ...b.condition } } : {}) };
      into.members = [...new Set([...into.members, ...(b.members ?? [])])];
      merged.set(key, into);
    }
    write(
      resource,
      [...merged.values()].filter((b) => b.members.length > 0),
    );
    send(res, 200, view(policies.get(resource)!, 3));
    return 200;
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      if (req.method === "POST" && req.url === "/token") return handleToken(raw, res);
      const m = req.method === "POST" ? RESOURCE.exec(req.url ?? "") : null;
      if (!m) return void googleError(res, 404, "NOT_FOUND", "The requested URL was not found on this server.");
      if (emulator.hang) return; // never answered
      let parsed: Record<string, any> = {};
      try {
        parsed = JSON.parse(raw || "{}") as Record<string, any>;
      } catch {
        /* recorded as {} */
      }
      const status = handleApi(m[1]!, m[2]!, raw, req, res);
      requests.push({ method: m[2]!, resource: m[1]!, body: parsed, status });
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keyJson = JSON.stringify({
    type: "service_account",
    project_id: "acme-admin",
    private_key_id: randomBytes(20).toString("hex"),
    private_key: privateKey,
    client_email: clientEmail,
    client_id: "100000000000000000001",
    token_uri: `${url}/token`,
  });

  const emulator: ResourceManagerEmulator = {
    url,
    keyJson,
    privateKey,
    hang: false,
    requests,
    violations,
    addResource: (resource) => {
      if (!policies.has(resource)) write(resource, []);
    },
    addPrincipal: (member) => void principals.add(member),
    bindings: (resource) => structuredClone(policies.get(resource)?.bindings ?? []),
    addBinding: (resource, binding) => {
      const p = policies.get(resource);
      if (!p) throw new Error(`no resource ${resource}`);
      write(resource, [...p.bindings, structuredClone(binding)]);
    },
    hasAccess: (member, resource, role, at = new Date()) =>
      (policies.get(resource)?.bindings ?? []).some((b) => {
        if (b.role !== role || !b.members.includes(member)) return false;
        if (!b.condition) return true;
        const m = EXPIRY.exec(b.condition.expression);
        return !!m && at.getTime() < new Date(m[1]!).getTime();
      }),
    interfere: (n) => {
      interfering = n;
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return emulator;
}

/**
 * An emulated Kubernetes API server for the `kubernetes` provider's tests (no real API server can
 * be installed on this machine): node:http on 127.0.0.1, the routes @kubernetes/client-node uses
 * for the RBAC group (create / get / delete / list RoleBindings and ClusterRoleBindings, get Roles,
 * ClusterRoles and Namespaces), equality-based label selectors, bearer-token authentication, and
 * errors as `Status` objects (401, 404 NotFound, 409 AlreadyExists, 400/422 Invalid) the way the
 * real server sends them. Every body it accepts or sends is checked against the models generated
 * from Kubernetes' OpenAPI description (model-check.ts); a mismatch fails the request with 500 and
 * is recorded in `violations`, which tests assert empty.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { checkModel } from "./model-check.js";

type Json = Record<string, any>;

const RBAC = "/apis/rbac.authorization.k8s.io/v1";
const NAME = /^[a-z0-9](?:[-a-z0-9.:]{0,251}[a-z0-9])?$/;
const BINDING_NAME = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface EmulatedKubernetes {
  url: string;
  token: string;
  /** A kubeconfig (YAML) for this server and token. */
  kubeconfig(token?: string): string;
  addNamespace(name: string): void;
  addClusterRole(name: string): void;
  addRole(namespace: string, name: string): void;
  /** A binding made the way an administrator would (no Timebox label). */
  addBinding(binding: Json): void;
  /** Every RoleBinding and ClusterRoleBinding stored now. */
  bindings(): Json[];
  /** Does `subject` (kind, name) hold `roleRef` by any binding? (`namespace` undefined: cluster-wide.) */
  holds(subject: { kind: string; name: string }, roleRef: { kind: string; name: string }, namespace?: string): boolean;
  /** Requests seen: method and path with query. */
  requests: string[];
  /** Bodies that did not fit the generated models. */
  violations: string[];
  /** When true, requests are read and never answered. */
  hang: boolean;
  stop(): Promise<void>;
}

function status(code: number, reason: string, message: string, details?: Json): Json {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details ? { details } : {}), code };
}

function matchesSelector(labels: Record<string, string> | undefined, selector: string | null): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  return selector.split(",").every((term) => {
    const t = term.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([^!=]+)!=(.*)$/.exec(t))) return l[m[1]] !== m[2];
    if ((m = /^([^!=]+)==?(.*)$/.exec(t))) return l[m[1]] === m[2];
    if (t.startsWith("!")) return !(t.slice(1) in l);
    return t in l;
  });
}

export async function startEmulatedKubernetes(): Promise<EmulatedKubernetes> {
  const token = `tok-${randomUUID()}`;
  const namespaces = new Set<string>(["default", "kube-system"]);
  const clusterRoles = new Set<string>(["view", "edit", "admin", "cluster-admin"]);
  const roles = new Set<string>();
  /** key: `ns/name` for RoleBindings, `/name` for ClusterRoleBindings. */
  const store = new Map<string, Json>();
  let version = 1;
  const sockets = new Set<import("node:net").Socket>();

  const emu: EmulatedKubernetes = {
    url: "",
    token,
    requests: [],
    violations: [],
    hang: false,
    kubeconfig: (t = token) => `apiVersion: v1
kind: Config
clusters:
  - name: emulated
    cluster: { server: "${emu.url}", insecure-skip-tls-verify: true }
users:
  - name: timebox
    user: { token: "${t}" }
contexts:
  - name: emulated
    context: { cluster: emulated, user: timebox }
current-context: emulated
`,
    addNamespace: (n) => void namespaces.add(n),
    addClusterRole: (n) => void clusterRoles.add(n),
    addRole: (ns, n) => void roles.add(`${ns}/${n}`),
    addBinding: (b) => {
      const stored = stamp(structuredClone(b));
      store.set(`${b.metadata.namespace ?? ""}/${b.metadata.name}`, stored);
    },
    bindings: () => [...store.values()].map((b) => structuredClone(b)),
    holds: (subject, roleRef, namespace) =>
      [...store.values()].some((b) => {
        const ns: string | undefined = b.metadata.namespace;
        if (ns !== undefined && ns !== namespace) return false;
        if (ns === undefined && namespace !== undefined && roleRef.kind !== "ClusterRole") return false;
        return (
          b.roleRef.kind === roleRef.kind &&
          b.roleRef.name === roleRef.name &&
          (b.subjects ?? []).some((s: Json) => s.kind === subject.kind && s.name === subject.name)
        );
      }),
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  function stamp(b: Json): Json {
    b.metadata.uid = randomUUID();
    b.metadata.resourceVersion = String(version++);
    b.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    return b;
  }

  function send(res: ServerResponse, code: number, body: Json, model: string): void {
    const problems = checkModel(model, body);
    if (problems.length > 0) {
      emu.violations.push(...problems.map((p) => `response ${model}: ${p}`));
      code = 500;
      body = status(500, "InternalError", `emulator response does not fit ${model}`);
    }
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  const fail = (res: ServerResponse, code: number, reason: string, message: string, details?: Json) =>
    send(res, code, status(code, reason, message, details), "V1Status");

  function validateBinding(res: ServerResponse, body: Json, kind: "RoleBinding" | "ClusterRoleBinding", namespace?: string): boolean {
    const model = kind === "RoleBinding" ? "V1RoleBinding" : "V1ClusterRoleBinding";
    const problems = checkModel(model, body);
    if (problems.length > 0) {
      emu.violations.push(...problems.map((p) => `request ${model}: ${p}`));
      fail(res, 400, "BadRequest", `body does not fit ${model}: ${problems.join("; ")}`);
      return false;
    }
    const errors: string[] = [];
    if (body.kind !== undefined && body.kind !== kind) errors.push(`kind: must be ${kind}`);
    if (body.apiVersion !== undefined && body.apiVersion !== "rbac.authorization.k8s.io/v1") errors.push("apiVersion: must be rbac.authorization.k8s.io/v1");
    const name = body.metadata?.name;
    if (typeof name !== "string" || !BINDING_NAME.test(name)) errors.push("metadata.name: Invalid value");
    if (namespace !== undefined && body.metadata?.namespace !== undefined && body.metadata.namespace !== namespace) {
      return (fail(res, 400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request"), false);
    }
    if (body.roleRef?.apiGroup !== "rbac.authorization.k8s.io") errors.push("roleRef.apiGroup: Unsupported value");
    if (!["Role", "ClusterRole"].includes(body.roleRef?.kind) || (kind === "ClusterRoleBinding" && body.roleRef.kind !== "ClusterRole"))
      errors.push("roleRef.kind: Unsupported value");
    if (typeof body.roleRef?.name !== "string" || !NAME.test(body.roleRef.name)) errors.push("roleRef.name: Invalid value");
    for (const s of body.subjects ?? []) {
      if (!["User", "Group", "ServiceAccount"].includes(s.kind)) errors.push("subjects.kind: Unsupported value");
      if (!s.name) errors.push("subjects.name: Required value");
    }
    if (errors.length > 0) {
      fail(res, 422, "Invalid", `${kind}.rbac.authorization.k8s.io "${String(name)}" is invalid: ${errors.join(", ")}`, {
        name,
        group: "rbac.authorization.k8s.io",
        kind: kind.toLowerCase() + "s",
      });
      return false;
    }
    return true;
  }

  function list(res: ServerResponse, kind: "RoleBinding" | "ClusterRoleBinding", selector: string | null, namespace?: string): void {
    const items = [...store.values()].filter(
      (b) =>
        (kind === "ClusterRoleBinding"
          ? b.metadata.namespace === undefined
          : b.metadata.namespace !== undefined && (namespace === undefined || b.metadata.namespace === namespace)) &&
        matchesSelector(b.metadata.labels, selector),
    );
    send(res, 200, { kind: `${kind}List`, apiVersion: "rbac.authorization.k8s.io/v1", metadata: { resourceVersion: String(version) }, items }, `V1${kind}List`);
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const url = new URL(req.url ?? "/", "http://emulated");
    const method = req.method ?? "GET";
    emu.requests.push(`${method} ${url.pathname}${url.search}`);
    if (req.headers.authorization !== `Bearer ${token}`) return fail(res, 401, "Unauthorized", "Unauthorized");
    let body: Json | undefined;
    if (raw) {
      try {
        body = JSON.parse(raw) as Json;
      } catch {
        return fail(res, 400, "BadRequest", "the body is not JSON");
      }
    }
    const path = url.pathname;
    const selector = url.searchParams.get("labelSelector");
    let m: RegExpExecArray | null;
    const nsExists = (ns: string) => namespaces.has(ns);
    const notFound = (resource: string, name: string, group = "rbac.authorization.k8s.io") =>
      fail(res, 404, "NotFound", `${resource}${group ? `.${group}` : ""} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource });

    if ((m = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path)) && method === "GET") {
      const ns = decodeURIComponent(m[1]);
      if (!nsExists(ns)) return notFound("namespaces", ns, "");
      return send(res, 200, { kind: "Namespace", apiVersion: "v1", metadata: { name: ns, uid: randomUUID() }, status: { phase: "Active" } }, "V1Namespace");
    }
    if ((m = /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/clusterroles\/([^/]+)$/.exec(path)) && method === "GET") {
      const name = decodeURIComponent(m[1]);
      if (!clusterRoles.has(name)) return notFound("clusterroles", name);
      return send(res, 200, { kind: "ClusterRole", apiVersion: "rbac.authorization.k8s.io/v1", metadata: { name }, rules: [] }, "V1ClusterRole");
    }
    if ((m = /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/namespaces\/([^/]+)\/roles\/([^/]+)$/.exec(path)) && method === "GET") {
      const [ns, name] = [decodeURIComponent(m[1]), decodeURIComponent(m[2])];
      if (!roles.has(`${ns}/${name}`)) return notFound("roles", name);
      return send(res, 200, { kind: "Role", apiVersion: "rbac.authorization.k8s.io/v1", metadata: { name, namespace: ns }, rules: [] }, "V1Role");
    }
    if (path === `${RBAC}/rolebindings` && method === "GET") return list(res, "RoleBinding", selector);
    if (path === `${RBAC}/clusterrolebindings` && method === "GET") return list(res, "ClusterRoleBinding", selector);
    if (path === `${RBAC}/clusterrolebindings` && method === "POST") {
      if (!body || !validateBinding(res, body, "ClusterRoleBinding")) return;
      const key = `/${body.metadata.name}`;
      if (store.has(key))
        return fail(res, 409, "AlreadyExists", `clusterrolebindings.rbac.authorization.k8s.io "${body.metadata.name}" already exists`, {
          name: body.metadata.name,
          group: "rbac.authorization.k8s.io",
          kind: "clusterrolebindings",
        });
      const stored = stamp({ ...body, kind: "ClusterRoleBinding", apiVersion: "rbac.authorization.k8s.io/v1" });
      store.set(key, stored);
      return send(res, 201, stored, "V1ClusterRoleBinding");
    }
    if ((m = /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/namespaces\/([^/]+)\/rolebindings$/.exec(path))) {
      const ns = decodeURIComponent(m[1]);
      if (method === "GET") return list(res, "RoleBinding", selector, ns);
      if (method === "POST") {
        if (!body || !validateBinding(res, body, "RoleBinding", ns)) return;
        if (!nsExists(ns)) return notFound("namespaces", ns, "");
        const key = `${ns}/${body.metadata.name}`;
        if (store.has(key))
          return fail(res, 409, "AlreadyExists", `rolebindings.rbac.authorization.k8s.io "${body.metadata.name}" already exists`, {
            name: body.metadata.name,
            group: "rbac.authorization.k8s.io",
            kind: "rolebindings",
          });
        const stored = stamp({ ...body, kind: "RoleBinding", apiVersion: "rbac.authorization.k8s.io/v1", metadata: { ...body.metadata, namespace: ns } });
        store.set(key, stored);
        return send(res, 201, stored, "V1RoleBinding");
      }
    }
    const one = /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/(?:namespaces\/([^/]+)\/rolebindings|clusterrolebindings)\/([^/]+)$/.exec(path);
    if (one && (method === "GET" || method === "DELETE")) {
      const ns = one[1] === undefined ? undefined : decodeURIComponent(one[1]);
      const name = decodeURIComponent(one[2]);
      const kind = ns === undefined ? "ClusterRoleBinding" : "RoleBinding";
      const key = `${ns ?? ""}/${name}`;
      const found = store.get(key);
      if (!found) return notFound(kind === "RoleBinding" ? "rolebindings" : "clusterrolebindings", name);
      if (method === "GET") return send(res, 200, found, `V1${kind}`);
      store.delete(key);
      return send(
        res,
        200,
        {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Success",
          details: { name, group: "rbac.authorization.k8s.io", kind: kind.toLowerCase() + "s", uid: found.metadata.uid },
        },
        "V1Status",
      );
    }
    return fail(res, 404, "NotFound", "the server could not find the requested resource");
  }

  const server: Server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (raw += c));
    req.on("end", () => {
      if (emu.hang) return;
      try {
        handle(req, res, raw);
      } catch (error) {
        emu.violations.push(`emulator error: ${String(error)}`);
        res.writeHead(500).end();
      }
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  emu.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return emu;
}

/**
 * The `kubernetes` provider: a grant is one RoleBinding (in the target's namespace) or
 * ClusterRoleBinding named `timebox-<short id>`, binding the principal to the target Role /
 * ClusterRole, labelled `app.kubernetes.io/managed-by: timebox` and annotated with the grant id,
 * repository, requester and expiry. Revoke deletes that binding and nothing else, so access another
 * grant or an administrator's binding gives stays (design rule 7) without reading prior access.
 */
import {
  ApiException,
  CoreV1Api,
  Observable,
  RbacAuthorizationV1Api,
  type KubeConfig,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  type V1ClusterRoleBinding,
  type V1RoleBinding,
} from "@kubernetes/client-node";
import type { Diagnostic } from "../../diagnostics.js";
import { currentDeadline, remainingMs, throwIfPastDeadline } from "../deadline.js";
import { ProviderError, type ActiveGrant, type GrantResult, type ManagedGrant, type Provider } from "../types.js";
import { bindingName, formatTarget, parsePrincipal, parseTarget, TARGET_SHAPES, type KubernetesSubject, type KubernetesTarget } from "./target.js";

const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
const MANAGED_BY = "timebox";
const SHORT_ID_LABEL = "timebox.io/short-id";
const ANNOTATIONS = {
  grantId: "timebox.io/grant-id",
  repo: "timebox.io/repo",
  requester: "timebox.io/requester",
  pullRequest: "timebox.io/pull-request",
  expiresAt: "timebox.io/expires-at",
} as const;
const RBAC_GROUP = "rbac.authorization.k8s.io";

type Binding = V1RoleBinding | V1ClusterRoleBinding;

/** A refusal by the API server, with its HTTP status (the message is safe to show). */
class KubernetesApiError extends ProviderError {
  constructor(
    message: string,
    retryable: boolean,
    readonly status: number,
  ) {
    super(message, retryable);
  }
}

export interface KubernetesProviderConfig {
  resource: string;
  /** Builds the client configuration; throws a ProviderError (without secrets) when it cannot. */
  loadConfig: () => KubeConfig;
  /** Cap of one HTTP request, in ms. */
  requestTimeoutMs: number;
}

export class KubernetesProvider implements Provider {
  readonly id = "kubernetes";
  private clients?: { rbac: RbacAuthorizationV1Api; core: CoreV1Api };

  constructor(private readonly config: KubernetesProviderConfig) {}

  private fail(message: string, retryable = true): ProviderError {
    return new ProviderError(`kubernetes: resource ${this.config.resource}: ${message}`, retryable);
  }

  private api(): { rbac: RbacAuthorizationV1Api; core: CoreV1Api } {
    if (!this.clients) {
      const kc = this.config.loadConfig();
      this.clients = { rbac: kc.makeApiClient(RbacAuthorizationV1Api), core: kc.makeApiClient(CoreV1Api) };
    }
    return this.clients;
  }

  /** One API request: checked against the call's deadline first, aborted at it or at the request cap. */
  private async call<T>(what: string, request: (options: ConfigurationOptions) => Promise<T>): Promise<T> {
    throwIfPastDeadline();
    // The call's deadline aborts the request (its error is what the caller sees); the request cap
    // only adds a timer when it ends sooner.
    const cap = this.config.requestTimeoutMs;
    const outer = currentDeadline()?.signal;
    const signal = !outer ? AbortSignal.timeout(cap) : remainingMs(cap + 1) > cap ? AbortSignal.any([outer, AbortSignal.timeout(cap)]) : outer;
    const middleware: ObservableMiddleware = {
      pre: (ctx: RequestContext) => {
        ctx.setSignal(signal);
        return new Observable(Promise.resolve(ctx));
      },
      post: (ctx: ResponseContext) => new Observable(Promise.resolve(ctx)),
    };
    try {
      return await request({ middleware: [middleware], middlewareMergeStrategy: "append" });
    } catch (error) {
      throw this.explain(what, error, signal);
    }
  }

  /** A summary safe to show on a PR: the HTTP status and Kubernetes' reason, never the server, token or body. */
  private explain(what: string, error: unknown, signal: AbortSignal): ProviderError {
    if (error instanceof ProviderError) return error;
    if (signal.aborted) {
      const reason: unknown = signal.reason;
      if (reason instanceof ProviderError) return reason;
      return this.fail(`the API server did not answer in time (${what})`);
    }
    if (error instanceof ApiException) {
      const code = (error as ApiException<unknown>).code;
      if (code === 401) return this.fail(`the API server did not accept Timebox's credentials (HTTP 401, ${what})`);
      if (code === 403)
        return this.fail(`Timebox's identity is not allowed to ${what} (HTTP 403); see docs/providers/kubernetes.md for the ClusterRole it needs`);
      const reason = statusReason(error);
      const retryable = code >= 500 || code === 409 || code === 429;
      return new KubernetesApiError(
        `kubernetes: resource ${this.config.resource}: the API server refused to ${what} (HTTP ${code}${reason ? `, ${reason}` : ""})`,
        retryable,
        code,
      );
    }
    const code = typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined;
    return this.fail(`could not reach the API server (${what}${code && /^[A-Z_]{2,40}$/.test(code) ? `: ${code}` : ""})`);
  }

  private target(g: ActiveGrant): { target: KubernetesTarget; subject: KubernetesSubject } {
    const t = parseTarget(g.target);
    if (!t.ok) throw this.fail(`role ${g.role}: target \`${g.target}\` is not valid: ${t.error}`, false);
    const p = parsePrincipal(g.principal);
    if (!p.ok) throw this.fail(`principal \`${g.principal}\` is not valid: ${p.error}`, false);
    return { target: t.value, subject: p.value };
  }

  private body(g: ActiveGrant, target: KubernetesTarget, subject: KubernetesSubject): Binding {
    return {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: target.scope === "cluster" ? "ClusterRoleBinding" : "RoleBinding",
      metadata: {
        name: bindingName(g.shortId),
        ...(target.scope === "namespace" ? { namespace: target.namespace } : {}),
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [SHORT_ID_LABEL]: g.shortId },
        annotations: {
          [ANNOTATIONS.grantId]: g.id,
          [ANNOTATIONS.repo]: g.repo,
          [ANNOTATIONS.requester]: g.requester,
          [ANNOTATIONS.pullRequest]: String(g.pullRequest),
          [ANNOTATIONS.expiresAt]: g.expiresAt.toISOString(),
        },
      },
      roleRef: { apiGroup: RBAC_GROUP, kind: target.kind, name: target.name },
      subjects: [{ ...subject }],
    };
  }

  /** The binding of this grant, or undefined when there is none. */
  private async read(name: string, target: KubernetesTarget): Promise<Binding | undefined> {
    try {
      return await this.call(`read binding ${name}`, (o) =>
        target.scope === "cluster"
          ? this.api().rbac.readClusterRoleBinding({ name }, o)
          : this.api().rbac.readNamespacedRoleBinding({ name, namespace: target.namespace }, o),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async remove(name: string, target: KubernetesTarget): Promise<void> {
    try {
      await this.call(`delete binding ${name}`, (o) =>
        target.scope === "cluster"
          ? this.api().rbac.deleteClusterRoleBinding({ name }, o)
          : this.api().rbac.deleteNamespacedRoleBinding({ name, namespace: target.namespace }, o),
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  private async create(body: Binding, target: KubernetesTarget): Promise<"created" | "exists"> {
    try {
      await this.call(`create binding ${body.metadata!.name!}`, (o) =>
        target.scope === "cluster"
          ? this.api().rbac.createClusterRoleBinding({ body }, o)
          : this.api().rbac.createNamespacedRoleBinding({ namespace: target.namespace, body }, o),
      );
      return "created";
    } catch (error) {
      if (error instanceof KubernetesApiError && error.status === 409) return "exists";
      if (isNotFound(error) && target.scope === "namespace") {
        throw this.fail(`namespace \`${target.namespace}\` does not exist`, false);
      }
      throw error;
    }
  }

  async checkTarget(target: string, principal?: string): Promise<Diagnostic[]> {
    const diag = (rule: string, message: string): Diagnostic => ({ path: "", line: 1, column: 1, rule, severity: "error", message });
    const t = parseTarget(target);
    if (!t.ok) return [diag("provider.target", `${this.config.resource}: target \`${target}\` is not valid: ${t.error} (one of ${TARGET_SHAPES})`)];
    const out: Diagnostic[] = [];
    if (principal !== undefined) {
      const p = parsePrincipal(principal);
      if (!p.ok) out.push(diag("provider.principal", `${this.config.resource}: principal \`${principal}\` is not valid: ${p.error}`));
    }
    const v = t.value;
    const missing = (what: string) => diag("provider.target", `${this.config.resource}: target \`${target}\`: ${what} does not exist`);
    try {
      if (v.scope === "namespace") {
        const ns = await this.exists("read namespace", (o) => this.api().core.readNamespace({ name: v.namespace }, o));
        if (!ns) return [missing(`namespace \`${v.namespace}\``), ...out];
      }
      const role = await this.exists(`read ${v.kind} ${v.name}`, (o) =>
        v.kind === "ClusterRole"
          ? this.api().rbac.readClusterRole({ name: v.name }, o)
          : this.api().rbac.readNamespacedRole({ name: v.name, namespace: v.namespace }, o),
      );
      if (!role) return [missing(`${v.kind} \`${v.name}\`${v.scope === "namespace" && v.kind === "Role" ? ` in namespace \`${v.namespace}\`` : ""}`), ...out];
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      throw this.fail("could not check the target");
    }
    return out;
  }

  private async exists(what: string, request: (o: ConfigurationOptions) => Promise<unknown>): Promise<boolean> {
    try {
      await this.call(what, request);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async grant(g: ActiveGrant): Promise<GrantResult> {
    const { target, subject } = this.target(g);
    const body = this.body(g, target, subject);
    const name = body.metadata!.name!;
    if ((await this.create(body, target)) === "exists") {
      const existing = await this.read(name, target);
      if (!existing || !matches(existing, target, subject) || !isManaged(existing)) {
        // Same name, other content (the grant's target or principal changed): roleRef is immutable, so replace it.
        if (existing && !isManaged(existing)) throw this.fail(`a binding named \`${name}\` exists that Timebox did not make; not touching it`, false);
        await this.remove(name, target);
        if ((await this.create(body, target)) === "exists") throw this.fail(`binding \`${name}\` was recreated concurrently; will retry`);
      }
    }
    if (!(await this.isGranted(g))) throw this.fail(`binding \`${name}\` was created but does not read back`);
    // The grant file was edited to another namespace or scope: its earlier binding goes.
    await this.removeElsewhere(g.shortId, target);
    const where = target.scope === "cluster" ? "ClusterRoleBinding" : `RoleBinding in namespace \`${target.namespace}\``;
    return { summary: `${subject.kind.toLowerCase()} \`${subject.name}\` is bound to ${target.kind} \`${target.name}\` (${where} \`${name}\`)` };
  }

  async revoke(g: ActiveGrant): Promise<void> {
    const { target } = this.target(g);
    await this.remove(bindingName(g.shortId), target);
    // And any binding an earlier version of the same grant file left in another namespace or scope.
    await this.removeElsewhere(g.shortId);
  }

  /** Deletes Timebox's bindings of this short id except the one at `keep` (found by label, so never an administrator's). */
  private async removeElsewhere(shortId: string, keep?: KubernetesTarget): Promise<void> {
    const labelSelector = `${MANAGED_BY_LABEL}=${MANAGED_BY},${SHORT_ID_LABEL}=${shortId}`;
    const namespaced = await this.call("list role bindings", (o) => this.api().rbac.listRoleBindingForAllNamespaces({ labelSelector }, o));
    const cluster = await this.call("list cluster role bindings", (o) => this.api().rbac.listClusterRoleBinding({ labelSelector }, o));
    for (const b of [...namespaced.items, ...cluster.items]) {
      const name = b.metadata?.name;
      const namespace = b.metadata?.namespace;
      if (!name || !isManaged(b) || b.metadata?.labels?.[SHORT_ID_LABEL] !== shortId) continue;
      const here = keep && (keep.scope === "cluster" ? namespace === undefined : namespace === keep.namespace) && name === bindingName(shortId);
      if (here) continue;
      await this.remove(
        name,
        namespace === undefined ? { scope: "cluster", kind: "ClusterRole", name: "-" } : { scope: "namespace", namespace, kind: "Role", name: "-" },
      );
    }
  }

  async isGranted(g: ActiveGrant): Promise<boolean> {
    const { target, subject } = this.target(g);
    const existing = await this.read(bindingName(g.shortId), target);
    return existing !== undefined && isManaged(existing) && matches(existing, target, subject);
  }

  async listManaged(): Promise<ManagedGrant[]> {
    const labelSelector = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
    const namespaced = await this.call("list role bindings", (o) => this.api().rbac.listRoleBindingForAllNamespaces({ labelSelector }, o));
    const cluster = await this.call("list cluster role bindings", (o) => this.api().rbac.listClusterRoleBinding({ labelSelector }, o));
    const out: ManagedGrant[] = [];
    for (const b of [...namespaced.items, ...cluster.items]) {
      if (!isManaged(b)) continue;
      const meta = b.metadata ?? {};
      const ann = meta.annotations ?? {};
      const s = b.subjects?.[0];
      const expires = ann[ANNOTATIONS.expiresAt] ? new Date(ann[ANNOTATIONS.expiresAt]) : undefined;
      const target: KubernetesTarget = meta.namespace
        ? { scope: "namespace", namespace: meta.namespace, kind: b.roleRef.kind === "Role" ? "Role" : "ClusterRole", name: b.roleRef.name }
        : { scope: "cluster", kind: "ClusterRole", name: b.roleRef.name };
      out.push({
        handle: meta.namespace ? `${meta.namespace}/RoleBinding/${meta.name ?? ""}` : `ClusterRoleBinding/${meta.name ?? ""}`,
        grantId: ann[ANNOTATIONS.grantId],
        shortId: meta.labels?.[SHORT_ID_LABEL],
        repo: ann[ANNOTATIONS.repo],
        principal: s ? (s.kind === "Group" ? `group:${s.name}` : s.name) : undefined,
        target: formatTarget(target),
        expiresAt: expires && !Number.isNaN(expires.getTime()) ? expires : undefined,
      });
    }
    return out;
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof KubernetesApiError && error.status === 404;
}

function statusReason(error: ApiException<unknown>): string | undefined {
  try {
    const body: unknown = typeof error.body === "string" ? JSON.parse(error.body) : error.body;
    const reason = typeof body === "object" && body !== null && "reason" in body ? body.reason : undefined;
    return typeof reason === "string" && /^[A-Za-z]{1,40}$/.test(reason) ? reason : undefined;
  } catch {
    return undefined;
  }
}

function isManaged(b: Binding): boolean {
  return b.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;
}

function matches(b: Binding, target: KubernetesTarget, subject: KubernetesSubject): boolean {
  const ref = b.roleRef;
  if (ref.apiGroup !== RBAC_GROUP || ref.kind !== target.kind || ref.name !== target.name) return false;
  return (b.subjects ?? []).some((s) => s.kind === subject.kind && s.name === subject.name && (s.apiGroup ?? RBAC_GROUP) === RBAC_GROUP);
}

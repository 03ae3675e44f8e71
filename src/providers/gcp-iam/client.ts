/**
 * A small client for the Resource Manager v3 IAM methods (`getIamPolicy`, `setIamPolicy`) with a
 * service-account key: an OAuth 2.0 JWT-bearer token (RFC 7523, signed RS256 with the key's
 * `private_key`, posted to the key's `token_uri`) and plain fetch. Every request has a deadline
 * (the provider call's, capped by the per-request timeout). Errors are summarised by status and
 * Google's error `status` word only: neither the key, the token nor response bodies reach a message.
 */
import { createSign } from "node:crypto";
import { currentDeadline, remainingMs, throwIfPastDeadline } from "../deadline.js";
import { ProviderError } from "../types.js";

export const DEFAULT_ENDPOINT = "https://cloudresourcemanager.googleapis.com";
const SCOPE = "https://www.googleapis.com/auth/cloud-platform";

export interface ServiceAccountKey {
  clientEmail: string;
  privateKey: string;
  tokenUri: string;
}

interface IamExpr {
  expression: string;
  title?: string;
  description?: string;
  location?: string;
}

export interface IamBinding {
  role: string;
  members?: string[];
  condition?: IamExpr;
}

export interface IamPolicy {
  version?: number;
  bindings?: IamBinding[];
  auditConfigs?: unknown[];
  etag?: string;
}

/** Parses the key JSON; the message never quotes it. */
export function parseServiceAccountKey(json: string | undefined, envName: string): ServiceAccountKey {
  const bad = () =>
    new ProviderError(`gcp-iam: the environment variable ${envName} does not hold a service-account key (JSON with client_email and private_key)`, false);
  if (!json) throw new ProviderError(`gcp-iam: the environment variable ${envName} is not set (it must hold the service-account key JSON)`, false);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw bad();
  }
  if (typeof parsed !== "object" || parsed === null) throw bad();
  const k = parsed as Record<string, unknown>;
  if (typeof k.client_email !== "string" || typeof k.private_key !== "string") throw bad();
  const tokenUri = typeof k.token_uri === "string" && /^https?:\/\//.test(k.token_uri) ? k.token_uri : "https://oauth2.googleapis.com/token";
  return { clientEmail: k.client_email, privateKey: k.private_key, tokenUri };
}

/** Google's error body: `{ error: { code, status, message } }`; only `status` (a fixed word) is kept. */
export class IamHttpError extends ProviderError {
  constructor(
    readonly status: number,
    readonly googleStatus: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status}${googleStatus ? ` ${googleStatus}` : ""}`, status === 409 || status === 429 || status >= 500);
    this.name = "ProviderError";
  }
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

export class IamClient {
  private token?: { value: string; until: number };

  constructor(
    private readonly key: () => ServiceAccountKey,
    private readonly endpoint: string,
    private readonly requestTimeoutMs: number,
  ) {}

  /** One request with the call's deadline; network failures become a summary. */
  private async request(url: string, init: RequestInit, what: string): Promise<Response> {
    throwIfPastDeadline();
    const ms = remainingMs(this.requestTimeoutMs);
    try {
      const deadline = currentDeadline()?.signal;
      const timeout = AbortSignal.timeout(ms);
      return await fetch(url, { ...init, signal: deadline ? AbortSignal.any([timeout, deadline]) : timeout });
    } catch (error) {
      throwIfPastDeadline();
      const name = typeof error === "object" && error !== null ? (error as { name?: unknown }).name : undefined;
      const timedOut = name === "TimeoutError" || name === "AbortError";
      throw new ProviderError(`${what}: ${timedOut ? `no answer within ${Math.round(ms / 100) / 10} s` : "the server could not be reached"}`, true);
    }
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.until > Date.now() + 60_000) return this.token.value;
    const key = this.key();
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT" }));
    const claims = b64url(JSON.stringify({ iss: key.clientEmail, scope: SCOPE, aud: key.tokenUri, iat: now, exp: now + 3600 }));
    let signature: string;
    try {
      signature = createSign("RSA-SHA256").update(`${header}.${claims}`).sign(key.privateKey, "base64url");
    } catch {
      throw new ProviderError("gcp-iam: the service-account key's private_key cannot sign (is it the PEM from the key file?)", false);
    }
    const body = new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: `${header}.${claims}.${signature}` });
    const what = "gcp-iam: getting an access token for the service account";
    const res = await this.request(key.tokenUri, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body }, what);
    const data = (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown };
    if (!res.ok || typeof data.access_token !== "string") throw new ProviderError(`${what}: refused (HTTP ${res.status})`, res.status >= 500);
    const ttl = typeof data.expires_in === "number" ? data.expires_in : 3600;
    this.token = { value: data.access_token, until: Date.now() + ttl * 1000 };
    return data.access_token;
  }

  private async call(resource: string, method: "getIamPolicy" | "setIamPolicy", body: unknown): Promise<IamPolicy> {
    const what = `gcp-iam: ${method} on ${resource}`;
    const token = await this.accessToken();
    const res = await this.request(
      `${this.endpoint}/v3/${resource}:${method}`,
      { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) },
      what,
    );
    const data = (await res.json().catch(() => undefined)) as { error?: { status?: unknown } } | IamPolicy | undefined;
    if (!res.ok) {
      if (res.status === 401) this.token = undefined;
      const status = data && "error" in data && typeof data.error?.status === "string" && /^[A-Z_]{1,40}$/.test(data.error.status) ? data.error.status : "";
      throw new IamHttpError(res.status, status, what);
    }
    if (!data || typeof data !== "object") throw new ProviderError(`${what}: the answer is not a policy`, true);
    return data as IamPolicy;
  }

  /** The policy at version 3 (conditions included). */
  getPolicy(resource: string): Promise<IamPolicy> {
    return this.call(resource, "getIamPolicy", { options: { requestedPolicyVersion: 3 } });
  }

  /** Writes the policy at version 3 with its etag (409 ABORTED when someone else wrote first). */
  setPolicy(resource: string, policy: IamPolicy): Promise<IamPolicy> {
    return this.call(resource, "setIamPolicy", { policy: { ...policy, version: 3 } });
  }
}

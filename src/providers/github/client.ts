/**
 * The GitHub provider's own API client: its own credentials (never the Timebox app's installation
 * token, which keeps app.yml's least privilege), error summaries that carry no secrets, and the
 * retry policy.
 */
import { ProbotOctokit } from "probot";
import { httpStatus } from "../../github/errors.js";
import { currentDeadline, remainingMs } from "../deadline.js";
import { ProviderError } from "../types.js";

/** Settings keys (each names an environment variable, never holds a secret). */
export const SETTINGS_KEYS = ["token_env", "app_id_env", "private_key_env", "installation_id_env", "base_url_env"] as const;

export type GithubOctokit = InstanceType<typeof ProbotOctokit>;

export type GithubCredentials =
  | { kind: "token"; token: string; baseUrl?: string }
  | {
      kind: "app";
      appId: string;
      privateKey: string;
      installationId: number;
      baseUrl?: string;
    };

/** Options for building the client; tests turn Octokit's retry and throttling off. */
export interface GithubClientOptions {
  /** Octokit's retry of 5xx responses (default on, 3 attempts). */
  retry?: boolean;
  /** Octokit's rate-limit throttling (default on). Off also removes the spacing of writes. */
  throttle?: boolean;
  /**
   * Timeout of one API request in ms, retries and rate-limit waits included (default 15 s): a hung
   * GitHub must not stall the reconciler. Within a call bounded by the provider pool's deadline
   * (`currentDeadline`), a request is also aborted at that deadline and none starts after it.
   */
  timeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/** The request timeout for a call deadline of `callMs` (a request fits inside one call). */
export function requestTimeoutWithin(callMs: number | undefined): number {
  return callMs === undefined ? DEFAULT_REQUEST_TIMEOUT_MS : Math.max(1, Math.min(DEFAULT_REQUEST_TIMEOUT_MS, callMs));
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function settingName(resource: string, settings: Record<string, string | number | boolean>, key: string): string | undefined {
  const value = settings[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !ENV_NAME.test(value)) {
    throw new ProviderError(`resource "${resource}": setting \`${key}\` must name an environment variable (e.g. GITHUB_ACCESS_TOKEN)`, false);
  }
  return value;
}

function envValue(resource: string, env: Record<string, string | undefined>, key: string, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") {
    // Names the variable, never a value.
    throw new ProviderError(`resource "${resource}": environment variable ${name} (setting \`${key}\`) is not set`, false);
  }
  return value;
}

/**
 * Resolves the resource's credentials from the environment: `token_env`, or the three
 * `app_id_env` + `private_key_env` + `installation_id_env` of a separate GitHub App installation;
 * optional `base_url_env` (GitHub Enterprise Server, or a local emulated GitHub in tests).
 */
export function resolveCredentials(
  resource: string,
  settings: Record<string, string | number | boolean>,
  env: Record<string, string | undefined>,
): GithubCredentials {
  const unknown = Object.keys(settings).filter((k) => !(SETTINGS_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new ProviderError(
      `resource "${resource}": unknown GitHub provider setting(s) ${unknown.map((k) => `\`${k}\``).join(", ")}; ` + `known: ${SETTINGS_KEYS.join(", ")}`,
      false,
    );
  }
  const tokenEnv = settingName(resource, settings, "token_env");
  const appIdEnv = settingName(resource, settings, "app_id_env");
  const keyEnv = settingName(resource, settings, "private_key_env");
  const installationEnv = settingName(resource, settings, "installation_id_env");
  const baseUrlEnv = settingName(resource, settings, "base_url_env");

  let baseUrl: string | undefined;
  if (baseUrlEnv !== undefined) {
    const raw = envValue(resource, env, "base_url_env", baseUrlEnv).trim();
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ProviderError(`resource "${resource}": ${baseUrlEnv} (setting \`base_url_env\`) is not a URL`, false);
    }
    if (!["http:", "https:"].includes(url.protocol) || url.username || url.password) {
      throw new ProviderError(
        `resource "${resource}": ${baseUrlEnv} (setting \`base_url_env\`) must be an http(s) URL without credentials, ` +
          "e.g. https://github.example.com/api/v3",
        false,
      );
    }
    baseUrl = raw.replace(/\/+$/, "");
  }

  const appKeys = [appIdEnv, keyEnv, installationEnv];
  const anyApp = appKeys.some((k) => k !== undefined);
  if (tokenEnv !== undefined && anyApp) {
    throw new ProviderError(
      `resource "${resource}": set either \`token_env\` or the GitHub App settings ` + "(`app_id_env`, `private_key_env`, `installation_id_env`), not both",
      false,
    );
  }
  if (tokenEnv !== undefined) {
    const token = envValue(resource, env, "token_env", tokenEnv).trim();
    return { kind: "token", token, ...(baseUrl ? { baseUrl } : {}) };
  }
  if (!anyApp) {
    throw new ProviderError(
      `resource "${resource}": the GitHub provider needs its own credentials: set \`token_env\` ` +
        "or `app_id_env` + `private_key_env` + `installation_id_env`",
      false,
    );
  }
  const missing = (["app_id_env", "private_key_env", "installation_id_env"] as const).filter((_, i) => appKeys[i] === undefined);
  if (missing.length > 0) {
    throw new ProviderError(`resource "${resource}": GitHub App credentials also need ${missing.map((k) => `\`${k}\``).join(", ")}`, false);
  }
  const appId = envValue(resource, env, "app_id_env", appIdEnv!).trim();
  // Keys stored on one line with literal "\n" (common in .env files) are accepted.
  const privateKey = envValue(resource, env, "private_key_env", keyEnv!).replace(/\\n/g, "\n");
  const installationRaw = envValue(resource, env, "installation_id_env", installationEnv!).trim();
  const installationId = Number(installationRaw);
  if (!/^\d+$/.test(installationRaw) || !Number.isSafeInteger(installationId)) {
    throw new ProviderError(`resource "${resource}": ${installationEnv} (setting \`installation_id_env\`) must be a numeric installation id`, false);
  }
  if (!/^\d+$/.test(appId)) {
    throw new ProviderError(`resource "${resource}": ${appIdEnv} (setting \`app_id_env\`) must be a numeric GitHub App id`, false);
  }
  return { kind: "app", appId, privateKey, installationId, ...(baseUrl ? { baseUrl } : {}) };
}

/** The secret values of some credentials, to scrub from any text that leaves the provider. */
export function secretsOf(credentials: GithubCredentials): string[] {
  const values = credentials.kind === "token" ? [credentials.token] : [credentials.privateKey];
  return values.filter((v) => v.length >= 4);
}

const quiet = {
  debug: () => {},
  info: () => {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

export function createOctokit(credentials: GithubCredentials, options: GithubClientOptions = {}): GithubOctokit {
  // Probot's Octokit authenticates with `{ token }` or, given `appId` + `privateKey` +
  // `installationId`, as that installation through @octokit/auth-app (which it bundles), so the
  // provider needs no dependency of its own for either.
  const auth =
    credentials.kind === "token"
      ? { token: credentials.token }
      : {
          appId: credentials.appId,
          privateKey: credentials.privateKey,
          installationId: credentials.installationId,
        };
  const octokit = new ProbotOctokit({
    auth,
    log: quiet,
    ...(credentials.baseUrl ? { baseUrl: credentials.baseUrl } : {}),
    retry: { enabled: options.retry ?? true },
    throttle: {
      enabled: options.throttle ?? true,
      // A reconciler must not sit for an hour on a primary rate limit: retry once if the wait is
      // short, else fail with a retryable ProviderError and let the next tick try again.
      onRateLimit: (retryAfter: number, _opts: unknown, _octokit: unknown, retryCount: number) => retryAfter <= 60 && retryCount < 1,
      onSecondaryRateLimit: (retryAfter: number, _opts: unknown, _octokit: unknown, retryCount: number) => retryAfter <= 60 && retryCount < 1,
    },
  });
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Registered last, so this wrap is the outermost: it runs once per `request` (each page of a
  // paginated list), in the caller's async context, around the retry and throttling plugins. The
  // request with its retries and rate-limit waits settles by the request timeout, or by the call's
  // deadline (`currentDeadline`) when that comes first; none starts after the deadline. At the
  // timeout every attempt still to come is cancelled: the signal stays aborted (an attempt fails
  // before sending anything) and no further retry is scheduled. A timeout is retryable.
  octokit.hook.wrap("request", async (request, requestOptions) => {
    const deadline = currentDeadline();
    if (deadline?.signal.aborted) throw deadline.signal.reason;
    const timeout = AbortSignal.timeout(remainingMs(timeoutMs));
    const signal = deadline ? AbortSignal.any([timeout, deadline.signal]) : timeout;
    const settings: { signal: AbortSignal; retries?: number } = { ...requestOptions.request, signal };
    requestOptions.request = settings;
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        settings.retries = 0; // read by the retry plugin when the current attempt fails
        reject(signal.reason);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([request(requestOptions), aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  });
  return octokit;
}

// ---------------------------------------------------------------------------------------------
// Errors

interface HttpishError {
  status?: unknown;
  message?: unknown;
  response?: { headers?: Record<string, unknown>; data?: unknown };
}

function oneLine(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join("[REDACTED]");
  // Anything shaped like a GitHub token, whoever's it is.
  return out.replace(/\b(gh[pousr]_[A-Za-z0-9_]{10,}|github_pat_[A-Za-z0-9_]{10,})\b/g, "[REDACTED]");
}

/** The short reason GitHub gave, without headers, request options or documentation links. */
function reasonOf(error: HttpishError): string {
  const data = error.response?.data;
  if (data && typeof data === "object") {
    const d = data as { message?: unknown; errors?: unknown };
    let reason = typeof d.message === "string" ? d.message : "";
    if (Array.isArray(d.errors) && d.errors.length > 0) {
      const first = d.errors[0] as { message?: unknown; code?: unknown } | string;
      const detail = typeof first === "string" ? first : typeof first?.message === "string" ? first.message : typeof first?.code === "string" ? first.code : "";
      if (detail) reason = reason ? `${reason}: ${detail}` : detail;
    }
    if (reason) return reason;
  }
  if (typeof data === "string" && data.trim() && !data.trim().startsWith("<")) return data;
  // No response (network failure): Octokit's message is the fetch error's, e.g. "connect ECONNREFUSED".
  return typeof error.message === "string" ? error.message : "unknown error";
}

function isRateLimited(error: HttpishError, status: number): boolean {
  if (status === 429) return true;
  if (status !== 403) return false;
  const headers = error.response?.headers ?? {};
  if (String(headers["x-ratelimit-remaining"]) === "0") return true;
  if (headers["retry-after"] !== undefined) return true;
  return /rate limit/i.test(reasonOf(error));
}

/**
 * Wraps any error from a GitHub call into a ProviderError whose message is safe to show on a PR:
 * what Timebox was doing, the HTTP status and GitHub's short reason, with every credential
 * scrubbed. 5xx, network failures and rate limits are retryable; other 4xx are not.
 */
export function toProviderError(what: string, error: unknown, secrets: readonly string[]): ProviderError {
  if (error instanceof ProviderError) {
    return new ProviderError(scrub(error.message, secrets), error.retryable);
  }
  const e = (error ?? {}) as HttpishError;
  const status = httpStatus(error);
  if ((error as { name?: unknown } | null)?.name === "TimeoutError") {
    // The request timeout (see createOctokit): the reason a DOMException carries says no more.
    return new ProviderError(scrub(`GitHub: could not ${what}: network error: timed out`, secrets), true);
  }
  if (status === undefined || status === 0) {
    const msg = typeof e.message === "string" ? e.message : String(error);
    return new ProviderError(scrub(`GitHub: could not ${what}: ${oneLine(msg)}`, secrets), true);
  }
  const hasResponse = e.response !== undefined;
  let reason = oneLine(reasonOf(e));
  if (!hasResponse) {
    // fetch failures: the underlying error (possibly a DOMException from another realm) says more.
    const cause = (error as { cause?: { name?: unknown; message?: unknown } }).cause;
    if (cause?.name === "TimeoutError" || (error as { name?: unknown }).name === "TimeoutError") {
      reason = "timed out";
    } else if (reason === "Unknown Error" && typeof cause?.message === "string" && cause.message) {
      reason = oneLine(cause.message);
    }
  }
  const label = hasResponse ? `${status} ${reason}` : `network error: ${reason}`;
  const rateLimited = isRateLimited(e, status);
  const retryable = !hasResponse || status >= 500 || rateLimited;
  return new ProviderError(scrub(`GitHub: could not ${what}: ${label}${rateLimited ? " (rate limited)" : ""}`, secrets), retryable);
}

/**
 * The webhook provider: grants, revokes, checks and lists access at a receiver Timebox has no
 * provider for, through signed JSON requests (protocol.ts; docs/providers/webhook.md).
 *
 * - 2xx with a valid JSON answer is success; the answer is validated (ajv) and must echo the
 *   request's idempotency key, and a `grant`/`revoke` answer must say it was done.
 * - 4xx (but 408, 425 and 429) is the receiver refusing: a non-retryable ProviderError with the
 *   receiver's reason, scrubbed and truncated, which the lifecycle shows on the PR.
 * - 5xx, 408/425/429, network errors and timeouts are retried within the call (a few attempts,
 *   exponential backoff with jitter, never past the call's deadline), then fail retryably.
 * - Redirects are not followed (the signed request would go elsewhere): a non-retryable error.
 *
 * The provider keeps no state between calls: whether the receiver contradicts itself over time
 * (says granted after confirming a revoke) is what the lifecycle's read-back (`isGranted` after
 * `grant` and `revoke`) catches.
 */
import type { ValidateFunction } from "ajv";
import type { Diagnostic } from "../../diagnostics.js";
import { currentDeadline, remainingMs, throwIfPastDeadline } from "../deadline.js";
import { ProviderError, type ActiveGrant, type GrantResult, type ManagedGrant, type Provider } from "../types.js";
import {
  HEADER_ACTION,
  HEADER_DELIVERY,
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  PROTOCOL_VERSION,
  idempotencyKey,
  newDeliveryId,
  schemaProblem,
  sign,
  validate,
  wireGrant,
  type Action,
  type CheckTargetAnswer,
  type Existence,
  type ListAnswer,
  type WireRequest,
} from "./protocol.js";
import { Scrubber } from "./text.js";

/** How hard to try one call. The defaults hold without the provider pool's deadline too. */
export interface WebhookTiming {
  /** Attempts per call, the first included (default 3). */
  attempts: number;
  /** One attempt's timeout (default 10 s), cut to the time left before the call's deadline. */
  requestMs: number;
  /** Backoff before retry n (n = 1, 2, …): random in [0, min(maxBackoffMs, backoffMs × 2^(n−1))] (default 250 ms). */
  backoffMs: number;
  maxBackoffMs: number;
  /** A `Retry-After` longer than this is not waited for: the call fails retryably instead (default 5 s). */
  maxRetryAfterMs: number;
}

const DEFAULT_TIMING: WebhookTiming = { attempts: 3, requestMs: 10_000, backoffMs: 250, maxBackoffMs: 2_000, maxRetryAfterMs: 5_000 };

/** The timing for a call deadline of `callMs`: one attempt fits inside one call. */
export function timingWithin(callMs: number | undefined): WebhookTiming {
  if (callMs === undefined) return DEFAULT_TIMING;
  return { ...DEFAULT_TIMING, requestMs: Math.max(1, Math.min(DEFAULT_TIMING.requestMs, callMs)) };
}

export interface WebhookProviderConfig {
  /** Policy resource name, used in messages instead of anything from the URL. */
  resource: string;
  /** Names of the env vars (for messages) and their values (may be missing: reported at first use). */
  urlEnv: string;
  url: string | undefined;
  secretEnv: string;
  secret: string | undefined;
  timing?: Partial<WebhookTiming>;
}

/** Answers larger than this are refused unread: a list of every managed grant may be long, nothing else is. */
const MAX_ANSWER_BYTES = { list: 16 * 1024 * 1024, other: 64 * 1024 } as const;
/** The shortest signing secret accepted (characters), e.g. `openssl rand -hex 32` gives 64. */
const MIN_SECRET_LENGTH = 32;
const RETRYABLE_4XX = new Set([408, 425, 429]);
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Why one attempt failed, and whether another attempt may help. */
interface AttemptFailure {
  retryable: boolean;
  /** Short, safe description, e.g. "HTTP 503", "no answer within 10 s". */
  why: string;
  /** The receiver's refusal text (4xx), cleaned. */
  reason?: string;
  /** From `Retry-After`, in ms. */
  retryAfterMs?: number;
  /** An error to throw at once, without another attempt. */
  final?: ProviderError;
}

type Answer<A extends Action> = A extends "grant"
  ? { summary?: string }
  : A extends "revoke"
    ? object
    : A extends "check"
      ? { granted: boolean }
      : A extends "list"
        ? ListAnswer
        : CheckTargetAnswer;

export class WebhookProvider implements Provider {
  readonly id = "webhook";
  readonly timing: WebhookTiming;
  private readonly scrubber: Scrubber;

  constructor(private readonly config: WebhookProviderConfig) {
    this.timing = { ...DEFAULT_TIMING, ...config.timing };
    this.scrubber = new Scrubber([config.secret, config.url]);
  }

  /**
   * A dedicated `check_target` action (not `check` without a grant): the receiver says whether the
   * target, and the principal when given, exist; its message (cleaned) goes into the diagnostic.
   */
  async checkTarget(target: string, principal?: string): Promise<Diagnostic[]> {
    const answer = await this.call("check_target", `check target ${target}`, { target, ...(principal !== undefined ? { principal } : {}) });
    if (principal !== undefined && !answer.principal) {
      throw this.invalid("check target", "it says nothing about the principal it was asked about");
    }
    const out: Diagnostic[] = [];
    const note = (e: Existence) => (e.message ? ` The receiver says: ${this.scrubber.clean(e.message)}` : "");
    if (!answer.target.exists) {
      out.push(
        diag(
          "provider.target",
          `The ${this.config.resource} webhook receiver does not know the target \`${target}\`; fix the role's target or the receiver.${note(answer.target)}`,
        ),
      );
    }
    if (principal !== undefined && answer.principal && !answer.principal.exists) {
      out.push(
        diag(
          "provider.principal",
          `The ${this.config.resource} webhook receiver does not know the principal \`${principal}\`; fix the identities mapping (\`identities.<login>.webhook\`) or the receiver.${note(answer.principal)}`,
        ),
      );
    }
    return out;
  }

  async grant(g: ActiveGrant): Promise<GrantResult> {
    const answer = await this.call("grant", `grant ${g.id}`, { grant: g });
    const said = answer.summary ? this.scrubber.clean(answer.summary) : "";
    return {
      summary: said
        ? `${this.config.resource} webhook: ${said}`
        : `\`${g.target}\` for \`${g.principal}\` confirmed by the ${this.config.resource} webhook receiver`,
    };
  }

  async revoke(g: ActiveGrant): Promise<void> {
    await this.call("revoke", `revoke ${g.id}`, { grant: g });
  }

  async isGranted(g: ActiveGrant): Promise<boolean> {
    return (await this.call("check", `check grant ${g.id}`, { grant: g })).granted;
  }

  async listManaged(): Promise<ManagedGrant[]> {
    const answer = await this.call("list", "list managed access", {});
    const seen = new Set<string>();
    return answer.grants.map((m) => {
      // Two entries for one grant is a receiver that cannot be trusted to know what it holds.
      if (seen.has(m.short_id)) throw this.invalid("list managed access", `it lists the grant ${m.short_id} twice`);
      seen.add(m.short_id);
      const expires = m.expires_at !== undefined ? new Date(m.expires_at) : undefined;
      return {
        handle: `webhook:${m.short_id}`,
        grantId: m.id,
        shortId: m.short_id,
        repo: m.repo,
        principal: m.principal,
        target: m.target,
        ...(expires && !Number.isNaN(expires.getTime()) ? { expiresAt: expires } : {}),
      };
    });
  }

  // -------------------------------------------------------------------------------------------

  /** The URL and secret, checked; misconfiguration is permanent (fix the environment). */
  private endpoint(): { url: URL; secret: string } {
    const { url, urlEnv, secret, secretEnv, resource } = this.config;
    const bad = (msg: string) => new ProviderError(`webhook: ${resource}: ${msg}`, false);
    if (!url) throw bad(`environment variable ${urlEnv} (the receiver's URL) is not set`);
    if (!secret) throw bad(`environment variable ${secretEnv} (the signing secret) is not set`);
    if (secret.length < MIN_SECRET_LENGTH)
      throw bad(`the signing secret in ${secretEnv} is shorter than ${MIN_SECRET_LENGTH} characters; generate one with \`openssl rand -hex 32\``);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw bad(`${urlEnv} is not a URL`);
    }
    if (parsed.username || parsed.password) throw bad(`${urlEnv} must not carry credentials (user:password@); the signature authenticates Timebox`);
    if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && LOOPBACK.has(parsed.hostname))) {
      throw bad(`${urlEnv} must be an https:// URL (plain http only to a loopback address): answers are not signed, so only TLS keeps them honest`);
    }
    return { url: parsed, secret };
  }

  private invalid(what: string, problem: string): ProviderError {
    return new ProviderError(`webhook: ${what} on ${this.config.resource}: the receiver's answer is not valid (${this.scrubber.clean(problem)})`, true);
  }

  /** Sends `action`, retrying what may succeed on another attempt; returns the validated answer. */
  private async call<A extends Action>(action: A, what: string, args: { grant?: ActiveGrant; target?: string; principal?: string }): Promise<Answer<A>> {
    const { url, secret } = this.endpoint();
    const key = idempotencyKey(action, args.grant);
    let last: AttemptFailure | undefined;
    let tries = 0;
    while (tries < this.timing.attempts) {
      if (tries > 0) {
        const backoff = Math.random() * Math.min(this.timing.maxBackoffMs, this.timing.backoffMs * 2 ** (tries - 1));
        const wait = Math.max(backoff, last?.retryAfterMs ?? 0);
        // No retry that would start past the deadline: fail now, with the last reason.
        if (wait >= remainingMs(Number.POSITIVE_INFINITY) - 1) break;
        await sleep(wait);
      }
      throwIfPastDeadline();
      tries++;
      const request: WireRequest = {
        version: PROTOCOL_VERSION,
        action,
        delivery_id: newDeliveryId(),
        idempotency_key: key,
        resource: this.config.resource,
        ...(args.grant ? { grant: wireGrant(args.grant) } : {}),
        ...(args.target !== undefined ? { target: args.target } : {}),
        ...(args.principal !== undefined ? { principal: args.principal } : {}),
      };
      const result = await this.attempt(url, secret, request, what);
      if ("answer" in result) return this.check(action, what, key, result.answer);
      if (result.failure.final) throw result.failure.final;
      last = result.failure;
      if (!last.retryable) break;
      if (last.retryAfterMs !== undefined && last.retryAfterMs > this.timing.maxRetryAfterMs) break;
    }
    if (last && !last.retryable) {
      const reason = last.reason ? `: ${last.reason}` : "";
      throw new ProviderError(`webhook: ${what} on ${this.config.resource} was refused by the receiver (${last.why})${reason}`, false);
    }
    const why = last ? last.why : "no attempt fitted before the deadline";
    throw new ProviderError(`webhook: ${what} on ${this.config.resource} failed after ${tries} attempt${tries === 1 ? "" : "s"} (${why})`, true);
  }

  /** One signed POST. Never throws but for the call's deadline; a failure says whether to retry. */
  private async attempt(url: URL, secret: string, request: WireRequest, what: string): Promise<{ answer: unknown } | { failure: AttemptFailure }> {
    const body = JSON.stringify(request);
    const timestamp = Math.floor(Date.now() / 1000);
    const timeoutMs = remainingMs(this.timing.requestMs);
    const deadline = currentDeadline();
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = deadline ? AbortSignal.any([deadline.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        body,
        redirect: "manual",
        signal,
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          "user-agent": `timebox-webhook/${PROTOCOL_VERSION}`,
          [HEADER_ACTION]: request.action,
          [HEADER_DELIVERY]: request.delivery_id,
          [HEADER_TIMESTAMP]: String(timestamp),
          [HEADER_SIGNATURE]: sign(secret, timestamp, body),
        },
      });
    } catch (err) {
      if (deadline?.signal.aborted) throw deadline.signal.reason;
      return { failure: { retryable: true, why: timeout.aborted ? `no answer within ${seconds(timeoutMs)} s` : networkWhy(err) } };
    }
    const status = response.status;
    if (status >= 300 && status < 400) {
      await response.body?.cancel().catch(() => undefined);
      const final = new ProviderError(
        `webhook: ${what} on ${this.config.resource}: the receiver redirected (HTTP ${status}); set ${this.config.urlEnv} to the final URL (redirects are not followed)`,
        false,
      );
      return { failure: { retryable: false, why: `HTTP ${status}`, final } };
    }
    const limit = request.action === "list" ? MAX_ANSWER_BYTES.list : MAX_ANSWER_BYTES.other;
    const ok = status >= 200 && status < 300;
    let text: string;
    try {
      // An answer is refused when too large; a refusal's text is only cut (the first bytes say why).
      text = await readLimited(response, limit, !ok);
    } catch (err) {
      if (deadline?.signal.aborted) throw deadline.signal.reason;
      if (err instanceof TooLarge) return { failure: { retryable: true, why: `HTTP ${status} with an answer over ${limit} bytes` } };
      return { failure: { retryable: true, why: timeout.aborted ? `no complete answer within ${seconds(timeoutMs)} s` : networkWhy(err) } };
    }
    if (ok) {
      try {
        return { answer: JSON.parse(text) as unknown };
      } catch {
        // The receiver answered: whatever it did stands, so this is not retried within the call.
        return { failure: { retryable: true, why: `HTTP ${status} but the answer is not JSON`, final: this.invalid(what, "not JSON") } };
      }
    }
    if (status >= 400 && status < 500 && !RETRYABLE_4XX.has(status)) {
      return { failure: { retryable: false, why: `HTTP ${status}`, reason: this.refusalText(text) } };
    }
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
    return { failure: { retryable: true, why: `HTTP ${status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) } };
  }

  /** The receiver's reason: `{"error": "…"}`'s text, else the body's text; cleaned either way. */
  private refusalText(text: string): string | undefined {
    let said = text;
    try {
      const parsed: unknown = JSON.parse(text);
      if (validate.error(parsed)) said = parsed.error;
    } catch {
      // plain text (or HTML from a proxy): cleaned below
    }
    return this.scrubber.clean(said) || undefined;
  }

  /** The answer's shape for `action`, the echoed key, and what the action must have done. */
  private check<A extends Action>(action: A, what: string, key: string, answer: unknown): Answer<A> {
    const validator = validate[action] as ValidateFunction;
    if (!validator(answer)) throw this.invalid(what, schemaProblem(validator.errors));
    if ((answer as { idempotency_key: string }).idempotency_key !== key) {
      throw this.invalid(what, "it answers another request (idempotency_key does not match)");
    }
    return answer as Answer<A>;
  }
}

class TooLarge extends Error {}

/** The body as text, refusing more than `limit` bytes, or with `cut` keeping the first `limit` (the rest is not read). */
async function readLimited(response: Response, limit: number, cut = false): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (!cut && Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new TooLarge();
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      if (!cut) throw new TooLarge();
      chunks.push(value.subarray(0, value.byteLength - (size - limit)));
      break;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Seconds (`120`) or an HTTP date; undefined when absent or unreadable. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d{1,6}$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** A network failure as a code (ECONNREFUSED, …): undici puts it on `cause`. Never the message (it may hold the URL). */
function networkWhy(err: unknown): string {
  const code = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof code === "string" && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? `network error ${code}` : "network error";
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return Number.isInteger(s) ? `${s}` : s.toFixed(s < 1 ? 2 : 1).replace(/0+$/, "");
}

function sleep(ms: number): Promise<void> {
  const signal = currentDeadline()?.signal;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function diag(rule: string, message: string): Diagnostic {
  return { path: "", line: 1, column: 1, message, rule, severity: "error" };
}

/**
 * The webhook provider's wire protocol (docs/providers/webhook.md is its reference): what Timebox
 * sends, how it is signed, and the exact shape each answer must have. Every answer is validated
 * with ajv before any field of it is used.
 *
 * Signing: `X-Timebox-Signature-256: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`,
 * where `<timestamp>` is the `X-Timebox-Timestamp` header (Unix seconds) and `<body>` the exact
 * bytes of the request body. The receiver recomputes it, compares in constant time and rejects
 * timestamps outside its tolerance (the example: 5 minutes) and delivery ids it has already seen.
 */
import { createHash, createHmac, randomUUID } from "node:crypto";
import { Ajv } from "ajv";
import type { ActiveGrant } from "../types.js";

export const PROTOCOL_VERSION = 1;

export const HEADER_SIGNATURE = "X-Timebox-Signature-256";
export const HEADER_TIMESTAMP = "X-Timebox-Timestamp";
export const HEADER_DELIVERY = "X-Timebox-Delivery";
export const HEADER_ACTION = "X-Timebox-Action";

export type Action = "grant" | "revoke" | "check" | "list" | "check_target";

/** The grant as sent: the lifecycle's ActiveGrant minus anything that is not the receiver's business (no prior access). */
export interface WireGrant {
  id: string;
  short_id: string;
  repo: string;
  pull_request: number;
  requester: string;
  principal: string;
  resource: string;
  role: string;
  target: string;
  role_settings: Record<string, string | number | boolean>;
  granted_at: string;
  expires_at: string;
}

export interface WireRequest {
  version: typeof PROTOCOL_VERSION;
  action: Action;
  /** Unique per HTTP request (each retry gets its own): receivers refuse one they have seen. */
  delivery_id: string;
  /** The same for every request asking for the same change (see `idempotencyKey`). */
  idempotency_key: string;
  /** The policy resource this provider serves (one receiver may serve several). */
  resource: string;
  grant?: WireGrant;
  /** `check_target` only. */
  target?: string;
  principal?: string;
}

/** Built field by field from an allow-list: `priorAccess` and anything added to ActiveGrant later stay out. */
export function wireGrant(g: ActiveGrant): WireGrant {
  return {
    id: g.id,
    short_id: g.shortId,
    repo: g.repo,
    pull_request: g.pullRequest,
    requester: g.requester,
    principal: g.principal,
    resource: g.resource,
    role: g.role,
    target: g.target,
    role_settings: { ...g.roleSettings },
    granted_at: g.grantedAt.toISOString(),
    expires_at: g.expiresAt.toISOString(),
  };
}

/**
 * `grant` and `revoke`: the same key for the same change of the same grant version (the same
 * grant, principal, target and validity), whichever replica sends it and however often it is
 * retried; an extension (a new expiry) is a new key. Reads (`check`, `list`, `check_target`)
 * change nothing: each gets a fresh key.
 */
export function idempotencyKey(action: Action, g?: ActiveGrant): string {
  if ((action !== "grant" && action !== "revoke") || !g) return `${action}-${randomUUID()}`;
  const version = JSON.stringify([action, g.repo, g.id, g.shortId, g.principal, g.target, g.grantedAt.toISOString(), g.expiresAt.toISOString()]);
  return `${action}-${createHash("sha256").update(version).digest("hex").slice(0, 32)}`;
}

export function newDeliveryId(): string {
  return randomUUID();
}

/** The signature header's value for `body` sent at `timestamp` (Unix seconds). */
export function sign(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

// ---------------------------------------------------------------------------------------------
// Answers. Extra properties are allowed (and ignored), so receivers can add their own.

/** Text a receiver may write: one line, bounded; shown only after `cleanText`. */
const TEXT = { type: "string", maxLength: 2000 } as const;
/** Identifiers that end up in issues and comments: no control characters, backticks or angle brackets. */
const IDENT = { type: "string", minLength: 1, maxLength: 1000, pattern: "^[^\\u0000-\\u001f\\u007f`<>]+$" } as const;
const KEY = { type: "string", minLength: 1, maxLength: 200 } as const;

export interface GrantAnswer {
  idempotency_key: string;
  granted: true;
  summary?: string;
}
export interface RevokeAnswer {
  idempotency_key: string;
  revoked: true;
}
export interface CheckAnswer {
  idempotency_key: string;
  granted: boolean;
}
interface ListedGrant {
  id: string;
  short_id: string;
  repo: string;
  principal: string;
  target: string;
  expires_at?: string;
}
export interface ListAnswer {
  idempotency_key: string;
  grants: ListedGrant[];
}
export interface Existence {
  exists: boolean;
  message?: string;
}
export interface CheckTargetAnswer {
  idempotency_key: string;
  target: Existence;
  principal?: Existence;
}
export interface ErrorAnswer {
  error: string;
}

const EXISTENCE = { type: "object", required: ["exists"], properties: { exists: { type: "boolean" }, message: TEXT } } as const;

/** At most this many grants in one `list` answer. */
const MAX_LISTED = 100_000;

const ajv = new Ajv({ allErrors: false, validateFormats: false });

export const validate = {
  grant: ajv.compile<GrantAnswer>({
    type: "object",
    required: ["idempotency_key", "granted"],
    properties: { idempotency_key: KEY, granted: { const: true }, summary: TEXT },
  }),
  revoke: ajv.compile<RevokeAnswer>({
    type: "object",
    required: ["idempotency_key", "revoked"],
    properties: { idempotency_key: KEY, revoked: { const: true } },
  }),
  check: ajv.compile<CheckAnswer>({
    type: "object",
    required: ["idempotency_key", "granted"],
    properties: { idempotency_key: KEY, granted: { type: "boolean" } },
  }),
  list: ajv.compile<ListAnswer>({
    type: "object",
    required: ["idempotency_key", "grants"],
    properties: {
      idempotency_key: KEY,
      grants: {
        type: "array",
        maxItems: MAX_LISTED,
        items: {
          type: "object",
          required: ["id", "short_id", "repo", "principal", "target"],
          properties: {
            id: IDENT,
            short_id: { type: "string", pattern: "^[0-9a-z]{1,40}$" },
            repo: { type: "string", maxLength: 200, pattern: "^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$" },
            principal: IDENT,
            target: IDENT,
            expires_at: { type: "string", maxLength: 40 },
          },
        },
      },
    },
  }),
  check_target: ajv.compile<CheckTargetAnswer>({
    type: "object",
    required: ["idempotency_key", "target"],
    properties: { idempotency_key: KEY, target: EXISTENCE, principal: EXISTENCE },
  }),
  error: ajv.compile<ErrorAnswer>({ type: "object", required: ["error"], properties: { error: TEXT } }),
};

/** Why an answer failed its schema, in a few words (ajv's first error: where and what). */
export function schemaProblem(errors: ReadonlyArray<{ instancePath: string; message?: string }> | null | undefined): string {
  const e = errors?.[0];
  if (!e) return "it does not match the protocol";
  return `${e.instancePath ? `${e.instancePath.slice(1).replace(/\//g, ".")} ` : ""}${e.message ?? "is invalid"}`.slice(0, 120);
}

/**
 * Turning pg errors into ProviderErrors that are safe to put on a PR (design rule 9): the message
 * is rebuilt from the error's code and, for server-side SQL errors, the server's one-line message;
 * the connection URL and password are never included, and as a second lock every known secret is
 * scrubbed from the final text. The original error is deliberately not attached as `cause`, so a
 * logger that serialises causes cannot dump it either.
 */
import { ProviderError } from "../types.js";
import { UrlRedactor } from "../redact.js";

interface PgLikeError {
  code?: unknown;
  message?: unknown;
}

/** SQLSTATEs that mean "we could not get a working session", with a human summary. */
const CONNECT_STATES: Record<string, string> = {
  "28P01": "authentication failed",
  "28000": "authorization rejected",
  "3D000": "database does not exist",
  "53300": "too many connections",
  "57P03": "server is starting up or shutting down",
};

/** SQLSTATE classes worth retrying: connection, resources, operator intervention, lock timeouts. */
const RETRYABLE_CLASSES = ["08", "53", "57", "55", "40"];

const isSqlState = (code: unknown): code is string => typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
const isSysCode = (code: unknown): code is string => typeof code === "string" && /^E[A-Z0-9_]+$/.test(code);

export class Redactor extends UrlRedactor {
  /**
   * A failure to obtain a connection. Only codes go into the message, never pg's own text.
   * `timeoutMs`: the connect timeout, named when that is what ended the attempt.
   */
  connectError(resource: string, err: unknown, timeoutMs?: number): ProviderError {
    const code = (err as PgLikeError | undefined)?.code;
    const why = isSqlState(code) ? (CONNECT_STATES[code] ?? `SQLSTATE ${code}`) : isSysCode(code) ? code : isTimeout(err) ? noAnswer(timeoutMs) : "no detail";
    return new ProviderError(this.scrub(`postgres: connection to ${resource} failed (${why})`), true);
  }

  /** A failure while running `action` (e.g. "grant grants/x.yaml"); `timeoutMs`: the query timeout. */
  queryError(resource: string, action: string, err: unknown, timeoutMs?: number): ProviderError {
    const e = err as PgLikeError | undefined;
    const code = e?.code;
    if (!isSqlState(code) || code.startsWith("08") || code in CONNECT_STATES) {
      // No SQLSTATE, or a connection-class one: the session broke mid-way. Summarise like a connect error.
      const why = isSqlState(code)
        ? (CONNECT_STATES[code] ?? `SQLSTATE ${code}`)
        : isSysCode(code)
          ? code
          : isTimeout(err)
            ? noAnswer(timeoutMs)
            : "connection lost";
      return new ProviderError(this.scrub(`postgres: ${action} on ${resource} failed (${why})`), true);
    }
    // A server-side SQL error: its message names roles and privileges, which is what a human needs.
    const text = typeof e?.message === "string" ? firstLine(e.message) : "error";
    const retryable = RETRYABLE_CLASSES.includes(code.slice(0, 2));
    return new ProviderError(this.scrub(`postgres: ${action} on ${resource} failed: ${text} (${code})`), retryable);
  }
}

/**
 * pg's client-side timeouts carry no code: "Query read timeout", "timeout exceeded when trying to
 * connect" (waiting for a pooled connection), "Connection terminated due to connection timeout".
 */
function isTimeout(err: unknown): boolean {
  const message = (err as PgLikeError | undefined)?.message;
  return typeof message === "string" && /timeout/i.test(message);
}

function noAnswer(timeoutMs: number | undefined): string {
  return timeoutMs === undefined ? "no answer in time" : `no answer within ${timeoutMs / 1000} s`;
}

function firstLine(s: string): string {
  const line = s.split("\n")[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

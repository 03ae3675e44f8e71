/**
 * Turning mysql2 errors into ProviderErrors that are safe to put on a PR (design rule 9), as the
 * PostgreSQL provider does: the message is rebuilt from the error's code and, for server-side SQL
 * errors, the server's one-line message; the connection URL and password are never included, and
 * as a second lock every known secret is scrubbed from the final text. The original error is not
 * attached as `cause`, so a logger that serialises causes cannot dump it either.
 */
import { ProviderError } from "../types.js";
import { UrlRedactor } from "../redact.js";

interface MysqlLikeError {
  code?: unknown;
  errno?: unknown;
  sqlState?: unknown;
  sqlMessage?: unknown;
  message?: unknown;
}

/** Server error numbers that mean "we could not get a working session", with a human summary. */
const CONNECT_ERRNOS: Record<number, string> = {
  1045: "authentication failed",
  1044: "access to the database denied",
  1049: "unknown database",
  1040: "too many connections",
  1129: "host blocked after too many connection errors",
  1130: "host not allowed to connect",
  1053: "server is shutting down",
};

/** Server errors worth retrying: lock wait timeout, deadlock, too many connections, shutdown, statement time limit, lock not got. */
const RETRYABLE_ERRNOS = new Set([1205, 1213, 1040, 1053, 1317, 1969, 3024, 2013, 2006]);

/** A server-side SQL error: the server answered, so the connection is healthy. */
export function isSqlError(err: unknown): boolean {
  const e = err as MysqlLikeError | undefined;
  return typeof e?.errno === "number" && typeof e.sqlState === "string" && typeof e.sqlMessage === "string";
}

const isSysCode = (code: unknown): code is string => typeof code === "string" && /^E[A-Z0-9_]+$/.test(code);

export class Redactor extends UrlRedactor {
  /** A failure to obtain a connection. Only codes go into the message, never mysql2's own text. */
  connectError(resource: string, err: unknown, timeoutMs?: number): ProviderError {
    return new ProviderError(this.scrub(`mysql: connection to ${resource} failed (${this.why(err, timeoutMs, "no detail")})`), true);
  }

  /** A failure while running `action` (e.g. "grant grants/x.yaml"); `timeoutMs`: the query timeout. */
  queryError(resource: string, action: string, err: unknown, timeoutMs?: number): ProviderError {
    const e = err as MysqlLikeError | undefined;
    if (!isSqlError(err) || (typeof e?.errno === "number" && e.errno in CONNECT_ERRNOS)) {
      return new ProviderError(this.scrub(`mysql: ${action} on ${resource} failed (${this.why(err, timeoutMs, "connection lost")})`), true);
    }
    const errno = e!.errno as number;
    const text = firstLine(e!.sqlMessage as string);
    return new ProviderError(
      this.scrub(`mysql: ${action} on ${resource} failed: ${text} (${errno}, SQLSTATE ${e!.sqlState as string})`),
      RETRYABLE_ERRNOS.has(errno),
    );
  }

  private why(err: unknown, timeoutMs: number | undefined, otherwise: string): string {
    const e = err as MysqlLikeError | undefined;
    if (typeof e?.errno === "number" && e.errno in CONNECT_ERRNOS) return CONNECT_ERRNOS[e.errno]!;
    if (isTimeout(err)) return timeoutMs === undefined ? "no answer in time" : `no answer within ${timeoutMs / 1000} s`;
    if (isSysCode(e?.code)) return e.code;
    if (typeof e?.code === "string" && /^(PROTOCOL|ER)_[A-Z0-9_]+$/.test(e.code)) return e.code;
    return otherwise;
  }
}

/** mysql2's client-side timeouts: ETIMEDOUT on connect, PROTOCOL_SEQUENCE_TIMEOUT on a query; ours say "timeout". */
function isTimeout(err: unknown): boolean {
  const e = err as MysqlLikeError | undefined;
  if (e?.code === "ETIMEDOUT" || e?.code === "PROTOCOL_SEQUENCE_TIMEOUT") return true;
  return typeof e?.message === "string" && /timeout|timed out/i.test(e.message) && !isSqlError(err);
}

function firstLine(s: string): string {
  const line = s.split("\n")[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

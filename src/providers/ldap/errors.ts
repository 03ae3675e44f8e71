/**
 * Turning LDAP client errors into ProviderErrors that are safe to put on a PR (design rule 9).
 * The message is rebuilt from the LDAP result code (or the socket's error code) and a fixed
 * description — never from the client's or the server's text, which can echo a bind DN or
 * diagnostic detail. As a second lock every known secret (password, bind DN, URL) is scrubbed
 * from the final text, and the original error is not attached as `cause`.
 */
import { ProviderError } from "../types.js";

/** LDAP result codes (RFC 4511 §4.1.9) Timebox can meet, with a human summary. */
const RESULT_CODES: Record<number, string> = {
  1: "operations error",
  2: "protocol error",
  3: "time limit exceeded",
  4: "size limit exceeded",
  7: "authentication method not supported",
  8: "stronger authentication required (use ldaps:// or a server that accepts simple binds)",
  11: "administrative limit exceeded",
  13: "confidentiality required (use ldaps://)",
  16: "no such attribute",
  17: "undefined attribute type",
  18: "inappropriate matching",
  19: "constraint violation",
  20: "attribute value already exists",
  21: "invalid attribute syntax",
  32: "no such object",
  34: "invalid DN syntax",
  48: "inappropriate authentication",
  49: "invalid credentials",
  50: "insufficient access rights",
  51: "server busy",
  52: "server unavailable",
  53: "server unwilling to perform",
  54: "loop detected",
  64: "naming violation",
  65: "object class violation",
  68: "entry already exists",
  80: "other server error",
};

/** Result codes worth retrying: time limits, busy, unavailable, unwilling (AD: often transient), other. */
const RETRYABLE = new Set([1, 3, 11, 51, 52, 53, 80]);

interface LdapLikeError {
  code?: unknown;
  message?: unknown;
}

/** The LDAP result code of a client error, if it carries one. */
export function resultCode(err: unknown): number | undefined {
  const code = (err as LdapLikeError | undefined)?.code;
  return typeof code === "number" && Number.isInteger(code) ? code : undefined;
}

const isSysCode = (code: unknown): code is string => typeof code === "string" && /^E[A-Z0-9_]+$/.test(code);

export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: ReadonlyArray<string | undefined>) {
    const all = secrets.filter((s): s is string => typeof s === "string" && s.length >= 3);
    // Also the URL-encoded forms, as a URL or a DN may carry them.
    const encoded = all.map((s) => encodeURIComponent(s)).filter((s) => !all.includes(s));
    this.secrets = [...new Set([...all, ...encoded])].sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join("***");
    return out;
  }

  /**
   * A failure of `action` (e.g. "grant grants/x.yaml") on `resource`. `timeoutMs`: the operation
   * timeout, named when that is what ended it.
   */
  error(resource: string, action: string, err: unknown, timeoutMs?: number): ProviderError {
    if (err instanceof ProviderError) return new ProviderError(this.scrub(err.message), err.retryable);
    const code = resultCode(err);
    if (code !== undefined) {
      const what = RESULT_CODES[code] ?? "error";
      const hint =
        code === 49
          ? ": check the bind DN and password the resource's settings name"
          : code === 50
            ? ": see docs/providers/ldap.md for the access Timebox's account needs"
            : "";
      return new ProviderError(this.scrub(`ldap: ${action} on ${resource} failed (${what}, LDAP result ${code})${hint}`), RETRYABLE.has(code));
    }
    const sys = (err as LdapLikeError | undefined)?.code;
    const message = (err as LdapLikeError | undefined)?.message;
    const why = isSysCode(sys)
      ? sys
      : typeof message === "string" && /timed? ?out/i.test(message)
        ? timeoutMs === undefined
          ? "no answer in time"
          : `no answer within ${timeoutMs / 1000} s`
        : typeof message === "string" && /closed|socket/i.test(message)
          ? "connection lost"
          : "no detail";
    return new ProviderError(this.scrub(`ldap: ${action} on ${resource} failed (${why})`), true);
  }
}

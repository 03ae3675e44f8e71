import { createHmac, timingSafeEqual } from "node:crypto";

/** The header a signed webhook delivery carries: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = "X-Timebox-Signature";

/** Signs a delivery body at a time (seconds since the epoch): the value of {@link SIGNATURE_HEADER}. */
export function signBody(secret: string, body: string, unixSeconds: number): string {
  const t = Math.floor(unixSeconds);
  return `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;
}

/**
 * What a receiver does (docs/notifications.md): recompute the HMAC over `"<t>.<body>"` with the
 * shared secret, compare in constant time, and refuse a timestamp older than `toleranceSeconds`
 * (a replayed delivery). Any `v1` in the header may match (room for rotating secrets).
 */
export function verifySignature(secret: string, body: string, header: string | undefined, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (!header) return false;
  const parts = header.split(",").map((p) => p.trim().split("=", 2) as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(createHmac("sha256", secret).update(`${t}.${body}`).digest("hex"));
  return parts
    .filter(([k, v]) => k === "v1" && v !== undefined)
    .some(([, v]) => {
      const given = Buffer.from(v!);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

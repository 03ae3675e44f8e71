/**
 * Seals on the hidden markers Timebox reads back from its own comments.
 *
 * "Written by this app" is not enough for a comment: anyone with write access to the repository
 * can edit any comment in it, this app's included, and the edited comment keeps this app as its
 * author. So each marker Timebox writes carries an HMAC-SHA256 over the repository, the issue or
 * PR number and the marker's text (its kind and value), keyed by a secret only Timebox holds. A
 * marker whose seal is missing or wrong — hand-written, changed, or copied from another PR or
 * repository — is not read back at all. One place writes seals (`Issues.comment`) and one reads
 * them (`Issues.ownComments`); everything else sees markers exactly as before, without the seal.
 */
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { getPrivateKey } from "@probot/get-private-key";

/** The key that seals markers: derived, never the secret it comes from. */
export type RecordKey = Buffer;

/** A marker that starts a line (see `markersIn`). */
const MARKER_LINE = /^<!-- timebox:[^>\n]*-->/gm;
/**
 * A marker with its seal, another hidden comment right after it on the same line: the marker's own
 * text stays as it was (a reader without seals, or a search for the marker, still finds it).
 */
const SEALED_LINE = /^(<!-- timebox:[^>\n]*-->)<!-- seal ([A-Za-z0-9_-]{43}) -->/gm;

/** Derives the sealing key (HKDF-SHA256) from a secret: the app's private key, or TIMEBOX_RECORD_KEY. */
export function recordKeyFrom(secret: string): RecordKey {
  return Buffer.from(hkdfSync("sha256", Buffer.from(secret.trim(), "utf8"), "timebox", "timebox record markers v1", 32));
}

/**
 * The secret the sealing key comes from: `TIMEBOX_RECORD_KEY` when set (a key of its own, which
 * survives a rotation of the app's private key), else the app's private key exactly as Probot finds
 * it (`PRIVATE_KEY`, plain or base64; the file at `PRIVATE_KEY_PATH`; or the one `*.pem` file in
 * the working directory). Every replica of an app has the same one.
 */
export function recordKeyOf(env: Record<string, string | undefined>, cwd = process.cwd()): RecordKey {
  const own = env.TIMEBOX_RECORD_KEY?.trim();
  if (own) {
    if (own.length < 32) throw new Error("TIMEBOX_RECORD_KEY must be at least 32 characters");
    return recordKeyFrom(own);
  }
  const pem = getPrivateKey({ env, cwd });
  if (!pem?.trim())
    throw new Error(
      "Timebox seals the records it reads back with a key derived from the app's private key (PRIVATE_KEY, PRIVATE_KEY_PATH or a .pem file); set it, or TIMEBOX_RECORD_KEY",
    );
  return recordKeyFrom(pem);
}

/** Where a marker was written: a seal is valid there only. */
export interface SealScope {
  repo: string;
  number: number;
}

function sealOf(key: RecordKey, scope: SealScope, marker: string): string {
  return createHmac("sha256", key).update(`${scope.repo.toLowerCase()}\n${scope.number}\n${marker}`).digest("base64url");
}

/** `body` with a seal on every marker that starts a line. */
export function sealMarkers(key: RecordKey, scope: SealScope, body: string): string {
  return body.replace(MARKER_LINE, (marker) => `${marker}<!-- seal ${sealOf(key, scope, marker)} -->`);
}

/** The markers of `body` that start a line and carry a valid seal for `scope`, without their seals. */
export function sealedMarkers(key: RecordKey, scope: SealScope, body: string): string[] {
  const out: string[] = [];
  for (const [, marker, seal] of body.matchAll(SEALED_LINE)) {
    const want = Buffer.from(sealOf(key, scope, marker));
    const got = Buffer.from(seal);
    if (got.length === want.length && timingSafeEqual(got, want)) out.push(marker);
  }
  return out;
}

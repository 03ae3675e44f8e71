/**
 * Timebox's own commits on the default branch, read from their trailers (the contract in
 * docs/audit.md): removal commits, the empty record of a break-glass grant whose PR was closed
 * unmerged, and the empty record of an outcome.
 */
import { isoSecond } from "../util/clock.js";

/** Trailers by lower-case key; a key given twice keeps every value in order. */
export type TrailerMap = ReadonlyMap<string, readonly string[]>;

export function trailerMap(trailers: ReadonlyArray<readonly [string, string]>): TrailerMap {
  const map = new Map<string, string[]>();
  for (const [key, value] of trailers) {
    const k = key.toLowerCase();
    const values = map.get(k);
    if (values) values.push(value);
    else map.set(k, [value]);
  }
  return map;
}

/** What a Timebox removal or revocation record says about one grant version. */
export interface GrantRecord {
  path: string;
  requester?: string;
  resource?: string;
  role?: string;
  approvedBy: string[];
  pullRequest?: number;
  grantedAt?: string;
  expiresAt?: string;
  revokedAt?: string;
  revokeReason?: string;
  emergency: boolean;
  reviewDue?: string;
  reviewedBy: string[];
  reviewedAt?: string;
  extensionOf?: number;
  extensions?: number;
  /** An extended grant's earlier versions and who approved each (`Earlier-Version: #12 approved-by alice`). */
  earlier: Array<{ pullRequest: number; approvedBy: string[] }>;
  reason?: string;
  ticket?: string;
}

/** An outcome record: the requester's answer, latest wins. */
export interface OutcomeRecord {
  path: string;
  pullRequest: number;
  outcome: string;
  by?: string;
  /** ISO second, when Timebox recorded it. */
  at?: string;
}

/** An outcome is one line of at most 500 characters (the contract); longer text is cut. */
export const MAX_OUTCOME = 500;

const one = (t: TrailerMap, key: string) => t.get(key)?.at(-1) || undefined;
const time = (t: TrailerMap, key: string) => {
  const v = one(t, key);
  const d = v ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? isoSecond(d) : undefined;
};
const logins = (t: TrailerMap, key: string) => [
  ...new Set(
    (t.get(key) ?? [])
      .flatMap((v) => v.split(","))
      .map((s) => s.trim())
      .filter(Boolean),
  ),
];
const prNumber = (v: string | undefined) => {
  const m = /^#?(\d{1,9})$/.exec(v ?? "");
  return m ? Number(m[1]) : undefined;
};

/** Timebox's trailers name the grant they are about; a commit without `Timebox-Grant` is not Timebox's. */
export function grantPaths(t: TrailerMap): readonly string[] {
  return t.get("timebox-grant") ?? [];
}

export function isOutcomeRecord(t: TrailerMap): boolean {
  return t.has("outcome");
}

export function grantRecord(path: string, t: TrailerMap): GrantRecord {
  const extensions = Number(one(t, "extensions"));
  return {
    path,
    requester: one(t, "requested-by"),
    resource: one(t, "resource"),
    role: one(t, "role"),
    approvedBy: logins(t, "approved-by"),
    pullRequest: prNumber(one(t, "pull-request")),
    grantedAt: time(t, "granted-at"),
    expiresAt: time(t, "expires-at"),
    revokedAt: time(t, "revoked-at"),
    revokeReason: one(t, "revoke-reason"),
    emergency: one(t, "emergency")?.toLowerCase() === "true",
    reviewDue: time(t, "review-due"),
    reviewedBy: logins(t, "reviewed-by"),
    reviewedAt: time(t, "reviewed-at"),
    extensionOf: prNumber(one(t, "extension-of")),
    extensions: Number.isInteger(extensions) && extensions >= 0 ? extensions : undefined,
    earlier: (t.get("earlier-version") ?? []).flatMap((v) => {
      const m = /^#(\d{1,9}) approved-by ?(.*)$/.exec(v.trim());
      return m
        ? [
            {
              pullRequest: Number(m[1]),
              approvedBy: [
                ...new Set(
                  m[2]
                    .split(",")
                    .map((s) => s.trim())
                    .filter(Boolean),
                ),
              ],
            },
          ]
        : [];
    }),
    reason: one(t, "reason"),
    ticket: one(t, "ticket"),
  };
}

export function outcomeRecord(t: TrailerMap): OutcomeRecord | undefined {
  const path = grantPaths(t)[0];
  const pullRequest = prNumber(one(t, "pull-request"));
  const outcome = one(t, "outcome");
  if (path === undefined || pullRequest === undefined || outcome === undefined) return undefined;
  return { path, pullRequest, outcome: outcome.slice(0, MAX_OUTCOME), by: one(t, "outcome-by"), at: time(t, "recorded-at") };
}

import type { RevokeReason } from "../records/comments.js";

/** A grant of a PR that Timebox revoked, as its revoke comment's marker says. */
export interface EndedGrant {
  path: string;
  revokedAt: string;
  reason: RevokeReason;
  requester: string;
}

const PREFIX = "<!-- timebox:revoked-at ";

/** The grants a PR's Timebox comments say were revoked (one per path: the latest version). */
export function endedGrants(markers: Iterable<string>): EndedGrant[] {
  const out = new Map<string, EndedGrant>();
  for (const m of markers) {
    if (!m.startsWith(PREFIX)) continue;
    const [key, revokedAt, reason, requester] = m.slice(PREFIX.length, -" -->".length).split(" ");
    const path = key?.slice(0, key.lastIndexOf("@"));
    if (!path || !requester || Number.isNaN(Date.parse(revokedAt))) continue;
    out.set(path, { path, revokedAt, reason: reason as RevokeReason, requester });
  }
  return [...out.values()];
}

/** `/timebox outcome <text>` on a comment's first line: the text (one line, at most 500 characters), or undefined. */
export function parseOutcomeCommand(body: string): { text: string } | { missing: true } | undefined {
  const first = body.replace(/^\s+/, "").split(/\r?\n/)[0].trim();
  const m = /^\/timebox\s+outcome(?:\s+(.*))?$/i.exec(first);
  if (!m) return undefined;
  const text = (m[1] ?? "").replace(/\s+/g, " ").trim().slice(0, 500);
  return text ? { text } : { missing: true };
}

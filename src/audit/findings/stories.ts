import { accessEnd } from "../filter.js";
import type { AuditRow } from "../types.js";

/**
 * A grant's story: its first version and the versions that extended it, in order. Rows are
 * grouped by path and the PR that first requested the grant (`extension_of`, else `pull_request`);
 * a version without either is a story of its own.
 */
export function stories(rows: readonly AuditRow[]): AuditRow[][] {
  const byKey = new Map<string, AuditRow[]>();
  const all: AuditRow[][] = [];
  for (const row of rows) {
    const root = row.extension_of ?? row.pull_request;
    const key = root === null || row.origin === "closed-unmerged" ? undefined : `${row.grant}\0${root}`;
    const existing = key === undefined ? undefined : byKey.get(key);
    if (existing) {
      existing.push(row);
      continue;
    }
    const story = [row];
    all.push(story);
    if (key !== undefined) byKey.set(key, story);
  }
  for (const story of all) story.sort((a, b) => a.extensions - b.extensions);
  return all;
}

/**
 * Whether a version can have given access: Timebox applies only what came through a pull request
 * (or a break-glass PR), so content pushed directly without a Timebox record never did.
 */
export const gaveAccess = (row: AuditRow) => row.origin !== "direct-push" || row.status === "revoked";

/** [start, end) of a row's access in ms; an open end is capped at `now`. */
export function window(row: AuditRow, now: Date): [number, number] {
  return [Date.parse(row.granted_at), Math.min(accessEnd(row), now.getTime())];
}

export const access = (row: AuditRow) => `${row.resource ?? "?"}/${row.role ?? "?"}`;
export const who = (row: AuditRow) => row.requester ?? "an unknown requester";
export const pr = (row: AuditRow) => (row.pull_request === null ? "no PR" : `PR #${row.pull_request}`);

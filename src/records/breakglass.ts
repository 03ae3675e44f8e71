/**
 * What Timebox writes on a break-glass PR, and reads back: the record of an emergency grant
 * (written before anything is granted), the review that came afterwards, and the close of the
 * story. They live in hidden markers of Timebox's own comments, so a stateless app finds them again.
 */
import { Ajv } from "ajv";
import { formatDuration } from "../duration.js";
import type { ActiveGrant } from "../providers/types.js";
import { isoSecond as iso } from "../util/clock.js";
import type { OwnComment } from "../github/types.js";
import { prose, tick } from "../markdown.js";
import { scheduleOf } from "../policy/principals.js";

export const BREAKGLASS_LABEL = "timebox:breakglass";
export const UNREVIEWED_LABEL = "timebox:breakglass-unreviewed";

/** An emergency grant as Timebox applied it: enough to revoke it even if the policy changes. */
export type BreakglassRecord = Pick<ActiveGrant, "requester" | "principal" | "resource" | "role" | "target" | "roleSettings" | "priorAccess"> & {
  path: string;
  duration: string;
  durationMs: number;
  reason: string;
  ticket?: string;
  grantedAt: string;
  expiresAt: string;
  reviewDue: string;
};

export interface ReviewedRecord {
  path: string;
  by: string[];
  at: string;
}

/** JSON inside an HTML comment: `<` and `>` escaped so no value can end the comment early. */
const embed = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e");

const RECORD_PREFIX = "<!-- timebox:breakglass {";
const REVIEWED_PREFIX = "<!-- timebox:breakglass-reviewed {";

export const recordMarker = (r: BreakglassRecord) => `<!-- timebox:breakglass ${embed(r)} -->`;
export const reviewedMarker = (r: ReviewedRecord) => `<!-- timebox:breakglass-reviewed ${embed(r)} -->`;
export const closedMarker = (path: string) => `<!-- timebox:breakglass-closed ${path} -->`;
export const unreviewedMarker = (pr: number, path: string) => `<!-- timebox:breakglass-unreviewed #${pr} ${path} -->`;

/** The JSON object of a marker that starts with `prefix`, unvalidated; undefined when it is not JSON. */
function jsonOf(marker: string, prefix: string): unknown {
  if (!marker.startsWith(prefix)) return undefined;
  try {
    return JSON.parse(marker.slice(prefix.length - 1, -" -->".length)) as unknown;
  } catch {
    return undefined;
  }
}

// Markers are read back from comments: validated before use. Unknown keys are dropped (a newer
// replica may write more); a value of the wrong type or size makes the marker ignored, as malformed JSON is.
const TEXT = { type: "string", minLength: 1, maxLength: 1000 } as const;
const SETTINGS = {
  type: "object",
  maxProperties: 100,
  propertyNames: { maxLength: 200 },
  additionalProperties: { type: ["string", "number", "boolean"], maxLength: 1000 },
} as const;
const ajv = new Ajv({ allErrors: false, validateFormats: false, allowUnionTypes: true, removeAdditional: true });

/** A record as stored: `roleSettings` may be missing from a record an older Timebox wrote. */
type StoredRecord = Omit<BreakglassRecord, "roleSettings"> & { roleSettings?: BreakglassRecord["roleSettings"] };
const validRecord = ajv.compile<StoredRecord>({
  type: "object",
  required: ["path", "requester", "principal", "resource", "role", "target", "duration", "durationMs", "reason", "grantedAt", "expiresAt", "reviewDue"],
  additionalProperties: false,
  properties: {
    path: TEXT,
    requester: TEXT,
    principal: TEXT,
    resource: TEXT,
    role: TEXT,
    target: TEXT,
    duration: TEXT,
    durationMs: { type: "number", exclusiveMinimum: 0 },
    reason: { type: "string", maxLength: 5000 },
    ticket: { type: "string", maxLength: 1000 },
    grantedAt: TEXT,
    expiresAt: TEXT,
    reviewDue: TEXT,
    roleSettings: SETTINGS,
    priorAccess: { type: "object", maxProperties: 100, propertyNames: { maxLength: 200 }, additionalProperties: { type: "string", maxLength: 1000 } },
  },
});
const validReviewed = ajv.compile<ReviewedRecord>({
  type: "object",
  required: ["path", "by", "at"],
  additionalProperties: false,
  properties: {
    path: TEXT,
    by: { type: "array", maxItems: 100, items: { type: "string", maxLength: 200 } },
    at: TEXT,
  },
});

const isTime = (v: string): boolean => !Number.isNaN(Date.parse(v));

/**
 * The break-glass records among this app's comments on a PR, by path; the first one for a path wins
 * (a second replica's duplicate is ignored). Bounded by facts people cannot choose: the grant began
 * no later than GitHub says the record was posted, and ends no later than that plus its duration.
 */
export function recordsOf(comments: readonly OwnComment[]): Map<string, BreakglassRecord> {
  const out = new Map<string, BreakglassRecord>();
  for (const c of comments) {
    for (const m of c.markers) {
      const r = jsonOf(m, RECORD_PREFIX);
      if (!validRecord(r) || out.has(r.path) || ![r.grantedAt, r.expiresAt, r.reviewDue].every(isTime)) continue;
      const posted = Date.parse(c.createdAt);
      const grantedAt = Math.min(Date.parse(r.grantedAt), posted);
      const expiresAt = Math.min(Date.parse(r.expiresAt), posted + r.durationMs);
      out.set(r.path, { ...r, roleSettings: r.roleSettings ?? {}, grantedAt: iso(new Date(grantedAt)), expiresAt: iso(new Date(expiresAt)) });
    }
  }
  return out;
}

export function reviewedOf(comments: readonly OwnComment[]): Map<string, ReviewedRecord> {
  const out = new Map<string, ReviewedRecord>();
  for (const m of comments.flatMap((c) => c.markers)) {
    const r = jsonOf(m, REVIEWED_PREFIX);
    if (validReviewed(r) && isTime(r.at) && !out.has(r.path)) out.set(r.path, { path: r.path, by: r.by, at: r.at });
  }
  return out;
}

/** When the approval by `by` was complete: the latest of their approving reviews (UTC, to the second). */
export function approvedAt(
  reviews: ReadonlyArray<{ state: string; submitted_at?: string | null; user: { login: string } | null }>,
  by: readonly string[],
): string | undefined {
  const mine = new Set(by.map((b) => b.toLowerCase()));
  const times = reviews.filter((r) => r.state === "APPROVED" && r.submitted_at && mine.has(r.user?.login.toLowerCase() ?? "")).map((r) => r.submitted_at!);
  const latest = times.sort().at(-1);
  return latest ? iso(new Date(latest)) : undefined;
}

/** The loud comment that records an emergency grant before it is applied, and calls its approvers. */
export function appliedNotice(r: BreakglassRecord, approvers: readonly string[]): string {
  // An on-call schedule cannot be mentioned: it is named for whoever is on call on it.
  const mentions = approvers.map((a) => (scheduleOf(a) ? `whoever is on call on ${tick(a)}` : `@${a.replace(/^@/, "")}`)).join(" ");
  return [
    recordMarker(r),
    `## 🚨 Break-glass: emergency access applied before review — ${tick(r.path)}`,
    `${tick(r.requester)} gets ${tick(r.role)} on ${tick(r.resource)} **now, without review**, for ${formatDuration(r.durationMs)}: until **${r.expiresAt}**.`,
    "",
    `- **Reason:** ${prose(r.reason)}`,
    ...(r.ticket ? [`- **Ticket:** ${tick(r.ticket)}`] : []),
    `- **Review due by:** ${r.reviewDue}`,
    "",
    `${mentions}: please review this pull request. The normal approval is still required (\`timebox/approval\` stays pending until it arrives); without it by ${r.reviewDue}, Timebox opens a \`${UNREVIEWED_LABEL}\` issue.`,
    "Closing this pull request unmerged revokes the access at once.",
  ].join("\n");
}

export function reviewedNotice(r: ReviewedRecord, record: BreakglassRecord): string {
  const late = Date.parse(r.at) > Date.parse(record.reviewDue);
  return [
    reviewedMarker(r),
    `### ✅ Break-glass reviewed: ${tick(r.path)}`,
    `Approved by ${r.by.map(tick).join(", ")} at ${r.at}${late ? `, **after** the review was due (${record.reviewDue})` : `, within the review window (due ${record.reviewDue})`}.`,
  ].join("\n");
}

export function unreviewedIssue(pr: number, r: BreakglassRecord, now: Date): { marker: string; title: string; body: string } {
  const marker = unreviewedMarker(pr, r.path);
  return {
    marker,
    title: `Break-glass access not reviewed in time: ${r.path} (#${pr})`,
    body: [
      marker,
      `${tick(r.requester)} used break-glass on ${tick(r.resource)}/${tick(r.role)} in #${pr} at ${r.grantedAt} (until ${r.expiresAt}).`,
      `The normal approval was due by ${r.reviewDue} and had not arrived at ${iso(now)}.`,
      "",
      `- **Reason:** ${prose(r.reason)}`,
      ...(r.ticket ? [`- **Ticket:** ${tick(r.ticket)}`] : []),
      "",
      "Review the pull request (approve it if the access was justified); Timebox closes this issue when the approval arrives.",
    ].join("\n"),
  };
}

/** Where the story of a break-glass PR closed unmerged is recorded, with the marker that says it is. */
export function closedNote(path: string, sha: string | undefined): string {
  const where = sha ? `is recorded on the default branch in ${sha}` : "stays on this pull request only: branch rules refused Timebox's commit";
  return `${closedMarker(path)}The pull request closed unmerged; the emergency grant's story ${where}.`;
}

export function closedNotice(note: string): string {
  return [note.match(/^<!-- timebox:[^>]*-->/)?.[0] ?? "", `### 📝 Break-glass recorded`, note.replace(/^<!-- timebox:[^>]*-->/, "")].join("\n");
}

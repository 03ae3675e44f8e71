import { EVENT_NAMES, timeboxEvent, type EventName, type GrantEventData, type TimeboxEvent } from "../events/event.js";
import { isoSecond } from "../util/clock.js";
import type { Finding } from "./findings/index.js";
import { gaveAccess } from "./findings/stories.js";
import type { LookAlike } from "./history.js";
import type { AuditRow } from "./types.js";

/** Where the events come from: the access repository (`owner/repo`) and its GitHub web host. */
export interface EventSource {
  repository: string;
  /** `https://github.com` or a GitHub Enterprise Server's `https://HOST`. */
  host: string;
  /** What "now" is: a break-glass review becomes overdue only once its due time has passed. */
  now: Date;
}

/** What the events are built from: the report's rows and findings (findings name rows by position), and the look-alike commits. */
export interface EventInputs {
  rows: readonly AuditRow[];
  findings: readonly Finding[];
  lookAlikes?: readonly LookAlike[];
}

/** Events whose `time` falls in [since, until). */
export interface EventWindow {
  since?: Date;
  until?: Date;
}

const ORDER = new Map<string, number>(EVENT_NAMES.map((n, i) => [`dev.timebox.${n}`, i]));

/** A time as ISO 8601 UTC to the second, or undefined when it does not parse. */
function when(text: string | null | undefined): string | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : isoSecond(new Date(ms));
}

/** What identifies a version in its grant's history: its pull request, else the second its content arrived. */
const versionKey = (row: AuditRow) => (row.pull_request !== null ? `pr-${row.pull_request}` : `at-${row.granted_at}`);

/** The facts of a version every one of its events carries (fields without a value are left out). */
function rowData(row: AuditRow, source: EventSource): GrantEventData {
  const data: GrantEventData = { repository: source.repository, grant: row.grant };
  if (row.requester !== null) data.requester = row.requester;
  if (row.resource !== null) data.resource = row.resource;
  if (row.role !== null) data.role = row.role;
  if (row.reason !== null) data.reason = row.reason;
  if (row.ticket !== null) data.ticket = row.ticket;
  data.emergency = row.emergency;
  data.origin = row.origin;
  if (row.pull_request !== null) {
    data.pull_request = row.pull_request;
    data.url = `${source.host}/${source.repository}/pull/${row.pull_request}`;
  }
  if (row.extension_of !== null) data.extension_of = row.extension_of;
  if (row.approved_by.length > 0) data.approved_by = [...row.approved_by];
  data.granted_at = row.granted_at;
  if (row.expires_at !== null) data.expires_at = row.expires_at;
  if (row.review_due !== null) data.review_due = row.review_due;
  if (row.reviewed_by.length > 0) data.reviewed_by = [...row.reviewed_by];
  return data;
}

interface Draft {
  name: EventName;
  time: string;
  data: GrantEventData;
  unique: string;
}

/** The state changes of one version, each at the time it happened. */
function rowEvents(row: AuditRow, source: EventSource, unapproved: string | undefined): Draft[] {
  const out: Draft[] = [];
  const key = versionKey(row);
  const add = (name: EventName, time: string | null, extra: Partial<GrantEventData> = {}) => {
    const t = when(time);
    if (t !== undefined) out.push({ name, time: t, data: { ...rowData(row, source), ...extra }, unique: key });
  };
  const actor = (login: string | null | undefined) => (login ? { actor: login } : {});

  add("requested", row.requested_at, actor(row.requester));
  // A break-glass grant's approvals are its review: they are told once, as breakglass.reviewed.
  if (!row.emergency) add("approved", row.approved_at, actor(row.approved_by.at(-1)));
  if (gaveAccess(row)) {
    if (row.extension_of !== null) add("extended", row.granted_at, actor(row.requester));
    else if (row.emergency) add("breakglass.used", row.granted_at, actor(row.requester));
    else add("applied", row.granted_at);
  }
  if (unapproved !== undefined) add("unapproved", row.granted_at, { detail: unapproved });
  if (row.emergency) {
    add("breakglass.reviewed", row.reviewed_at, actor(row.reviewed_by.at(-1)));
    const due = when(row.review_due);
    const late = due !== undefined && (row.reviewed_at === null || (when(row.reviewed_at) ?? "") > due);
    if (late && Date.parse(due) <= source.now.getTime()) add("breakglass.review_overdue", due);
  }
  if (row.status === "revoked" || row.status === "removed" || row.status === "replaced") {
    const reason = row.revoke_reason ?? row.status;
    const by = /^revoked-by:(.+)$/.exec(reason)?.[1];
    add("revoked", row.revoked_at, { detail: reason, ...actor(by) });
  }
  if (row.outcome !== null) add("outcome", row.outcome_at, { outcome: row.outcome, ...actor(row.outcome_by) });
  return out;
}

/** A commit with Timebox's trailers that Timebox did not make: unapproved content, for each grant it names. */
function lookAlikeEvents(l: LookAlike, source: EventSource): Draft[] {
  const by = l.author ? ` by ${l.author}` : "";
  const detail = `commit ${l.sha.slice(0, 12)}${by} carries Timebox's trailers but ${l.reason}: its claims are ignored`;
  const paths = l.paths.length > 0 ? l.paths : [l.row?.grant ?? ""];
  return paths.map((grant) => {
    const data: GrantEventData = l.row?.grant === grant ? rowData(l.row, source) : { repository: source.repository, grant };
    return { name: "unapproved", time: l.at, data: { ...data, commit: l.sha, detail, ...(l.author ? { actor: l.author } : {}) }, unique: `commit-${l.sha}` };
  });
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The audit's rows and findings as Timebox's events: one per state change of each version
 * (requested, approved, applied / extended / breakglass.used, breakglass.reviewed,
 * breakglass.review_overdue, revoked, outcome), one `unapproved` per version the
 * unapproved-content finding names and per grant a look-alike record claims, each at the time it
 * happened. Sorted by time, then lifecycle order, grant and id. Ids depend only on the history, so
 * the same history gives the same ids (a repeated id within one grant and type gets `~2`, `~3`…
 * in that order). Only events whose time falls in `window` are returned. Pure.
 */
export function auditEvents(input: EventInputs, source: EventSource, window: EventWindow = {}): TimeboxEvent[] {
  const unapproved = new Map<AuditRow, string>();
  for (const item of input.findings.find((f) => f.id === "unapproved-content")?.items ?? []) {
    const row = input.rows[(item.grants[0]?.row ?? 0) - 1];
    if (row) unapproved.set(row, item.summary);
  }
  const inReport = new Set(input.rows);
  const drafts = [
    ...input.rows.flatMap((row) => rowEvents(row, source, unapproved.get(row))),
    // As the untrusted-records finding: a look-alike about a version outside the report is left out.
    ...(input.lookAlikes ?? []).filter((l) => !l.row || inReport.has(l.row)).flatMap((l) => lookAlikeEvents(l, source)),
  ];
  const events = drafts.map((d) => timeboxEvent(d.name, d.time, d.data, d.unique, source.host));
  events.sort((a, b) => cmp(a.time, b.time) || ORDER.get(a.type)! - ORDER.get(b.type)! || cmp(a.subject, b.subject) || cmp(a.id, b.id));
  const seen = new Map<string, number>();
  for (const e of events) {
    const n = (seen.get(e.id) ?? 0) + 1;
    seen.set(e.id, n);
    if (n > 1) e.id = `${e.id}~${n}`;
  }
  const since = window.since?.getTime() ?? Number.NEGATIVE_INFINITY;
  const until = window.until?.getTime() ?? Number.POSITIVE_INFINITY;
  return events.filter((e) => {
    const t = Date.parse(e.time);
    return t >= since && t < until;
  });
}

/** Characters JSON leaves raw that some line splitters (JavaScript's, Python's splitlines) still break lines at. */
const LINE_BREAKS = /[\u0085\u2028\u2029]/g;

/** One compact JSON object per line, each line ending in `\n`; nothing else (no colour, no header). */
export function formatJsonl(events: readonly TimeboxEvent[]): string {
  return events.map((e) => `${JSON.stringify(e).replace(LINE_BREAKS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}\n`).join("");
}

import { parseDuration } from "../duration.js";
import { parseYaml } from "../yaml/parse.js";
import type { CommitNote, MainlineCommit, PathChange } from "../git/repository.js";
import { isGrantFilePath } from "../grants/files.js";
import { isoSecond } from "../util/clock.js";
import { grantPaths, grantRecord, isOutcomeRecord, outcomeRecord, trailerMap, type GrantRecord, type OutcomeRecord } from "./records.js";
import { groupBy } from "./group.js";
import { emptyRow, type AuditRow } from "./types.js";
import type { CommitVerdict } from "./trust.js";

/** What the story builder needs besides the first-parent chain. */
export interface HistoryInputs {
  /** The first-parent chain, oldest first, with subjects and trailers. */
  commits: readonly MainlineCommit[];
  /** The policy's grants_path, with a trailing slash. */
  grantsPath: string;
  /** Grant file contents by blob id. */
  blobs: ReadonlyMap<string, Uint8Array>;
  /** For a merge commit that removed grant files: the notes of the commits it merged. */
  mergedNotes: ReadonlyMap<string, readonly CommitNote[]>;
  /**
   * The verdict on each commit that carries Timebox-style trailers: only a commit Timebox made
   * (`timebox: true`) is read as a record. Absent: none is (every trailer is a look-alike's).
   */
  verdicts?: ReadonlyMap<string, CommitVerdict>;
  now: Date;
}

/** A commit that carries Timebox's trailers but that Timebox did not make: none of its claims is used. */
export interface LookAlike {
  sha: string;
  subject: string;
  /** ISO second: the commit's committer date on the first-parent chain (or of the merge that brought it). */
  at: string;
  /** The grants its trailers name. */
  paths: string[];
  author: string;
  /** Why it is not Timebox's. */
  reason: string;
  /** The version it would have spoken for (a removal), if any. */
  row?: AuditRow;
}

/** The rows, the look-alikes, and which of Timebox's commits each row's recorded facts come from. */
export interface History {
  rows: AuditRow[];
  lookAlikes: LookAlike[];
  /** For each row, the Timebox commits whose trailers filled it (removal, revocation, outcome records). */
  records: Map<AuditRow, string[]>;
}

/** Regular files only (100644, 100755): a symlink (120000) or submodule (160000) is never a grant. */
const isRegular = (mode: string) => mode.startsWith("100");

/**
 * Paths of grant files a commit adds, changes or removes, regular files only. A grant file is what
 * src/grants/files.ts says, as everywhere else in Timebox: a dot-file or a path outside the safe set
 * under grants_path was never applied, so it has no story in the audit.
 */
export function grantChanges(commit: MainlineCommit, grantsPath: string): PathChange[] {
  return commit.changes.filter((c) => isGrantFilePath(c.path, grantsPath) && (isRegular(c.oldMode) || isRegular(c.newMode)));
}

interface Open {
  row: AuditRow;
  /** Expiry computed from the file (granted_at + duration), in ms; undefined when the duration is unreadable. */
  expiresMs?: number;
  /** The first row of this grant's story (itself unless this version extends an earlier one). */
  first: AuditRow;
}

/**
 * Rebuilds each grant's story from the default branch's first-parent chain: one row per version
 * of a grant file (added, then extended, replaced, revoked, removed, or still there), one row per
 * break-glass grant whose PR was closed unmerged (Timebox's empty record), and outcomes attached to
 * the version they answer for, with the commits that only look like Timebox's set apart. Pure.
 */
export function buildHistory(input: HistoryInputs): History {
  const lookAlikes: LookAlike[] = [];
  const records = new Map<AuditRow, string[]>();
  const recordOn = (row: AuditRow, sha: string) => records.set(row, [...(records.get(row) ?? []), sha]);
  const isTimebox = (sha: string) => input.verdicts?.get(sha)?.timebox === true;
  /** Rows (or none) each look-alike commit was already listed for: a set, not a scan, so a history of many stays linear. */
  const listed = new Map<string, Set<AuditRow | undefined>>();
  const lookAlike = (note: Pick<CommitNote, "sha" | "subject" | "trailers">, at: Date, row?: AuditRow) => {
    const verdict = input.verdicts?.get(note.sha);
    const rowsOf = listed.get(note.sha) ?? new Set<AuditRow | undefined>();
    if (rowsOf.has(row)) return;
    listed.set(note.sha, rowsOf.add(row));
    lookAlikes.push({
      sha: note.sha,
      subject: note.subject,
      at: isoSecond(at),
      paths: [...new Set(grantPaths(trailerMap(note.trailers)))],
      author: verdict?.author ?? "",
      reason: verdict?.reason || "not verified",
      ...(row ? { row } : {}),
    });
  };
  const open = new Map<string, Open>();
  /** The last finished version of each path, for a later empty record about the same PR. */
  const lastFinished = new Map<string, AuditRow>();
  const rows: AuditRow[] = [];
  const outcomes: Array<OutcomeRecord & { order: number; sha: string }> = [];
  /** Versions that were extended, by path and PR: their approvers come with the final removal record. */
  const extendedVersions = new Map<string, AuditRow>();

  const finish = (path: string, commit: MainlineCommit, why: "replaced" | "extended" | "removed") => {
    const current = open.get(path);
    if (!current) return;
    open.delete(path);
    const row = current.row;
    row.revoked_at = isoSecond(commit.committedAt);
    row.revoke_reason = why;
    row.status = why;
    if (why === "removed") {
      const notes = [commit, ...(input.mergedNotes.get(commit.sha) ?? [])];
      for (const note of notes) if (!isTimebox(note.sha) && grantPaths(trailerMap(note.trailers)).includes(path)) lookAlike(note, commit.committedAt, row);
      const found = removalRecord(
        path,
        notes.filter((n) => isTimebox(n.sha)),
      );
      if (found) {
        const { record, sha } = found;
        recordOn(row, sha);
        applyRecord(row, record, current.first);
        // Who approved the versions this one extended: Git has it only in this record.
        for (const e of record.earlier) {
          const version = extendedVersions.get(`${path}\0${e.pullRequest}`);
          if (version && version.approved_by.length === 0) {
            version.approved_by = e.approvedBy;
            recordOn(version, sha);
          }
        }
      }
    }
    rows.push(row);
    lastFinished.set(path, row);
    if (why === "extended" && row.pull_request !== null) extendedVersions.set(`${path}\0${row.pull_request}`, row);
  };

  input.commits.forEach((commit, order) => {
    const changes = grantChanges(commit, input.grantsPath);
    if (changes.length === 0) {
      const t = trailerMap(commit.trailers);
      if (grantPaths(t).length === 0) return;
      if (!isTimebox(commit.sha)) {
        lookAlike(commit, commit.committedAt);
        return;
      }
      if (isOutcomeRecord(t)) {
        const o = outcomeRecord(t);
        if (o) outcomes.push({ ...o, order, sha: commit.sha });
        return;
      }
      for (const path of new Set(grantPaths(t))) {
        // Timebox records only grant files; a record about any other path has no version to speak for.
        if (!isGrantFilePath(path, input.grantsPath)) continue;
        const record = grantRecord(path, t);
        const earlier = lastFinished.get(path);
        if (earlier && earlier.status === "removed" && record.pullRequest !== undefined && earlier.pull_request === record.pullRequest) {
          applyRecord(earlier, record, earlier); // the revocation of a version a PR removed, recorded afterwards
          recordOn(earlier, commit.sha);
          continue;
        }
        const row = recordedOnly(record, commit);
        recordOn(row, commit.sha);
        rows.push(row);
      }
      return;
    }
    for (const change of changes) {
      const nowRegular = change.status !== "D" && isRegular(change.newMode);
      const previous = open.get(change.path);
      const next = nowRegular ? fromContent(change.path, input.blobs.get(change.newBlob), commit.committedAt) : undefined;
      if (next) next.row.pull_request = pullRequestOf(commit.subject);
      if (previous) {
        const extended = next !== undefined && extends_(previous, next.row, commit.committedAt.getTime());
        finish(change.path, commit, next === undefined ? "removed" : extended ? "extended" : "replaced");
        if (next && extended) {
          next.row.extension_of = previous.row.extension_of ?? previous.row.pull_request;
          next.row.extensions = previous.row.extensions + 1;
          next.first = previous.first;
        }
      }
      if (next) open.set(change.path, next);
    }
  });
  for (const { row, expiresMs } of open.values()) {
    row.status = expiresMs !== undefined && input.now.getTime() >= expiresMs ? "overdue" : "active";
    rows.push(row);
  }
  for (const row of rows) if (row.origin !== "closed-unmerged") row.origin = row.pull_request !== null ? "pull-request" : "direct-push";
  attachOutcomes(rows, outcomes, recordOn);
  return { rows: sortRows(rows), lookAlikes, records };
}

function sortRows(rows: AuditRow[]): AuditRow[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  // Stable: versions that start in the same second at the same path keep history order.
  return rows.sort((a, b) => cmp(a.granted_at, b.granted_at) || cmp(a.grant, b.grant));
}

/**
 * An extension: the new content keeps requester, resource and role, and arrives while the
 * previous version still gives access (before its expiry; an unreadable expiry counts as active).
 */
function extends_(previous: Open, next: AuditRow, at: number): boolean {
  const a = previous.row;
  const same =
    a.requester !== null &&
    a.resource !== null &&
    a.role !== null &&
    a.requester.toLowerCase() === next.requester?.toLowerCase() &&
    a.resource === next.resource &&
    a.role === next.role;
  return same && (previous.expiresMs === undefined || at < previous.expiresMs);
}

function fromContent(path: string, content: Uint8Array | undefined, grantedAt: Date): Open {
  const row = emptyRow(path, isoSecond(grantedAt));
  const parsed = content ? parseYaml(path, content) : undefined;
  const value = parsed?.ok ? parsed.yaml.value : undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { row, first: row };
  const file = value as Record<string, unknown>;
  const text = (key: string) => (typeof file[key] === "string" ? (file[key] as string) : typeof file[key] === "number" ? String(file[key]) : null);
  row.requester = text("requester");
  row.resource = text("resource");
  row.role = text("role");
  row.reason = text("reason");
  row.ticket = text("ticket");
  row.emergency = file.emergency === true;
  const duration = typeof file.duration === "string" ? parseDuration(file.duration) : undefined;
  if (!duration?.ok) return { row, first: row };
  const expiresMs = grantedAt.getTime() + duration.ms;
  row.expires_at = isoSecond(new Date(expiresMs));
  return { row, expiresMs, first: row };
}

/** A PR number from a merge commit's subject (`Merge pull request #12 from …`) or a squash merge's (`… (#12)`). */
export function pullRequestOf(subject: string): number | null {
  const m = /^Merge pull request #(\d{1,9}) from /.exec(subject) ?? /\(#(\d{1,9})\)$/.exec(subject.trim());
  return m ? Number(m[1]) : null;
}

/** Timebox's record of removing `path`, among the given (Timebox's own) commits' trailers. */
function removalRecord(path: string, notes: ReadonlyArray<Pick<CommitNote, "sha" | "trailers">>): { record: GrantRecord; sha: string } | undefined {
  for (const note of notes) {
    const t = trailerMap(note.trailers);
    if (grantPaths(t).includes(path) && !isOutcomeRecord(t)) return { record: grantRecord(path, t), sha: note.sha };
  }
  return undefined;
}

/** A grant only Timebox's empty record tells (a break-glass grant whose PR was closed unmerged). */
function recordedOnly(record: GrantRecord, commit: MainlineCommit): AuditRow {
  const row = emptyRow(record.path, record.grantedAt ?? isoSecond(commit.committedAt));
  row.origin = "closed-unmerged";
  applyRecord(row, record, row);
  row.revoked_at ??= isoSecond(commit.committedAt);
  return row;
}

/**
 * Timebox's trailers are authoritative where present; the file and the history fill the rest. A
 * `Granted-at` earlier than an extension's own start is when the whole story began (e.g. a
 * break-glass apply before the first merge): it moves the story's first row, not this one.
 */
function applyRecord(row: AuditRow, r: GrantRecord, first: AuditRow): void {
  row.status = "revoked";
  row.requester ??= r.requester ?? null;
  row.resource ??= r.resource ?? null;
  row.role ??= r.role ?? null;
  row.reason ??= r.reason ?? null;
  row.ticket ??= r.ticket ?? null;
  row.emergency ||= r.emergency;
  if (r.approvedBy.length > 0) row.approved_by = r.approvedBy;
  if (r.pullRequest !== undefined) row.pull_request = r.pullRequest;
  if (r.grantedAt !== undefined) {
    if (first !== row && r.grantedAt < row.granted_at) {
      if (r.grantedAt < first.granted_at) first.granted_at = r.grantedAt;
    } else row.granted_at = r.grantedAt;
  }
  row.expires_at = r.expiresAt ?? row.expires_at;
  row.revoked_at = r.revokedAt ?? row.revoked_at;
  row.revoke_reason = r.revokeReason ?? row.revoke_reason;
  row.review_due = r.reviewDue ?? row.review_due;
  if (r.reviewedBy.length > 0) row.reviewed_by = r.reviewedBy;
  row.reviewed_at = r.reviewedAt ?? row.reviewed_at;
  row.extension_of = r.extensionOf ?? row.extension_of;
  row.extensions = r.extensions ?? row.extensions;
}

/** Each outcome goes to the newest version of its grant with that PR (as the version's own or as the one it extends); the latest recorded wins. */
function attachOutcomes(
  rows: AuditRow[],
  outcomes: Array<OutcomeRecord & { order: number; sha: string }>,
  recordOn: (row: AuditRow, sha: string) => void,
): void {
  if (outcomes.length === 0) return;
  const byPath = groupBy(rows, (row) => row.grant);
  const when = (o: OutcomeRecord) => o.at ?? "";
  const ordered = [...outcomes].sort((a, b) => (when(a) < when(b) ? -1 : when(a) > when(b) ? 1 : a.order - b.order));
  for (const o of ordered) {
    const candidates = (byPath.get(o.path) ?? []).filter((r) => r.pull_request === o.pullRequest || r.extension_of === o.pullRequest);
    const target = candidates.reduce<AuditRow | undefined>((best, r) => (!best || r.granted_at >= best.granted_at ? r : best), undefined);
    if (!target) continue;
    target.outcome = o.outcome;
    target.outcome_by = o.by ?? null;
    target.outcome_at = o.at ?? null;
    recordOn(target, o.sha);
  }
}

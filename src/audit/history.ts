import { parseDuration } from "../grants/duration.js";
import { parseYaml } from "../yaml/parse.js";
import type { CommitNote, MainlineCommit, PathChange } from "./git.js";
import type { AuditRow } from "./types.js";

/** What the story builder needs besides the first-parent chain. */
export interface HistoryInputs {
  commits: readonly MainlineCommit[];
  /** The policy's grants_path, with a trailing slash. */
  grantsPath: string;
  /** Grant file contents by blob id. */
  blobs: ReadonlyMap<string, Uint8Array>;
  /** Subject and trailers of each mainline commit that touched a grant file. */
  notes: ReadonlyMap<string, CommitNote>;
  /** For a merge commit that removed grant files: the notes of the commits it merged. */
  mergedNotes: ReadonlyMap<string, readonly CommitNote[]>;
  now: Date;
}

/** `2026-03-02T09:01:00Z`: UTC, to the second. */
export const isoSecond = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

export const isGrantFile = (path: string, grantsPath: string) => path.startsWith(grantsPath) && /\.ya?ml$/.test(path);
/** Regular files only (100644, 100755): a symlink (120000) or submodule (160000) is never a grant. */
const isRegular = (mode: string) => mode.startsWith("100");

/** Paths of grant files a commit adds, changes or removes, regular files only. */
export function grantChanges(commit: MainlineCommit, grantsPath: string): PathChange[] {
  return commit.changes.filter((c) => isGrantFile(c.path, grantsPath) && (isRegular(c.oldMode) || isRegular(c.newMode)));
}

interface Open {
  row: AuditRow;
  /** Expiry computed from the file (granted_at + duration), in ms; undefined when the duration is unreadable. */
  expiresMs?: number;
}

/**
 * Rebuilds each grant's story from the default branch's first-parent chain: one row per version
 * of a grant file (added, then replaced, revoked, removed, or still there). Pure.
 */
export function buildRows(input: HistoryInputs): AuditRow[] {
  const open = new Map<string, Open>();
  const rows: AuditRow[] = [];

  const start = (commit: MainlineCommit, change: PathChange) => {
    const draft = fromContent(change.path, input.blobs.get(change.newBlob), commit.committedAt);
    draft.row.pull_request = pullRequestOf(input.notes.get(commit.sha)?.subject ?? "");
    open.set(change.path, draft);
  };
  const finish = (path: string, commit: MainlineCommit, why: "replaced" | "removed") => {
    const current = open.get(path);
    if (!current) return;
    open.delete(path);
    const row = current.row;
    row.revoked_at = isoSecond(commit.committedAt);
    row.revoke_reason = why;
    const record = why === "removed" ? timeboxRecord(path, [input.notes.get(commit.sha), ...(input.mergedNotes.get(commit.sha) ?? [])]) : undefined;
    if (record) {
      applyTrailers(row, record);
      row.status = "revoked";
    } else {
      row.status = why;
    }
    rows.push(row);
  };

  for (const commit of input.commits) {
    for (const change of grantChanges(commit, input.grantsPath)) {
      const nowRegular = change.status !== "D" && isRegular(change.newMode);
      if (open.has(change.path)) finish(change.path, commit, nowRegular ? "replaced" : "removed");
      if (nowRegular) start(commit, change);
    }
  }
  for (const { row, expiresMs } of open.values()) {
    row.status = expiresMs !== undefined && input.now.getTime() >= expiresMs ? "overdue" : "active";
    rows.push(row);
  }
  return sortRows(rows);
}

export function sortRows(rows: AuditRow[]): AuditRow[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return rows.sort((a, b) => cmp(a.granted_at, b.granted_at) || cmp(a.grant, b.grant));
}

function fromContent(path: string, content: Uint8Array | undefined, grantedAt: Date): Open {
  const row: AuditRow = {
    grant: path,
    requester: null,
    resource: null,
    role: null,
    reason: null,
    ticket: null,
    emergency: false,
    pull_request: null,
    approved_by: [],
    granted_at: isoSecond(grantedAt),
    expires_at: null,
    revoked_at: null,
    revoke_reason: null,
    status: "active",
  };
  const parsed = content ? parseYaml(path, content) : undefined;
  const value = parsed?.ok ? parsed.yaml.value : undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { row };
  const file = value as Record<string, unknown>;
  const text = (key: string) => (typeof file[key] === "string" ? (file[key] as string) : typeof file[key] === "number" ? String(file[key]) : null);
  row.requester = text("requester");
  row.resource = text("resource");
  row.role = text("role");
  row.reason = text("reason");
  row.ticket = text("ticket");
  row.emergency = file.emergency === true;
  const duration = typeof file.duration === "string" ? parseDuration(file.duration) : undefined;
  if (!duration?.ok) return { row };
  const expiresMs = grantedAt.getTime() + duration.ms;
  row.expires_at = isoSecond(new Date(expiresMs));
  return { row, expiresMs };
}

/** A PR number from a merge commit's subject (`Merge pull request #12 from …`) or a squash merge's (`… (#12)`). */
export function pullRequestOf(subject: string): number | null {
  const m = /^Merge pull request #(\d+) from /.exec(subject) ?? /\(#(\d+)\)$/.exec(subject.trim());
  return m ? Number(m[1]) : null;
}

/** The trailers of Timebox's removal commit for `path`, among the given commits' notes. */
function timeboxRecord(path: string, notes: ReadonlyArray<CommitNote | undefined>): Map<string, string[]> | undefined {
  for (const note of notes) {
    if (!note) continue;
    const trailers = new Map<string, string[]>();
    for (const [key, value] of note.trailers) {
      const k = key.toLowerCase();
      trailers.set(k, [...(trailers.get(k) ?? []), value]);
    }
    if (trailers.get("timebox-grant")?.includes(path)) return trailers;
  }
  return undefined;
}

/** Timebox's trailers are authoritative where present; the file and the history fill the rest. */
function applyTrailers(row: AuditRow, t: Map<string, string[]>): void {
  const one = (key: string) => t.get(key)?.at(-1) || undefined;
  const time = (key: string) => {
    const v = one(key);
    const d = v ? new Date(v) : undefined;
    return d && !Number.isNaN(d.getTime()) ? isoSecond(d) : undefined;
  };
  row.requester ??= one("requested-by") ?? null;
  const approvers = (t.get("approved-by") ?? []).flatMap((v) => v.split(",")).map((s) => s.trim()).filter(Boolean);
  if (approvers.length > 0) row.approved_by = [...new Set(approvers)];
  const pr = /^#?(\d+)$/.exec(one("pull-request") ?? "");
  if (pr) row.pull_request = Number(pr[1]);
  row.granted_at = time("granted-at") ?? row.granted_at;
  row.expires_at = time("expires-at") ?? row.expires_at;
  row.revoked_at = time("revoked-at") ?? row.revoked_at;
  row.revoke_reason = one("revoke-reason") ?? row.revoke_reason;
}

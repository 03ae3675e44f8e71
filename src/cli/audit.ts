import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { DateTime } from "luxon";
import { auditRepository, filterRows, formatRows, NotARepositoryError, type AuditFilter, type AuditFormat } from "../audit/index.js";

export interface AuditCliOptions {
  repo?: string;
  since?: string;
  until?: string;
  who?: string;
  resource?: string;
  at?: string;
  format: AuditFormat;
  out?: string;
}

export interface AuditCliResult {
  exitCode: 0 | 2;
  stdout: string;
  stderr: string;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Parses a time given on the command line: ISO 8601, UTC unless it names an offset. A bare date
 * is midnight UTC starting that day — or, as `--until`, ending it (the whole day is included).
 */
export function parseTime(text: string, endOfDay = false): Date | undefined {
  const s = text.trim();
  const dt = DateTime.fromISO(s, { zone: "utc" });
  if (!dt.isValid) return undefined;
  return (endOfDay && DATE_ONLY.test(s) ? dt.plus({ days: 1 }) : dt).toJSDate();
}

/** `timebox audit`: who had what access, when, approved by whom — from a clone, offline. */
export async function runAudit(options: AuditCliOptions, cwd: string, now = new Date()): Promise<AuditCliResult> {
  const usage = (message: string): AuditCliResult => ({ exitCode: 2, stdout: "", stderr: `timebox audit: ${message}\n` });
  const filter: AuditFilter = { who: options.who, resource: options.resource };
  for (const [flag, key, endOfDay] of [["--since", "since", false], ["--until", "until", true], ["--at", "at", false]] as const) {
    const value = options[key];
    if (value === undefined) continue;
    const time = parseTime(value, endOfDay);
    if (!time) return usage(`${flag} ${JSON.stringify(value)} is not a date or time; use ISO 8601, e.g. 2026-03-02 or 2026-03-02T09:00:00Z`);
    filter[key] = time;
  }
  if (filter.since && filter.until && filter.since.getTime() >= filter.until.getTime()) {
    return usage("--since must be before --until");
  }

  const repo = resolve(cwd, options.repo ?? ".");
  let rows;
  try {
    rows = (await auditRepository(repo, { now })).rows;
  } catch (e) {
    if (e instanceof NotARepositoryError) return usage(e.message);
    return usage(`cannot read the history of ${repo}: ${(e as Error).message}`);
  }
  const text = formatRows(filterRows(rows, filter), options.format);
  if (options.out === undefined) return { exitCode: 0, stdout: text, stderr: "" };
  const out = resolve(cwd, options.out);
  try {
    await writeFile(out, text);
  } catch (e) {
    return usage(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { exitCode: 0, stdout: "", stderr: "" };
}

import { readFile, writeFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { DateTime } from "luxon";
import {
  auditRepository,
  DEFAULT_APP_LOGIN,
  filterRows,
  formatReport,
  NotARepositoryError,
  readTrustedKeys,
  TrustedKeyError,
  type AuditFilter,
  type AuditFormat,
  type AuditResult,
} from "../audit/index.js";
import { findPatterns, type GithubFacts } from "../audit/findings/index.js";
import { auditOctokit, distrustedOnGithub, enrichFromGithub, GithubAuditError, type AuditOctokit } from "../audit/github.js";
import { auditEvents, formatJsonl } from "../audit/events.js";
import { originOf, webHostOf, type RepositoryName } from "../audit/remote.js";
import { findingOptions, type ThresholdFlags } from "./audit-options.js";
import { progressBar } from "./progress.js";

export interface AuditCliOptions extends ThresholdFlags {
  repo?: string;
  since?: string;
  until?: string;
  who?: string;
  resource?: string;
  at?: string;
  /** A report format, or `jsonl`: one event per state change, for a SIEM (docs/audit.md). */
  format: AuditFormat | "jsonl";
  out?: string;
  github?: string;
  /** Armored public keys whose signatures mark Timebox's commits (replacing GitHub's web-flow keys). */
  trustedKey?: string[];
  /** The app's bot login (default `timebox[bot]`). */
  appLogin?: string;
}

export interface AuditCliResult {
  exitCode: 0 | 2;
  stdout: string;
  stderr: string;
}

/** What the audit takes from its surroundings, injected so nothing deep down reads them. */
export interface AuditEnvironment {
  now?: Date;
  env?: NodeJS.ProcessEnv;
  /** Where a progress bar goes while the history is read; none when stderr is not a terminal. */
  progress?: (text: string) => void;
  /** The GitHub client for `--github` (built from the token and GITHUB_API_URL when absent). */
  octokit?: (token: string, baseUrl: string) => AuditOctokit;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const GITHUB_NAME = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/;

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

/** The token for `--github`: TIMEBOX_GITHUB_TOKEN, else GITHUB_TOKEN. */
const githubToken = (env: NodeJS.ProcessEnv) => env.TIMEBOX_GITHUB_TOKEN?.trim() || env.GITHUB_TOKEN?.trim() || undefined;

/** The filters as the user typed them, for the HTML header. */
function scopeOf(options: AuditCliOptions): string {
  const flags: Array<[string, string | undefined]> = [
    ["--since", options.since],
    ["--until", options.until],
    ["--at", options.at],
    ["--who", options.who],
    ["--resource", options.resource],
    ["--github", options.github],
  ];
  return flags
    .filter(([, v]) => v !== undefined)
    .map(([f, v]) => `${f} ${v}`)
    .join(" ");
}

/**
 * The repository the events name: `--github`'s (on the web host of GITHUB_API_URL), else the clone's
 * `origin` remote when it is a GitHub-style URL, else the folder's name on github.com.
 */
async function eventSource(repo: string, github: { baseUrl: string } | undefined, name: string | undefined, env: NodeJS.ProcessEnv): Promise<RepositoryName> {
  if (github && name) return { repository: name.trim(), host: webHostOf(github.baseUrl) };
  const origin = await originOf(repo);
  if (origin) return origin;
  const host = env.GITHUB_API_URL?.trim() ? webHostOf(env.GITHUB_API_URL.trim()) : "https://github.com";
  return { repository: basename(repo), host };
}

/** `timebox audit`: who had what access, when, approved by whom, and the patterns in it — from a clone, offline. */
export async function runAudit(options: AuditCliOptions, cwd: string, environment: AuditEnvironment = {}): Promise<AuditCliResult> {
  const now = environment.now ?? new Date();
  const env = environment.env ?? {};
  const usage = (message: string): AuditCliResult => ({ exitCode: 2, stdout: "", stderr: `timebox audit: ${message}\n` });
  const filter: AuditFilter = { who: options.who, resource: options.resource };
  for (const [flag, key, endOfDay] of [
    ["--since", "since", false],
    ["--until", "until", true],
    ["--at", "at", false],
  ] as const) {
    const value = options[key];
    if (value === undefined) continue;
    const time = parseTime(value, endOfDay);
    if (!time) return usage(`${flag} ${JSON.stringify(value)} is not a date or time; use ISO 8601, e.g. 2026-03-02 or 2026-03-02T09:00:00Z`);
    filter[key] = time;
  }
  if (filter.since && filter.until && filter.since.getTime() >= filter.until.getTime()) {
    return usage("--since must be before --until");
  }
  const thresholds = findingOptions(options, now);
  if (!thresholds.ok) return usage(thresholds.message);

  let github: { owner: string; repo: string; token: string; baseUrl: string } | undefined;
  if (options.github !== undefined) {
    const name = GITHUB_NAME.exec(options.github.trim());
    if (!name) return usage(`--github ${JSON.stringify(options.github)} is not OWNER/REPO`);
    const token = githubToken(env);
    if (!token) return usage("--github needs a token: set TIMEBOX_GITHUB_TOKEN or GITHUB_TOKEN (read access to the repository's pull requests)");
    const baseUrl = (env.GITHUB_API_URL?.trim() || "https://api.github.com").replace(/\/+$/, "");
    if (!/^https?:\/\/[^\s/]+/.test(baseUrl)) return usage(`GITHUB_API_URL ${JSON.stringify(baseUrl)} is not an http(s) URL`);
    github = { owner: name[1], repo: name[2], token, baseUrl };
  }

  const appLogin = options.appLogin?.trim() || DEFAULT_APP_LOGIN;
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,38}(\[bot\])?$/.test(appLogin))
    return usage(`--app-login ${JSON.stringify(options.appLogin)} is not a GitHub login (e.g. timebox[bot])`);
  let keys;
  if (options.trustedKey && options.trustedKey.length > 0) {
    const texts: string[] = [];
    for (const file of options.trustedKey) {
      try {
        texts.push(await readFile(resolve(cwd, file), "utf8"));
      } catch (e) {
        return usage(`--trusted-key ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      try {
        await readTrustedKeys([texts.at(-1)!]);
      } catch (e) {
        if (e instanceof TrustedKeyError) return usage(`--trusted-key ${file}: ${e.message}`);
        throw e;
      }
    }
    keys = await readTrustedKeys(texts);
  }

  const repo = resolve(cwd, options.repo ?? ".");
  const bar = environment.progress ? progressBar(environment.progress, "Reading history") : undefined;
  let result: AuditResult;
  try {
    result = await auditRepository(repo, { now, trust: { keys, appLogin }, onProgress: bar && ((read, total) => bar.update(read, total)) });
  } catch (e) {
    if (e instanceof NotARepositoryError) return usage(e.message);
    return usage(`cannot read the history of ${repo}: ${(e as Error).message}`);
  } finally {
    bar?.done();
  }
  // jsonl: --since/--until select events by their time (below), not grants by their access window.
  const jsonl = options.format === "jsonl";
  const rowFilter: AuditFilter = jsonl ? { ...filter, since: undefined, until: undefined } : filter;
  let rows = filterRows(result.rows, rowFilter);

  let facts: GithubFacts | undefined;
  let warnings = "";
  if (github) {
    const octokit = (environment.octokit ?? auditOctokit)(github.token, github.baseUrl);
    try {
      // The Timebox commits the report rests on must be the app's to GitHub too; those that are not lose their claims.
      const shas = rows.flatMap((r) => result.records.get(r) ?? []);
      const distrusted = await distrustedOnGithub(octokit, { owner: github.owner, repo: github.repo }, shas, appLogin);
      if (distrusted.size > 0) {
        result = result.rebuild(distrusted);
        rows = filterRows(result.rows, rowFilter);
      }
      // Only owner and repo: anything else in the target would become a query parameter of every request.
      const enriched = await enrichFromGithub(rows, octokit, { owner: github.owner, repo: github.repo }, { botLogin: appLogin });
      facts = enriched.facts;
      warnings = enriched.warnings.map((w) => `timebox audit: ${w}\n`).join("");
    } catch (e) {
      const message = e instanceof GithubAuditError ? e.message : `GitHub could not be read: ${(e as Error).message}`;
      return usage(message.split(github.token).join("***"));
    }
  }

  const findings = findPatterns(rows, thresholds.value, facts, result.lookAlikes);
  let text: string;
  if (options.format === "jsonl") {
    const source = await eventSource(repo, github, options.github, env);
    const events = auditEvents({ rows, findings, lookAlikes: result.lookAlikes }, { ...source, now }, { since: filter.since, until: filter.until });
    text = formatJsonl(events);
  } else {
    const context = { repository: options.github ?? basename(repo), commit: result.commit, generatedAt: now, scope: scopeOf(options) };
    text = formatReport({ rows, findings, context }, options.format);
  }
  if (options.out === undefined) return { exitCode: 0, stdout: text, stderr: warnings };
  const out = resolve(cwd, options.out);
  try {
    await writeFile(out, text);
  } catch (e) {
    return usage(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { exitCode: 0, stdout: "", stderr: warnings };
}

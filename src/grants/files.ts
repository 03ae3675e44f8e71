/**
 * The one definition of "a grant file". Every part of Timebox that decides whether a path is a
 * grant — `timebox/validate` and `timebox/apply`, the plan comment, the reconciler, `timebox plan`
 * and `timebox audit` — asks {@link classifyGrantsPathEntry}, so nothing is applied that the checks
 * and the reviewers did not see.
 *
 * The rule, for a repository path and the policy's `grants_path` (with its trailing slash):
 *
 * - **outside**: not under `grants_path`. Not Timebox's business (the policy file aside, which
 *   callers handle themselves).
 * - **housekeeping**: exactly `README.md` or `.gitkeep` directly in `grants_path` (not in a
 *   sub-folder). Never applied, never shown, never fails a check.
 * - **grant**: a `.yaml` or `.yml` file whose path (the part after `grants_path`) is made only of
 *   segments from the safe set {@link SAFE_SEGMENT}: ASCII letters, digits, `_`, `.` and `-`, each
 *   segment starting with a letter, digit or `_` (so no dot-files, no `..`, no leading dash that a
 *   command line could read as an option), at most {@link MAX_GRANT_PATH_LENGTH} characters in all.
 *   Sub-folders are allowed (`grants/dba/alice.yaml`). Whether its *content* is a valid grant is
 *   for `checkGrantFile`; whether its Git mode is a regular file is for the caller's entry kind.
 * - **not-a-grant**: anything else under `grants_path` — a dot-file (`grants/.x.yaml`), a file
 *   with another extension (`grants/x.json`, `grants/x.yaml.bak`), a path with a space, control
 *   character, newline or non-ASCII letter, a segment starting with `-`. Such a file is never
 *   applied; a pull request that adds or changes one is shown it in the plan comment and fails
 *   `timebox/validate` with {@link GrantsPathEntry.reason} as the message; the reconciler and the
 *   audit treat one that reached the default branch as not a grant (and may report it).
 *
 * Pure: no I/O, never throws.
 */

type GrantsPathKind = "grant" | "housekeeping" | "not-a-grant" | "outside";

export interface GrantsPathEntry {
  kind: GrantsPathKind;
  /** For `not-a-grant`: why, as a sentence fragment fit for a validation message ("is a dot-file; …"). */
  reason?: string;
}

/** One path segment of a grant file below `grants_path`. */
const SAFE_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** The longest grant path accepted (the whole repository path, grants_path included). */
const MAX_GRANT_PATH_LENGTH = 255;

/** Files allowed directly in `grants_path` that are not grants and are ignored everywhere. */
const HOUSEKEEPING_FILES: readonly string[] = ["README.md", ".gitkeep"];

/**
 * How many files under `grants_path` one pull request may add or change (`TIMEBOX_MAX_GRANT_FILES`).
 * Past it none of them is read and `timebox/validate` fails: a PR cannot spend the app's GitHub
 * budget (shared with revocations) on thousands of blobs.
 */
export const DEFAULT_MAX_GRANT_FILES = 100;

/** The documented safe set, for messages and docs. */
const SAFE_SET_DESCRIPTION =
  "ASCII letters, digits, `_`, `.` and `-`, each folder or file name starting with a letter, digit or `_`, ending in `.yaml` or `.yml`";

/** Normalises a grants_path to end with exactly one `/` (`""` stays the repository root). */
function folder(grantsPath: string): string {
  const p = grantsPath.replace(/^\.\//, "");
  return p === "" || p.endsWith("/") ? p : `${p}/`;
}

/** Classifies a repository path against the policy's `grants_path` (see the module comment). */
export function classifyGrantsPathEntry(path: string, grantsPath: string): GrantsPathEntry {
  const dir = folder(grantsPath);
  if (!path.startsWith(dir) || path === dir) return { kind: "outside" };
  const rest = path.slice(dir.length);
  if (HOUSEKEEPING_FILES.includes(rest)) return { kind: "housekeeping" };
  const reason = problem(path, rest);
  return reason ? { kind: "not-a-grant", reason } : { kind: "grant" };
}

/** Whether `path` is a grant file under `grantsPath` (the only kind ever applied). */
export function isGrantFilePath(path: string, grantsPath: string): boolean {
  return classifyGrantsPathEntry(path, grantsPath).kind === "grant";
}

/** Whether `path` is under `grantsPath` and must be shown and judged (a grant or not-a-grant). */
export function isJudgedGrantsPathEntry(path: string, grantsPath: string): boolean {
  const kind = classifyGrantsPathEntry(path, grantsPath).kind;
  return kind === "grant" || kind === "not-a-grant";
}

function problem(path: string, rest: string): string | undefined {
  // Control characters and newlines first: the path is then shown escaped by the caller.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return `contains a control character or newline; a grant path may use only ${SAFE_SET_DESCRIPTION}`;
  // eslint-disable-next-line no-control-regex
  if (/[^\u0000-\u007f]/.test(path)) return `contains a non-ASCII character; a grant path may use only ${SAFE_SET_DESCRIPTION}`;
  if (path.length > MAX_GRANT_PATH_LENGTH) return `is longer than ${MAX_GRANT_PATH_LENGTH} characters`;
  const segments = rest.split("/");
  for (const s of segments) {
    if (s === "") return "has an empty folder name (`//`)";
    if (s === "." || s === "..") return "has a `.` or `..` segment";
    if (s.startsWith("."))
      return `is a dot-file or sits in a dot-folder (\`${s}\`); Timebox never applies hidden files, so they may not sit in the grants folder`;
    if (s.startsWith("-")) return `has a name starting with \`-\` (\`${s}\`); a grant path may use only ${SAFE_SET_DESCRIPTION}`;
    if (!SAFE_SEGMENT.test(s)) return `has a character outside the safe set in \`${s}\`; a grant path may use only ${SAFE_SET_DESCRIPTION}`;
  }
  if (!/\.ya?ml$/.test(rest))
    return "is not a grant (a grant file ends in `.yaml` or `.yml`); only grants and the folder's README.md may sit in the grants folder";
  return undefined;
}

/** A path made safe to print in Markdown or a log line: control characters shown as `\uXXXX`. */
export function printablePath(path: string): string {
  // eslint-disable-next-line no-control-regex
  return path.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

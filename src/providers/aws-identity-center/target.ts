/** Strict parsing of `aws-identity-center` targets and principals, before any API call. */

export interface AwsTarget {
  accountId: string;
  permissionSetName: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** AWS's pattern for permission set names (1–32 of `\w+=,.@-`). */
const PERMISSION_SET_NAME = /^[\w+=,.@-]{1,32}$/;
const ACCOUNT_ID = /^\d{12}$/;

/** `<12-digit account id>/<permission set name>`, nothing else. */
export function parseTarget(target: string): Parsed<AwsTarget> {
  const slash = target.indexOf("/");
  if (slash < 0 || target.indexOf("/", slash + 1) >= 0) {
    return { ok: false, error: `target \`${target}\` must be \`<account id>/<permission set name>\`, e.g. 123456789012/ReadOnly` };
  }
  const accountId = target.slice(0, slash);
  const permissionSetName = target.slice(slash + 1);
  if (!ACCOUNT_ID.test(accountId)) return { ok: false, error: `target \`${target}\`: the account id must be 12 digits` };
  if (!PERMISSION_SET_NAME.test(permissionSetName)) {
    return { ok: false, error: `target \`${target}\`: the permission set name must be 1-32 characters of letters, digits and +=,.@_-` };
  }
  return { ok: true, value: { accountId, permissionSetName } };
}

/** An Identity Store user name: 1–128 printable characters, no spaces at the ends. */
export function parseUserName(principal: string): Parsed<string> {
  if (principal.length < 1 || principal.length > 128 || principal.trim() !== principal || /[\p{Cc}]/u.test(principal)) {
    return { ok: false, error: `\`${principal}\` is not an Identity Store user name (1-128 printable characters)` };
  }
  return { ok: true, value: principal };
}

/**
 * An ISO 8601 duration as permission sets carry it (`PT1H`, `PT12H`, `PT30M`), in ms;
 * undefined when it is not of that form.
 */
export function parseSessionDuration(duration: string): number | undefined {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(duration);
  if (!m || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) return undefined;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

/** `2 h`, `90 min`, `45 s`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

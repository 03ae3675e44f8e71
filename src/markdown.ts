/**
 * What Timebox writes into Markdown (comments, check runs, issues, messages), in one place: values
 * people wrote are shown inert — as code spans or escaped text, on one line, clipped — so none can
 * mention, link, hide text or pose as one of Timebox's markers.
 */

/** Control characters, bidirectional overrides and zero-width characters: shown escaped, never raw. */
// eslint-disable-next-line no-control-regex -- control characters are what this pattern is for
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g;

/** A user-supplied value shown as a code span: clipped, one line, no backticks (and so no @mentions). */
export function code(value: string, max = 60): string {
  const clipped = value.length > max ? `${value.slice(0, max)}…` : value;
  const visible = clipped.replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return `\`${visible.replace(/`/g, "'")}\``;
}

/** A value in a comment (a path, a login, a role) as a code span, long enough for any grant path. */
export const tick = (s: string): string => code(s, 300);

/** Free text people wrote (a reason, a ticket), on one line, bounded, with no HTML: it cannot hide text or pose as a marker. */
export const prose = (s: string): string => s.replace(/\s+/g, " ").trim().slice(0, 500).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A Markdown table cell: one line, no pipes, no backticks, no HTML. */
export const tableCell = (text: string): string =>
  text
    .replace(/[\r\n]+/g, " ")
    .replace(/\|/g, "\\|")
    .replace(/[<>]/g, "")
    .replace(/`/g, "'");

/** `1 grant`, `2 grants`. */
export const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;

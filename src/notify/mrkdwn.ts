/**
 * Values people wrote (a reason, a ticket, a login) as Slack mrkdwn that cannot do anything: `&`,
 * `<` and `>` as entities (so `<!channel>`, `<@U123>` and `<https://…|text>` stay text), `@here`
 * and its kind broken with a word joiner, backticks turned into quotes (no code span can swallow the
 * rest of a message), one line, clipped, invisible characters shown escaped.
 */

// eslint-disable-next-line no-control-regex -- control characters are what this pattern is for
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g;

/** Free text in mrkdwn: inert, on one line, at most `max` characters before escaping. */
export function slackText(value: string, max = 500): string {
  const line = value.replace(/\s+/g, " ").trim();
  const clipped = line.length > max ? `${line.slice(0, max)}…` : line;
  return clipped
    .replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/`/g, "'")
    .replace(/@(channel|here|everyone)\b/gi, "@\u2060$1");
}

/** A name (path, resource, role, login) as an inline code span: inert, since nothing is parsed inside. */
export function slackCode(value: string, max = 200): string {
  return `\`${slackText(value, max)}\``;
}

/**
 * A link to a GitHub page. Only http(s) URLs; the characters that end or split a Slack link are
 * percent-encoded, so a URL cannot change where the link points or what it says.
 */
export function slackLink(url: string | undefined, label: string): string {
  if (!url || !/^https?:\/\//i.test(url)) return slackText(label);
  const safe = url.replace(/[<>|\s]/g, (c) => encodeURIComponent(c));
  return `<${safe}|${slackText(label, 100)}>`;
}

/** A Slack user mention, only for ids Slack issues (U…, W…): anything else is shown as escaped text. */
export function slackMention(id: string): string | undefined {
  return /^[UW][A-Z0-9]{2,30}$/.test(id) ? `<@${id}>` : undefined;
}

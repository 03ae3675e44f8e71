/**
 * Slack Block Kit for Timebox's events: one message per request (updated in place as the request
 * moves on) and loud stand-alone alerts. Every value people wrote goes through `mrkdwn.ts`.
 */
import type { EventName, TimeboxEvent } from "../events/event.js";
import { slackCode, slackLink, slackText } from "./mrkdwn.js";

interface SlackBlock {
  type: string;
  [key: string]: unknown;
}

export interface SlackView {
  /** The notification and accessibility text (Slack shows it where blocks cannot be shown). */
  text: string;
  blocks: SlackBlock[];
}

/** How an event reaches Slack: the request's one message, created or updated; or a new message of its own. */
export type SlackMode = "request" | "alert";

const TITLES: Record<EventName, { emoji: string; title: string; mode: SlackMode }> = {
  requested: { emoji: ":inbox_tray:", title: "Access requested", mode: "request" },
  approved: { emoji: ":white_check_mark:", title: "Approved: applies when merged", mode: "request" },
  applied: { emoji: ":unlock:", title: "Access granted", mode: "request" },
  extended: { emoji: ":repeat:", title: "Access extended", mode: "request" },
  "breakglass.used": { emoji: ":rotating_light:", title: "Break-glass access used before review", mode: "alert" },
  "breakglass.reviewed": { emoji: ":ballot_box_with_check:", title: "Break-glass access reviewed", mode: "request" },
  "breakglass.review_overdue": { emoji: ":warning:", title: "Break-glass access not reviewed in time", mode: "alert" },
  expiring: { emoji: ":alarm_clock:", title: "Access expires soon", mode: "request" },
  revoked: { emoji: ":lock:", title: "Access revoked", mode: "request" },
  "revoke.stuck": { emoji: ":x:", title: "Revocation is failing", mode: "alert" },
  outcome: { emoji: ":memo:", title: "Outcome recorded", mode: "request" },
  unapproved: { emoji: ":no_entry:", title: "Unapproved grant content on the default branch", mode: "alert" },
  drift: { emoji: ":mag:", title: "Access no grant explains was revoked (drift)", mode: "alert" },
};

export const eventNameOf = (event: TimeboxEvent): EventName => event.type.slice("dev.timebox.".length) as EventName;

export const slackModeOf = (event: TimeboxEvent): SlackMode => TITLES[eventNameOf(event)].mode;

/**
 * Renders one event. `mentions` are ready-made (`<@U123>` for people with a Slack identity,
 * escaped `@login` or `@org/team` for the rest): who must act on it (approvers, the requester).
 */
export function renderSlack(event: TimeboxEvent, mentions: string[] = []): SlackView {
  const { emoji, title } = TITLES[eventNameOf(event)];
  const d = event.data;
  const what = [
    d.requester ? `*${slackText(d.requester, 60)}*` : undefined,
    d.resource ? `${slackCode(d.resource, 80)}${d.role ? ` / ${slackCode(d.role, 80)}` : ""}` : undefined,
    d.duration ? `for ${slackText(d.duration, 40)}` : undefined,
  ].filter(Boolean);
  const where = [
    d.pull_request !== undefined ? slackLink(d.url, `PR #${d.pull_request}`) : d.url ? slackLink(d.url, "on GitHub") : undefined,
    slackCode(d.grant, 200),
    slackText(d.repository, 140),
  ].filter(Boolean);
  const fields: string[] = [];
  const field = (label: string, value: string | undefined) => {
    if (value) fields.push(`*${label}*\n${value}`);
  };
  field("Reason", d.reason ? slackText(d.reason, 600) : undefined);
  field("Ticket", d.ticket ? slackText(d.ticket, 100) : undefined);
  field("Still needs", d.awaiting?.length ? d.awaiting.map((a) => slackText(a, 200)).join("\n") : undefined);
  field("Approved by", d.approved_by?.length ? d.approved_by.map((a) => slackText(a, 60)).join(", ") : undefined);
  field("Expires", d.expires_at ? slackText(d.expires_at, 40) : undefined);
  field("By", d.actor ? slackText(d.actor, 60) : undefined);
  field("Why", d.detail ? slackText(d.detail, 600) : undefined);
  field("Outcome", d.outcome ? slackText(d.outcome, 600) : undefined);
  if (d.extend_url) field("Need more time?", slackLink(d.extend_url, "Extend it with a pull request"));

  const blocks: SlackBlock[] = [
    { type: "header", text: { type: "plain_text", text: `${title}${d.emergency ? " (emergency)" : ""}`, emoji: true } },
    { type: "section", text: { type: "mrkdwn", text: `${emoji} ${what.join(" · ") || slackCode(d.grant, 200)}\n${where.join(" · ")}` } },
  ];
  // Slack allows at most 10 fields in a section.
  if (fields.length) blocks.push({ type: "section", fields: fields.slice(0, 10).map((text) => ({ type: "mrkdwn", text })) });
  if (mentions.length) blocks.push({ type: "section", text: { type: "mrkdwn", text: `${mentionLead(eventNameOf(event))} ${mentions.join(" ")}` } });
  blocks.push({
    type: "context",
    elements: [{ type: "mrkdwn", text: `Timebox · ${slackText(event.time, 40)} · approval happens on the pull request, never here` }],
  });
  const text = `${title}: ${[d.requester, d.resource && d.role ? `${d.resource}/${d.role}` : d.resource, d.grant]
    .filter(Boolean)
    .map((v) => slackText(v!, 200))
    .join(" · ")}`;
  return { text: mentions.length ? `${text} ${mentions.join(" ")}` : text, blocks };
}

function mentionLead(name: EventName): string {
  if (name === "expiring") return "For";
  if (name === "requested") return "Can approve:";
  return "Approvers:";
}

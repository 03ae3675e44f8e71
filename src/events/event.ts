/**
 * Timebox's events: one vocabulary for the live notification channels (Slack, signed webhooks)
 * and `timebox audit --format jsonl`. Each is a CloudEvents 1.0 structured-mode JSON object; field
 * names are stable and documented in docs/audit.md. Nothing here carries a secret: grant reasons
 * and logins are what the grant file and GitHub already show to anyone who can read the repository.
 */

/** Every event type, in lifecycle order. The CloudEvents `type` is `dev.timebox.<name>`. */
export const EVENT_NAMES = [
  "requested",
  "approved",
  "applied",
  "extended",
  "breakglass.used",
  "breakglass.reviewed",
  "breakglass.review_overdue",
  "expiring",
  "revoked",
  "revoke.stuck",
  "outcome",
  "unapproved",
  "drift",
] as const;

export type EventName = (typeof EVENT_NAMES)[number];

/** What an event says about one grant (fields absent when the source cannot know them). */
export interface GrantEventData {
  /** `owner/repo` of the access repository. */
  repository: string;
  /** The grant file's path: the grant's id. */
  grant: string;
  requester?: string;
  resource?: string;
  role?: string;
  /** The grant's duration as written (`2h`, `PT30M`). */
  duration?: string;
  reason?: string;
  ticket?: string;
  emergency?: boolean;
  pull_request?: number;
  /** Link to the pull request (or the commit) on GitHub. */
  url?: string;
  /** Who caused this event (an approver, the requester, Timebox's bot). */
  actor?: string;
  approved_by?: string[];
  /** Approvals still needed, in words ("1 of @acme/dba"). */
  awaiting?: string[];
  /** ISO 8601 UTC. */
  expires_at?: string;
  /** Why access ended or was refused (revoked, unapproved, drift). */
  detail?: string;
  /** The requester's answer to "did the access do its job?" */
  outcome?: string;
  /** Where the requester proposes an extension (GitHub's editor for the grant file on the default branch). */
  extend_url?: string;
  /** How the version reached the default branch: `pull-request`, `direct-push`, `closed-unmerged` (the audit's `origin`). */
  origin?: string;
  /** For an extension: the pull request that first requested the grant. */
  extension_of?: number;
  /** ISO 8601 UTC: when this version's access began (the apply; for an extension, the extension). */
  granted_at?: string;
  /** Break-glass: ISO 8601 UTC, when the normal approval was due. */
  review_due?: string;
  /** Break-glass: who gave the normal approval afterwards. */
  reviewed_by?: string[];
  /** The commit the event is about, when it is one commit (e.g. a record Timebox did not write). */
  commit?: string;
}

/** A CloudEvents 1.0 envelope around one Timebox event. */
export interface TimeboxEvent {
  specversion: "1.0";
  /** Unique per (source, event): the same state change always gets the same id, so consumers can dedupe. */
  id: string;
  /** `https://github.com/<owner>/<repo>` (or the GitHub host configured). */
  source: string;
  type: `dev.timebox.${EventName}`;
  /** The grant path. */
  subject: string;
  /** ISO 8601 UTC: when the state change happened (not when it was sent). */
  time: string;
  datacontenttype: "application/json";
  data: GrantEventData;
}

/** Builds an event; `id` is derived from what makes the state change unique. */
export function timeboxEvent(name: EventName, time: Date | string, data: GrantEventData, unique: string, host = "https://github.com"): TimeboxEvent {
  return {
    specversion: "1.0",
    id: `${data.repository}/${data.grant}/${name}/${unique}`,
    source: `${host}/${data.repository}`,
    type: `dev.timebox.${name}`,
    subject: data.grant,
    time: typeof time === "string" ? time : time.toISOString(),
    datacontenttype: "application/json",
    data,
  };
}

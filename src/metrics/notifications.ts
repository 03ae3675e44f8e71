import { Counter, type Registry } from "prom-client";
import { EVENT_NAMES } from "../events/event.js";

/** How one notification ended: sent, given up on after the retries or at once (a permanent error), or refused by a full queue. */
export type NotificationOutcome = "delivered" | "dropped" | "overflow";

export const NOTIFICATION_CHANNELS = ["slack", "webhook"] as const;
const OUTCOMES: readonly NotificationOutcome[] = ["delivered", "dropped", "overflow"];

/**
 * Notifications by channel kind, event and outcome. Labels are bounded: the two channel kinds, the
 * event vocabulary, three outcomes — never a channel name, URL or grant.
 */
export class NotificationMetrics {
  private readonly total: Counter<"channel" | "event" | "outcome">;

  constructor(registry: Registry) {
    this.total = new Counter({
      name: "timebox_notifications_total",
      help: "Notifications (Slack messages, signed webhook deliveries) by channel kind, event and outcome: delivered; dropped after the retries or on a permanent error (logged); overflow when the channel's queue was full. Delivery never delays the lifecycle.",
      labelNames: ["channel", "event", "outcome"],
      registers: [registry],
    });
    // Every series exists from the start at zero, so rate() and alerts on "dropped" see them.
    for (const channel of NOTIFICATION_CHANNELS)
      for (const event of EVENT_NAMES) for (const outcome of OUTCOMES) this.total.inc({ channel, event, outcome }, 0);
  }

  count(channel: (typeof NOTIFICATION_CHANNELS)[number], event: string, outcome: NotificationOutcome): void {
    this.total.inc({ channel, event: (EVENT_NAMES as readonly string[]).includes(event) ? event : "other", outcome });
  }
}

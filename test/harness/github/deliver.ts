/** Deliver webhook events to an in-process Probot or to an app's HTTP endpoint, signed like GitHub. */
import { createHmac, randomUUID } from "node:crypto";
import type { WebhookEvent } from "./payloads.js";

/** Anything with Probot's `receive` (a Probot instance). */
export interface WebhookReceiver {
  receive(event: { id: string; name: any; payload: any }): Promise<unknown>;
}

export interface DeliveryResult {
  id: string;
  event: string;
  action?: string;
  status: number; // HTTP status, or 200 / 500 for in-process delivery
  body?: string;
  error?: unknown;
}

function sign(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export async function deliverOne(target: WebhookReceiver | string, ev: WebhookEvent, secret: string): Promise<DeliveryResult> {
  const id = randomUUID();
  const base = { id, event: ev.event, action: ev.payload.action as string | undefined };
  if (typeof target !== "string") {
    try {
      await target.receive({ id, name: ev.event, payload: ev.payload });
      return { ...base, status: 200 };
    } catch (error) {
      return { ...base, status: 500, error };
    }
  }
  const url = /\/api\/github\/webhooks\/?$/.test(target) ? target : `${target.replace(/\/+$/, "")}/api/github/webhooks`;
  const body = JSON.stringify(ev.payload);
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/emulator",
      "x-github-event": ev.event,
      "x-github-delivery": id,
      "x-hub-signature-256": sign(secret, body),
      ...(ev.payload.installation ? { "x-github-hook-installation-target-type": "integration" } : {}),
    },
    body,
  });
  return { ...base, status: res.status, body: await res.text() };
}

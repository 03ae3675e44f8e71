import type { TimeboxEvent } from "../../events/event.js";
import { DeliveryError } from "../queue.js";
import { SIGNATURE_HEADER, signBody } from "../signature.js";

export interface WebhookChannelOptions {
  url: string;
  secret: string;
  /** Deadline of one HTTP call. */
  timeoutMs: number;
  now: () => Date;
  fetch?: typeof fetch;
}

/**
 * A signed webhook: each event POSTed as a CloudEvents 1.0 structured-mode JSON body
 * (`application/cloudevents+json`), with `X-Timebox-Signature: t=<unix>,v1=<HMAC-SHA256 of
 * "<t>.<body>">`. A 2xx answer is delivered; 408, 429 and 5xx (or no answer) are retried; any
 * other answer is a configuration problem and the event is dropped. Redirects are refused (the
 * signature is for this URL's owner). Errors never carry the URL: it may hold a token.
 */
export class WebhookChannel {
  constructor(private readonly options: WebhookChannelOptions) {}

  async send(event: TimeboxEvent): Promise<void> {
    const body = JSON.stringify(event);
    const t = Math.floor(this.options.now().getTime() / 1000);
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(this.options.url, {
        method: "POST",
        headers: {
          "content-type": "application/cloudevents+json; charset=utf-8",
          "user-agent": "Timebox",
          [SIGNATURE_HEADER]: signBody(this.options.secret, body, t),
        },
        body,
        redirect: "error",
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      const e = error as { name?: string; cause?: { code?: string } };
      const why = e.name === "TimeoutError" ? "no answer in time" : (e.cause?.code ?? "network error");
      throw new DeliveryError(`could not reach the webhook endpoint (${/^[A-Za-z_ ]{1,40}$/.test(why) ? why : "network error"})`, true);
    }
    // The answer's body is never read into a log: drain it so the connection is released.
    await response.body?.cancel().catch(() => undefined);
    if (response.ok) return;
    const status = response.status;
    const retryAfter = Number(response.headers.get("retry-after"));
    throw new DeliveryError(
      `the webhook endpoint answered HTTP ${status}`,
      status === 408 || status === 429 || status >= 500,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    );
  }
}

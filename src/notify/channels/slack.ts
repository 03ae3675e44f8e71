import { ErrorCode, LogLevel, WebClient, type Logger as SlackLogger } from "@slack/web-api";
import type { SlackView } from "../blocks.js";
import { DeliveryError } from "../queue.js";

/** One Slack delivery: an event rendered, and whether it belongs in its request's one message. */
export interface SlackDelivery {
  view: SlackView;
  /** Set for the request's message (created once, then updated in place); absent for a stand-alone alert. */
  requestKey?: string;
}

export interface SlackChannelOptions {
  token: string;
  /** `#name` or a channel id. */
  channel: string;
  /** Slack's Web API base URL (TIMEBOX_SLACK_API_URL); `https://slack.com/api/` when absent. */
  apiUrl?: string;
  /** Deadline of one HTTP call. */
  timeoutMs: number;
  /** Requests whose message is remembered (the oldest are forgotten first). */
  remember?: number;
}

/** Slack errors that a later attempt may not hit; every other platform error is a configuration problem. */
const TRANSIENT = new Set(["ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"]);
/** chat.update errors after which a fresh message is posted instead (deleted, too old, or another app's). */
const GONE = new Set(["message_not_found", "cant_update_message", "edit_window_closed", "channel_not_found"]);

/** The client logs nothing itself: Timebox logs each delivery's outcome once, without URLs or tokens. */
const SILENT: SlackLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

/**
 * A Slack channel, through Slack's own Web API client. Each request gets one message, posted with
 * `chat.postMessage` and then edited with `chat.update` (by the `ts` Slack returned) as the request
 * moves on; alerts are new messages. The `ts` is kept in memory: after a restart (or on another
 * replica) the next event of a request posts a new message, which later events then update.
 * The client's own retries are off: the channel's queue retries, with a bound, so a Slack outage
 * never holds anything up.
 */
export class SlackChannel {
  private readonly client: WebClient;
  private readonly messages = new Map<string, { channel: string; ts: string; text: string }>();

  constructor(private readonly options: SlackChannelOptions) {
    this.client = new WebClient(options.token, {
      slackApiUrl: normaliseApiUrl(options.apiUrl),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: options.timeoutMs,
      logger: SILENT,
      allowAbsoluteUrls: false,
    });
  }

  async send({ view, requestKey }: SlackDelivery): Promise<void> {
    const known = requestKey ? this.messages.get(requestKey) : undefined;
    const fingerprint = JSON.stringify(view);
    if (known?.text === fingerprint) return;
    if (known) {
      try {
        await call(() => this.client.chat.update({ channel: known.channel, ts: known.ts, text: view.text, blocks: view.blocks }));
        this.remember(requestKey!, { ...known, text: fingerprint });
        return;
      } catch (error) {
        if (!(error instanceof GoneError)) throw error;
        this.messages.delete(requestKey!);
      }
    }
    const posted = await call(() =>
      this.client.chat.postMessage({ channel: this.options.channel, text: view.text, blocks: view.blocks, unfurl_links: false, unfurl_media: false }),
    );
    if (requestKey && typeof posted.ts === "string" && typeof posted.channel === "string") {
      this.remember(requestKey, { channel: posted.channel, ts: posted.ts, text: fingerprint });
    }
  }

  private remember(key: string, value: { channel: string; ts: string; text: string }): void {
    this.messages.delete(key);
    this.messages.set(key, value);
    if (this.messages.size > (this.options.remember ?? 5000)) this.messages.delete(this.messages.keys().next().value!);
  }
}

class GoneError extends DeliveryError {}

/** One Web API call, its failure told as a {@link DeliveryError} (never with the token or the URL). */
async function call<R extends { ok?: boolean; ts?: string; channel?: string }>(run: () => Promise<R>): Promise<R> {
  try {
    return await run();
  } catch (error) {
    throw asDeliveryError(error);
  }
}

function asDeliveryError(error: unknown): DeliveryError {
  const e = error as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string }; original?: { cause?: { code?: string } } };
  switch (e.code) {
    case ErrorCode.RateLimitedError:
      return new DeliveryError(`Slack is rate limiting (retry after ${e.retryAfter ?? "?"} s)`, true, (e.retryAfter ?? 1) * 1000);
    case ErrorCode.PlatformError: {
      const code = /^[a-z_]{1,60}$/.test(e.data?.error ?? "") ? e.data!.error! : "unknown_error";
      if (GONE.has(code)) return new GoneError(`Slack answered ${code}`, false);
      return new DeliveryError(`Slack answered ${code}`, TRANSIENT.has(code));
    }
    case ErrorCode.HTTPError: {
      const status = e.statusCode ?? 0;
      return new DeliveryError(`Slack answered HTTP ${status}`, status >= 500 || status === 408);
    }
    case ErrorCode.RequestError: {
      const cause = e.original?.cause?.code ?? "network error";
      return new DeliveryError(`could not reach Slack (${/^[A-Za-z_]{1,40}$/.test(cause) ? cause : "network error"})`, true);
    }
    case undefined:
    default:
      return new DeliveryError("the Slack call failed unexpectedly", true);
  }
}

/** The client joins the base URL and the method name: the base must end in a slash. */
function normaliseApiUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  return url.endsWith("/") ? url : `${url}/`;
}

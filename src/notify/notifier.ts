import type { TimeboxEvent } from "../events/event.js";
import type { NotificationOutcome } from "../metrics/notifications.js";
import type { NotificationSpec, Policy } from "../policy/types.js";
import { eventNameOf, renderSlack, slackModeOf } from "./blocks.js";
import { SlackChannel, type SlackDelivery } from "./channels/slack.js";
import { WebhookChannel } from "./channels/webhook.js";
import { slackMention, slackText } from "./mrkdwn.js";
import { DeliveryQueue, unrefSleep, type Settled } from "./queue.js";
import { routes } from "./routing.js";

/** What the lifecycle and the PR handlers are given: two calls that never throw and never wait for a delivery. */
export interface NotifyPort {
  /**
   * The default branch's policy of `repo` (`owner/name`) as a reconcile just read it: where that
   * repository's events go. An invalid or missing policy (undefined) keeps the last valid one.
   */
  usePolicy(repo: string, policy: Policy | undefined): void;
  /**
   * Sends an event to the channels of `policy` (the default branch's, read now by the caller) or
   * of the policy last given to `usePolicy`. Returns at once; delivery happens in the background.
   * Undefined: nothing to say.
   */
  notify(event: TimeboxEvent | undefined, policy?: Policy): void;
}

interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface NotifierOptions {
  /** Where the environment variables the policy names (`token_env`, `url_env`, `secret_env`) are read. */
  env: Record<string, string | undefined>;
  log: Logger;
  metrics?: { count(channel: "slack" | "webhook", event: string, outcome: NotificationOutcome): void };
  /** TIMEBOX_SLACK_API_URL: another base URL for Slack's Web API (a proxy, a test server). */
  slackApiUrl?: string;
  /** Waits between attempts of one delivery (default 2 s, 10 s, 60 s: four attempts). */
  retryDelaysMs?: readonly number[];
  /** The longest `Retry-After` honoured (default 5 min). */
  maxRetryAfterMs?: number;
  /** Deliveries waiting per channel before new ones are refused (default 1,000). */
  queueLimit?: number;
  /** Deadline of one HTTP call (default 10 s). */
  timeoutMs?: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

type Item = { name: string; repo: string; grant: string; target: string } & (
  { kind: "slack"; delivery: SlackDelivery } | { kind: "webhook"; event: TimeboxEvent }
);

interface Channel {
  kind: "slack" | "webhook";
  queue: DeliveryQueue<Item>;
}

/** Event ids already accepted, so an event seen again (a webhook redelivered, a second reconcile) is sent once. */
const SEEN_LIMIT = 20_000;
/** Events kept per repository (and repositories) until a reconcile has read its policy. */
const HELD_PER_REPO = 100;
const HELD_REPOS = 1_000;

/**
 * Timebox's notifications: the one object the lifecycle and the PR handlers call. For each event,
 * the channels of the default branch's policy that route it get it, each through a bounded queue of
 * its own. `notify` never throws and never waits: a Slack or endpoint that is slow, rate limiting
 * or down delays nothing but its own queue, and a delivery that keeps failing is dropped after the
 * last retry, with a log line and `timebox_notifications_total{outcome="dropped"}`.
 */
export class Notifier implements NotifyPort {
  private readonly policies = new Map<string, Policy>();
  private readonly channels = new Map<string, Channel>();
  private readonly seen = new Set<string>();
  private readonly missing = new Set<string>();
  private readonly held = new Map<string, TimeboxEvent[]>();
  private readonly githubUrl: string;

  constructor(private readonly options: NotifierOptions) {
    const host = options.env.GHE_HOST;
    this.githubUrl = host ? `${options.env.GHE_PROTOCOL ?? "https"}://${host}` : "https://github.com";
  }

  usePolicy(repo: string, policy: Policy | undefined): void {
    if (policy) this.policies.set(repo, policy);
    // Events that came before this process knew the policy (revokes run first after a restart).
    const waiting = this.held.get(repo);
    this.held.delete(repo);
    for (const event of this.policies.has(repo) ? (waiting ?? []) : []) this.notify(event);
  }

  notify(event: TimeboxEvent | undefined, policy?: Policy): void {
    if (!event) return;
    try {
      const basis = policy ?? this.policies.get(event.data.repository);
      if (!basis) return this.hold(event);
      const specs = (basis?.notifications ?? []).filter((s) => routes(s, event));
      if (specs.length === 0 || this.seen.has(event.id)) return;
      this.seen.add(event.id);
      if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value!);
      const normalised = this.normalise(event);
      for (const spec of specs) this.enqueue(spec, normalised, basis!);
    } catch (error) {
      this.options.log.error({ event: event.type, error: (error as Error).message }, "notification not sent: it could not be prepared");
    }
  }

  /** Keeps an event until the repository's policy is known (bounded: the oldest go first). */
  private hold(event: TimeboxEvent): void {
    const repo = event.data.repository;
    const list = this.held.get(repo) ?? [];
    list.push(event);
    if (list.length > HELD_PER_REPO) list.shift();
    this.held.delete(repo);
    this.held.set(repo, list);
    if (this.held.size > HELD_REPOS) this.held.delete(this.held.keys().next().value!);
  }

  /** Resolves once every queue is empty (tests; a graceful shutdown). */
  async idle(): Promise<void> {
    for (let i = 0; i < 3; i++) await Promise.all([...this.channels.values()].map((c) => c.queue.idle()));
  }

  /** Links and the event's source name the GitHub Timebox talks to (GHE_HOST), not always github.com. */
  private normalise(event: TimeboxEvent): TimeboxEvent {
    const d = event.data;
    const url = d.url || (d.pull_request !== undefined ? `${this.githubUrl}/${d.repository}/pull/${d.pull_request}` : undefined);
    return { ...event, source: `${this.githubUrl}/${d.repository}`, data: { ...d, ...(url ? { url } : {}) } };
  }

  private enqueue(spec: NotificationSpec, event: TimeboxEvent, policy: Policy): void {
    const name = eventNameOf(event);
    const base = { name, repo: event.data.repository, grant: event.data.grant };
    let item: Item;
    let key: string;
    if (spec.slack) {
      key = `slack\n${spec.slack.token_env}\n${spec.slack.channel}`;
      const requestKey =
        slackModeOf(event) === "request" && event.data.pull_request !== undefined
          ? `${event.data.repository}#${event.data.pull_request}:${event.data.grant}`
          : undefined;
      const delivery: SlackDelivery = { view: renderSlack(event, mentionsFor(event, policy)), ...(requestKey ? { requestKey } : {}) };
      item = { ...base, target: spec.slack.channel, kind: "slack", delivery };
    } else if (spec.webhook) {
      key = `webhook\n${spec.webhook.url_env}\n${spec.webhook.secret_env}`;
      item = { ...base, target: spec.webhook.url_env, kind: "webhook", event };
    } else return;
    const channel = this.channel(key, spec);
    if (!channel) {
      this.count(item.kind, name, "dropped");
      return;
    }
    if (!channel.queue.push(item)) {
      this.count(item.kind, name, "overflow");
      this.options.log.warn(
        { channel: item.kind, target: item.target, event: name, repo: item.repo, grant: item.grant },
        "notification dropped: the channel's queue is full",
      );
    }
  }

  /** The channel for a policy entry, built on first use from the environment; undefined (logged once) when a variable is unset. */
  private channel(key: string, spec: NotificationSpec): Channel | undefined {
    const known = this.channels.get(key);
    if (known) return known;
    const o = this.options;
    const env = (name: string) => o.env[name] || undefined;
    const needs = spec.slack ? [spec.slack.token_env] : [spec.webhook!.url_env, spec.webhook!.secret_env];
    const unset = needs.filter((n) => !env(n));
    if (unset.length) {
      if (!this.missing.has(key)) {
        this.missing.add(key);
        o.log.error({ channel: spec.slack ? "slack" : "webhook", unset }, "notification channel not configured on the app: environment variable unset");
      }
      return undefined;
    }
    const timeoutMs = o.timeoutMs ?? 10_000;
    const now = o.now ?? (() => new Date());
    const slack = spec.slack
      ? new SlackChannel({ token: env(spec.slack.token_env)!, channel: spec.slack.channel, apiUrl: o.slackApiUrl, timeoutMs })
      : undefined;
    const webhook = spec.webhook
      ? new WebhookChannel({ url: env(spec.webhook.url_env)!, secret: env(spec.webhook.secret_env)!, timeoutMs, now, ...(o.fetch ? { fetch: o.fetch } : {}) })
      : undefined;
    const queue = new DeliveryQueue<Item>(
      (item) => (item.kind === "slack" ? slack!.send(item.delivery) : webhook!.send(item.event)),
      (item, result) => this.settled(item, result),
      {
        limit: o.queueLimit ?? 1000,
        retryDelaysMs: o.retryDelaysMs ?? [2_000, 10_000, 60_000],
        maxRetryAfterMs: o.maxRetryAfterMs ?? 300_000,
        sleep: o.sleep ?? unrefSleep,
      },
    );
    const channel: Channel = { kind: spec.slack ? "slack" : "webhook", queue };
    this.channels.set(key, channel);
    return channel;
  }

  private settled(item: Item, result: Settled): void {
    this.count(item.kind, item.name, result.outcome);
    const fields = { channel: item.kind, target: item.target, event: item.name, repo: item.repo, grant: item.grant, attempts: result.attempts };
    if (result.outcome === "dropped") this.options.log.warn({ ...fields, error: result.error }, "notification dropped");
    else this.options.log.info(fields, "notification delivered");
  }

  private count(channel: "slack" | "webhook", event: string, outcome: NotificationOutcome): void {
    this.options.metrics?.count(channel, event, outcome);
  }
}

/** At most this many people are mentioned in one message. */
const MAX_MENTIONS = 20;

/**
 * Who must act on an event, as Slack mentions: the role's approvers for a request, a break-glass
 * use or an overdue review; the requester for an expiry. A login with a Slack identity in the
 * policy (`identities: { dev1: { slack: U123 } }`) is mentioned; others (and teams) are named.
 */
function mentionsFor(event: TimeboxEvent, policy: Policy): string[] {
  const name = eventNameOf(event);
  const d = event.data;
  let who: string[] = [];
  if (name === "expiring" && d.requester) who = [d.requester];
  if (name === "requested" || name === "breakglass.used" || name === "breakglass.review_overdue") {
    const resource = d.resource && Object.hasOwn(policy.resources, d.resource) ? policy.resources[d.resource] : undefined;
    const role = resource && d.role && Object.hasOwn(resource.roles, d.role) ? resource.roles[d.role] : undefined;
    who = (role?.approvers ?? []).filter((a) => a.toLowerCase() !== d.requester?.toLowerCase());
  }
  return who.slice(0, MAX_MENTIONS).map((login) => {
    const id = login.startsWith("@") ? undefined : policy.identities[login.toLowerCase()]?.slack;
    // The `@` goes through slackText too: a login `here` or `channel` must not become `@here`.
    return (id && slackMention(id)) ?? slackText(`@${login}`, 101);
  });
}

import { afterEach, beforeEach, expect, test } from "@jest/globals";
import { createServer } from "node:net";
import { FakeSlack, textOf } from "./slack-server.js";
import { event, policyWith, SLACK_TOKEN, testNotifier } from "./support.js";

const SLACK = '  - slack: { token_env: SLACK_BOT_TOKEN, channel: "#access" }\n';

let slack: FakeSlack;
beforeEach(async () => {
  slack = await new FakeSlack().start();
});
afterEach(async () => {
  await slack.stop();
});

test("a request is one Slack message, posted with the bot token and Block Kit, then updated in place by its ts", async () => {
  const { notifier, count } = testNotifier({ slackApiUrl: slack.url });
  const policy = policyWith(SLACK);
  notifier.notify(event("requested", { awaiting: ["1 approval from @acme/sre or sre1"] }), policy);
  notifier.notify(event("approved", { approved_by: ["alice"] }), policy);
  notifier.notify(event("applied", { approved_by: ["alice"], expires_at: "2026-03-02T11:01:00.000Z" }), policy);
  await notifier.idle();

  const [post, ...updates] = slack.calls;
  expect(post.method).toBe("chat.postMessage");
  expect(post.authorization).toBe(`Bearer ${SLACK_TOKEN}`);
  expect(post.contentType).toMatch(/^application\/x-www-form-urlencoded/);
  expect(post.args.channel).toBe("#access");
  expect(post.args.token).toBeUndefined();
  expect(textOf(post)).toContain("Access requested");
  expect(textOf(post)).toContain("1 approval from @acme/sre or sre1");
  expect(textOf(post)).toContain("<https://github.com/acme/access/pull/7|PR #7>");
  expect(post.blocks?.[0]).toEqual({ type: "header", text: { type: "plain_text", text: "Access requested", emoji: true } });
  // The approvers hear about it: sre1 by Slack mention, the others by name.
  expect(textOf(post)).toContain("<@U0SRE0001>");
  expect(textOf(post)).toContain("@alice");

  expect(updates.map((u) => u.method)).toEqual(["chat.update", "chat.update"]);
  for (const u of updates) {
    expect(u.authorization).toBe(`Bearer ${SLACK_TOKEN}`);
    expect(u.args.channel).toBe("C0ACCESS01");
    expect(u.args.ts).toBe("1700000000.000001");
  }
  expect(textOf(updates[0])).toContain("Approved: applies when merged");
  expect(textOf(updates[1])).toContain("Access granted");
  expect(textOf(updates[1])).toContain("2026-03-02T11:01:00.000Z");
  expect(await count({ channel: "slack", outcome: "delivered" })).toBe(3);
});

test("a break-glass use is a new, loud message naming the role's approvers; the same event twice is sent once", async () => {
  const { notifier } = testNotifier({ slackApiUrl: slack.url });
  const policy = policyWith(SLACK);
  notifier.notify(event("requested"), policy);
  const used = event("breakglass.used", { emergency: true, expires_at: "2026-03-02T10:00:00Z" });
  notifier.notify(used, policy);
  notifier.notify(used, policy);
  await notifier.idle();
  expect(slack.calls.map((c) => c.method)).toEqual(["chat.postMessage", "chat.postMessage"]);
  const loud = slack.calls[1];
  expect(loud.args.channel).toBe("#access");
  expect(textOf(loud)).toContain("Break-glass access used before review");
  expect(loud.args.text).toContain("<@U0SRE0001>");
  expect(loud.args.text).toContain("@alice");
  expect(loud.args.text).toContain("@acme/sre");
});

test("a revocation updates the request's message with why; after a restart it is posted anew", async () => {
  const first = testNotifier({ slackApiUrl: slack.url });
  const policy = policyWith(SLACK);
  first.notifier.notify(event("applied"), policy);
  first.notifier.notify(event("revoked", { detail: "its time ran out" }), policy);
  await first.notifier.idle();
  expect(slack.calls.map((c) => c.method)).toEqual(["chat.postMessage", "chat.update"]);
  expect(textOf(slack.calls[1])).toContain("Access revoked");
  expect(textOf(slack.calls[1])).toContain("its time ran out");

  // A new process does not know the message: it posts one, which later events update.
  const restarted = testNotifier({ slackApiUrl: slack.url });
  restarted.notifier.notify(event("revoked", { detail: "its time ran out" }, "2"), policy);
  await restarted.notifier.idle();
  expect(slack.calls.at(-1)?.method).toBe("chat.postMessage");
});

test("a Slack that answers ratelimited is retried after its Retry-After, then the message is delivered", async () => {
  const { notifier, waits, count } = testNotifier({ slackApiUrl: slack.url });
  slack.script.push({ status: 429, headers: { "retry-after": "3" }, body: { ok: false, error: "ratelimited" } });
  slack.script.push({ status: 200, body: { ok: false, error: "ratelimited" } });
  notifier.notify(event("requested"), policyWith(SLACK));
  await notifier.idle();
  expect(slack.calls.map((c) => c.method)).toEqual(["chat.postMessage", "chat.postMessage", "chat.postMessage"]);
  expect(waits[0]).toBe(3_000);
  expect(await count({ channel: "slack", event: "requested", outcome: "delivered" })).toBe(1);
  expect(await count({ outcome: "dropped" })).toBe(0);
});

test("a Slack that is down: notify returns at once, each attempt fails, the message is dropped after the bound with a log line and the metric", async () => {
  const port = await closedPort();
  const { notifier, lines, waits, count } = testNotifier({ slackApiUrl: `http://127.0.0.1:${port}/api/` });
  const returned = notifier.notify(event("revoked", { detail: "its time ran out" }), policyWith(SLACK));
  expect(returned).toBeUndefined();
  await notifier.idle();
  expect(waits).toEqual([10, 20, 40]);
  expect(await count({ channel: "slack", event: "revoked", outcome: "dropped" })).toBe(1);
  const dropped = lines.filter((l) => l.msg === "notification dropped");
  expect(dropped).toHaveLength(1);
  expect(dropped[0].obj).toMatchObject({ channel: "slack", target: "#access", event: "revoked", attempts: 4 });
  // ECONNREFUSED in production; under jest's VM realms Slack's client loses the fetch error's cause.
  expect((dropped[0].obj as { error: string }).error).toMatch(/^could not reach Slack \((ECONNREFUSED|network error)\)$/);
  expect(JSON.stringify(lines)).not.toContain(SLACK_TOKEN);
});

test("a permanent Slack error (channel_not_found) is not retried", async () => {
  const { notifier, waits, lines, count } = testNotifier({ slackApiUrl: slack.url });
  slack.script.push({ status: 200, body: { ok: false, error: "channel_not_found" } });
  notifier.notify(event("requested"), policyWith(SLACK));
  await notifier.idle();
  expect(slack.calls).toHaveLength(1);
  expect(waits).toEqual([]);
  expect(await count({ outcome: "dropped" })).toBe(1);
  expect(lines.find((l) => l.msg === "notification dropped")?.obj).toMatchObject({ error: "Slack answered channel_not_found" });
});

test("what people wrote cannot mention, link or format: <!channel>, <@U…>, @here and links stay text", async () => {
  const { notifier } = testNotifier({ slackApiUrl: slack.url });
  const reason = "urgent <!channel> ping <@U999> and @here & <https://evil.example|click> `code`";
  notifier.notify(event("requested", { reason, ticket: "<!everyone>" }), policyWith(SLACK));
  await notifier.idle();
  const all = textOf(slack.calls[0]);
  expect(all).not.toMatch(/<!channel>|<!everyone>|<@U999>|<https:\/\/evil/);
  expect(all).toContain("&lt;!channel&gt;");
  expect(all).toContain("&lt;@U999&gt;");
  expect(all).toContain("&amp;");
  expect(all).toContain("@\u2060here");
  expect(all).not.toContain("`code`");
});

test("an unset token variable: nothing is sent, the drop is counted and logged once without any secret", async () => {
  const { notifier, lines, count } = testNotifier({ slackApiUrl: slack.url, env: {} });
  notifier.notify(event("requested"), policyWith(SLACK));
  notifier.notify(event("approved"), policyWith(SLACK));
  await notifier.idle();
  expect(slack.calls).toEqual([]);
  expect(await count({ channel: "slack", outcome: "dropped" })).toBe(2);
  expect(lines.filter((l) => l.level === "error")).toEqual([expect.objectContaining({ obj: { channel: "slack", unset: ["SLACK_BOT_TOKEN"] } })]);
});

test("routing: a channel with resources and roles gets only the events about them", async () => {
  const { notifier } = testNotifier({ slackApiUrl: slack.url });
  const policy = policyWith(`${SLACK}    resources: [staging-db]\n    roles: [readonly]\n    events: [requested]\n`);
  notifier.notify(event("requested"), policy);
  notifier.notify(event("requested", { resource: "staging-db", grant: "grants/dev1-staging.yaml" }), policy);
  notifier.notify(event("applied", { resource: "staging-db", grant: "grants/dev1-staging.yaml" }), policy);
  await notifier.idle();
  expect(slack.calls).toHaveLength(1);
  expect(textOf(slack.calls[0])).toContain("staging-db");
  expect(textOf(slack.calls[0])).toContain("@bob");
});

test("the lifecycle's events wait for the repository's policy: sent once a reconcile has read it", async () => {
  const { notifier } = testNotifier({ slackApiUrl: slack.url });
  notifier.notify(event("revoked", { detail: "its time ran out" }));
  await notifier.idle();
  expect(slack.calls).toEqual([]);
  notifier.usePolicy("acme/access", policyWith(SLACK));
  await notifier.idle();
  expect(slack.calls.map((c) => c.method)).toEqual(["chat.postMessage"]);
  expect(textOf(slack.calls[0])).toContain("Access revoked");
});

test("a full queue refuses new messages (counted as overflow) and never blocks the caller", async () => {
  const { notifier, count } = testNotifier({ slackApiUrl: slack.url, queueLimit: 2 });
  const policy = policyWith(SLACK);
  for (let i = 0; i < 5; i++) notifier.notify(event("drift", { grant: `grants/g${i}.yaml` }, String(i)), policy);
  await notifier.idle();
  // One is being delivered while two wait; the other two overflow.
  expect(await count({ outcome: "overflow" })).toBe(2);
  expect(slack.calls).toHaveLength(3);
});

/** A port nothing listens on: connecting is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test("a login cannot become @here or @channel: a requester or approver named so is named inertly", async () => {
  // GitHub logins `here` and `channel` exist; Slack reads a literal `@here` or `@channel` as a ping to everyone.
  const { notifier } = testNotifier({ slackApiUrl: slack.url });
  const policy = policyWith(SLACK);
  notifier.notify(event("expiring", { requester: "here", expires_at: "2026-03-02T11:00:00Z" }), policy);
  const approvers = policyWith(SLACK);
  approvers.resources["prod-db"].roles.readonly.approvers = ["channel", "Everyone"];
  notifier.notify(event("breakglass.used", { requester: "dev1", emergency: true, expires_at: "2026-03-02T10:00:00Z" }, "2"), approvers);
  await notifier.idle();
  expect(slack.calls.map((c) => c.method)).toEqual(["chat.postMessage", "chat.postMessage"]);
  const [expiring, loud] = slack.calls.map(textOf);
  expect(expiring).not.toMatch(/@(here|channel|everyone)\b/i);
  expect(expiring).toContain("@\u2060here");
  expect(loud).not.toMatch(/@(here|channel|everyone)\b/i);
  expect(loud).toContain("@\u2060channel");
  expect(loud).toContain("@\u2060Everyone");
});

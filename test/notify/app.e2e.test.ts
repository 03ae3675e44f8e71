/**
 * Notifications through the app, end to end: the emulated GitHub on one side, a real HTTP server
 * standing in for Slack's Web API on the other (TIMEBOX_SLACK_API_URL), grants applied by an
 * in-memory provider. An approver hears about a request, a break-glass use and a revocation.
 */
import { afterEach, beforeEach, expect, jest, test } from "@jest/globals";
import { grantYaml, POLICY, startAccessRepo, withReadonlyBreakglass, type AccessRepo } from "../support/access-repo.js";
import { deliverOk, mergeApprovedGrant, reconcile } from "../support/lifecycle-flow.js";
import { MemoryPool } from "../support/memory-provider.js";
import { FakeSlack, textOf, type SlackCall } from "./slack-server.js";

jest.setTimeout(60_000);

const TOKEN = "xoxb-e2e-token-not-a-real-one";
const NOTIFY = `notifications:\n  - slack: { token_env: SLACK_BOT_TOKEN, channel: "#access" }\n`;
const POLICY_WITH_SLACK =
  withReadonlyBreakglass(POLICY).replace("  dev1: { postgres: dev1_login }\n", "  dev1: { postgres: dev1_login }\n  sre1: { slack: U0SRE0001 }\n") + NOTIFY;

let slack: FakeSlack;
let env: AccessRepo;

beforeEach(async () => {
  slack = await new FakeSlack().start();
  env = await startAccessRepo({
    policy: POLICY_WITH_SLACK,
    pool: new MemoryPool(),
    env: { TIMEBOX_SLACK_API_URL: slack.url, SLACK_BOT_TOKEN: TOKEN },
  });
});
afterEach(async () => {
  expect(env.gh.unknownRequests()).toEqual([]);
  await env.stop();
  await slack.stop();
});

/** Resolves once Slack has been called in a way `match` accepts (deliveries run in the background). */
async function heard(match: (c: SlackCall) => boolean): Promise<SlackCall> {
  for (;;) {
    const found = slack.calls.find(match);
    if (found) return found;
    await slack.waitForCalls(slack.calls.length + 1);
  }
}

test("an approver hears about a request, then sees the same message follow it to applied and revoked", async () => {
  const granted = mergeApprovedGrant(env, { path: "grants/dev1-prod-db.yaml", content: grantYaml({ duration: "2h" }) });
  const { number } = await granted;

  const request = await heard((c) => c.method === "chat.postMessage" && textOf(c).includes("Access requested"));
  expect(request.authorization).toBe(`Bearer ${TOKEN}`);
  expect(request.args.channel).toBe("#access");
  expect(textOf(request)).toContain(`PR #${number}`);
  expect(textOf(request)).toContain("Investigate INC-1234 slow checkout queries");
  expect(request.args.text).toContain("<@U0SRE0001>");

  await heard((c) => c.method === "chat.update" && textOf(c).includes("Access granted"));
  // Merged at 09:01 for 2h: the reminder is due at 10:49, with the link that starts an extension.
  env.clock.set("2026-03-02T10:49:00Z");
  await reconcile(env);
  const expiring = await heard((c) => c.method === "chat.update" && textOf(c).includes("Access expires soon"));
  expect(textOf(expiring)).toContain(`/acme/access/edit/main/grants/dev1-prod-db.yaml|Extend it with a pull request>`);
  env.clock.set("2026-03-02T11:30:00Z");
  await reconcile(env);
  const revoked = await heard((c) => c.method === "chat.update" && textOf(c).includes("Access revoked"));
  expect(revoked.args.ts).toBe("1700000000.000001");
  expect(textOf(revoked)).toContain("its time ran out");
  // One message per request: everything after the first post was an update of it.
  expect(slack.of("chat.postMessage")).toHaveLength(1);
});

test("a break-glass use is announced loudly, in a message of its own, to the role's approvers", async () => {
  const pr = env.gh.openPullRequest({
    author: "dev1",
    files: { "grants/dev1-prod-db.yaml": grantYaml({ duration: "30m", emergency: true }) },
    title: "Emergency access",
  });
  await deliverOk(env, pr);
  const loud = await heard((c) => c.method === "chat.postMessage" && textOf(c).includes("Break-glass access used before review"));
  expect(loud.args.channel).toBe("#access");
  expect(loud.args.text).toContain("<@U0SRE0001>");
  expect(loud.args.text).toContain("@acme/sre");
  expect(textOf(loud)).toContain("(emergency)");
});

test("a pull request that redirects notifications in its own policy changes nothing: the default branch's policy decides", async () => {
  const hijacked = POLICY_WITH_SLACK.replace('channel: "#access"', 'channel: "#attacker"');
  const pr = env.gh.openPullRequest({
    author: "dev2",
    files: { ".github/timebox.yml": hijacked, "grants/dev2-prod-db.yaml": grantYaml({ requester: "dev2" }) },
    title: "Quiet access",
  });
  await deliverOk(env, pr);
  // The grant of a PR that changes the policy is judged by the old one, and so are its notifications.
  await deliverOk(
    env,
    env.gh.pushToPullRequest(pr.number!, { pusher: "dev2", files: { "grants/dev2-prod-db.yaml": grantYaml({ requester: "dev2", duration: "1h" }) } }),
  );
  const request = await heard((c) => c.method === "chat.postMessage" && textOf(c).includes("grants/dev2-prod-db.yaml"));
  expect(request.args.channel).toBe("#access");
  await heard((c) => c.method === "chat.update" && textOf(c).includes("for 1h"));
  expect(slack.calls.map((c) => c.args.channel)).not.toContain("#attacker");
});

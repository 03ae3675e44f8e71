/**
 * A graceful shutdown of the built app (`probot run ./lib/index.js`, as `npm start`), as a deploy
 * or `kubectl rollout` stops it: SIGTERM while a Slack message is on its way (the Slack stand-in,
 * a real HTTP server, answers late) and another waits behind it in the channel's queue. The app
 * delivers both, then exits 0. Before the app handled SIGTERM, the signal killed it at once and
 * both messages were lost.
 */
import { afterEach, expect, jest, test } from "@jest/globals";
import { grantYaml } from "../support/access-repo.js";
import { startLiveApp, type LiveApp } from "../support/app-process.js";
import { FakeSlack, textOf } from "../notify/slack-server.js";

jest.setTimeout(120_000);

const TOKEN = "xoxb-shutdown-e2e-not-a-real-one";
const NOTIFY = `notifications:\n  - slack: { token_env: SLACK_BOT_TOKEN, channel: "#access" }\n`;

let live: LiveApp | undefined;
let slack: FakeSlack | undefined;
afterEach(async () => {
  await live?.stop();
  await slack?.stop();
});

test("SIGTERM while a Slack message is in flight and another is queued: both are delivered, then the app exits 0", async () => {
  slack = await new FakeSlack().start();
  let answer!: () => void;
  // Slack receives the calls but answers only once the test has sent SIGTERM.
  slack.hold = new Promise<void>((resolve) => (answer = resolve));
  // Requests announced in #access by the policy the app was installed with (a later push to main would not be trusted).
  live = await startLiveApp("shutdown-secret", { TIMEBOX_SLACK_API_URL: slack.url, SLACK_BOT_TOKEN: TOKEN, LOG_LEVEL: "info" }, 1, (p) => p + NOTIFY);
  const { gh, url } = live;

  // Two requests: a webhook is answered once its handler ran, so both messages are queued by then.
  for (const path of ["grants/dev1-prod-db.yaml", "grants/dev1-prod-db-2.yaml"]) {
    const pr = gh.openPullRequest({ author: "dev1", files: { [path]: grantYaml() } });
    expect((await gh.deliver(url, pr)).map((r) => r.status)).toEqual(pr.map(() => 200));
  }
  // The first is on its way (one at a time per channel); the second waits behind it.
  await slack.waitForReceived(1);
  expect(slack.calls).toHaveLength(1);

  const app = live.apps[0];
  app.kill("SIGTERM");
  answer();
  const exit = await app.exited;

  const posts = slack.of("chat.postMessage");
  expect(posts.map(textOf).join("\n")).toContain("grants/dev1-prod-db.yaml");
  expect(posts.map(textOf).join("\n")).toContain("grants/dev1-prod-db-2.yaml");
  expect(posts).toHaveLength(2);
  // The app saw both answers: the messages were delivered, not merely sent.
  expect(live.output().match(/notification delivered/g)).toHaveLength(2);
  expect(exit).toEqual({ code: 0, signal: null });
  expect(live.output()).toContain("shutting down");
});

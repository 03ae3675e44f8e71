import { expect, jest, test } from "@jest/globals";
import { grantYaml } from "../support/access-repo.js";
import { commentsWith, deliverOk, mergeApprovedGrant, postgresAccessPerTest, reconcile } from "../support/lifecycle-flow.js";

jest.setTimeout(60_000);

const env = postgresAccessPerTest();
const PATH = "grants/dev1-prod-db.yaml";

test("at revocation the requester is asked; their /timebox outcome is recorded in an empty Timebox commit and acknowledged", async () => {
  const { gh, clock } = env();
  const { number } = await mergeApprovedGrant(env(), { path: PATH, content: grantYaml({ duration: "2h" }) });
  // Asked before the end: nothing has ended yet.
  await deliverOk(env(), gh.comment(number, { author: "dev1", body: "/timebox outcome too early" }));
  expect(gh.comments(number).at(-1)!.body).toContain("no grant of this pull request has ended yet");

  clock.set("2026-03-02T11:01:00Z");
  await reconcile(env());
  const [revoked] = commentsWith(env(), number, "Access revoked");
  expect(revoked.body).toContain("@dev1: did this access do its job? Reply `/timebox outcome");

  clock.set("2026-03-02T11:30:00Z");
  const tip = gh.branchHead("main");
  await deliverOk(env(), gh.comment(number, { author: "dev1", body: "/timebox outcome Found the missing index on orders; fixed in CHG-42\nthanks all" }));
  const head = gh.commit(gh.branchHead("main")!)!;
  expect(head.parents).toEqual([tip]);
  expect(head.tree).toBe(gh.commit(tip!)!.tree);
  expect(head.message).toBe(
    [
      `Record outcome of ${PATH} (PR #${number})`,
      "",
      "dev1 reported what the access achieved.",
      "",
      `Timebox-Grant: ${PATH}`,
      `Pull-Request: #${number}`,
      "Outcome: Found the missing index on orders; fixed in CHG-42",
      "Outcome-By: dev1",
      "Recorded-at: 2026-03-02T11:30:00Z",
      `Timebox-Run: ${/Timebox-Run: ([0-9a-f]{8})/.exec(head.message)![1]}`,
    ].join("\n"),
  );
  expect(gh.comments(number).at(-1)!.body).toContain(`Recorded the outcome of \`${PATH}\` in ${head.sha}`);
});

test("refusals: someone else's outcome, an empty outcome, an edited comment", async () => {
  const { gh, clock } = env();
  const { number } = await mergeApprovedGrant(env(), { path: PATH, content: grantYaml({ duration: "2h" }) });
  clock.set("2026-03-02T11:01:00Z");
  await reconcile(env());
  const tip = gh.branchHead("main");

  await deliverOk(env(), gh.comment(number, { author: "dev2", body: "/timebox outcome it was useless" }));
  expect(gh.comments(number).at(-1)!.body).toContain("`dev2` may not record the outcome");
  await deliverOk(env(), gh.comment(number, { author: "dev1", body: "/timebox outcome" }));
  expect(gh.comments(number).at(-1)!.body).toContain("say what happened after the command");
  const edited = gh
    .comment(number, { author: "dev1", body: "/timebox outcome sneaky" })
    .map((e) => ({ event: e.event, payload: { ...e.payload, action: "edited" } }));
  await gh.deliver(env().probot, edited);
  expect(gh.branchHead("main")).toBe(tip);
});

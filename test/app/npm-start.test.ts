/**
 * The built app as GitHub drives it: `probot run ./lib/index.js` in its own process (what
 * `npm start` runs after building), configured only through environment variables, reached with
 * signed webhooks over HTTP, talking to the emulated GitHub through GHE_HOST, and to a real
 * PostgreSQL (the server in CI, embedded PGlite otherwise). Needs `lib/` (npm test builds it).
 */
import { jest } from "@jest/globals";
import { startLiveApp, until, type LiveApp } from "../support/app-process.js";
import { grantYaml, withReadonlyBreakglass } from "../support/access-repo.js";

jest.setTimeout(90_000);

let live: LiveApp | undefined;
afterEach(async () => {
  await live?.stop();
});

test("npm start: a signed PR webhook gets the checks; merge grants real PostgreSQL access", async () => {
  live = await startLiveApp("smoke-secret");
  const { gh, pg, url } = live;

  const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": grantYaml() } });
  expect((await gh.deliver(url, pr)).map((r) => r.status)).toEqual(pr.map(() => 200));
  const validate = await until("timebox/validate", () => gh.checkRuns(pr.sha!, "timebox/validate").at(-1));
  expect(validate.conclusion).toBe("success");

  // A delivery with a wrong signature is refused and changes nothing; the genuine one is handled.
  const review = gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" });
  expect((await gh.deliver(url, review, { secret: "wrong" })).map((r) => r.status)).toEqual([400]);
  expect(gh.checkRuns(pr.sha!, "timebox/approval").at(-1)!.conclusion).toBe("action_required");
  expect((await gh.deliver(url, review)).map((r) => r.status)).toEqual([200]);
  await until("approval", () => gh.checkRuns(pr.sha!, "timebox/approval").at(-1)?.conclusion === "success");

  await gh.deliver(url, gh.merge(pr.number!, { by: "alice" }));
  await until("access in PostgreSQL", live.hasAccess);
  await until("the applied comment", () => gh.comments(pr.number!).some((c: { body: string }) => c.body.includes("timebox:applied")));
  expect(live.output()).not.toContain(pg.url);
});

test("npm start: break-glass over HTTP — access on open, before any review; revoked when the PR closes unmerged", async () => {
  // Break-glass on readonly in the policy the app was installed with (a later push to main would not be trusted).
  live = await startLiveApp("breakglass-secret", {}, 1, withReadonlyBreakglass);
  const { gh, url } = live;

  const pr = gh.openPullRequest({ author: "dev1", files: { "grants/dev1-prod-db.yaml": grantYaml({ duration: "30m", emergency: true }) } });
  expect((await gh.deliver(url, pr)).map((r) => r.status)).toEqual(pr.map(() => 200));
  await until("emergency access in PostgreSQL", live.hasAccess);
  expect(gh.labels(pr.number!)).toContain("timebox:breakglass");
  expect(gh.checkRuns(pr.sha!, "timebox/approval").at(-1)!.conclusion).toBe("action_required");

  expect((await gh.deliver(url, gh.close(pr.number!, { by: "dev1" }))).map((r) => r.status)).toEqual([200]);
  await until("access revoked", async () => !(await live!.hasAccess()));
  const record = await until("the Timebox record on main", () =>
    gh
      .repo()
      .log("main")
      .find((c) => c.message.startsWith("Revoke emergency grant grants/dev1-prod-db.yaml")),
  );
  expect(record.message).toContain("Revoke-Reason: pr-closed");
});

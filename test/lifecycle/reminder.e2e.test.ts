import { expect, jest, test } from "@jest/globals";
import { grantYaml } from "../support/access-repo.js";
import { commentsWith, mergeApprovedGrant, postgresAccessPerTest, reconcile } from "../support/lifecycle-flow.js";

jest.setTimeout(60_000);

const env = postgresAccessPerTest();
const PATH = "grants/dev1-prod-db.yaml";

test("a reminder before expiry (10% of a 2h grant: 12 minutes), once, with the exact expiry and an extension link", async () => {
  const { gh, clock } = env();
  const { number } = await mergeApprovedGrant(env(), { path: PATH, content: grantYaml({ duration: "2h" }) });
  // Merged at 09:01, expires 11:01: the precise timer is armed for the reminder at 10:49.
  const armed = await reconcile(env());
  expect(armed.nextExpiry?.toISOString()).toBe("2026-03-02T10:49:00.000Z");

  clock.set("2026-03-02T10:48:59Z");
  await reconcile(env());
  expect(commentsWith(env(), number, "Access expires soon")).toHaveLength(0);

  clock.set("2026-03-02T10:49:00Z");
  const report = await reconcile(env());
  await reconcile(env());
  const reminders = commentsWith(env(), number, "Access expires soon");
  expect(reminders).toHaveLength(1);
  expect(reminders[0].body).toContain("@dev1: your `readonly` access to `prod-db` expires at **2026-03-02T11:01:00Z** (in 12m)");
  expect(reminders[0].body).toContain(`(${gh.state.origin}/${env().fullName}/edit/main/${PATH})`);
  expect(report.nextExpiry?.toISOString()).toBe("2026-03-02T11:01:00.000Z");
  expect(await env().hasAccess()).toBe(true);
});

test("a long grant is reminded 15 minutes before it ends", async () => {
  const { clock } = env();
  const { number } = await mergeApprovedGrant(env(), { path: PATH, content: grantYaml({ duration: "8h" }) });
  clock.set("2026-03-02T16:45:59Z");
  await reconcile(env());
  expect(commentsWith(env(), number, "Access expires soon")).toHaveLength(0);
  clock.set("2026-03-02T16:46:00Z");
  await reconcile(env());
  expect(commentsWith(env(), number, "Access expires soon")).toHaveLength(1);
});

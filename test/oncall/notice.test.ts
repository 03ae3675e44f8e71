import { expect, test } from "@jest/globals";
import { appliedNotice } from "../../src/records/breakglass.js";

test("the break-glass notice names an on-call approver schedule for whoever is on call, never as a broken @mention", () => {
  const body = appliedNotice(
    {
      path: "grants/dev1-prod-db.yaml",
      requester: "dev1",
      principal: "dev1_login",
      resource: "prod-db",
      role: "readonly",
      target: "analytics_read",
      roleSettings: {},
      duration: "30m",
      durationMs: 30 * 60_000,
      reason: "INC-1234 checkout down",
      grantedAt: "2026-03-02T09:10:00Z",
      expiresAt: "2026-03-02T09:40:00Z",
      reviewDue: "2026-03-02T11:10:00Z",
    },
    ["pagerduty:PSRE01", "@acme/sre", "sre1"],
  );
  expect(body).toContain("whoever is on call on `pagerduty:PSRE01` @acme/sre @sre1: please review");
  expect(body).not.toContain("@pagerduty");
});

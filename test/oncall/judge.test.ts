/**
 * On-call rules in the PR decision: schedules read before it (from a local PagerDuty), the
 * decision judging "was this login on call then" at the moment of the event — the break-glass
 * start Timebox recorded, merged_at, a review's submitted_at, else now.
 */
import { afterAll, beforeAll, beforeEach, expect, test } from "@jest/globals";
import { startsBreakglass } from "../../src/lifecycle/decide.js";
import { directoryFromEnv } from "../../src/oncall/directory.js";
import { onCallMoments } from "../../src/oncall/facts.js";
import { readSchedules } from "../../src/oncall/resolve.js";
import { decide, membershipNeeds, type ReviewDecision } from "../../src/pull-request/decide.js";
import type { PullRequestSnapshot } from "../../src/pull-request/gather.js";
import type { Review } from "../../src/github/types.js";
import { PD_TOKEN, resetOnCallServer, startOnCallServer, type OnCallServer } from "./server.js";

let server: OnCallServer;
beforeAll(async () => {
  server = await startOnCallServer();
});
afterAll(() => server.stop());
beforeEach(() => resetOnCallServer(server));

const providers = new Map([["postgres", ["url_env"]]]);
const HEAD = "a".repeat(40);

function policy(opts: { approvers?: string; identities?: string } = {}): string {
  return `version: 1
owners: ["sec1"]
allow_on_behalf: false
identities:
${opts.identities ?? "  dev1: { postgres: dev1_login, pagerduty: dev1@example.com }\n  dev2: { pagerduty: PDEV2 }"}
resources:
  prod-db:
    provider: postgres
    settings: { url_env: PROD_DB_URL }
    roles:
      readonly:
        target: analytics_read
        max_duration: 8h
        approvers: ${opts.approvers ?? '["sre1"]'}
        breakglass: { max_duration: 1h, review_within: 2h, requesters: ["pagerduty:PSRE01"] }
`;
}

const grant = (requester: string, emergency = true) =>
  `requester: ${requester}\nresource: prod-db\nrole: readonly\nduration: 30m\nreason: INC-1 checkout down\nemergency: ${emergency}\n`;

function snapshot(opts: { author?: string; requester?: string; reviews?: Review[]; mergedAt?: string; policy?: string } = {}): PullRequestSnapshot {
  const author = opts.author ?? opts.requester ?? "dev1";
  return {
    pr: {
      number: 7,
      state: opts.mergedAt ? "closed" : "open",
      merged: !!opts.mergedAt,
      ...(opts.mergedAt ? { mergedAt: opts.mergedAt } : {}),
      draft: false,
      author,
      headSha: HEAD,
      headRef: "emergency",
      baseRef: "main",
      htmlUrl: "https://github.example/acme/access/pull/7",
    },
    baseSha: "b".repeat(40),
    basePolicyText: opts.policy ?? policy(),
    grantFiles: [{ path: "grants/x.yaml", kind: "file", content: Buffer.from(grant(opts.requester ?? "dev1")) }],
    reviews: opts.reviews ?? [],
  };
}

/** What run.ts and origin.ts do: the pairs the rules need, the schedules read at the judged moments, then the pure decision. */
async function judge(s: PullRequestSnapshot, now: string, starts: Record<string, { at: string; requester: string }> = {}): Promise<ReviewDecision> {
  const pusher = s.pr.author;
  const needs = membershipNeeds(s, { providers, pusher });
  const directory = directoryFromEnv({ PAGERDUTY_API_TOKEN: PD_TOKEN, TIMEBOX_PAGERDUTY_API_URL: server.url });
  const onCall = await readSchedules(directory, needs, onCallMoments(s.pr, s.reviews, new Map(Object.entries(starts)), new Date(now)));
  return decide(s, { providers, pusher, isMember: () => undefined, onCall });
}

const errors = (d: ReviewDecision) => d.grants.flatMap((g) => g.diagnostics.filter((x) => x.severity === "error").map((x) => `${x.rule}: ${x.message}`));

test("the person on call when the PR is judged may break glass", async () => {
  const d = await judge(snapshot(), "2026-03-02T09:10:00Z");
  expect(errors(d)).toEqual([]);
  expect(startsBreakglass(d)).toBe(true);
});

test("someone not on call then is refused, and told why", async () => {
  const d = await judge(snapshot({ requester: "dev2" }), "2026-03-02T09:10:00Z");
  expect(startsBreakglass(d)).toBe(false);
  expect(errors(d)).toEqual([
    "policy.breakglass-requester: `dev2` may not use break-glass on this role; its breakglass.requesters are `pagerduty:PSRE01`; `dev2` (PDEV2) was not on call on `pagerduty:PSRE01` at 2026-03-02T09:10:00Z",
  ]);
});

test("someone with no pagerduty identity is refused, and told what to add", async () => {
  const d = await judge(
    snapshot({ policy: policy({ identities: "  dev1: { postgres: dev1_login }\n  sre9: { pagerduty: x@example.com }" }) }),
    "2026-03-02T09:10:00Z",
  );
  expect(errors(d)).toEqual([expect.stringContaining("`dev1` has no `pagerduty` entry in the policy's identities")]);
});

test("the schedule cannot be read: refused (fails closed), naming the schedule and the HTTP status", async () => {
  server.failing.PSRE01 = 503;
  const d = await judge(snapshot(), "2026-03-02T09:10:00Z");
  expect(startsBreakglass(d)).toBe(false);
  expect(errors(d)).toEqual([
    "policy.breakglass-requester.unchecked: whether `dev1` is on call on `pagerduty:PSRE01` could not be checked: PagerDuty schedule PSRE01 could not be read: HTTP 503. Refused until it can be (re-run the check)",
  ]);
  expect(JSON.stringify(d)).not.toContain(PD_TOKEN);
});

test("judged again after the shift ended, a break-glass grant Timebox started is judged at its recorded start: still valid", async () => {
  const later = await judge(snapshot(), "2026-03-02T09:45:00Z", { "grants/x.yaml": { at: "2026-03-02T09:10:00Z", requester: "dev1" } });
  expect(errors(later)).toEqual([]);
  // Without the record the same PR at 09:45 is judged now: dev1 is off call.
  const fresh = await judge(snapshot(), "2026-03-02T09:45:00Z");
  expect(errors(fresh)).toEqual([expect.stringContaining("was not on call on `pagerduty:PSRE01` at 2026-03-02T09:45:00Z")]);
});

test("a record holds only for its requester: the file changed to someone else is judged afresh", async () => {
  // allow_on_behalf, so dev1's PR may name dev2. dev2 was on call at 09:40, when the record (dev1's) says break-glass started; not at 10:05.
  const s = snapshot({ author: "dev1", requester: "dev2", policy: policy().replace("allow_on_behalf: false", "allow_on_behalf: true") });
  const d = await judge(s, "2026-03-02T10:05:00Z", { "grants/x.yaml": { at: "2026-03-02T09:40:00Z", requester: "dev1" } });
  expect(errors(d)).toEqual([expect.stringContaining("`dev2` (PDEV2) was not on call on `pagerduty:PSRE01` at 2026-03-02T10:05:00Z")]);
});

test("a merged PR is judged as at merge, however late the reconciler looks", async () => {
  const merged = snapshot({ mergedAt: "2026-03-02T09:20:00Z", reviews: [review("sre1", "2026-03-02T09:15:00Z")] });
  const d = await judge(merged, "2026-03-09T12:00:00Z");
  expect(errors(d)).toEqual([]);
  expect(d.approval.grants[0].satisfied).toBe(true);
});

const review = (login: string, at: string, state = "APPROVED"): Review => ({
  id: Date.parse(at) / 1000,
  user: { login, type: "User" },
  state,
  commit_id: HEAD,
  submitted_at: at,
});

test("an on-call approver set: a review counts when its author was on call as they submitted it", async () => {
  const approvers = '["pagerduty:PSRE01"]';
  // sre2 has no pagerduty identity; dev2 was on call at 09:40; dev1 was not (their shift ended 09:30).
  const s = snapshot({
    author: "sre9",
    requester: "sre9",
    policy: policy({ approvers, identities: "  dev1: { pagerduty: dev1@example.com }\n  dev2: { pagerduty: PDEV2 }\n  sre9: { pagerduty: sre9@example.com }" }),
    reviews: [review("dev1", "2026-03-02T09:40:00Z"), review("dev2", "2026-03-02T09:41:00Z")],
  });
  // Normal (non-emergency) request, so the requester rule does not get in the way.
  s.grantFiles[0].content = Buffer.from(grant("sre9", false));
  const d = await judge(s, "2026-03-02T12:00:00Z");
  const a = d.approval.grants[0];
  expect(a.counted).toEqual(["dev2"]);
  expect(a.satisfied).toBe(true);
  expect(a.ignored).toEqual([expect.objectContaining({ login: "dev1", kind: "not-eligible" })]);
});

test("an on-call approver set that cannot be read: the review is not counted, and the reason names the schedule and status", async () => {
  server.failing.PSRE01 = 502;
  const s = snapshot({
    author: "sre9",
    requester: "sre9",
    policy: policy({ approvers: '["pagerduty:PSRE01"]', identities: "  dev2: { pagerduty: PDEV2 }" }),
    reviews: [review("dev2", "2026-03-02T09:41:00Z")],
  });
  s.grantFiles[0].content = Buffer.from(grant("sre9", false));
  const a = (await judge(s, "2026-03-02T12:00:00Z")).approval.grants[0];
  expect(a.satisfied).toBe(false);
  expect(a.ignored).toEqual([
    {
      login: "dev2",
      kind: "membership-unknown",
      reason: "membership of pagerduty:PSRE01 could not be checked (PagerDuty schedule PSRE01 could not be read: HTTP 502); not counted (re-run the check)",
    },
  ]);
});

import { expect, test } from "@jest/globals";
import type { TimeboxEvent } from "../../src/events/event.js";
import { notifyJudged } from "../../src/notify/events.js";
import type { NotifyPort } from "../../src/notify/notifier.js";
import type { Policy } from "../../src/policy/types.js";
import type { JudgedPullRequest } from "../../src/pull-request/run.js";
import { policyWith } from "./support.js";

const BASE = policyWith('  - slack: { token_env: SLACK_BOT_TOKEN, channel: "#access" }\n');
const HEAD = policyWith('  - slack: { token_env: SLACK_BOT_TOKEN, channel: "#attacker" }\n');

function capture() {
  const sent: Array<{ event: TimeboxEvent; policy?: Policy }> = [];
  const port: NotifyPort = { usePolicy: () => undefined, notify: (event, policy) => void (event && sent.push({ event, policy })) };
  return { sent, port };
}

/** A judged PR: one valid grant, and its approval (satisfied or not), with the PR's own policy change. */
function judged(
  pr: { baseRef?: string; draft?: boolean } = {},
  approval: { satisfied: boolean; counted: string[]; missing: string } = { satisfied: false, counted: [], missing: "1 approval from @acme/sre" },
) {
  return {
    snapshot: {
      pr: { number: 9, baseRef: "main", draft: false, htmlUrl: "https://github.com/acme/access/pull/9", author: "dev1", headSha: "a".repeat(40), ...pr },
    },
    decision: {
      basePolicy: { policy: BASE },
      headPolicy: { policy: HEAD },
      grants: [
        {
          path: "grants/dev1-prod-db.yaml",
          valid: true,
          grant: {
            path: "grants/dev1-prod-db.yaml",
            requester: "dev1",
            resource: "prod-db",
            role: "readonly",
            duration: "2h",
            durationMs: 7_200_000,
            reason: "INC-1",
            emergency: false,
          },
        },
      ],
      approval: { satisfied: approval.satisfied, grants: [{ path: "grants/dev1-prod-db.yaml", ...approval }] },
    },
  } as unknown as JudgedPullRequest;
}

const at = new Date("2026-03-02T09:00:00Z");

test("a request into the default branch is notified with the base policy, never the PR's own", () => {
  const { sent, port } = capture();
  notifyJudged(port, "acme/access", "main", judged(), at);
  expect(sent).toHaveLength(1);
  expect(sent[0].policy).toBe(BASE);
  expect(sent[0].event.type).toBe("dev.timebox.requested");
  expect(sent[0].event.data).toMatchObject({ requester: "dev1", duration: "2h", reason: "INC-1", pull_request: 9, awaiting: ["1 approval from @acme/sre"] });
});

test("a PR into another branch (whose policy its author may have written) and a draft notify no one", () => {
  const { sent, port } = capture();
  notifyJudged(port, "acme/access", "main", judged({ baseRef: "evil" }), at);
  notifyJudged(port, "acme/access", "main", judged({ draft: true }), at);
  notifyJudged(port, "acme/access", undefined, judged(), at);
  expect(sent).toEqual([]);
});

test("complete approval is `approved`, with who approved; the same state has the same id", () => {
  const { sent, port } = capture();
  const done = judged({}, { satisfied: true, counted: ["alice"], missing: "" });
  notifyJudged(port, "acme/access", "main", done, at);
  notifyJudged(port, "acme/access", "main", done, at);
  expect(sent.map((s) => s.event.type)).toEqual(["dev.timebox.approved", "dev.timebox.approved"]);
  expect(sent[0].event.data.approved_by).toEqual(["alice"]);
  expect(sent[0].event.data.awaiting).toBeUndefined();
  expect(sent[0].event.id).toBe(sent[1].event.id);
});

import { MAX_SUMMARY_CHARS, approvalConclusion, approvalTitle, evaluateApprovals, renderApprovalSummary } from "../../src/approvals/index.js";
import { ORG, grant, input, spec, teams } from "./helpers.js";

const DBA = spec(["@acme/dba", "sre1"]);

describe("approvalConclusion and approvalTitle", () => {
  test("neutral when there is nothing to approve", () => {
    const r = evaluateApprovals(input({}), teams(ORG));
    expect(approvalConclusion(r)).toBe("neutral");
    expect(approvalTitle(r)).toMatch(/^Nothing to approve/);
    expect(renderApprovalSummary(r)).toContain("Nothing to approve");
  });

  test("success when every grant is approved", () => {
    const r = evaluateApprovals(input({ grants: [grant("grants/a.yaml", DBA)], reviews: [["sre1", "APPROVED"]] }), teams(ORG));
    expect(approvalConclusion(r)).toBe("success");
    expect(approvalTitle(r)).toBe("Approved: 1 grant");
  });

  test("success title mentions the policy change", () => {
    const r = evaluateApprovals(input({ grants: [grant("grants/a.yaml", DBA)], owners: ["sre1"], reviews: [["sre1", "APPROVED"]] }), teams(ORG));
    expect(approvalTitle(r)).toBe("Approved: 1 grant and the policy change");
  });

  test("action_required with the first thing missing", () => {
    const r = evaluateApprovals(
      input({
        grants: [grant("grants/a.yaml", DBA), grant("grants/b.yaml", spec(["@acme/dba"])), grant("grants/c.yaml", DBA)],
        reviews: [["sre1", "APPROVED"]],
      }),
      teams(ORG),
    );
    expect(approvalConclusion(r)).toBe("action_required");
    expect(approvalTitle(r)).toBe("2 of 3 grants approved; needs 1 more approval from @acme/dba");
  });

  test("policy change pending", () => {
    const r = evaluateApprovals(input({ owners: ["@acme/owners"] }), teams(ORG));
    expect(approvalConclusion(r)).toBe("action_required");
    expect(approvalTitle(r)).toBe("policy change not approved; needs 1 more approval from @acme/owners");
  });
});

describe("renderApprovalSummary", () => {
  const result = evaluateApprovals(
    input({
      grants: [grant("grants/a.yaml", DBA), grant("grants/b.yaml", spec(["@acme/sre"], 2), true), grant("grants/bad.yaml", DBA, false)],
      owners: ["@acme/owners"],
      reviews: [
        ["dev1", "APPROVED"],
        ["dba1", "APPROVED"],
        ["sre-a", "APPROVED"],
        ["fe1", "CHANGES_REQUESTED"],
        ["sre-b", "CHANGES_REQUESTED"],
        ["renovate[bot]", "APPROVED"],
      ],
    }),
    teams(ORG),
  );
  const md = renderApprovalSummary(result);

  test("has one table with a row per grant and the policy change", () => {
    expect(md).toContain("| | Grant | Role | Required approvers | Needed | Counted | Missing |");
    expect(md).toMatch(/\| ✅ \| `grants\/a.yaml` \| `prod-db \/ readonly` \| `@acme\/dba`, `sre1` \| 1 \| `dba1` \| — \|/);
    expect(md).toMatch(/\| ⛔ \| `grants\/b.yaml` .*\| 2 \| `sre-a` \| needs 1 more approval from `@acme\/sre`; changes requested by sre-b/);
    expect(md).toMatch(/\| ❌ \| `grants\/bad.yaml` .*fails timebox\/validate; fix it first \|/);
    expect(md).toMatch(/\| ⏳ \| `.github\/timebox.yml` \| policy change \(owners\) \| `@acme\/owners` \| 1 \| — \|/);
  });

  test("lists ignored reviews with reasons, once per (reviewer, reason)", () => {
    expect(md).toContain("- `dev1`: is the PR author; the author's own review never counts");
    expect(md).toContain("- `renovate[bot]`: is a bot; bots never count");
    expect(md.match(/`dev1`: is the PR author/g)).toHaveLength(1);
    expect(md).toMatch(/- `fe1`: requested changes but is not eligible for this role \(eligible: `@acme\/dba`, sre1\) \(for `grants\/a.yaml`\)/);
    expect(md).toContain("**Changes requested**");
  });

  test("never mentions a team or user (every @ref sits in a code span)", () => {
    const bare = md.replace(/`[^`]*`/g, "");
    expect(bare).not.toMatch(/@[A-Za-z0-9]/);
  });

  test("escapes untrusted paths for tables and HTML", () => {
    const r = evaluateApprovals(input({ grants: [grant("grants/a|b`<img>.yaml", DBA)] }), teams(ORG));
    const out = renderApprovalSummary(r);
    expect(out).toContain("`grants/a\\|b'<img>.yaml`");
    const row = out.split("\n").find((l) => l.includes("grants/a"))!;
    expect(row.split(/(?<!\\)\|/).length).toBe(9); // 7 columns + the outer pipes
  });

  test("shows warnings (unknown pusher)", () => {
    const r = evaluateApprovals(input({ grants: [grant("grants/a.yaml", DBA)], lastPusher: null }), teams(ORG));
    expect(renderApprovalSummary(r)).toMatch(/> ⚠️ Timebox does not know who pushed head commit/);
  });

  test(`stays under ${MAX_SUMMARY_CHARS} characters, with a note, when huge`, () => {
    const grants = Array.from({ length: 3000 }, (_, i) => grant(`grants/${"x".repeat(40)}-${i}.yaml`, DBA));
    const reviews = Array.from({ length: 200 }, (_, i) => [`someone-${i}`, "APPROVED"] as [string, string]);
    const r = evaluateApprovals(input({ grants, reviews }), teams(ORG));
    const out = renderApprovalSummary(r);
    expect(out.length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
    expect(out).toMatch(/Summary truncated: \d+ more lines not shown/);
  });

  test("a small summary is not truncated", () => {
    expect(md.length).toBeLessThan(MAX_SUMMARY_CHARS);
    expect(md).not.toContain("truncated");
  });
});

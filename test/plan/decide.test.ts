/** The plan's decision as a pure function of facts and a time: the cases a real repository makes awkward. */
import { decidePlan } from "../../src/plan/decide.js";
import type { BranchGrant, PlanFacts, StoredFile } from "../../src/plan/facts.js";
import { MAX_YAML_BYTES } from "../../src/yaml/parse.js";
import { POLICY_TEXT, PROVIDERS } from "../grants/helpers.js";
import { GRANT, POLICY_WITH_CAP, T } from "./repo.js";

const file = (text: string): StoredFile => ({ kind: "file", size: Buffer.byteLength(text), content: Buffer.from(text) });
const POLICY = file(POLICY_TEXT);
const at = new Date(T("10:00:00"));

function facts(over: Partial<PlanFacts> = {}): PlanFacts {
  return {
    repository: "/repo",
    ref: "HEAD",
    commit: "c".repeat(40),
    policy: POLICY,
    grants: [],
    recentRemovals: [],
    pendingSource: "working tree",
    pending: [],
    ...over,
  };
}

function merged(path: string, text: string, over: Partial<NonNullable<BranchGrant["origin"]>> = {}, extensions = 0): BranchGrant {
  return {
    path,
    file: file(text),
    extensions,
    origin: {
      sha: "a".repeat(40),
      committedAt: new Date(T("09:00:00")),
      subject: "Merge pull request #1 from acme/x",
      pullRequest: 1,
      headMatches: true,
      basePolicy: POLICY,
      ...over,
    },
  };
}

const decide = (f: PlanFacts, when = at) => decidePlan(f, { at: when, providers: PROVIDERS });

test("a PR merged while its base had no policy is reported, never applied", () => {
  const plan = decide(facts({ grants: [merged("grants/a.yaml", GRANT.dev1, { basePolicy: null })] }));
  expect(plan.active).toEqual([]);
  expect(plan.report).toEqual([expect.objectContaining({ path: "grants/a.yaml", why: "PR #1 merged while the policy on its base was missing or invalid" })]);
  expect(plan.valid).toBe(true);
});

test("a squash merge cannot be compared with its PR head and is trusted on its subject", () => {
  const plan = decide(facts({ grants: [merged("grants/a.yaml", GRANT.dev1, { headMatches: undefined, subject: "Access (#9)", pullRequest: 9 })] }));
  expect(plan.active.map((a) => [a.pull_request, a.expires_at])).toEqual([[9, T("11:00:00")]]);
});

test("a symlink under grants/ is invalid and otherwise ignored, as the reconciler skips it", () => {
  const link: BranchGrant = { path: "grants/link.yaml", file: { kind: "symlink", size: 12 }, extensions: 0 };
  const plan = decide(facts({ grants: [link] }));
  expect(plan.invalid).toEqual([
    { path: "grants/link.yaml", where: "default branch", diagnostics: [expect.objectContaining({ rule: "grant.not-regular-file" })] },
  ]);
  expect([plan.active, plan.revoke, plan.report]).toEqual([[], [], []]);
});

test("a file larger than a grant may be is refused by size without being read", () => {
  const big: BranchGrant = { ...merged("grants/big.yaml", GRANT.dev1), file: { kind: "file", size: MAX_YAML_BYTES + 1 } };
  const plan = decide(facts({ grants: [big] }));
  expect(plan.invalid[0].diagnostics).toEqual([
    expect.objectContaining({ line: 1, column: 1, rule: "yaml.too-large", message: expect.stringContaining(`${MAX_YAML_BYTES + 1} bytes`) }),
  ]);
  expect(plan.report[0].why).toBe("PR #1 merged a grant that fails validation (see Invalid)");
});

test("removed content that never came through a PR was never applied: nothing to revoke", () => {
  const plan = decide(
    facts({ recentRemovals: [{ path: "grants/x.yaml", commit: "b".repeat(40), removedAt: new Date(T("09:30:00")), pullRequest: null, removedBy: null }] }),
  );
  expect(plan.revoke).toEqual([]);
});

test("a removal made by a direct commit names the commit", () => {
  const plan = decide(
    facts({ recentRemovals: [{ path: "grants/x.yaml", commit: "b".repeat(40), removedAt: new Date(T("09:30:00")), pullRequest: 3, removedBy: null }] }),
  );
  expect(plan.revoke[0].action).toBe("ensure revoked at the provider: the file was removed by commit bbbbbbbbbbbb");
});

test("the extension cap is reported once, whether or not the grant check knows extensions", () => {
  const capped = file(POLICY_WITH_CAP);
  const active = merged("grants/a.yaml", GRANT.dev1, { basePolicy: capped }, 1);
  const plan = decide(facts({ policy: capped, grants: [active], pending: [{ path: "grants/a.yaml", file: file(GRANT.dev1Longer) }] }));
  expect(plan.invalid).toHaveLength(1);
  expect(plan.invalid[0].diagnostics.filter((d) => d.rule === "policy.max-extensions")).toHaveLength(1);
  expect(plan.pending[0]).toMatchObject({ change: "extension", valid: false });
});

test("a change to an expired grant's file replaces it: a new grant from the merge", () => {
  const plan = decide(
    facts({ grants: [merged("grants/a.yaml", GRANT.dev1)], pending: [{ path: "grants/a.yaml", file: file(GRANT.dev1Longer) }] }),
    new Date(T("12:00:00")),
  );
  expect(plan.pending[0]).toMatchObject({ change: "replacement", valid: true, extension: null });
  expect(plan.pending[0].on_merge).toMatch(
    /^needs 1 approval from @acme\/sre, sre1; active from the merge for 4h \(replaces a version that gives no access now\)/,
  );
});

test("a pending policy change needs an owner; an invalid one is located; grants are still judged by the current policy", () => {
  const ok = decide(facts({ pendingPolicy: { path: ".github/timebox.yml", file: file(POLICY_TEXT.replace("request_ttl: 24h", "request_ttl: 12h")) } }));
  expect(ok.pending).toEqual([
    expect.objectContaining({
      change: "policy change",
      valid: true,
      approval: { approvals: 1, approvers: ["@acme/security"] },
      on_merge: "needs 1 approval from the policy's owners (@acme/security); grants in the same PR are still judged by the current policy",
    }),
  ]);
  const bad = decide(facts({ pendingPolicy: { path: ".github/timebox.yml", file: file(POLICY_TEXT.replace("request_ttl: 24h", "request_ttl: soon")) } }));
  expect(bad.valid).toBe(false);
  expect(bad.invalid).toEqual([
    { path: ".github/timebox.yml", where: "checkout", diagnostics: [expect.objectContaining({ rule: "policy.duration", line: 4 })] },
  ]);
});

test("without a policy on the default branch a pending request is refused and nothing is active", () => {
  const plan = decide(facts({ policy: null, pending: [{ path: "grants/a.yaml", file: file(GRANT.dev1) }] }));
  expect(plan.pending[0]).toMatchObject({ valid: false, on_merge: "refused: there is no policy on the default branch" });
  expect(plan.invalid[0].diagnostics).toEqual([expect.objectContaining({ rule: "grant.no-policy" })]);
});

test("the JSON shape: every section present, times in UTC to the second, provider state never checked", () => {
  const plan = decide(facts({ grants: [merged("grants/a.yaml", GRANT.dev1)] }));
  expect(Object.keys(plan)).toEqual([
    "repository",
    "default_branch",
    "at",
    "provider_state_checked",
    "policy",
    "pending_source",
    "active",
    "revoke",
    "report",
    "invalid",
    "pending",
    "next_expiry",
    "valid",
  ]);
  expect(plan).toMatchObject({
    at: T("10:00:00"),
    provider_state_checked: false,
    default_branch: { ref: "HEAD", commit: "c".repeat(40) },
    next_expiry: { path: "grants/a.yaml", expires_at: T("11:00:00") },
  });
  expect(Object.keys(plan.active[0])).toEqual([
    "path",
    "requester",
    "resource",
    "role",
    "duration",
    "reason",
    "ticket",
    "emergency",
    "pull_request",
    "commit",
    "granted_at",
    "expires_at",
    "seconds_left",
    "extensions",
    "max_extensions",
    "approval",
    "action",
  ]);
});

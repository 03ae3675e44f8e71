/** The report's shapes with findings: JSON `{grants, findings}`, CSV rows only, the table's findings section, threshold flags. */
import { AUDIT_COLUMNS } from "../../src/audit/types.js";
import { cli } from "../cli/repo.js";
import { GitRepo, removeGitRepos, TRUST } from "./git-repo.js";
import { storiesRepo, STORY_ROWS } from "./stories.js";

afterAll(removeGitRepos);

let repo: GitRepo;
beforeAll(() => {
  repo = storiesRepo();
});

interface Json {
  grants: Array<Record<string, unknown>>;
  findings: Array<{ id: string; title: string; rule: string; status: string; items: Array<{ summary: string; grants: Array<Record<string, unknown>> }> }>;
}
const json = async (...args: string[]): Promise<Json> => {
  const r = await cli(["audit", ...TRUST(), "--repo", repo.root, "--format", "json", ...args], "/");
  expect(r).toMatchObject({ code: 0, stderr: "" });
  return JSON.parse(r.stdout);
};

test("json: grants with every column in order, then findings that point at them", async () => {
  const body = await json();
  expect(Object.keys(body)).toEqual(["grants", "findings"]);
  expect(body.grants).toHaveLength(STORY_ROWS.length);
  for (const g of body.grants) expect(Object.keys(g)).toEqual([...AUDIT_COLUMNS]);
  for (const f of body.findings) {
    expect(Object.keys(f)).toEqual(["id", "title", "rule", "status", "items"]);
    for (const item of f.items) {
      expect(Object.keys(item)).toEqual(["summary", "grants"]);
      for (const ref of item.grants) {
        expect(Object.keys(ref)).toEqual(["row", "grant", "requester", "pull_request", "granted_at"]);
        const row = body.grants[(ref.row as number) - 1];
        expect([row.grant, row.requester, row.pull_request, row.granted_at]).toEqual([ref.grant, ref.requester, ref.pull_request, ref.granted_at]);
      }
    }
  }
  const unapproved = body.findings.find((f) => f.id === "unapproved-content")!;
  expect(unapproved.items.map((i) => i.grants.map((g) => g.grant))).toEqual([["grants/dev5.yaml"]]);
  const breakglass = body.findings.find((f) => f.id === "break-glass")!;
  expect(breakglass.items.map((i) => i.grants.map((g) => g.pull_request))).toEqual([[28], [29], [30]]);
});

test("findings follow the filters: only the rows in the report count", async () => {
  const body = await json("--who", "dev5");
  expect(body.grants.map((g) => g.grant)).toEqual(["grants/dev5.yaml"]);
  expect(body.findings.filter((f) => f.status === "found").map((f) => f.id)).toEqual(["unapproved-content"]);
});

test("threshold flags change the findings", async () => {
  const statusOf = (b: Json, id: string) => b.findings.find((f) => f.id === id)!.status;
  const lag = await json("--lag-threshold", "2s");
  // dev1 was revoked 3 s after expiry; oncall1 and oncall2 2 s (not more than 2 s); dev4 1 s.
  expect(lag.findings.find((f) => f.id === "revocation-lag")!.items.map((i) => i.grants[0].pull_request)).toEqual([21, 33]);
  expect(statusOf(await json("--working-hours", "off"), "out-of-hours")).toBe("off");
  expect(statusOf(await json("--working-hours", "00:00-24:00", "--working-days", "Mon-Sun"), "out-of-hours")).toBe("clear");
  expect(statusOf(await json("--dominant-min", "10"), "dominant-approver")).toBe("clear");
  // oncall1 needed prod-db/admin twice (#28, #30); dev4's extended grant is one story (#25–#27).
  expect(statusOf(await json("--repeat-threshold", "2"), "repeated-access")).toBe("clear");
  const repeated = (await json("--repeat-threshold", "1")).findings.find((f) => f.id === "repeated-access")!;
  expect(repeated.items.map((i) => i.grants.map((g) => g.pull_request))).toEqual([[28, 30]]);
});

test("csv stays the rows alone, whatever was found", async () => {
  const r = await cli(["audit", ...TRUST(), "--repo", repo.root, "--format", "csv"], "/");
  const lines = r.stdout.split("\r\n");
  expect(lines[0]).toBe(AUDIT_COLUMNS.join(","));
  expect(lines).toHaveLength(STORY_ROWS.length + 2);
  expect(r.stdout).not.toMatch(/Findings|break-glass uses/i);
});

test("table: the findings section names rows by the numbers of the table", async () => {
  const r = await cli(["audit", ...TRUST(), "--repo", repo.root], "/");
  const [rows, findings] = r.stdout.split("\nFindings\n========\n");
  const row12 = rows.split("\n").find((l) => l.startsWith("12 "));
  expect(row12).toMatch(/^12 +grants\/dev5\.yaml +dev5 /);
  expect(findings).toContain("[FOUND] Unapproved content that reached the default branch (1): ");
  expect(findings).toContain("    row 12 grants/dev5.yaml\n");
  expect(findings).toContain("[needs --github] Approvals given right after the request: ");
});

test("a threshold that does not parse is a usage error", async () => {
  const r = await cli(["audit", ...TRUST(), "--repo", repo.root, "--lag-threshold", "soon"], "/");
  expect(r).toEqual({
    code: 2,
    stdout: "",
    stderr: "timebox audit: --lag-threshold: `soon` is not a duration; use ISO 8601 (PT2H, P1D) or shorthand (30m, 2h, 1h30m, 1d)\n",
  });
});

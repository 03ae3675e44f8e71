/** `timebox audit` over real Git repositories: exact rows, boundaries, formats, exit codes. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { auditRepository } from "../../src/audit/index.js";
import { AUDIT_COLUMNS } from "../../src/audit/types.js";
import { cli } from "../cli/repo.js";
import { POLICY_TEXT } from "../grants/helpers.js";
import { GitRepo, grantYaml, removeGitRepos, tempDir, testTrust, TRUST } from "./git-repo.js";
import { closedUnmerged } from "./messages.js";
import { EXPECTED, scenario } from "./scenario.js";

afterAll(removeGitRepos);

let repo: GitRepo;
beforeAll(() => {
  repo = scenario();
});

const json = async (...args: string[]) => {
  const r = await cli(["audit", ...TRUST(), "--repo", repo.root, "--format", "json", ...args], "/");
  expect(r).toMatchObject({ code: 0, stderr: "" });
  return JSON.parse(r.stdout) as { grants: typeof EXPECTED };
};
const grantsAt = async (time: string) => (await json("--at", time)).grants.map((g) => `${g.grant}@${g.granted_at.slice(11, 16)}`);

describe("the story of each grant", () => {
  test("exact rows, sorted by granted_at then path, from the library with a fixed now", async () => {
    const { rows, ref, grantsPath } = await auditRepository(repo.root, { trust: await testTrust(), now: new Date("2026-03-02T13:30:00Z") });
    expect({ ref, grantsPath }).toEqual({ ref: "HEAD", grantsPath: "grants/" });
    expect(rows).toEqual(EXPECTED.map((r, i) => (i === 3 ? { ...r, status: "active" } : r)));
  });

  test("a grant still on the branch is active until the second of its expiry, then overdue", async () => {
    const statusAt = async (now: string) => (await auditRepository(repo.root, { trust: await testTrust(), now: new Date(now) })).rows[3].status;
    expect(await statusAt("2026-03-02T14:19:59Z")).toBe("active");
    expect(await statusAt("2026-03-02T14:20:00Z")).toBe("overdue");
  });

  test("the CLI prints the same rows as one JSON object, columns in report order", async () => {
    const r = await cli(["audit", ...TRUST(), "--format", "json"], repo.root);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(Object.keys(body)).toEqual(["grants", "findings"]);
    expect(body.grants).toEqual(EXPECTED);
    for (const g of body.grants) expect(Object.keys(g)).toEqual([...AUDIT_COLUMNS]);
  });

  test("the PR's own commit is older than the merge: granted_at is when it reached the default branch", async () => {
    const [dev1] = (await json("--who", "dev1")).grants;
    expect(dev1.granted_at).toBe("2026-03-02T09:01:00Z"); // the PR commit is 08:30
  });

  test("a non-default branch checked out in a clone does not change the report (origin/HEAD wins)", async () => {
    const dir = tempDir();
    execFileSync("git", ["clone", "-q", repo.root, join(dir, "clone")]);
    const clone = join(dir, "clone");
    const g = (...a: string[]) => execFileSync("git", ["-c", "user.name=x", "-c", "user.email=x@example.com", ...a], { cwd: clone });
    g("checkout", "-q", "-b", "dev9-access");
    execFileSync("sh", ["-c", "mkdir -p grants && printf 'requester: dev9\\n' > grants/dev9.yaml"], { cwd: clone });
    g("add", "grants/dev9.yaml");
    g("commit", "-q", "-m", "unmerged request");
    const r = await cli(["audit", ...TRUST(), "--format", "json"], clone);
    expect(JSON.parse(r.stdout).grants).toEqual(EXPECTED);
  });

  test("grants_path comes from the policy at the tip", async () => {
    const other = new GitRepo();
    other.write({ ".github/timebox.yml": POLICY_TEXT.replace(/^grants_path:.*$/m, "") + "grants_path: access/\n" });
    other.write({
      "access/a.yml": grantYaml({ requester: "dev1", duration: "30m", reason: "r" }),
      "grants/b.yaml": grantYaml({ requester: "dev2", duration: "1h", reason: "r" }),
    });
    other.commit("Both", "2026-03-02T08:00:00Z");
    const { rows } = await auditRepository(other.root, { trust: await testTrust(), now: new Date("2026-03-02T08:10:00Z") });
    expect(rows.map((r) => [r.grant, r.status, r.expires_at, r.pull_request])).toEqual([["access/a.yml", "active", "2026-03-02T08:30:00Z", null]]);
  });

  test("paths with spaces, non-ASCII and newlines next to a grant do not confuse the history (git -z, no quoting)", async () => {
    const other = new GitRepo();
    const odd = "grants/dév 1\nx.yaml";
    const grant = "grants/dev-1_x.yaml";
    const file = grantYaml({ requester: "dev1", duration: "1h", reason: "r" });
    other.write({ [odd]: file, [grant]: file }).commit("Odd name", "2026-03-02T08:00:00Z");
    other.rm(odd).rm(grant).commit("Gone", "2026-03-02T08:10:00Z");
    const { rows } = await auditRepository(other.root, { trust: await testTrust() });
    expect(rows.map((r) => [r.grant, r.status, r.revoked_at])).toEqual([[grant, "removed", "2026-03-02T08:10:00Z"]]);
  });

  test("a grant file is what src/grants/files.ts says: dot-files and paths outside the safe set were never applied and have no row", async () => {
    const other = new GitRepo();
    const file = grantYaml({ requester: "dev1", duration: "1h", reason: "r" });
    const strays = ["grants/.hidden.yaml", "grants/.dot/x.yaml", "grants/-rf.yaml", "grants/dév.yaml", "grants/a b.yaml", "grants/x.yaml.bak"];
    other.write(Object.fromEntries([...strays, "grants/team/dev1.yml"].map((p) => [p, file]))).commit("Push", "2026-03-02T08:00:00Z");
    // Timebox records only grants: its record about another path has no version to speak for either.
    const record = { requester: "dev1", pr: 5, grantedAt: "2026-03-02T08:01:00Z", expiresAt: "2026-03-02T09:01:00Z", revokedAt: "2026-03-02T08:02:00Z" };
    other.commitAsTimebox(closedUnmerged({ ...record, path: "grants/.hidden.yaml", reason: "pr-closed" }), "2026-03-02T08:02:00Z");
    const { rows } = await auditRepository(other.root, { trust: await testTrust(), now: new Date("2026-03-02T08:30:00Z") });
    expect(rows.map((r) => r.grant)).toEqual(["grants/team/dev1.yml"]);
  });

  test("the environment and user config cannot redirect or thin the history (GIT_DIR, log.showRoot=false)", async () => {
    const other = new GitRepo();
    other.write({ "grants/a.yaml": grantYaml({ requester: "dev1", duration: "1h", reason: "r" }) }).commit("Root commit", "2026-03-02T08:00:00Z");
    const saved = { dir: process.env.GIT_DIR, params: process.env.GIT_CONFIG_PARAMETERS };
    process.env.GIT_DIR = join(repo.root, ".git");
    process.env.GIT_CONFIG_PARAMETERS = "'log.showroot'='false'";
    try {
      const { rows } = await auditRepository(other.root, { trust: await testTrust(), now: new Date("2026-03-02T08:30:00Z") });
      expect(rows.map((r) => [r.grant, r.status])).toEqual([["grants/a.yaml", "active"]]);
    } finally {
      for (const [k, v] of [
        ["GIT_DIR", saved.dir],
        ["GIT_CONFIG_PARAMETERS", saved.params],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test("an unreadable grant file still gets a row: what could be read, and no expiry", async () => {
    const other = new GitRepo();
    other.write({ "grants/bad.yaml": "requester: dev1\nduration: forever\nreason: [\n" }).commit("Broken", "2026-03-02T08:00:00Z");
    other.write({ "grants/odd.yaml": "requester: dev1\nduration: forever\n" }).commit("Odd", "2026-03-02T08:01:00Z");
    const { rows } = await auditRepository(other.root, { trust: await testTrust(), now: new Date("2026-03-02T09:00:00Z") });
    expect(rows.map((r) => [r.grant, r.requester, r.expires_at, r.status])).toEqual([
      ["grants/bad.yaml", null, null, "active"],
      ["grants/odd.yaml", "dev1", null, "active"],
    ]);
  });
});

describe("--at: who had access at that moment (granted_at <= at < end)", () => {
  test("from the second of granting", async () => {
    expect(await grantsAt("2026-03-02T09:00:59Z")).toEqual([]);
    expect(await grantsAt("2026-03-02T09:01:00Z")).toEqual(["grants/dev1-prod-db.yaml@09:01"]);
  });

  test("a recorded revocation ends access at Revoked-at, even when it lagged the expiry", async () => {
    expect(await grantsAt("2026-03-02T11:01:04Z")).toEqual(["grants/dev1-prod-db.yaml@09:01"]);
    expect(await grantsAt("2026-03-02T11:01:05Z")).toEqual([]);
  });

  test("at the exact second of expiry access is over (a grant not revoked yet)", async () => {
    expect(await grantsAt("2026-03-02T14:19:59Z")).toEqual(["grants/dev3-prod-db.yaml@12:20"]);
    expect(await grantsAt("2026-03-02T14:20:00Z")).toEqual([]);
  });

  test("a removal ends access at the removing commit; a replacement hands over in the same second", async () => {
    expect(await grantsAt("2026-03-02T10:44:59Z")).toEqual(["grants/dev1-prod-db.yaml@09:01", "grants/dev2-prod-db.yaml@10:15"]);
    expect(await grantsAt("2026-03-02T10:45:00Z")).toEqual(["grants/dev1-prod-db.yaml@09:01"]);
    expect(await grantsAt("2026-03-02T12:19:59Z")).toEqual(["grants/dev3-prod-db.yaml@12:00"]);
    expect(await grantsAt("2026-03-02T12:20:00Z")).toEqual(["grants/dev3-prod-db.yaml@12:20"]);
  });

  test("times without an offset are UTC; offsets are honoured", async () => {
    expect(await grantsAt("2026-03-02T09:01:00")).toEqual(["grants/dev1-prod-db.yaml@09:01"]);
    expect(await grantsAt("2026-03-02T10:01:00+01:00")).toEqual(["grants/dev1-prod-db.yaml@09:01"]);
  });

  test("combined with --who and --resource", async () => {
    expect((await json("--at", "2026-03-02T10:30:00Z", "--who", "DEV2")).grants).toEqual([EXPECTED[1]]);
    expect((await json("--at", "2026-03-02T10:30:00Z", "--resource", "prod-cache")).grants).toEqual([]);
  });
});

describe("filters", () => {
  const paths = async (...args: string[]) => (await json(...args)).grants.map((g) => `${g.grant}@${g.granted_at.slice(11, 16)}`);

  test("--who (case-insensitive) and --resource", async () => {
    expect(await paths("--who", "dev3")).toEqual(["grants/dev3-prod-db.yaml@12:00", "grants/dev3-prod-db.yaml@12:20"]);
    expect(await paths("--resource", "prod-db")).toHaveLength(5);
    expect(await paths("--resource", "prod")).toEqual([]);
  });

  test("--since keeps access windows that end after it", async () => {
    expect(await paths("--since", "2026-03-02T14:00:01Z")).toEqual(["grants/dev3-prod-db.yaml@12:20", "grants/dev4-prod-db.yaml@13:00"]);
    expect(await paths("--since", "2026-03-02T14:00:02Z")).toEqual(["grants/dev3-prod-db.yaml@12:20"]);
  });

  test("--until keeps access windows that start before it; a bare date includes that whole day", async () => {
    expect(await paths("--until", "2026-03-02T10:15:00Z")).toEqual(["grants/dev1-prod-db.yaml@09:01"]);
    expect(await paths("--until", "2026-03-01")).toEqual([]);
    expect(await paths("--until", "2026-03-02")).toHaveLength(5);
  });

  test("--since and --until together: the window overlaps the period", async () => {
    expect(await paths("--since", "2026-03-02T10:50:00Z", "--until", "2026-03-02T12:00:00Z")).toEqual(["grants/dev1-prod-db.yaml@09:01"]);
  });
});

describe("formats", () => {
  test("csv: a header row, RFC 4180 quoting, CRLF line ends", async () => {
    const r = await cli(["audit", ...TRUST(), "--repo", repo.root, "--format", "csv"], "/");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\r\n");
    expect(lines.at(-1)).toBe("");
    expect(lines[0]).toBe(
      "grant,requester,resource,role,reason,ticket,emergency,pull_request,origin,requested_at,approved_by,approved_at,granted_at,expires_at,revoked_at,revoke_reason,status," +
        "extension_of,extensions,review_due,reviewed_by,reviewed_at,outcome,outcome_by,outcome_at",
    );
    expect(lines).toHaveLength(EXPECTED.length + 2);
    expect(lines[1]).toBe(
      "grants/dev1-prod-db.yaml,dev1,prod-db,readonly,Investigate INC-1234 slow checkout queries,INC-1234,false,12,pull-request,,alice bob,,2026-03-02T09:01:00Z,2026-03-02T11:01:00Z,2026-03-02T11:01:05Z,expired,revoked,,0,,,,,,",
    );
    expect(lines[2]).toBe(
      'grants/dev2-prod-db.yaml,dev2,prod-db,readwrite,"Backfill, with a comma and ""quotes""",INC-2000,false,13,pull-request,,,,2026-03-02T10:15:00Z,2026-03-02T14:15:00Z,2026-03-02T10:45:00Z,removed,removed,,0,,,,,,',
    );
    expect(lines[4]).toBe(
      "grants/dev3-prod-db.yaml,dev3,prod-db,readonly,Outage: checkout down,INC-3000,true,15,pull-request,,,,2026-03-02T12:20:00Z,2026-03-02T14:20:00Z,,,overdue,14,1,,,,,,",
    );
  });

  test("csv with no rows is the header alone", async () => {
    const r = await cli(["audit", ...TRUST(), "--repo", repo.root, "--format", "csv", "--who", "nobody"], "/");
    expect(r.stdout).toBe(`${AUDIT_COLUMNS.join(",")}\r\n`);
  });

  test("table (the default): numbered, aligned columns, one line per row, a count, then the findings", async () => {
    const r = await cli(["audit", ...TRUST(), "--repo", repo.root], "/");
    expect(r.code).toBe(0);
    const [rowsPart, findingsPart] = r.stdout.split("\nFindings\n");
    const lines = rowsPart.trimEnd().split("\n");
    expect(lines).toHaveLength(EXPECTED.length + 3);
    expect(lines[0]).toMatch(
      /^row +grant +requester +resource +role +reason +ticket +emergency +pull_request +origin +requested_at +approved_by +approved_at +granted_at +expires_at +revoked_at +revoke_reason +status +extension_of +extensions +review_due +reviewed_by +reviewed_at +outcome +outcome_by +outcome_at$/,
    );
    expect(lines[1]).toMatch(/^-+( +-+){25}$/);
    const col = lines[0].indexOf("granted_at");
    for (const [i, row] of EXPECTED.entries()) {
      expect(lines[i + 2].startsWith(`${i + 1} `)).toBe(true);
      expect(lines[i + 2].slice(col, col + 20)).toBe(row.granted_at);
    }
    expect(lines[2]).toContain("#12");
    expect(lines.at(-1)).toBe("5 grants");
    expect(findingsPart).toContain("[FOUND] Break-glass uses and their review (1): ");
    expect(findingsPart).toContain("    row 3 grants/dev3-prod-db.yaml #14; row 4 grants/dev3-prod-db.yaml #15");
  });

  test("--out writes the report to a file and prints nothing", async () => {
    const out = join(tempDir(), "audit.json");
    const r = await cli(["audit", ...TRUST(), "--repo", repo.root, "--format", "json", "--out", out], "/");
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(JSON.parse(readFileSync(out, "utf8")).grants).toEqual(EXPECTED);
  });
});

describe("exit codes", () => {
  test("2 for a path that is not a Git repository", async () => {
    const r = await cli(["audit", ...TRUST(), "--repo", tempDir()], "/");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^timebox audit: .* is not a Git repository/);
  });

  test("2 for a path that does not exist", async () => {
    const r = await cli(["audit", ...TRUST(), "--repo", "/nonexistent/timebox-audit"], "/");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a Git repository/);
  });

  test("0 and no rows for a repository without commits", async () => {
    const empty = new GitRepo();
    const r = await cli(["audit", ...TRUST(), "--format", "json"], empty.root);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const body = JSON.parse(r.stdout);
    expect(body.grants).toEqual([]);
    expect(body.findings.map((f: { status: string }) => f.status)).toEqual([
      "clear",
      "clear",
      "needs-github",
      "clear",
      "clear",
      "clear",
      "clear",
      "clear",
      "clear",
    ]);
  });

  test.each([
    ["a bad --at", ["--at", "yesterday"], /--at "yesterday" is not a date or time/],
    ["a bad --since", ["--since", "2026-13-01"], /--since/],
    ["--since after --until", ["--since", "2026-03-03", "--until", "2026-03-02"], /--since must be before --until/],
    ["an unknown format", ["--format", "xml"], /xml/],
    ["an unknown option", ["--bogus"], /unknown option/],
  ])("2 for %s, with a message on stderr and nothing on stdout", async (_name, args, message) => {
    const r = await cli(["audit", ...TRUST(), "--repo", repo.root, ...args], "/");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe("");
  });

  test("2 when --out cannot be written", async () => {
    const r = await cli(["audit", ...TRUST(), "--repo", repo.root, "--out", join(tempDir(), "no/such/dir/x.csv")], "/");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot write .*ENOENT/);
  });

  test("audit changes nothing in the repository", async () => {
    const status = () => repo.git(["status", "--porcelain", "--ignored"]) + repo.git(["rev-parse", "HEAD"]);
    const before = status();
    await cli(["audit", ...TRUST(), "--repo", repo.root, "--format", "csv"], "/");
    expect(status()).toBe(before);
  });
});

/** `timebox audit --format jsonl`: one Timebox event per state change, for a SIEM. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { jest } from "@jest/globals";
import { auditRepository, type AuditRow } from "../../src/audit/index.js";
import { auditEvents, formatJsonl } from "../../src/audit/events.js";
import { findPatterns } from "../../src/audit/findings/index.js";
import { parseRemote, webHostOf } from "../../src/audit/remote.js";
import { emptyRow } from "../../src/audit/types.js";
import { findingOptions } from "../../src/cli/audit-options.js";
import type { TimeboxEvent } from "../../src/events/event.js";
import { cli } from "../cli/repo.js";
import { GitRepo, grantYaml, removeGitRepos, tempDir, testTrust, TRUST } from "./git-repo.js";
import { outcome } from "./messages.js";
import { STORIES_NOW, storiesRepo } from "./stories.js";

afterAll(removeGitRepos);
// Real git histories and CLI runs: slow on a busy machine.
jest.setTimeout(60_000);

const D = "2026-03-02T";
const SOURCE = { repository: "acme/access", host: "https://github.com", now: STORIES_NOW };

let repo: GitRepo;
beforeAll(() => {
  repo = storiesRepo();
  // A record Timebox did not write: an unsigned outcome commit in the bot's name.
  repo.commitAsTimebox(outcome({ path: "grants/dev2.yaml", pr: 22, text: "All good", by: "dev2", at: `${D}20:00:00Z` }), `${D}20:00:00Z`, {
    signature: "none",
  });
  repo.git(["remote", "add", "origin", "https://github.com/acme/access.git"]);
});

/** The events of the stories repository, as the library builds them (a fixed now, no filters). */
async function libraryEvents(window: { since?: Date; until?: Date } = {}, now = STORIES_NOW): Promise<TimeboxEvent[]> {
  const result = await auditRepository(repo.root, { trust: await testTrust(), now });
  const options = findingOptions({}, now);
  if (!options.ok) throw new Error(options.message);
  const findings = findPatterns(result.rows, options.value, undefined, result.lookAlikes);
  return auditEvents({ rows: result.rows, findings, lookAlikes: result.lookAlikes }, { ...SOURCE, now }, window);
}

const brief = (e: TimeboxEvent) => `${e.time} ${e.type.slice("dev.timebox.".length)} ${e.subject} ${e.id.slice("acme/access/".length)}`;

const STORY_EVENTS = [
  `${D}02:00:00Z breakglass.used grants/oncall1-admin.yaml grants/oncall1-admin.yaml/breakglass.used/pr-28`,
  `${D}02:10:00Z breakglass.reviewed grants/oncall1-admin.yaml grants/oncall1-admin.yaml/breakglass.reviewed/pr-28`,
  `${D}02:30:02Z revoked grants/oncall1-admin.yaml grants/oncall1-admin.yaml/revoked/pr-28`,
  `${D}09:00:00Z applied grants/dev1.yaml grants/dev1.yaml/applied/pr-21`,
  `${D}09:30:00Z applied grants/dev2.yaml grants/dev2.yaml/applied/pr-22`,
  `${D}10:00:00Z revoked grants/dev2.yaml grants/dev2.yaml/revoked/pr-22`,
  `${D}10:00:30Z applied grants/dev3.yaml grants/dev3.yaml/applied/pr-24`,
  `${D}10:30:00Z revoked grants/dev3.yaml grants/dev3.yaml/revoked/pr-24`,
  `${D}11:00:00Z applied grants/dev4.yaml grants/dev4.yaml/applied/pr-25`,
  `${D}11:00:03Z revoked grants/dev1.yaml grants/dev1.yaml/revoked/pr-21`,
  `${D}11:45:00Z extended grants/dev4.yaml grants/dev4.yaml/extended/pr-26`,
  `${D}12:00:00Z applied grants/shared.yaml grants/shared.yaml/applied/pr-32`,
  `${D}12:00:00Z outcome grants/dev1.yaml grants/dev1.yaml/outcome/pr-21`,
  `${D}12:30:00Z applied grants/shared.yaml grants/shared.yaml/applied/pr-33`,
  `${D}12:30:00Z revoked grants/shared.yaml grants/shared.yaml/revoked/pr-32`,
  `${D}13:00:00Z extended grants/dev4.yaml grants/dev4.yaml/extended/pr-27`,
  `${D}14:00:01Z revoked grants/dev4.yaml grants/dev4.yaml/revoked/pr-27`,
  `${D}14:50:00Z breakglass.used grants/oncall2.yaml grants/oncall2.yaml/breakglass.used/pr-29`,
  `${D}15:05:00Z breakglass.review_overdue grants/oncall2.yaml grants/oncall2.yaml/breakglass.review_overdue/pr-29`,
  `${D}15:20:02Z revoked grants/oncall2.yaml grants/oncall2.yaml/revoked/pr-29`,
  `${D}16:00:00Z breakglass.used grants/oncall1-admin.yaml grants/oncall1-admin.yaml/breakglass.used/pr-30`,
  `${D}16:15:00Z breakglass.review_overdue grants/oncall1-admin.yaml grants/oncall1-admin.yaml/breakglass.review_overdue/pr-30`,
  `${D}16:20:01Z revoked grants/oncall1-admin.yaml grants/oncall1-admin.yaml/revoked/pr-30`,
  `${D}17:00:00Z unapproved grants/dev5.yaml grants/dev5.yaml/unapproved/at-${D}17:00:00Z`,
  `${D}18:00:00Z applied grants/dev6.yaml grants/dev6.yaml/applied/pr-31`,
  `${D}18:30:00Z revoked grants/dev6.yaml grants/dev6.yaml/revoked/pr-31`,
  `${D}19:00:00Z revoked grants/dev5.yaml grants/dev5.yaml/revoked/at-${D}17:00:00Z`,
  `${D}20:00:00Z unapproved grants/dev2.yaml grants/dev2.yaml/unapproved/commit-`,
];

describe("events from the history", () => {
  test("one event per state change, sorted by time then lifecycle order, with ids made of the history", async () => {
    const events = await libraryEvents();
    const lines = events.map(brief);
    expect(lines.slice(0, -1)).toEqual(STORY_EVENTS.slice(0, -1));
    expect(lines.at(-1)).toMatch(new RegExp(`^${STORY_EVENTS.at(-1)}[0-9a-f]{40}$`));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  test("the envelope is CloudEvents 1.0 and each type carries its facts", async () => {
    const events = await libraryEvents();
    const find = (type: string, subject: string, n = 0) => events.filter((e) => e.type === `dev.timebox.${type}` && e.subject === subject)[n];
    for (const e of events) {
      expect(e).toMatchObject({ specversion: "1.0", source: "https://github.com/acme/access", datacontenttype: "application/json" });
      expect(e.data.repository).toBe("acme/access");
      expect(e.data.grant).toBe(e.subject);
    }
    expect(find("breakglass.used", "grants/oncall1-admin.yaml")).toEqual({
      specversion: "1.0",
      id: "acme/access/grants/oncall1-admin.yaml/breakglass.used/pr-28",
      source: "https://github.com/acme/access",
      type: "dev.timebox.breakglass.used",
      subject: "grants/oncall1-admin.yaml",
      time: `${D}02:00:00Z`,
      datacontenttype: "application/json",
      data: {
        repository: "acme/access",
        grant: "grants/oncall1-admin.yaml",
        requester: "oncall1",
        resource: "prod-db",
        role: "admin",
        reason: "Checkout down",
        ticket: "INC-28",
        emergency: true,
        origin: "pull-request",
        pull_request: 28,
        url: "https://github.com/acme/access/pull/28",
        approved_by: ["bob"],
        granted_at: `${D}02:00:00Z`,
        expires_at: `${D}02:30:00Z`,
        review_due: `${D}02:15:00Z`,
        reviewed_by: ["bob"],
        actor: "oncall1",
      },
    });
    expect(find("breakglass.reviewed", "grants/oncall1-admin.yaml").data.actor).toBe("bob");
    expect(find("revoked", "grants/dev3.yaml").data).toMatchObject({ detail: "revoked-by:alice", actor: "alice" });
    expect(find("revoked", "grants/dev1.yaml").data).toMatchObject({ detail: "expired", approved_by: ["alice", "carol"] });
    expect(find("revoked", "grants/dev1.yaml").data.actor).toBeUndefined();
    expect(find("revoked", "grants/dev2.yaml").data.detail).toBe("removed");
    expect(find("revoked", "grants/shared.yaml").data).toMatchObject({ detail: "replaced", requester: "dev7" });
    expect(find("revoked", "grants/dev6.yaml").data.detail).toBe("drift");
    expect(find("revoked", "grants/oncall1-admin.yaml", 1).data).toMatchObject({ detail: "pr-closed", origin: "closed-unmerged", pull_request: 30 });
    expect(find("extended", "grants/dev4.yaml", 1).data).toMatchObject({
      pull_request: 27,
      extension_of: 25,
      granted_at: `${D}13:00:00Z`,
      expires_at: `${D}14:00:00Z`,
      actor: "dev4",
    });
    expect(find("outcome", "grants/dev1.yaml").data).toMatchObject({ outcome: 'Fixed the index; "slow" <queries> gone', actor: "dev1" });
    expect(find("unapproved", "grants/dev5.yaml").data).toMatchObject({ origin: "direct-push", requester: "dev5", granted_at: `${D}17:00:00Z` });
    expect(find("unapproved", "grants/dev5.yaml").data.detail).toMatch(/reached the default branch at 2026-03-02T17:00:00Z without a pull request/);
    expect(find("unapproved", "grants/dev5.yaml").data.url).toBeUndefined();
    const forged = find("unapproved", "grants/dev2.yaml");
    expect(forged.data.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(forged.data.detail).toMatch(
      new RegExp(`^commit ${forged.data.commit!.slice(0, 12)} by timebox\\[bot\\] <[^>]+> carries Timebox's trailers but .*not signed`),
    );
  });

  test("content pushed without a pull request is unapproved, never applied", async () => {
    const types = (await libraryEvents()).filter((e) => e.subject === "grants/dev5.yaml").map((e) => e.type);
    expect(types).toEqual(["dev.timebox.unapproved", "dev.timebox.revoked"]);
  });

  test("a break-glass review becomes overdue only once its due time has passed", async () => {
    const overdue = async (now: string) =>
      (await libraryEvents({}, new Date(now))).filter((e) => e.type === "dev.timebox.breakglass.review_overdue").map((e) => e.subject + " " + e.time);
    expect(await overdue(`${D}16:14:59Z`)).toEqual([`grants/oncall2.yaml ${D}15:05:00Z`]);
    expect(await overdue(`${D}16:15:00Z`)).toEqual([`grants/oncall2.yaml ${D}15:05:00Z`, `grants/oncall1-admin.yaml ${D}16:15:00Z`]);
  });

  test("the same history gives the same lines, ids included, run after run", async () => {
    const first = formatJsonl(await libraryEvents());
    const second = formatJsonl(await libraryEvents());
    expect(second).toBe(first);
  });

  test("--since/--until keep the events whose time is in [since, until)", async () => {
    const events = await libraryEvents({ since: new Date(`${D}10:00:00Z`), until: new Date(`${D}11:00:03Z`) });
    expect(events.map(brief)).toEqual(STORY_EVENTS.slice(5, 9));
    // Ids do not depend on the window: an overlapping export deduplicates.
    const all = await libraryEvents();
    expect(events.map((e) => e.id)).toEqual(all.slice(5, 9).map((e) => e.id));
  });
});

describe("the --github facts", () => {
  const rowWith = (fields: Partial<AuditRow>): AuditRow => ({
    ...emptyRow("grants/x.yaml", `${D}09:00:00Z`),
    requester: "dev1",
    resource: "prod-db",
    role: "readonly",
    origin: "pull-request",
    pull_request: 40,
    ...fields,
  });

  test("requested and approved at the times GitHub gives; a break-glass grant's approval is its review, told once", () => {
    const normal = rowWith({ requested_at: `${D}08:00:00Z`, approved_by: ["alice", "bob"], approved_at: `${D}08:30:00Z` });
    const glass = rowWith({
      grant: "grants/y.yaml",
      pull_request: 41,
      emergency: true,
      requested_at: `${D}08:00:00Z`,
      approved_by: ["carol"],
      approved_at: `${D}08:40:00Z`,
      reviewed_by: ["carol"],
      reviewed_at: `${D}08:40:00Z`,
      granted_at: `${D}08:00:00Z`,
    });
    const events = auditEvents({ rows: [normal, glass], findings: [] }, SOURCE);
    expect(events.map((e) => `${e.time} ${e.type} ${e.subject} ${e.data.actor ?? "-"}`)).toEqual([
      `${D}08:00:00Z dev.timebox.requested grants/x.yaml dev1`,
      `${D}08:00:00Z dev.timebox.requested grants/y.yaml dev1`,
      `${D}08:00:00Z dev.timebox.breakglass.used grants/y.yaml dev1`,
      `${D}08:30:00Z dev.timebox.approved grants/x.yaml bob`,
      `${D}08:40:00Z dev.timebox.breakglass.reviewed grants/y.yaml carol`,
      `${D}09:00:00Z dev.timebox.applied grants/x.yaml -`,
    ]);
  });

  test("without --github nothing says when a PR was opened or approved: no requested or approved event", () => {
    const types = auditEvents({ rows: [rowWith({ approved_by: ["alice"] })], findings: [] }, SOURCE).map((e) => e.type);
    expect(types).toEqual(["dev.timebox.applied"]);
  });

  test("two versions with the same identity keep distinct, ordered ids", () => {
    const a = rowWith({ grant: "grants/z.yaml", pull_request: null, origin: "direct-push", status: "revoked" });
    const b = rowWith({ grant: "grants/z.yaml", pull_request: null, origin: "direct-push", status: "revoked" });
    const ids = auditEvents({ rows: [a, b], findings: [] }, SOURCE).map((e) => e.id);
    expect(ids).toEqual([`acme/access/grants/z.yaml/applied/at-${D}09:00:00Z`, `acme/access/grants/z.yaml/applied/at-${D}09:00:00Z~2`]);
  });
});

describe("jsonl lines", () => {
  test("hostile strings stay on one line and parse back exactly", () => {
    const reason = 'line one\nline two\r\n"quoted" \\ back\u2028sep\u2029para\u0085next\u0000nul \u{1F600}';
    const row: AuditRow = {
      ...emptyRow("grants/h.yaml", `${D}09:00:00Z`),
      requester: "dev1",
      origin: "pull-request",
      reason,
      outcome: "ok\u2028",
      outcome_at: `${D}10:00:00Z`,
    };
    const text = formatJsonl(auditEvents({ rows: [row], findings: [] }, SOURCE));
    expect(text.endsWith("\n")).toBe(true);
    const lines = text.slice(0, -1).split("\n");
    expect(lines).toHaveLength(2);
    // Nothing any common splitter (JavaScript, Python's splitlines) breaks a line at.
    // eslint-disable-next-line no-control-regex
    for (const line of lines) expect(line).not.toMatch(/[\r\n\u2028\u2029\u0085\u000b\u000c\u001c-\u001e\u0000\u001b]/);
    expect(lines.map((l) => JSON.parse(l).data.reason)).toEqual([reason, reason]);
    expect(JSON.parse(lines[1]).data.outcome).toBe("ok\u2028");
  });

  test("no events, no output", () => {
    expect(formatJsonl([])).toBe("");
  });
});

describe("timebox audit --format jsonl", () => {
  test("prints exactly the library's events, one JSON object per line", async () => {
    const r = await cli(["audit", ...TRUST(), "--repo", repo.root, "--format", "jsonl"], "/");
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const library = await libraryEvents({}, new Date());
    expect(r.stdout).toBe(formatJsonl(library));
    const parsed = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as TimeboxEvent);
    expect(parsed.map(brief)).toHaveLength(STORY_EVENTS.length);
  });

  const lines = async (...args: string[]) => {
    const r = await cli(["audit", ...TRUST(), "--repo", repo.root, "--format", "jsonl", ...args], "/");
    expect(r).toMatchObject({ code: 0, stderr: "" });
    return r.stdout === ""
      ? []
      : r.stdout
          .trimEnd()
          .split("\n")
          .map((l) => brief(JSON.parse(l)));
  };
  /** A record Timebox did not write that speaks for no version is about the history itself: always there (as its finding). */
  const forged = (l: string) => l.includes(" unapproved grants/dev2.yaml ");

  test("--since/--until keep the events whose time is in the window", async () => {
    expect(await lines("--since", `${D}10:00:00Z`, "--until", `${D}11:00:03Z`)).toEqual(STORY_EVENTS.slice(5, 9));
  });

  test("--who keeps the grants of that requester, with all their events", async () => {
    const dev4 = await lines("--who", "dev4");
    expect(dev4.filter((l) => !forged(l))).toEqual(STORY_EVENTS.filter((l) => l.includes(" grants/dev4.yaml ")));
    expect(dev4.filter(forged)).toHaveLength(1);
  });

  test("--resource and --at select grants as for the other formats", async () => {
    expect((await lines("--resource", "nothing-here")).filter((l) => !forged(l))).toEqual([]);
    expect((await lines("--at", `${D}10:15:00Z`)).filter((l) => !forged(l))).toEqual(STORY_EVENTS.filter((l) => / grants\/dev[13]\.yaml .*pr-2[14]$/.test(l)));
  });

  test("--out writes the same lines as stdout", async () => {
    const out = join(tempDir(), "events.jsonl");
    const r = await cli(
      ["audit", ...TRUST(), "--repo", repo.root, "--format", "jsonl", "--out", out, "--since", `${D}10:00:00Z`, "--until", `${D}11:00:03Z`],
      "/",
    );
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(
      readFileSync(out, "utf8")
        .trimEnd()
        .split("\n")
        .map((l) => brief(JSON.parse(l))),
    ).toEqual(STORY_EVENTS.slice(5, 9));
  });

  test("a grant reason with a newline, quotes and U+2028 from a real history stays on one line", async () => {
    const other = new GitRepo();
    other.write({ "grants/h.yaml": grantYaml({ requester: "dev1", duration: "1h", reason: "x" }).replace('reason: "x"', 'reason: "a\\nb \\"q\\" c\\u2028d"') });
    other.commit("hostile (#7)", `${D}09:00:00Z`);
    const r = await cli(["audit", ...TRUST(), "--repo", other.root, "--format", "jsonl"], "/");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/[\n\u2028]/);
    const event = JSON.parse(lines[0]) as TimeboxEvent;
    expect(event.data.reason).toBe('a\nb "q" c\u2028d');
    // No origin remote: the folder's name stands for the repository.
    expect(event.source).toBe(`https://github.com/${other.root.split("/").at(-1)}`);
  });
});

describe("which repository the events name", () => {
  test.each([
    ["https://github.com/acme/access.git", "https://github.com", "acme/access"],
    ["https://x-access-token:ghp_secret@github.com/acme/access", "https://github.com", "acme/access"],
    ["git@github.example.com:acme/access.git", "https://github.example.com", "acme/access"],
    ["ssh://git@GHE.example.com:2222/acme/access.git", "https://ghe.example.com", "acme/access"],
  ])("%s", (url, host, repository) => {
    expect(parseRemote(url)).toEqual({ host, repository });
  });

  test.each([["/srv/git/access.git"], ["https://gitlab.com/group/sub/access.git"], ["file:///tmp/acme/access"], [""]])("%s names none", (url) => {
    expect(parseRemote(url)).toBeUndefined();
  });

  test("the web host behind an API base, without credentials", () => {
    expect(webHostOf("https://api.github.com")).toBe("https://github.com");
    expect(webHostOf("https://user:pw@ghe.example.com/api/v3/")).toBe("https://ghe.example.com");
  });
});

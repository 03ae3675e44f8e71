#!/usr/bin/env node
/**
 * Audit time over a generated history of 100,000 commits (issue 6: aim under 10 s). The history is
 * written with `git fast-import` and tells realistic grant stories: PRs merged with merge commits
 * and removed by Timebox's commits with full trailers, extensions, break-glass grants (reviewed,
 * late, never, closed unmerged), early removals, direct pushes, outcome records and unrelated
 * commits. Then the built CLI (`lib/cli/main.js audit --format json`) runs over it as a process;
 * on a terminal its progress bar shows on stderr. Also measured in-process: how long reading the
 * history takes, so the figure says where the time goes. Run alone with `node bench/audit.js`,
 * or through `npm run bench`. Figures only: nothing here fails on time.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** A small deterministic PRNG, so every run builds the same history. */
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const iso = (seconds) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
const data = (text) => `data ${Buffer.byteLength(text)}\n${text}\n`;

/**
 * The fast-import stream for a history of about `target` commits. Returns the stream's text and
 * what it holds.
 */
export function generateHistory(target = 100_000, seed = 42) {
  const random = prng(seed);
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const people = Array.from({ length: 60 }, (_, i) => `dev${i + 1}`);
  const oncall = ["oncall1", "oncall2", "oncall3", "oncall4"];
  const approvers = ["alice", "bob", "carol", "dave", "erin"];
  const resources = ["prod-db", "prod-cache", "billing-db", "k8s-prod", "github-org"];
  const out = [];
  let mark = 0;
  let commits = 0;
  let mainTip = 0;
  let now = Date.parse("2025-01-06T08:00:00Z") / 1000;
  let pr = 1;
  const stats = { commits: 0, stories: 0, extensions: 0, breakglass: 0, closedUnmerged: 0, directPushes: 0, outcomes: 0, earlyRemovals: 0 };

  const commit = (ref, message, changes, { from = mainTip, merge } = {}) => {
    mark += 1;
    commits += 1;
    now += 60 + Math.floor(random() * 240);
    out.push(`commit ${ref}\nmark :${mark}\ncommitter Timebox Bench <bench@example.com> ${now} +0000\n${data(message)}`);
    if (from) out.push(`from :${from}\n`);
    if (merge) out.push(`merge :${merge}\n`);
    for (const c of changes) out.push(c.delete ? `D ${c.path}\n` : `M 100644 inline ${c.path}\n${data(c.content)}`);
    out.push("\n");
    if (ref === "refs/heads/main") mainTip = mark;
    return mark;
  };
  const grantFile = (g) =>
    [
      `requester: ${g.requester}`,
      `resource: ${g.resource}`,
      `role: ${g.role}`,
      `duration: ${g.duration}`,
      `reason: "${g.reason}"`,
      `ticket: ${g.ticket}`,
      ...(g.emergency ? ["emergency: true"] : []),
      "",
    ].join("\n");
  /** A PR merged with a merge commit; returns its merge time. */
  const mergePr = (n, changes) => {
    const head = commit("refs/heads/pr", `Request access (#${n} head)`, changes);
    commit("refs/heads/main", `Merge pull request #${n} from org/request-${n}\n\nRequest access`, changes, { merge: head });
    return now;
  };
  const trailers = (g, fields) =>
    [
      `Timebox-Grant: ${g.path}`,
      `Requested-by: ${g.requester}`,
      `Resource: ${g.resource}`,
      `Role: ${g.role}`,
      `Approved-by: ${g.approvedBy.join(", ")}`,
      `Pull-Request: #${g.pr}`,
      `Granted-at: ${iso(g.grantedAt)}`,
      `Expires-at: ${iso(g.expiresAt)}`,
      `Revoked-at: ${iso(fields.revokedAt)}`,
      `Revoke-Reason: ${fields.reason}`,
      ...(g.extensionOf ? [`Extension-Of: #${g.extensionOf}`, `Extensions: ${g.extensions}`] : []),
      ...(g.emergency
        ? [
            "Emergency: true",
            `Review-Due: ${iso(g.grantedAt + 900)}`,
            ...(g.reviewedAt ? [`Reviewed-by: ${g.approvedBy[0] ?? "alice"}`, `Reviewed-at: ${iso(g.reviewedAt)}`] : []),
          ]
        : []),
      ...(fields.text ? [`Reason: ${g.reason}`, `Ticket: ${g.ticket}`] : []),
      "Timebox-Run: 5e1f00d1",
    ].join("\n");

  commit(
    "refs/heads/main",
    "Initial policy",
    [
      { path: ".github/timebox.yml", content: "version: 1\ngrants_path: grants/\n" },
      { path: "README.md", content: "access\n" },
    ],
    { from: 0 },
  );
  /** Open grants, oldest first: at most ~40 at a time, as in a busy organisation. */
  const open = [];
  while (commits < target) {
    const roll = random();
    if (open.length > 0 && (open.length >= 40 || roll < 0.45)) {
      // The oldest open grant ends.
      const g = open.shift();
      if (g.direct) {
        commit("refs/heads/main", `remove ${g.path}`, [{ path: g.path, delete: true }]);
        continue;
      }
      if (random() < 0.05) {
        mergePr(pr++, [{ path: g.path, delete: true }]);
        stats.earlyRemovals += 1;
      } else {
        const revokedAt = Math.max(g.expiresAt, now) + Math.floor(random() * 8);
        commit(
          "refs/heads/main",
          `Revoke expired grant ${g.path}\n\n${g.requester}'s access ended: expired.\n\n${trailers(g, { revokedAt, reason: "expired" })}`,
          [{ path: g.path, delete: true }],
        );
      }
      if (random() < 0.3) {
        commit(
          "refs/heads/main",
          `Record outcome of ${g.path} (PR #${g.pr})\n\nTimebox-Grant: ${g.path}\nPull-Request: #${g.pr}\nOutcome: Done, ticket ${g.ticket} closed\nOutcome-By: ${g.requester}\nRecorded-at: ${iso(now)}\nTimebox-Run: 5e1f00d1`,
          [],
        );
        stats.outcomes += 1;
      }
      continue;
    }
    if (roll < 0.5 && open.length > 0 && random() < 0.2) {
      // Extend the newest open grant through another PR.
      const g = open[open.length - 1];
      if (g.direct || g.emergency) continue;
      g.extensionOf ??= g.pr;
      g.extensions = (g.extensions ?? 0) + 1;
      g.pr = pr++;
      g.duration = "2h";
      g.grantedAt = mergePr(g.pr, [{ path: g.path, content: grantFile({ ...g, reason: `${g.reason} (extended)` }) }]);
      g.expiresAt = g.grantedAt + 7200;
      stats.extensions += 1;
      continue;
    }
    if (roll < 0.56) {
      commit("refs/heads/main", "Docs", [{ path: "README.md", content: `access ${commits}\n` }]);
      continue;
    }
    stats.stories += 1;
    const n = stats.stories;
    const emergency = random() < 0.05;
    const requester = emergency ? pick(oncall) : pick(people);
    const g = {
      path: `grants/${requester}-${n}.yaml`,
      requester,
      resource: pick(resources),
      role: emergency ? "admin" : pick(["readonly", "readonly", "readwrite"]),
      duration: emergency ? "30m" : pick(["1h", "2h", "4h"]),
      reason: `Investigate INC-${10_000 + n}`,
      ticket: `INC-${10_000 + n}`,
      emergency,
      approvedBy: [pick(approvers)],
      pr: pr++,
    };
    const ms = { "30m": 1800, "1h": 3600, "2h": 7200, "4h": 14_400 }[g.duration];
    if (emergency && random() < 0.2) {
      // Break-glass whose PR was closed unmerged: only Timebox's empty record reaches the branch.
      g.grantedAt = now;
      g.expiresAt = now + ms;
      g.approvedBy = [];
      commit(
        "refs/heads/main",
        `Revoke emergency grant ${g.path} (PR #${g.pr} closed unmerged)\n\n${trailers(g, { revokedAt: now + 600, reason: "pr-closed", text: true })}`,
        [],
      );
      stats.closedUnmerged += 1;
      stats.breakglass += 1;
      continue;
    }
    if (!emergency && random() < 0.01) {
      g.direct = true;
      commit("refs/heads/main", "add my access", [{ path: g.path, content: grantFile(g) }]);
      stats.directPushes += 1;
      open.push(g);
      continue;
    }
    const applied = now;
    g.grantedAt = mergePr(g.pr, [{ path: g.path, content: grantFile(g) }]);
    if (emergency) {
      g.grantedAt = applied; // break-glass applied when the PR opened, before the merge
      g.reviewedAt = random() < 0.7 ? applied + Math.floor(random() * 1800) : undefined;
      if (!g.reviewedAt) g.approvedBy = [];
      stats.breakglass += 1;
    }
    g.expiresAt = g.grantedAt + ms;
    open.push(g);
  }
  stats.commits = commits;
  out.push("done\n");
  return { stream: out.join(""), stats };
}

/** Writes the history into a new repository with `git fast-import`. */
export async function buildRepository(dir, stream) {
  spawnSync("git", ["init", "-q", "-b", "main", dir], { stdio: "inherit" });
  await new Promise((resolve, reject) => {
    const child = spawn("git", ["-C", dir, "fast-import", "--quiet", "--done"], { stdio: ["pipe", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}`))));
    child.stdin.end(stream);
  });
  spawnSync("git", ["-C", dir, "update-ref", "-d", "refs/heads/pr"]);
}

/** Times `timebox audit` (the built CLI, as a process) over a generated history. */
export async function benchAudit({ commits = Number(process.env.TIMEBOX_BENCH_AUDIT_COMMITS ?? 100_000), rounds = 3 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "timebox-bench-audit-"));
  try {
    const genStart = process.hrtime.bigint();
    const { stream, stats } = generateHistory(commits);
    const repo = join(dir, "access");
    await buildRepository(repo, stream);
    const generateSeconds = Number(process.hrtime.bigint() - genStart) / 1e9;
    const firstParent = Number(spawnSync("git", ["-C", repo, "rev-list", "--first-parent", "--count", "HEAD"], { encoding: "utf8" }).stdout.trim());

    // Where the time goes: the history read alone (one `git log`, parsed), in this process.
    const { readMainline } = await import("../lib/git/repository.js");
    const readStart = process.hrtime.bigint();
    const chain = await readMainline(repo, "HEAD");
    const readSeconds = Number(process.hrtime.bigint() - readStart) / 1e9;

    const out = join(dir, "audit.json");
    const times = [];
    for (let round = 0; round < rounds; round++) {
      const start = process.hrtime.bigint();
      const run = spawnSync(process.execPath, [join(root, "lib/cli/main.js"), "audit", "--repo", repo, "--format", "json", "--out", out], {
        stdio: ["ignore", "inherit", "inherit"],
      });
      times.push(Number(process.hrtime.bigint() - start) / 1e9);
      if (run.status !== 0) throw new Error(`timebox audit exited ${run.status}`);
    }
    const report = JSON.parse((await import("node:fs")).readFileSync(out, "utf8"));
    const sorted = [...times].sort((a, b) => a - b);
    return {
      commits: stats.commits,
      firstParentCommits: firstParent,
      generated: stats,
      generateSeconds: Number(generateSeconds.toFixed(2)),
      historyReadSeconds: Number(readSeconds.toFixed(2)),
      historyCommitsRead: chain.length,
      auditSeconds: Number(sorted[Math.floor(sorted.length / 2)].toFixed(2)),
      perRound: times.map((t) => Number(t.toFixed(2))),
      rows: report.grants.length,
      findingsFound: report.findings.filter((f) => f.status === "found").map((f) => f.id),
      reportMB: Number((statSync(out).size / 2 ** 20).toFixed(1)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchAudit();
  console.log(JSON.stringify(result, null, 2));
}

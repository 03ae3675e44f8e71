/**
 * How many GitHub API calls one event costs: a `pull_request.synchronize` for a PR with 1, 10,
 * 100 (and 300, to show pagination) grant files, and a `pull_request_review.submitted` for a PR
 * with 1 and 20 grants and 10 reviews. Counts every request the emulated GitHub receives while
 * the app handles that one delivery. Writes its figures to $TIMEBOX_BENCH_OUT (run by bench/run.js).
 * No timed assertions: the only checks are that the app handled the event and called no unknown route.
 */
import { writeFileSync } from "node:fs";
import { grantYaml, startAccessRepo } from "../test/support/access-repo.js";

interface Row {
  event: string;
  grants: number;
  reviews: number;
  calls: number;
  reads: number;
  writes: number;
  byRoute: Record<string, number>;
}

const rows: Row[] = [];

function grantFiles(n: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    // Half readonly (approvers @acme/sre, sre1), half admin (@acme/dba): two teams to check per reviewer.
    const admin = i % 2 === 1;
    files[`grants/dev1-prod-db-${String(i).padStart(3, "0")}.yaml`] = grantYaml({
      role: admin ? "admin" : "readonly",
      duration: admin ? "30m" : "2h",
      reason: `Benchmark grant ${i}`,
    });
  }
  return files;
}

async function measure(event: string, grants: number, reviews: number, run: (ctx: Awaited<ReturnType<typeof startAccessRepo>>) => Promise<void>) {
  const ctx = await startAccessRepo();
  try {
    await run(ctx);
    const log = ctx.gh.requests;
    const byRoute: Record<string, number> = {};
    for (const r of log) {
      const key = `${r.method} ${r.route ?? r.path}`;
      byRoute[key] = (byRoute[key] ?? 0) + 1;
    }
    const writes = log.filter((r) => r.method !== "GET").length;
    rows.push({ event, grants, reviews, calls: log.length, reads: log.length - writes, writes, byRoute });
    expect(ctx.gh.unknownRequests()).toEqual([]);
  } finally {
    await ctx.stop();
  }
}

describe("GitHub API calls per event", () => {
  afterAll(() => {
    const out = process.env.TIMEBOX_BENCH_OUT;
    if (out) writeFileSync(out, `${JSON.stringify(rows, null, 2)}\n`);
    else console.log(JSON.stringify(rows, null, 2));
  });

  for (const n of [1, 10, 100, 300]) {
    test(`pull_request.synchronize, ${n} grant file(s)`, async () => {
      await measure("pull_request.synchronize", n, 0, async ({ gh, probot }) => {
        const pr = gh.openPullRequest({ author: "dev1", files: grantFiles(n) });
        await gh.deliver(probot, pr);
        // The author pushes a change to one grant: every grant of the PR is judged again.
        const push = gh.pushToPullRequest(pr.number!, {
          pusher: "dev1",
          files: { "grants/dev1-prod-db-000.yaml": grantYaml({ duration: "3h", reason: "Benchmark, amended" }) },
        });
        gh.resetRequests();
        const results = await gh.deliver(probot, push, { only: ["pull_request"] });
        expect(results.map((r: { status: number }) => r.status)).toEqual([200]);
      });
    }, 60_000);
  }

  // Ten distinct reviewers, none of them the author: listed logins, team members, outsiders.
  const reviewers: Array<[string, "APPROVED" | "COMMENTED" | "CHANGES_REQUESTED"]> = [
    ["dev2", "COMMENTED"],
    ["dev3", "APPROVED"],
    ["bob", "APPROVED"],
    ["mallory", "COMMENTED"],
    ["sec1", "COMMENTED"],
    ["oncall1", "APPROVED"],
    ["outsider", "APPROVED"],
    ["dba2", "APPROVED"],
    ["alice", "APPROVED"],
    ["dba1", "APPROVED"],
  ];
  for (const n of [1, 20]) {
    test(`pull_request_review.submitted, ${n} grant(s), 10 reviews`, async () => {
      await measure("pull_request_review.submitted", n, reviewers.length, async ({ gh, probot }) => {
        const pr = gh.openPullRequest({ author: "dev1", files: grantFiles(n) });
        await gh.deliver(probot, pr);
        let last: ReturnType<typeof gh.submitReview> | undefined;
        for (const [reviewer, state] of reviewers) last = gh.submitReview(pr.number!, { reviewer, state });
        // Only the tenth review's event is measured; the nine before it are already in the list.
        gh.resetRequests();
        const results = await gh.deliver(probot, last!, { only: ["pull_request_review"] });
        expect(results.map((r: { status: number }) => r.status)).toEqual([200]);
      });
    }, 60_000);
  }
});

/**
 * The story the demo plays against the real app: a grant asked for in a pull request, checked,
 * approved, merged and applied in PostgreSQL, expired and revoked, then read back by an auditor
 * from a plain clone. Each ✓ is a fact observed on GitHub, in PostgreSQL or in git.
 */
import type { ActionResult, CheckRun } from "../test/harness/github/index.js";
import { auditClone } from "./audit-step.js";
import type { Narrator } from "./narrator.js";
import { hasRole, memberships, timeboxRoles } from "./postgres-facts.js";
import { GRANT, GRANT_PATH, POLICY, REPO, type World } from "./world.js";

const HOUR = 3600_000;
const iso = (d: Date | string | number) => new Date(d).toISOString().replace(/\.\d{3}Z$/, "Z");

async function deliver(n: Narrator, w: World, events: ActionResult): Promise<void> {
  const results = await w.gh.deliver(w.app.url, events);
  n.check(
    results.every((r) => r.status >= 200 && r.status < 300),
    "Timebox to accept every signed webhook",
    () => results.map((r) => `${r.event}: HTTP ${r.status} ${r.body ?? ""}`).join(", "),
  );
  n.ok(
    `GitHub delivered ${results.map((r) => (r.action ? `${r.event}.${r.action}` : r.event)).join(", ")} to Timebox, signed: ${results.map((r) => `HTTP ${r.status}`).join(", ")}`,
  );
}

/** The latest check run `name` on `sha`, once it has completed and says what `ready` looks for. */
function completedRun(w: World, sha: string, name: string, ready: (run: CheckRun) => boolean = () => true): () => CheckRun | undefined {
  return () => {
    const last = w.gh.checkRuns(sha, name).at(-1);
    return last?.status === "completed" && ready(last) ? last : undefined;
  };
}

const describeRuns = (w: World, sha: string, name: string) => () =>
  JSON.stringify(w.gh.checkRuns(sha, name).map((r) => ({ status: r.status, conclusion: r.conclusion, title: r.output.title })));

export async function playScenario(n: Narrator, w: World): Promise<void> {
  const { gh, pg } = w;

  n.chapter(`The access repository ${REPO} and its policy`);
  n.say("The policy lives in .github/timebox.yml on main; Timebox always reads it from the base branch:");
  n.quote(POLICY);
  n.check(!(await hasRole(pg)), `dev1 to have no access to prod-db yet`, () => "dev1 already has it");
  n.ok("dev1 has no access to prod-db yet: pg_has_role('dev1_login', 'analytics_read', 'MEMBER') = false");

  n.chapter("dev1 asks for access: a pull request that adds one grant file");
  n.quote(`${GRANT_PATH}:\n${GRANT}`);
  const pr = gh.openPullRequest({ author: "dev1", title: "Read-only access to prod-db for INC-1234", files: { [GRANT_PATH]: GRANT } });
  const number = pr.number!;
  const head = pr.sha!;
  n.say(`dev1 opened pull request #${number} (head ${head.slice(0, 7)}).`);
  await deliver(n, w, pr);

  n.chapter("Timebox checks the pull request and reports two checks");
  const validate = await n.waitFor("timebox/validate to complete", completedRun(w, head, "timebox/validate"), {
    seen: describeRuns(w, head, "timebox/validate"),
  });
  n.check(validate.conclusion === "success", "timebox/validate: success", () => `${validate.conclusion}: ${validate.output.title}`);
  n.ok(`timebox/validate: ${validate.conclusion} — ${validate.output.title}`);
  const waiting = await n.waitFor("timebox/approval to complete", completedRun(w, head, "timebox/approval"), {
    seen: describeRuns(w, head, "timebox/approval"),
  });
  n.check(
    waiting.conclusion === "action_required",
    "timebox/approval: action_required (nobody approved yet)",
    () => `${waiting.conclusion}: ${waiting.output.title}`,
  );
  n.ok(`timebox/approval: ${waiting.conclusion} — ${waiting.output.title}`);

  n.chapter("Approvals: only an eligible reviewer counts");
  n.say("dev2 (an engineer, not in @acme/sre) approves.");
  const review = gh.submitReview(number, { reviewer: "dev2", state: "APPROVED" });
  const forged = await gh.deliver(w.app.url, review, { secret: "not-the-webhook-secret" });
  n.check(
    forged.every((r) => r.status === 400),
    "a webhook signed with the wrong secret to be refused (HTTP 400)",
    () => forged.map((r) => `HTTP ${r.status}`).join(", "),
  );
  n.ok(`a forged copy of GitHub's webhook (signed with the wrong secret) is refused: ${forged.map((r) => `HTTP ${r.status}`).join(", ")}`);
  await deliver(n, w, review);
  const notCounted = /^- `dev2`: (.*)$/m;
  const stillWaiting = await n.waitFor(
    "timebox/approval to list dev2's review as one that did not count",
    completedRun(w, head, "timebox/approval", (r) => notCounted.test(r.output.summary ?? "")),
    { seen: describeRuns(w, head, "timebox/approval") },
  );
  n.check(
    stillWaiting.conclusion === "action_required",
    "dev2's approval not to count (dev2 is not in @acme/sre)",
    () => `${stillWaiting.conclusion}: ${stillWaiting.output.title}`,
  );
  n.ok(`timebox/approval stays ${stillWaiting.conclusion}; dev2's review did not count: ${notCounted.exec(stillWaiting.output.summary!)![1]}`);
  n.say("alice (@acme/sre) approves.");
  await deliver(n, w, gh.submitReview(number, { reviewer: "alice", state: "APPROVED" }));
  const approved = await n.waitFor(
    "timebox/approval: success",
    completedRun(w, head, "timebox/approval", (r) => r.conclusion === "success"),
    { seen: describeRuns(w, head, "timebox/approval") },
  );
  n.check(approved.conclusion === "success", "timebox/approval: success after alice's approval", () => `${approved.conclusion}: ${approved.output.title}`);
  n.ok(`timebox/approval: ${approved.conclusion} — ${approved.output.title}`);

  n.chapter("alice merges the pull request; Timebox applies the access in PostgreSQL");
  const merge = gh.merge(number, { by: "alice" });
  const mergedAt = gh.repo().pull(number).mergedAt!;
  n.say(`Merged at ${iso(mergedAt)} as ${merge.sha!.slice(0, 7)}.`);
  await deliver(n, w, merge);
  await n.waitFor("dev1_login to become a member of analytics_read", async () => ((await hasRole(pg)) ? true : undefined), {
    seen: async () => `no membership; ${w.app.tail(5) || "the app logged nothing"}`,
  });
  n.ok("PostgreSQL: pg_has_role('dev1_login', 'analytics_read', 'MEMBER') = true");
  const granted = await memberships(pg);
  n.say("pg_auth_members:");
  n.quote(granted.join("\n"));
  const [grantRole] = await timeboxRoles(pg);
  n.check(
    grantRole !== undefined && granted.includes(`dev1_login is a member of ${grantRole}`) && granted.includes(`${grantRole} is a member of analytics_read`),
    "dev1_login → timebox_… → analytics_read",
    () => granted.join("; "),
  );
  n.ok(`the access goes through Timebox's own role ${grantRole}, so revoking it touches nothing else`);
  const applied = await n.waitFor("the comment announcing the access", () => gh.comments(number).find((c) => c.body.includes("timebox:applied")), {
    seen: () => `${gh.comments(number).length} comments`,
  });
  const expiresText = /\*\*Expires at:\*\* (\S+)/.exec(applied.body)?.[1];
  const expiresAt = new Date(expiresText ?? NaN);
  n.check(expiresAt.getTime() === Date.parse(iso(mergedAt)) + 2 * HOUR, `expiry at the merge + 2h (${iso(Date.parse(iso(mergedAt)) + 2 * HOUR)})`, () =>
    String(expiresText),
  );
  n.ok(`comment on PR #${number} by ${applied.user}:`);
  n.quote(visible(applied.body));
  const apply = await n.waitFor("timebox/apply on the merge commit", completedRun(w, merge.sha!, "timebox/apply"), {
    seen: describeRuns(w, merge.sha!, "timebox/apply"),
  });
  n.check(apply.conclusion === "success", "timebox/apply: success", () => `${apply.conclusion}`);
  n.ok(`timebox/apply on the merge commit: ${apply.conclusion} — ${apply.output.title}`);

  n.chapter("Time passes: the clock jumps past the expiry");
  n.say("Nobody sends a webhook now: the timer Timebox set for the expiry when it applied the grant does the rest.");
  const jumpMs = expiresAt.getTime() - w.clock.now().getTime() + 1000;
  const githubNow = w.clock.jump(jumpMs);
  const appNow = await w.app.jump(jumpMs);
  n.check(
    Math.abs(appNow.getTime() - githubNow.getTime()) < 5000,
    "GitHub and Timebox to read the same time",
    () => `GitHub ${iso(githubNow)}, Timebox ${iso(appNow)}`,
  );
  n.ok(`both GitHub and the Timebox process now read ${iso(appNow)}: ${formatSpan(jumpMs)} later, one second past the expiry`);
  await n.waitFor("dev1's membership to be revoked", async () => (!(await hasRole(pg)) ? true : undefined), {
    seen: async () => `still a member; ${w.app.tail(5) || "the app logged nothing"}`,
  });
  // The revoke is one transaction (memberships, then DROP ROLE): wait for all of it, not its first half.
  await n.waitFor(
    "no membership left and Timebox's role dropped",
    async () => ((await memberships(pg)).length === 0 && (await timeboxRoles(pg)).length === 0 ? true : undefined),
    { seen: async () => `${(await memberships(pg)).join("; ")} ${(await timeboxRoles(pg)).join(", ")}` },
  );
  n.ok(`PostgreSQL: pg_has_role(...) = false, pg_auth_members has no row for dev1_login or analytics_read, ${grantRole} is dropped`);
  const removal = await n.waitFor(
    "Timebox's removal commit on main",
    () => {
      const c = gh.commit(gh.branchHead("main")!);
      return c?.message.startsWith(`Revoke expired grant ${GRANT_PATH}`) ? c : undefined;
    },
    { seen: () => gh.commit(gh.branchHead("main")!)?.message.split("\n")[0] ?? "no commit" },
  );
  const trailers = removal.message.split("\n").filter((l) => /^[A-Z][\w-]*: /.test(l));
  const expected = [
    `Timebox-Grant: ${GRANT_PATH}`,
    "Requested-by: dev1",
    "Approved-by: alice",
    `Pull-Request: #${number}`,
    `Granted-at: ${iso(mergedAt)}`,
    `Expires-at: ${iso(expiresAt)}`,
    "Revoke-Reason: expired",
  ];
  const missing = expected.filter((t) => !trailers.includes(t));
  n.check(missing.length === 0, `the trailers ${expected.join(" | ")}`, () => `missing ${missing.join(" | ")} in:\n${removal.message}`);
  n.ok(`commit ${removal.sha.slice(0, 7)} on main by ${removal.author.name}: "${removal.message.split("\n")[0]}", with trailers:`);
  n.quote(trailers.join("\n"));
  n.check(gh.fileAt("main", GRANT_PATH) === undefined, `${GRANT_PATH} gone from main`, () => "still there");
  n.ok(`${GRANT_PATH} is gone from main`);
  const revoked = await n.waitFor("the closing comment on the pull request", () => gh.comments(number).find((c) => c.body.includes("timebox:revoked")), {
    seen: () => `${gh.comments(number).length} comments`,
  });
  n.ok(`closing comment on PR #${number} by ${revoked.user}:`);
  n.quote(visible(revoked.body));

  n.chapter("An auditor clones the repository and asks `timebox audit` what happened");
  await auditClone(n, w, { number, mergedAt: iso(mergedAt), expiresAt: iso(expiresAt) });
}

/** A comment as GitHub shows it: without the HTML comment markers. */
const visible = (body: string) => body.replace(/<!--[\s\S]*?-->\n?/g, "").trim();

function formatSpan(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ${s % 60}s`;
}

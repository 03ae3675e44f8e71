import { ProbotOctokit } from "probot";
import { approvesHead, isBotUser, reviewers } from "../approvals/reviews.js";
import { hasStatus, httpStatus } from "../github/errors.js";
import { existingCheckRun } from "../github/checks.js";
import { createdBySelf } from "../github/self.js";
import type { PullRequestReview } from "../approvals/types.js";
import { headPusher } from "../pull-request/context.js";
import { PUSH_CHECK, pusherIn } from "../pull-request/pushes.js";
import { VALIDATE_CHECK } from "../pull-request/render.js";
import { approvalsFor, type Approval, type GithubFacts } from "./findings/index.js";
import { isoSecond } from "../util/clock.js";
import { MAX_OUTCOME } from "./records.js";
import { parseOutcomeCommand } from "../commands/outcome.js";
import type { AuditRow } from "./types.js";

/** At most this many pull requests are read per report (three or four API calls each): narrow with filters beyond it. */
const MAX_GITHUB_PULLS = 1000;
const CONCURRENCY = 4;

export type AuditOctokit = InstanceType<typeof ProbotOctokit>;

/** GitHub refused or could not answer in a way that makes the whole enrichment pointless. */
export class GithubAuditError extends Error {}

export interface GithubTarget {
  owner: string;
  repo: string;
}

/** Who Timebox is on GitHub, as the audit knows it: its bot's login (`--app-login`). */
interface AppIdentity {
  botLogin: string;
}

/** What one PR says, as far as the audit needs it. */
interface PullFacts {
  createdAt: string;
  author: string;
  /** Approvals that stand as the app's approval rule counts them (`approvesHead`), given before the merge. */
  approvals: Approval[];
  /** Some review approves the head, but Timebox recorded no pusher of it: like the app, none counts. */
  pusherUnknown?: string;
  /** `/timebox outcome <text>` comments nobody edited, oldest first. */
  outcomes: Array<{ by: string; at: string; text: string }>;
  /** `/timebox outcome` comments edited after they were posted: not read. */
  edited: Array<{ by: string; at: string; editedAt: string }>;
}

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** An Octokit for the audit: a token, the API base, Probot's retry and a bounded throttle. */
export function auditOctokit(token: string, baseUrl: string, options: { retry?: boolean } = {}): AuditOctokit {
  return new ProbotOctokit({
    auth: { token },
    baseUrl,
    log: quiet,
    retry: { enabled: options.retry ?? true },
    throttle: {
      onRateLimit: (after: number, _o: unknown, _k: unknown, count: number) => after <= 60 && count < 2,
      onSecondaryRateLimit: (after: number, _o: unknown, _k: unknown, count: number) => after <= 60 && count < 2,
    },
  });
}

const iso = (s: string | null | undefined) => {
  const d = s ? new Date(s) : undefined;
  return d && !Number.isNaN(d.getTime()) ? isoSecond(d) : undefined;
};

/**
 * Who pushed `head`, as the app derives it for a merged PR (`readHeadPusher`): its own latest
 * `timebox/validate` run on that commit, else its first `timebox/push` record — never another
 * app's run. Undefined when there is none, or the token may not read check runs.
 */
async function pusherOf(octokit: AuditOctokit, { owner, repo }: GithubTarget, head: string, self: AppIdentity): Promise<string | undefined> {
  let runs;
  try {
    runs = (await octokit.rest.checks.listForRef({ owner, repo, ref: head, filter: "all", per_page: 100 })).data.check_runs;
  } catch (e) {
    if (hasStatus(e, 403, 404)) return undefined;
    throw e;
  }
  const mine = runs.filter((c) => createdBySelf(self, c)).sort((x, y) => x.id - y.id);
  const validate = mine.filter((c) => c.name === VALIDATE_CHECK).at(-1);
  const push = mine.find((c) => c.name === PUSH_CHECK);
  return headPusher(head, undefined, validate && existingCheckRun(validate)) ?? pusherIn(push && existingCheckRun(push));
}

async function readPull(octokit: AuditOctokit, target: GithubTarget, number: number, self: AppIdentity): Promise<PullFacts | undefined> {
  const { owner, repo } = target; // exactly these: any other key would be sent as a query parameter
  let pull;
  try {
    pull = (await octokit.rest.pulls.get({ owner, repo, pull_number: number })).data;
  } catch (e) {
    if (hasStatus(e, 404)) return undefined;
    throw e;
  }
  const [reviews, comments] = await Promise.all([
    octokit.paginate(octokit.rest.pulls.listReviews, { owner, repo, pull_number: number, per_page: 100 }),
    octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: number, per_page: 100 }),
  ]);
  const author = pull.user?.login ?? "";
  const headSha = pull.head?.sha ?? "";
  const mergedAt = pull.merged_at ? Date.parse(pull.merged_at) : Number.POSITIVE_INFINITY;
  const before = (reviews as PullRequestReview[]).filter((r) => r.submitted_at && Date.parse(r.submitted_at) <= mergedAt);
  const byId = new Map(before.map((r) => [r.id, r]));
  // The app's rule (`approvesHead`): on the head commit, not the author's, no bot's, not the last pusher's.
  let standing = reviewers(before, headSha).filter((rv) => approvesHead(rv, { author, headSha }));
  let pusherUnknown: string | undefined;
  if (standing.length > 0) {
    const lastPusher = await pusherOf(octokit, target, headSha, self);
    // As in the app, an unknown pusher cannot be excluded, so nothing is approved (`PullRequestRef.lastPusher`).
    if (lastPusher === undefined) pusherUnknown = headSha;
    standing = lastPusher === undefined ? [] : standing.filter((rv) => approvesHead(rv, { author, headSha, lastPusher }));
  }
  const approvals: Approval[] = [];
  for (const rv of standing) {
    const at = iso(byId.get(rv.standing!.id)?.submitted_at);
    if (at) approvals.push({ login: rv.login, at });
  }
  approvals.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const outcomes: PullFacts["outcomes"] = [];
  const edited: PullFacts["edited"] = [];
  for (const c of comments) {
    const command = parseOutcomeCommand(c.body ?? "");
    const at = iso(c.created_at);
    if (!command || !("text" in command) || !at || !c.user || isBotUser(c.user)) continue;
    // Anyone with write access can edit anyone's comment, and GitHub does not say who did: an
    // edited outcome is no longer known to be its author's words, so it is not read.
    if (iso(c.updated_at) !== at) edited.push({ by: c.user.login, at, editedAt: iso(c.updated_at) ?? "" });
    else outcomes.push({ by: c.user.login, at, text: command.text.slice(0, MAX_OUTCOME) });
  }
  return { createdAt: iso(pull.created_at) ?? "", author, approvals, ...(pusherUnknown ? { pusherUnknown } : {}), outcomes, edited };
}

/** At most this many of Timebox's commits are checked against the API per report. */
const MAX_GITHUB_COMMITS = 2000;

/**
 * What GitHub says about commits the offline check took as Timebox's: each must be verified by
 * GitHub (`commit.verification.verified`), authored by the app's bot (`author.login`) and committed
 * by GitHub itself (`committer.login` `web-flow`, the identity of the commits GitHub signs). Returns
 * the commits that fail, with why. One `GET /repos/{owner}/{repo}/commits/{sha}` each, four at a time.
 */
export async function distrustedOnGithub(
  octokit: AuditOctokit,
  { owner, repo }: GithubTarget,
  shas: readonly string[],
  appLogin: string,
): Promise<Map<string, string>> {
  const unique = [...new Set(shas)];
  if (unique.length > MAX_GITHUB_COMMITS) {
    throw new GithubAuditError(
      `the report rests on ${unique.length} of Timebox's commits; --github checks at most ${MAX_GITHUB_COMMITS}: narrow it with --since/--until, --who or --resource`,
    );
  }
  let answers: Array<string | undefined>;
  try {
    answers = await pooled(unique, CONCURRENCY, async (ref) => {
      let data;
      try {
        data = (await octokit.rest.repos.getCommit({ owner, repo, ref, per_page: 1 })).data;
      } catch (e) {
        if (hasStatus(e, 404, 422)) return "GitHub does not know this commit";
        throw e;
      }
      const v = data.commit.verification;
      if (!v?.verified) return `GitHub does not verify its signature (${v?.reason ?? "no verification"})`;
      if (data.author?.login?.toLowerCase() !== appLogin.toLowerCase())
        return `GitHub links its author to ${data.author?.login ?? "no account"}, not ${appLogin}`;
      if (data.committer?.login !== "web-flow") return `GitHub did not commit it (committer ${data.committer?.login ?? "unknown"}, not web-flow)`;
      return undefined;
    });
  } catch (e) {
    const status = httpStatus(e);
    throw new GithubAuditError(
      status === 401
        ? "GitHub refused the token (401)"
        : status === 403
          ? "GitHub refused access (403: the token cannot read this repository's commits, or a rate limit)"
          : `GitHub could not be read: ${(e as Error).message}`,
    );
  }
  const out = new Map<string, string>();
  unique.forEach((sha, i) => {
    if (answers[i]) out.set(sha, answers[i]!);
  });
  return out;
}

/** Runs `task` over `items`, at most `limit` at a time, keeping order. */
async function pooled<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        out[i] = await task(items[i]);
      } catch (e) {
        failed = true; // start nothing more: the first failure decides
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Fills what Git does not hold from the pull requests named in `rows` (mutating them): when each
 * was opened (`requested_at`), its approvers and when the last approval came (`approved_by` where
 * Git has none, `approved_at`), a break-glass grant's late review (`reviewed_by`/`reviewed_at`
 * where Git has none), and `/timebox outcome` answers by the requester where Git recorded none.
 * Returns the approvals per PR for the findings, and warnings for PRs GitHub does not know.
 */
export async function enrichFromGithub(
  rows: AuditRow[],
  octokit: AuditOctokit,
  target: GithubTarget,
  self: AppIdentity,
): Promise<{ facts: GithubFacts; warnings: string[] }> {
  const numbers = [...new Set(rows.map((r) => r.pull_request).filter((n): n is number => n !== null))].sort((a, b) => a - b);
  if (numbers.length > MAX_GITHUB_PULLS) {
    throw new GithubAuditError(
      `the report names ${numbers.length} pull requests; --github reads at most ${MAX_GITHUB_PULLS} (three or four API calls each): narrow it with --since/--until, --who or --resource`,
    );
  }
  let pulls: Array<PullFacts | undefined>;
  try {
    pulls = await pooled(numbers, CONCURRENCY, (n) => readPull(octokit, target, n, self));
  } catch (e) {
    const status = httpStatus(e);
    const what =
      status === 401
        ? "GitHub refused the token (401)"
        : status === 403
          ? "GitHub refused access (403: the token cannot read this repository's pull requests, or a rate limit)"
          : status === 404
            ? `${target.owner}/${target.repo} was not found (404)`
            : `GitHub could not be read: ${(e as Error).message}`;
    throw new GithubAuditError(what);
  }
  const approvals = new Map<number, Approval[]>();
  const warnings: string[] = [];
  const byNumber = new Map<number, PullFacts>();
  numbers.forEach((n, i) => {
    const facts = pulls[i];
    if (facts) {
      byNumber.set(n, facts);
      approvals.set(n, facts.approvals);
      if (facts.pusherUnknown !== undefined) {
        warnings.push(
          `PR #${n}: who pushed its head commit ${facts.pusherUnknown.slice(0, 7)} is unknown (no ${VALIDATE_CHECK} or ${PUSH_CHECK} run by ${self.botLogin} on it names one), so none of its approvals counts, as in Timebox`,
        );
      }
      for (const e of facts.edited) {
        warnings.push(
          `PR #${n}: the /timebox outcome comment ${e.by} posted at ${e.at} was edited at ${e.editedAt}, by whom GitHub does not say (anyone with write access can edit it), so it is not read`,
        );
      }
    } else warnings.push(`PR #${n} was not found on ${target.owner}/${target.repo}; its rows keep what Git says`);
  });
  for (const row of rows) {
    const facts = row.pull_request === null ? undefined : byNumber.get(row.pull_request);
    if (!facts) continue;
    row.requested_at = facts.createdAt || null;
    const gitApprovers = new Set(row.approved_by.map((l) => l.toLowerCase()));
    const others = approvalsFor({ approvals }, row);
    const counted = gitApprovers.size > 0 ? others.filter((a) => gitApprovers.has(a.login.toLowerCase())) : others;
    if (row.approved_by.length === 0) row.approved_by = counted.map((a) => a.login);
    row.approved_at = counted.at(-1)?.at ?? null;
    if (row.emergency && row.reviewed_at === null && others.length > 0) {
      row.reviewed_by = others.map((a) => a.login);
      row.reviewed_at = others.at(-1)!.at;
    }
  }
  attachCommentOutcomes(rows, byNumber);
  return { facts: { approvals }, warnings };
}

/** A requester's latest `/timebox outcome` on the PR, for each grant of that PR whose story has none recorded in Git. */
function attachCommentOutcomes(rows: AuditRow[], pulls: ReadonlyMap<number, PullFacts>): void {
  const newest = new Map<string, AuditRow>();
  for (const row of rows) {
    if (row.pull_request === null || !pulls.has(row.pull_request)) continue;
    const key = `${row.grant}\0${row.extension_of ?? row.pull_request}`;
    const seen = newest.get(key);
    if (!seen || row.granted_at >= seen.granted_at) newest.set(key, row);
  }
  const hasOutcome = new Set(rows.filter((r) => r.outcome !== null).map((r) => `${r.grant}\0${r.extension_of ?? r.pull_request}`));
  for (const [key, row] of newest) {
    if (hasOutcome.has(key)) continue;
    const answer = pulls
      .get(row.pull_request!)!
      .outcomes.filter((o) => row.requester === null || o.by.toLowerCase() === row.requester.toLowerCase())
      .at(-1);
    if (!answer) continue;
    row.outcome = answer.text;
    row.outcome_by = answer.by;
    row.outcome_at = answer.at;
  }
}

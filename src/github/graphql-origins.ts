/**
 * A cold start's grant origins read in batches through GitHub's GraphQL API: for many grant files at
 * once, what `resolveOrigin` would otherwise read over REST one file at a time — the newest commit
 * touching each file, the pull request that merged it, the file at the PR's head and at the merge's
 * base, the policy at that base, the reviews, and this app's validate run on the head. Nothing is
 * decided here: the answers are handed to the gateway (`Prefetched`, the immutable caches) exactly
 * as the REST reads would have returned them, and `resolveOrigin` judges them with its one copy of
 * the rules. Anything that does not fit a REST answer exactly (a page that would need more, a blob
 * whose bytes do not hash to its id, a symlinked policy, two runs of the validate check) is left
 * out, so REST reads it. Only server-set facts are requested (ids, timestamps, logins, app ids).
 */
import { createHash } from "node:crypto";
import type { GitHubClient } from "./client.js";
import { errorMessage, httpStatus } from "./errors.js";
import { mergedInto, type AssociatedPull, type Pulls } from "./pulls.js";
import type { CommitInfo, ExistingCheckRun, MergedPull, Review } from "./types.js";

/** Lookups (a file, a history, a PR's facts, a head's check runs) per GraphQL request: GitHub's cost for this many is a few points. */
const LOOKUPS_PER_QUERY = 150;
/** Pages GraphQL returns at once; more than that and the REST path (which pages) reads it. */
const REVIEWS_PAGE = 100;
const PULLS_PAGE = 25;
const PARENTS_PAGE = 10;
const SUITES_PAGE = 10;
/** Comments read with a merged PR's facts: a PR with more is listed over REST. */
const COMMENTS_PAGE = 100;

export interface OriginBatchRequest {
  /** The default branch's tip the grants were read at, and the branch. */
  tip: string;
  branch: string;
  /** Grant files (path and blob at the tip) whose origin is not known yet. */
  grants: Array<{ path: string; blobSha: string }>;
  /** Read at each merge's base (the policy), and on each head (this app's check run naming the pusher). */
  policyPath: string;
  validateCheck: string;
  /** This app's record on each merge commit (what it applied, and the prior access it found). */
  applyCheck: string;
}

export interface OriginBatchResult {
  /** GraphQL requests made. */
  requests: number;
  /** Why the rest was left to REST (a GraphQL error), if it was. */
  fellBack?: string;
}

interface Log {
  warn(obj: object, msg: string): void;
}

// --- GraphQL answers, as far as they are read ----------------------------------------------------

interface GqlActor {
  __typename: string;
  login: string;
}
interface GqlCommit {
  oid: string;
  message: string;
  committer: { date: string | null } | null;
  author: { user: { login: string } | null } | null;
  parents: { totalCount: number; nodes: Array<{ oid: string }> };
}
interface GqlBlob {
  oid?: string;
  isBinary?: boolean | null;
  isTruncated?: boolean;
  text?: string | null;
}
interface GqlEntry {
  oid: string;
  type: string;
  mode?: number;
  object?: GqlBlob | null;
}
interface GqlPull {
  number: number;
  mergedAt: string | null;
  baseRefName: string;
  headRefOid: string;
  url: string;
  author: GqlActor | null;
  mergeCommit: { oid: string } | null;
}
type GqlHistory = { nodes: Array<GqlCommit & { associatedPullRequests: { pageInfo: { hasNextPage: boolean }; nodes: GqlPull[] } }> };
interface GqlReview {
  databaseId: number | null;
  author: GqlActor | null;
  state: string;
  submittedAt: string | null;
  commit: { oid: string } | null;
}
interface GqlRun {
  databaseId: number | null;
  name: string;
  externalId: string | null;
  status: string;
  conclusion: string | null;
  title: string | null;
  summary: string | null;
  text: string | null;
}

// --- Mapping to the REST shapes ------------------------------------------------------------------

/** GitHub's timestamps as REST writes them (UTC, whole seconds, `Z`): GraphQL may give an offset. */
function restTime(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

/** REST names a GitHub App's bot `<slug>[bot]` and types it `Bot`; GraphQL gives the bare slug. */
function restUser(a: GqlActor | null): { login: string; type: string } | null {
  if (!a) return null;
  return a.__typename === "Bot" ? { login: `${a.login}[bot]`, type: "Bot" } : { login: a.login, type: a.__typename };
}

function commitInfo(c: GqlCommit): CommitInfo | undefined {
  if (c.parents.totalCount > c.parents.nodes.length) return undefined;
  return {
    sha: c.oid,
    parents: c.parents.nodes.map((p) => p.oid),
    message: c.message,
    authorLogin: c.author?.user?.login,
    committedAt: c.committer?.date ? restTime(c.committer.date) : "",
  };
}

/** A blob's bytes from its GraphQL text, only when they hash to its id (text GitHub decoded or cut is never trusted). */
function verifiedBlob(b: GqlBlob | null | undefined): Buffer | undefined {
  if (!b?.oid || b.isBinary || b.isTruncated || typeof b.text !== "string") return undefined;
  const bytes = Buffer.from(b.text, "utf8");
  const id = createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
  return id === b.oid ? bytes : undefined;
}

/** `blobShaAt`'s answer from a tree entry: a blob's id (any mode, as there), null when there is none. */
const blobOf = (e: GqlEntry | null | undefined): string | null => (e && e.type === "blob" ? e.oid : null);

const MERGE_FIELDS = `oid message committer { date } author { user { login } } parents(first: ${PARENTS_PAGE}) { totalCount nodes { oid } }`;
const BLOB_FIELDS = `oid type mode object { ... on Blob { oid isBinary isTruncated text } }`;

/** Query text and variables built alias by alias; every path and id travels as a variable. */
class QueryBuilder {
  readonly variables: Record<string, unknown> = {};
  private readonly decls: string[] = [];
  private n = 0;

  /**
   * A variable declared the first time the returned function is called: GitHub refuses a query
   * declaring a variable it never uses, and a batch may hold no lookup that needs this one.
   */
  shared(type: string, value: unknown): () => string {
    let name: string | undefined;
    return () => (name ??= this.variable(type, value));
  }

  variable(type: string, value: unknown): string {
    const name = `v${this.n++}`;
    this.decls.push(`$${name}: ${type}`);
    this.variables[name] = value;
    return `$${name}`;
  }

  text(name: string, body: string): string {
    return `query ${name}($owner: String!, $name: String!${this.decls.map((d) => `, ${d}`).join("")}) { repository(owner: $owner, name: $name) { ${body} } }`;
  }
}

/** Splits `items` into runs whose weights sum to at most `max` (an item heavier than that goes alone). */
function chunks<T>(items: T[], weight: (t: T) => number, max: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let sum = 0;
  for (const item of items) {
    const w = weight(item);
    if (cur.length && sum + w > max) {
      out.push(cur);
      cur = [];
      sum = 0;
    }
    cur.push(item);
    sum += w;
  }
  if (cur.length) out.push(cur);
  return out;
}

export class GraphqlOrigins {
  constructor(
    private readonly c: GitHubClient,
    private readonly pulls: Pulls,
  ) {}

  /**
   * Reads the origins of `grants` in batches and hands the answers to the gateway. A GraphQL request
   * that fails (an Enterprise server without the endpoint or a field, a 403, errors in the answer)
   * stops the batching: what was not read yet is read over REST, and that is logged once.
   */
  async prefetch(req: OriginBatchRequest, log: Log): Promise<OriginBatchResult> {
    const result: OriginBatchResult = { requests: 0 };
    const run = async <T>(name: string, q: QueryBuilder, body: string): Promise<T> => {
      result.requests++;
      return (await this.c.octokit.graphql<{ repository: T }>(q.text(name, body), { ...q.variables, owner: this.c.repoRef.owner, name: this.c.repoRef.repo }))
        .repository;
    };
    try {
      const merged = await this.commitsAndPulls(req, run);
      await this.mergeFacts(req, merged, run);
    } catch (error) {
      result.fellBack = errorMessage(error).slice(0, 200) || "GraphQL request failed";
      log.warn(
        { repo: `${this.c.repoRef.owner}/${this.c.repoRef.repo}`, status: httpStatus(error), error: result.fellBack, graphqlRequests: result.requests },
        "GitHub's GraphQL API did not answer the batched origin read; the remaining grant origins are read over REST",
      );
    }
    return result;
  }

  /** Phase 1: per file, its newest commit on the tip with the PRs that carry it, and its blob (the content judged). */
  private async commitsAndPulls(
    req: OriginBatchRequest,
    run: <T>(name: string, q: QueryBuilder, body: string) => Promise<T>,
  ): Promise<Array<{ path: string; pull: MergedPull }>> {
    const out: Array<{ path: string; pull: MergedPull }> = [];
    for (const batch of chunks(req.grants, () => 2, LOOKUPS_PER_QUERY)) {
      const q = new QueryBuilder();
      const tip = q.variable("GitObjectID!", req.tip);
      const aliases = batch.map((g, i) => {
        const path = q.variable("String!", g.path);
        return (
          `h${i}: history(first: 1, path: ${path}) { nodes { ${MERGE_FIELDS} associatedPullRequests(first: ${PULLS_PAGE}) { pageInfo { hasNextPage } ` +
          `nodes { number mergedAt baseRefName headRefOid url author { __typename login } mergeCommit { oid } } } } } f${i}: file(path: ${path}) { ${BLOB_FIELDS} }`
        );
      });
      const repo = await run<{ tip: Record<string, unknown> | null }>(
        "TimeboxGrantOrigins",
        q,
        `tip: object(oid: ${tip}) { ... on Commit { ${aliases.join(" ")} } }`,
      );
      if (!repo.tip) throw new Error(`GraphQL did not find the tip ${req.tip}`);
      for (const [i, g] of batch.entries()) {
        const bytes = verifiedBlob((repo.tip[`f${i}`] as GqlEntry | null)?.object);
        if (bytes && (repo.tip[`f${i}`] as GqlEntry).oid === g.blobSha) await this.c.immutable.blobs.getOrLoad(g.blobSha, async () => bytes);
        const node = (repo.tip[`h${i}`] as GqlHistory | null)?.nodes[0];
        const commit = node && commitInfo(node);
        if (!node || !commit) continue;
        this.c.prefetched.lastCommits.set(`${req.tip}\n${g.path}`, commit);
        if (node.associatedPullRequests.pageInfo.hasNextPage) continue;
        const pulls = mergedInto(
          req.branch,
          node.associatedPullRequests.nodes.map((p): AssociatedPull => ({
            number: p.number,
            author: restUser(p.author)?.login ?? "",
            headSha: p.headRefOid,
            baseRef: p.baseRefName,
            mergedAt: p.mergedAt && restTime(p.mergedAt),
            mergeCommitSha: p.mergeCommit?.oid ?? null,
            htmlUrl: p.url,
          })),
        );
        await this.pulls.seedMergedPulls(commit.sha, pulls);
        if (pulls[0]) out.push({ path: g.path, pull: pulls[0] });
      }
    }
    return out;
  }

  /**
   * Phase 2: per merged PR, the merge commit with the policy and each grant file at its base, and
   * (once per process) its reviews; per head, each grant file there and this app's validate run.
   */
  private async mergeFacts(
    req: OriginBatchRequest,
    found: Array<{ path: string; pull: MergedPull }>,
    run: <T>(name: string, q: QueryBuilder, body: string) => Promise<T>,
  ): Promise<void> {
    type Lookup = { kind: "pull"; pull: MergedPull; paths: string[]; facts: boolean } | { kind: "head"; head: string; paths: string[]; runs: boolean };
    const byPull = new Map<string, { pull: MergedPull; paths: string[] }>();
    const byHead = new Map<string, string[]>();
    for (const { path, pull } of found) {
      const key = `${pull.number}:${pull.mergeCommitSha}`;
      byPull.set(key, { pull, paths: [...(byPull.get(key)?.paths ?? []), path] });
      byHead.set(pull.headSha, [...(byHead.get(pull.headSha) ?? []), path]);
    }
    const lookups: Lookup[] = [];
    const slices = (paths: string[]) => chunks(paths, () => 1, LOOKUPS_PER_QUERY - 2);
    for (const { pull, paths } of byPull.values())
      slices(paths).forEach((part, i) => lookups.push({ kind: "pull", pull, paths: part, facts: i === 0 && !this.pulls.hasFactsAtMerge(pull) }));
    for (const [head, paths] of byHead) slices(paths).forEach((part, i) => lookups.push({ kind: "head", head, paths: part, runs: i === 0 }));

    for (const batch of chunks(lookups, (l) => l.paths.length + 2, LOOKUPS_PER_QUERY)) {
      const q = new QueryBuilder();
      const policy = q.shared("String!", req.policyPath);
      const check = q.shared("String!", req.validateCheck);
      const app = q.shared("Int!", this.c.self.appId);
      const apply = q.shared("String!", req.applyCheck);
      const runsNamed = (name: () => string) =>
        `checkSuites(first: ${SUITES_PAGE}, filterBy: { appId: ${app()} }) { pageInfo { hasNextPage } nodes { app { databaseId } checkRuns(first: 10, filterBy: { checkName: ${name()}, checkType: LATEST }) { pageInfo { hasNextPage } nodes { databaseId name externalId status conclusion title summary text } } } }`;
      const body = batch.map((l, i) => {
        const files = l.paths.map((p, j) => `g${j}: file(path: ${q.variable("String!", p)}) { oid type }`).join(" ");
        if (l.kind === "pull") {
          // Once per PR: its reviews, its comments (this app's markers: applied, revoked, break-glass) and the apply record on its merge.
          const facts = l.facts
            ? `reviews(first: ${REVIEWS_PAGE}) { pageInfo { hasNextPage } nodes { databaseId author { __typename login } state submittedAt commit { oid } } } ` +
              `comments(first: ${COMMENTS_PAGE}) { pageInfo { hasNextPage } nodes { body createdAt author { __typename login } } }`
            : "";
          const facts2 = l.facts
            ? `policy: file(path: ${policy()}) { ${BLOB_FIELDS} } policyHistory: history(first: 1, path: ${policy()}) { nodes { ${MERGE_FIELDS} } }`
            : "";
          const base = `nodes { oid ${facts2} ${files} }`;
          const merge = `${MERGE_FIELDS.replace(/nodes \{ oid \}/, base)} ${l.facts ? runsNamed(apply) : ""}`;
          return `a${i}: pullRequest(number: ${q.variable("Int!", l.pull.number)}) { mergeCommit { ${merge} } ${facts} }`;
        }
        const runs = l.runs ? runsNamed(check) : "";
        return `a${i}: object(oid: ${q.variable("GitObjectID!", l.head)}) { ... on Commit { oid ${runs} ${files} } }`;
      });
      const repo = await run<Record<string, unknown>>("TimeboxMergeFacts", q, body.join(" "));
      for (const [i, l] of batch.entries()) {
        if (l.kind === "pull") await this.seedPull(req, l.pull, l.paths, l.facts, repo[`a${i}`] as PullAnswer | null);
        else this.seedHead(req, l.head, l.paths, l.runs, repo[`a${i}`] as HeadAnswer | null);
      }
    }
  }

  private async seedPull(req: OriginBatchRequest, pull: MergedPull, paths: string[], facts: boolean, a: PullAnswer | null): Promise<void> {
    const merge = a?.mergeCommit;
    // The PR as phase 1 saw it: a merge commit that is not the one listed there is not this merge.
    if (!merge || merge.oid !== pull.mergeCommitSha) return;
    const commit = commitInfo(merge);
    if (!commit) return;
    await this.c.immutable.commits.getOrLoad(this.c.key(commit.sha), async () => commit);
    const base = merge.parents.nodes[0] as (Record<string, unknown> & { oid: string }) | undefined;
    if (!base) return;
    paths.forEach((p, j) => this.c.prefetched.blobShas.set(`${base.oid}\n${p}`, blobOf(base[`g${j}`] as GqlEntry | null)));
    if (!facts) return;
    // The policy that judges the PR is the trusted one at its base (lifecycle/policy-trust.ts), which starts from the
    // newest commit touching the policy there and reads the file at that commit: both are answered here.
    const version = (base.policyHistory as { nodes: GqlCommit[] } | null)?.nodes[0];
    const versionCommit = version && commitInfo(version);
    const policy = base.policy as GqlEntry | null;
    if (versionCommit) {
      this.c.prefetched.lastCommits.set(`${base.oid}\n${req.policyPath}`, versionCommit);
      // `readFile` follows symlinks (the contents API does): only a regular file, or none, is answered here.
      if (!policy) this.c.prefetched.files.set(`${versionCommit.sha}\n${req.policyPath}`, null);
      else if (policy.type === "blob" && (policy.mode === 0o100644 || policy.mode === 0o100755)) {
        const bytes = verifiedBlob(policy.object);
        if (bytes) this.c.prefetched.files.set(`${versionCommit.sha}\n${req.policyPath}`, bytes.toString("utf8"));
      }
    }
    const applyRun = ownLatestRun(merge.checkSuites, req.applyCheck, this.c.self.appId);
    if (applyRun !== undefined) this.c.prefetched.checkRuns.set(`${merge.oid}\n${req.applyCheck}`, applyRun);
    // This app's comments (its bot, as GitHub names it: GraphQL drops the `[bot]`); their markers are unsealed as REST's are.
    if (a.comments && !a.comments.pageInfo.hasNextPage)
      this.c.prefetched.ownComments.set(
        pull.number,
        a.comments.nodes
          .filter((c) => restUser(c.author)?.type === "Bot" && restUser(c.author)!.login.toLowerCase() === this.c.self.botLogin.toLowerCase())
          .map((c) => ({ body: c.body, createdAt: restTime(c.createdAt) })),
      );
    if (a.reviews && !a.reviews.pageInfo.hasNextPage && a.reviews.nodes.every((r) => r.databaseId !== null))
      this.c.prefetched.reviews.set(
        pull.number,
        a.reviews.nodes
          .map((r): Review => ({
            id: r.databaseId!,
            user: restUser(r.author),
            state: r.state,
            commit_id: r.commit?.oid ?? null,
            submitted_at: r.submittedAt && restTime(r.submittedAt),
          }))
          .sort((x, y) => x.id - y.id),
      );
  }

  private seedHead(req: OriginBatchRequest, head: string, paths: string[], runs: boolean, a: HeadAnswer | null): void {
    if (!a || a.oid !== head) return;
    paths.forEach((p, j) => this.c.prefetched.blobShas.set(`${head}\n${p}`, blobOf(a[`g${j}`] as GqlEntry | null)));
    const found = runs ? ownLatestRun(a.checkSuites, req.validateCheck, this.c.self.appId) : undefined;
    if (found !== undefined) this.c.prefetched.checkRuns.set(`${head}\n${req.validateCheck}`, found);
  }
}

type Suites = HeadAnswer["checkSuites"];

/**
 * This app's run named `name` among a commit's check suites (its id, set by GitHub, as the REST read
 * keeps), null when it has none; undefined when the answer cannot tell (a page more, or more than
 * one run, where REST decides which is latest).
 */
function ownLatestRun(suites: Suites, name: string, appId: number): ExistingCheckRun | null | undefined {
  if (!suites || suites.pageInfo.hasNextPage || suites.nodes.some((s) => s.checkRuns.pageInfo.hasNextPage)) return undefined;
  const mine = suites.nodes.filter((s) => s.app?.databaseId === appId).flatMap((s) => s.checkRuns.nodes.filter((r) => r.name === name));
  if (mine.length > 1 || mine.some((r) => r.databaseId === null)) return undefined;
  const r = mine[0];
  if (!r) return null;
  return {
    id: r.databaseId!,
    externalId: r.externalId,
    status: r.status.toLowerCase(),
    conclusion: r.conclusion?.toLowerCase() ?? null,
    title: r.title,
    summary: r.summary,
    text: r.text,
  };
}

type PullAnswer = {
  mergeCommit: (GqlCommit & { parents: { nodes: Array<{ oid: string }> }; checkSuites?: Suites }) | null;
  reviews?: { pageInfo: { hasNextPage: boolean }; nodes: GqlReview[] };
  comments?: { pageInfo: { hasNextPage: boolean }; nodes: Array<{ body: string; createdAt: string; author: GqlActor | null }> };
};
type HeadAnswer = Record<string, unknown> & {
  oid: string;
  checkSuites?: {
    pageInfo: { hasNextPage: boolean };
    nodes: Array<{ app: { databaseId: number | null } | null; checkRuns: { pageInfo: { hasNextPage: boolean }; nodes: GqlRun[] } }>;
  };
};

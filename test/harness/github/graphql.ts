/**
 * GitHub's GraphQL endpoint (`POST /graphql`, and GHES's `/api/graphql`): the queries Timebox sends,
 * executed with graphql-js against GitHub's published schema (`@octokit/graphql-schema`). A query
 * that does not parse or validate against that schema is answered as GitHub does (200 with
 * `errors`, no `data`), so Timebox can only send what the real API accepts. The fields modelled are
 * the ones Timebox reads (commit history by path, a commit's associated pull requests, trees and
 * blobs, reviews, a pull request's comments, check suites); any other field resolves to null. Counted in the `graphql`
 * rate-limit resource, one point per request (see rate-limit.ts).
 */
import { buildSchema, graphqlSync, type GraphQLSchema } from "graphql";
import { schema as published } from "@octokit/graphql-schema";
import { latestCheckRuns } from "./ops.js";
import { resolveCommit } from "./resolve.js";
import type { Router } from "./router.js";
import type { CheckRun, PullRequest, Repo, Review, State } from "./state.js";

let built: GraphQLSchema | undefined;

/** GitHub's published schema, built once per process (the SDL repeats two fields: validity is assumed, as GitHub ships it). */
function githubSchema(): GraphQLSchema {
  built ??= buildSchema(published.idl, { assumeValidSDL: true });
  return built;
}

interface Viewer {
  st: State;
  /** The installation a token acts for: other installations' repositories do not resolve. */
  installationId?: number;
  login: string;
}

interface ConnectionArgs {
  first?: number;
  after?: string;
}

/** A connection over `items` with `first`/`after` (cursors are offsets), as GitHub pages them. */
function connection<T>(items: T[], args: ConnectionArgs) {
  const start = args.after
    ? Number(
        Buffer.from(args.after, "base64")
          .toString("utf8")
          .replace(/^cursor:/, ""),
      ) + 1
    : 0;
  const first = Math.min(args.first ?? 100, 100);
  const nodes = items.slice(start, start + first);
  const cursor = (i: number) => Buffer.from(`cursor:${i}`).toString("base64");
  return {
    totalCount: items.length,
    nodes,
    edges: nodes.map((node, i) => ({ node, cursor: cursor(start + i) })),
    pageInfo: {
      hasNextPage: start + first < items.length,
      hasPreviousPage: start > 0,
      startCursor: nodes.length ? cursor(start) : null,
      endCursor: nodes.length ? cursor(start + nodes.length - 1) : null,
    },
  };
}

/** An Actor: GraphQL names a GitHub App's bot without REST's `[bot]` suffix, and types it `Bot`. */
function actor(st: State, login: string | null | undefined) {
  if (!login) return null;
  const u = st.user(login);
  const bot = u.type === "Bot";
  return { __typename: bot ? "Bot" : "User", login: bot ? u.login.replace(/\[bot\]$/, "") : u.login, databaseId: u.id, url: `${st.origin}/${u.login}` };
}

const GQL_STATE = (s: string | null) => (s === null ? null : s.toUpperCase());

class Model {
  constructor(
    private readonly v: Viewer,
    private readonly r: Repo,
  ) {}

  private get st(): State {
    return this.v.st;
  }

  repository() {
    return {
      __typename: "Repository",
      name: this.r.name,
      nameWithOwner: this.r.fullName,
      object: (args: { oid?: string; expression?: string }) => this.object(args),
      pullRequest: (args: { number: number }) => {
        const p = this.r.pulls.get(args.number);
        return p ? this.pull(p) : null;
      },
    };
  }

  object(args: { oid?: string; expression?: string }) {
    if (args.oid) return this.byOid(args.oid.toLowerCase());
    if (!args.expression) return null;
    const colon = args.expression.indexOf(":");
    const rev = colon < 0 ? args.expression : args.expression.slice(0, colon);
    const sha = resolveCommit(this.r, rev);
    if (!sha) return null;
    if (colon < 0) return this.commit(sha);
    const entry = this.r.git.entryAt(this.r.git.commits.get(sha)!.tree, args.expression.slice(colon + 1).replace(/^\/+|\/+$/g, ""));
    return entry ? this.gitObject(entry.type, entry.sha) : null;
  }

  private byOid(oid: string) {
    if (this.r.git.commits.has(oid)) return this.commit(oid);
    if (this.r.git.blobs.has(oid)) return this.blob(oid);
    return null;
  }

  private gitObject(type: "blob" | "tree" | "commit", sha: string) {
    if (type === "blob") return this.blob(sha);
    if (type === "tree") return { __typename: "Tree", oid: sha };
    return this.r.git.commits.has(sha) ? this.commit(sha) : null;
  }

  blob(sha: string) {
    const bytes = this.r.git.blobs.get(sha);
    if (!bytes) return null;
    const text = bytes.toString("utf8");
    const isBinary = bytes.includes(0) || !Buffer.from(text, "utf8").equals(bytes);
    return { __typename: "Blob", oid: sha, byteSize: bytes.length, isBinary, isTruncated: false, text: isBinary ? null : text };
  }

  commit(sha: string): Record<string, unknown> | null {
    const c = this.r.git.commits.get(sha);
    if (!c) return null;
    const gitActor = (i: { name: string; email: string; date: string }) => ({
      name: i.name,
      email: i.email,
      date: i.date,
      user: (() => {
        const u = [...this.st.users.values()].find((x) => x.email === i.email);
        return u ? actor(this.st, u.login) : null;
      })(),
    });
    return {
      __typename: "Commit",
      oid: c.sha,
      abbreviatedOid: c.sha.slice(0, 7),
      message: c.message,
      committedDate: c.committer.date,
      authoredDate: c.author.date,
      author: gitActor(c.author),
      committer: gitActor(c.committer),
      parents: (args: ConnectionArgs) =>
        connection(
          c.parents.map((p) => this.commit(p)),
          args,
        ),
      history: (args: ConnectionArgs & { path?: string }) =>
        connection(
          this.r.git.log(c.sha, args.path?.replace(/^\/+|\/+$/g, "") || undefined).map((x) => this.commit(x.sha)),
          args,
        ),
      // As `GET /commits/{sha}/pulls`: the PRs that merged the commit or carry it, newest first.
      associatedPullRequests: (args: ConnectionArgs) =>
        connection(
          [...this.r.pulls.values()]
            .filter((p) => p.mergeCommitSha === c.sha || p.commits.includes(c.sha) || !!p.rebased?.includes(c.sha))
            .sort((a, b) => b.number - a.number)
            .map((p) => this.pull(p)),
          args,
        ),
      file: (args: { path: string }) => {
        const path = args.path.replace(/^\/+|\/+$/g, "");
        const e = this.r.git.entryAt(c.tree, path);
        if (!e) return null;
        return { path, name: path.split("/").pop(), oid: e.sha, mode: parseInt(e.mode, 8), type: e.type, object: this.gitObject(e.type, e.sha) };
      },
      checkSuites: (args: ConnectionArgs & { filterBy?: { appId?: number; checkName?: string } }) => this.checkSuites(c.sha, args),
    };
  }

  private checkSuites(sha: string, args: ConnectionArgs & { filterBy?: { appId?: number; checkName?: string } }) {
    const appOf = (run: CheckRun) => run.foreignApp ?? { id: this.st.app.id, slug: this.st.app.slug };
    const suites = new Map<number, CheckRun[]>();
    for (const run of this.r.checkRuns.filter((x) => x.headSha === sha)) suites.set(run.checkSuiteId, [...(suites.get(run.checkSuiteId) ?? []), run]);
    const nodes = [...suites.entries()]
      .filter(([, runs]) => args.filterBy?.appId === undefined || appOf(runs[0]).id === args.filterBy.appId)
      .filter(([, runs]) => !args.filterBy?.checkName || runs.some((x) => x.name === args.filterBy!.checkName))
      .map(([id, runs]) => ({
        databaseId: id,
        app: { databaseId: appOf(runs[0]).id, slug: appOf(runs[0]).slug, name: appOf(runs[0]).slug },
        checkRuns: (a: ConnectionArgs & { filterBy?: { checkName?: string; checkType?: "ALL" | "LATEST"; appId?: number } }) => {
          let list = a.filterBy?.checkType === "ALL" ? runs : latestCheckRuns(runs);
          if (a.filterBy?.checkName) list = list.filter((x) => x.name === a.filterBy!.checkName);
          return connection(
            [...list].sort((x, y) => y.id - x.id).map((x) => this.checkRun(x)),
            a,
          );
        },
      }));
    return connection(nodes, args);
  }

  private checkRun(x: CheckRun) {
    return {
      databaseId: x.id,
      name: x.name,
      externalId: x.externalId,
      status: GQL_STATE(x.status),
      conclusion: GQL_STATE(x.conclusion),
      title: x.output.title,
      summary: x.output.summary,
      text: x.output.text,
    };
  }

  pull(p: PullRequest) {
    const head = p.state === "open" ? (this.st.ref(this.r, p.headRef) ?? p.headSha) : p.headSha;
    return {
      __typename: "PullRequest",
      number: p.number,
      title: p.title,
      state: p.merged ? "MERGED" : p.state.toUpperCase(),
      merged: p.merged,
      mergedAt: p.mergedAt,
      baseRefName: p.baseRef,
      headRefName: p.headRef,
      headRefOid: head,
      url: `${this.st.origin}/${this.r.fullName}/pull/${p.number}`,
      author: actor(this.st, p.user),
      mergeCommit: p.mergeCommitSha ? this.commit(p.mergeCommitSha) : null,
      // As REST: other people's pending reviews are not shown.
      reviews: (args: ConnectionArgs) =>
        connection(
          this.r.reviews.filter((v) => v.pull === p.number && (v.state !== "PENDING" || v.user === this.v.login)).map((v) => this.review(v)),
          args,
        ),
      // The conversation's comments, oldest first, as the REST list (an edited one shows its new body).
      comments: (args: ConnectionArgs) =>
        connection(
          this.r.comments
            .filter((c) => c.issue === p.number)
            .map((c) => ({ __typename: "IssueComment", databaseId: c.id, body: c.body, createdAt: c.createdAt, author: actor(this.st, c.user) })),
          args,
        ),
    };
  }

  private review(v: Review) {
    return {
      databaseId: v.id,
      author: actor(this.st, v.user),
      state: v.state,
      submittedAt: v.submittedAt,
      commit: v.commitId ? this.commit(v.commitId) : null,
    };
  }
}

interface GraphqlBody {
  query?: unknown;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** Executes one GraphQL request as `viewer`: validation errors and resolver errors come back as GitHub's `errors`. */
function executeGraphql(viewer: Viewer, body: GraphqlBody) {
  if (typeof body.query !== "string") return { errors: [{ message: "A query attribute must be specified and must be a string." }] };
  const root = {
    repository: (args: { owner: string; name: string }) => {
      const r = viewer.st.repo(args.owner, args.name);
      if (!r || (viewer.installationId !== undefined && r.installationId !== viewer.installationId))
        throw new Error(`Could not resolve to a Repository with the name '${args.owner}/${args.name}'.`);
      return new Model(viewer, r).repository();
    },
  };
  const result = graphqlSync({
    schema: githubSchema(),
    source: body.query,
    rootValue: root,
    variableValues: body.variables,
    operationName: body.operationName,
  });
  return JSON.parse(JSON.stringify(result)) as { data?: unknown; errors?: unknown[] };
}

export function graphqlRoutes(router: Router): void {
  for (const template of ["/graphql", "/api/graphql"])
    router.on("POST", template, (ctx) => ({
      body: executeGraphql(
        {
          st: ctx.st,
          installationId: ctx.token.kind === "installation" ? ctx.token.installationId : undefined,
          login: ctx.token.actor,
        },
        ctx.body as GraphqlBody,
      ),
    }));
}

// The one GitHub gateway: every read and write Timebox makes on one repository, by resource.
import { Checks } from "./checks.js";
import { GitHubClient, ImmutableCache, type EventMemo } from "./client.js";
import { Commits } from "./commits.js";
import { Contents } from "./contents.js";
import { GraphqlOrigins } from "./graphql-origins.js";
import { Issues } from "./issues.js";
import { Pulls } from "./pulls.js";
import { Requests } from "./requests.js";
import type { AppSelf } from "./self.js";
import { Teams } from "./teams.js";
import type { Octokit, RepoRef, TrustedPolicy } from "./types.js";

/**
 * Handlers, PR judging, commands and the lifecycle talk to GitHub only through this, so API usage
 * is visible (and countable) in one place. One per event or per reconcile: `memo` lives as long.
 */
export class Gateway {
  readonly pulls: Pulls;
  readonly contents: Contents;
  readonly checks: Checks;
  readonly issues: Issues;
  readonly commits: Commits;
  readonly teams: Teams;
  /** Many grant origins at once through GraphQL (a cold start), answered to the reads above. */
  readonly origins: GraphqlOrigins;
  /** The branch, commit and PR of a `/timebox request` (github/requests.ts). */
  readonly requests: Requests;
  private readonly client: GitHubClient;

  constructor(
    octokit: Octokit,
    readonly repoRef: RepoRef,
    /** This app: only its own comments and check runs are read back as Timebox's records. */
    readonly self: AppSelf,
    /** Facts that never change: a long-lived caller passes one cache to read each once. */
    immutable: ImmutableCache = new ImmutableCache(1_000),
  ) {
    this.client = new GitHubClient(octokit, repoRef, self, immutable);
    this.pulls = new Pulls(this.client);
    this.contents = new Contents(this.client);
    this.checks = new Checks(this.client);
    this.issues = new Issues(this.client);
    this.commits = new Commits(this.client, this.contents, this.pulls);
    this.teams = new Teams(this.client);
    this.origins = new GraphqlOrigins(this.client, this.pulls);
    this.requests = new Requests(this.client);
  }

  /** The trusted policy judged at a version of the policy file, by its commit (lifecycle/policy-trust.ts): final verdicts, kept for the process. */
  readonly policyVerdicts = {
    peek: (sha: string): TrustedPolicy | undefined => this.client.immutable.policyVersions.peek(this.client.key(sha)),
    keep: (sha: string, verdict: TrustedPolicy): Promise<TrustedPolicy> =>
      this.client.immutable.policyVersions.getOrLoad(this.client.key(sha), async () => verdict),
  };

  /** What this gateway reads once during its life, one typed slot per kind. */
  get memo(): EventMemo {
    return this.client.memo;
  }
}

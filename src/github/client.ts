// The context every resource module shares: the client, the repository, this app, the caches.
import type { ApplyRecord } from "../records/apply-record.js";
import { BoundedCache } from "../util/bounded-cache.js";
import type { AppSelf } from "./self.js";
import type { CommitInfo, ExistingCheckRun, MergedPull, MergedPullFacts, Octokit, OwnComment, RepoRef, Review, TreeEntry, TrustedPolicy } from "./types.js";

/**
 * Facts that never change once read (trees and blobs by sha, commits, a merge's pull requests):
 * a long-lived caller (the lifecycle runtime) shares one across reconciles to read each once.
 * Keys that are not a content hash carry the repository (see `GitHubClient.key`).
 */
export class ImmutableCache {
  readonly trees: BoundedCache<TreeEntry[]>;
  readonly blobs: BoundedCache<Buffer>;
  readonly commits: BoundedCache<CommitInfo>;
  readonly mergedPulls: BoundedCache<MergedPull[]>;
  readonly mergedPullFacts: BoundedCache<MergedPullFacts>;
  /** The trusted policy judged at each version of the policy file, by that version's commit: final verdicts only. */
  readonly policyVersions: BoundedCache<TrustedPolicy>;
  /** The newest commit touching the policy file at or before a commit (null: none). */
  readonly policyCommits: BoundedCache<CommitInfo | null>;

  constructor(maxEntries?: number) {
    this.trees = new BoundedCache(maxEntries);
    this.blobs = new BoundedCache(maxEntries);
    this.commits = new BoundedCache(maxEntries);
    this.mergedPulls = new BoundedCache(maxEntries);
    this.mergedPullFacts = new BoundedCache(maxEntries);
    this.policyVersions = new BoundedCache(maxEntries);
    this.policyCommits = new BoundedCache(maxEntries);
  }
}

/** Loads by key, each once while it lives; a load that fails is forgotten, so the next call tries again. */
class Memo<V> {
  private readonly loads = new Map<string, Promise<V>>();

  get(key: string, load: () => Promise<V>): Promise<V> {
    let value = this.loads.get(key);
    if (!value) {
      const loading = load();
      value = loading;
      this.loads.set(key, loading);
      loading.catch(() => {
        if (this.loads.get(key) === loading) this.loads.delete(key);
      });
    }
    return value;
  }

  /** The load already started for `key`, if any. */
  peek(key: string): Promise<V> | undefined {
    return this.loads.get(key);
  }
}

/** What one gateway reads once during its life (one event or one reconcile), one typed slot per kind. */
export class EventMemo {
  /** This app's comments per PR number. */
  readonly ownComments = new Memo<OwnComment[]>();
  /** The markers of this app's comments per PR number. */
  readonly markers = new Memo<Set<string>>();
  /** Team memberships per `org/slug:login`. */
  readonly memberships = new Memo<boolean>();
  /** Apply records per merge commit, shared by every grant the PR merged. */
  readonly applyRecords = new Memo<ApplyRecord>();
}

/**
 * Facts one batched GraphQL read brought for this gateway (a cold start's grant origins, see
 * graphql-origins.ts), each answering the REST read named beside it: the resource modules serve a
 * read from here when it is present, so the rules that use them are the same whichever API read them.
 */
class Prefetched {
  /** `Commits.lastCommitTouching`, by `ref\npath`. */
  readonly lastCommits = new Map<string, CommitInfo>();
  /** `Contents.blobShaAt`, by `commit\npath` (null: no blob there). */
  readonly blobShas = new Map<string, string | null>();
  /** `Contents.readFile`, by `commit\npath` (null: no file there). */
  readonly files = new Map<string, string | null>();
  /** `Pulls.listReviews` of a merged PR, by number. */
  readonly reviews = new Map<number, Review[]>();
  /** `Checks.findCheckRun`, by `headSha\nname` (null: this app has no run of that name there). */
  readonly checkRuns = new Map<string, ExistingCheckRun | null>();
  /** `Issues.ownComments` of a merged PR, by number: this app's comments, bodies unsealed yet. */
  readonly ownComments = new Map<number, Array<{ body: string; createdAt: string }>>();
}

/** The shared context of the resource modules of one gateway. */
export class GitHubClient {
  readonly memo = new EventMemo();
  readonly prefetched = new Prefetched();

  constructor(
    readonly octokit: Octokit,
    readonly repoRef: RepoRef,
    /** This app: only its own comments and check runs are read back as Timebox's records. */
    readonly self: AppSelf,
    readonly immutable: ImmutableCache,
  ) {}

  get rest(): Octokit["rest"] {
    return this.octokit.rest;
  }

  /** A key for the shared immutable cache, scoped to this repository. */
  key(key: string): string {
    return `${this.repoRef.owner}/${this.repoRef.repo}:${key}`;
  }
}

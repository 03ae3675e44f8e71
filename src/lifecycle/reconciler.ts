import { plural } from "../markdown.js";
import { httpStatus } from "../github/errors.js";
import type { Gateway } from "../github/gateway.js";
import { isGrantFilePath } from "../grants/files.js";
import { checkPolicyFile } from "../policy/check.js";
import { POLICY_PATH, type Policy } from "../policy/types.js";
import { VALIDATE_CHECK } from "../pull-request/render.js";
import { breakglassWindowMs, historyWindowMs } from "../policy/windows.js";
import type { Clock } from "../util/clock.js";
import { expiresAt, toActiveGrant } from "./active-grant.js";
import { GrantActions, safeError, type ActionDeps } from "./actions.js";
import { APPLY_CHECK, ApplyRecord } from "../records/apply-record.js";
import { recordsOf } from "../records/breakglass.js";
import { activeGrantOf, entryOf, FOLLOWED_CHECK, grantOf, Ledger, LEDGER_CHECK, type LedgerEntry } from "../records/ledger.js";
import { BreakglassPass } from "./breakglass.js";
import { resolveOrigin } from "./origin.js";
import { trustedPolicyAt } from "./policy-trust.js";
import { SchedulesUnreadable } from "../oncall/types.js";
import { StalePass } from "./stale.js";
import { decide, endedFromApplied } from "./decide.js";
import type { RevokeReason } from "../records/comments.js";
import { isApproved, versionKey, type ApprovedGrant, type TrackedGrant } from "./types.js";

const PULL_LINK_GRACE_MS = 2 * 60_000;

/** The `Revoke-Reason` of Timebox's own removal commit for `path`, if this is one. */
function timeboxRevokeReason(message: string, path: string): RevokeReason | undefined {
  const trailer = (name: string) => new RegExp(`^${name}: (.+)$`, "m").exec(message)?.[1]?.trim();
  return trailer("Timebox-Grant") === path ? (trailer("Revoke-Reason") as RevokeReason | undefined) : undefined;
}

export interface ReconcileReport {
  repo: string;
  tip?: string;
  active: number;
  applied: string[];
  revoked: string[];
  unapproved: string[];
  failures: string[];
  /** Open requests closed for waiting longer than `request_ttl` without approval. */
  closedStale?: number[];
  /** The next moment something is due in this repository (an expiry, a reminder, a review, a stale request), for the precise timer. */
  nextExpiry?: Date;
  /** For each expired grant revoked in this run: milliseconds from its expiry to the revoke (metrics). */
  revocationLagsMs: number[];
  /** How many of `failures` were revokes (the rest are applies), for metrics. */
  failedRevokes: number;
  /** Active grants per resource: every resource of the policy (0 when none) and of every active grant, for metrics. */
  activeByResource?: Record<string, number>;
  /** Run with the installation's GitHub budget at its reserve: revocations only (metrics). */
  saving?: boolean;
}

export interface ReconcilerDeps extends ActionDeps {
  clock: Clock;
  providers: ReadonlyMap<string, readonly string[]>;
  /** Added to the longest max_duration to get the history window searched for removed grants. */
  historyMarginMs: number;
  /** How many commits back a cold start looks for Timebox's ledger on the default branch. */
  ledgerSearchDepth?: number;
  /**
   * Grant origins through GitHub's GraphQL API in batches (`TIMEBOX_GITHUB_GRAPHQL`): "auto" (the
   * default) when at least `GRAPHQL_MIN_ORIGINS` are unknown, "always" whenever one is, "off" never
   * (REST only). A GraphQL failure falls back to REST either way.
   */
  graphqlOrigins?: "auto" | "always" | "off";
}

/** Unknown grant origins from which a reconcile reads them in GraphQL batches (fewer: REST, one by one). */
const GRAPHQL_MIN_ORIGINS = 10;

/**
 * Converges providers to what Git says should exist, for one repository. Stateless across
 * restarts: caches only what cannot change (a blob's origin, a commit's files), so a reconcile
 * where nothing changed costs a handful of API calls, and a fresh process catches up from Git.
 */
export class Reconciler {
  private readonly origins = new Map<string, TrackedGrant["origin"]>();
  private readonly commitFiles = new Map<string, Array<{ path: string; status: string; sha?: string }>>();
  private readonly defaultBranches = new Map<string, string>();
  /** When this process first saw a commit that brought grant content without a PR yet (server-side clock, not the commit's date). */
  private readonly firstSeen = new Map<string, number>();
  /** The default branch's tip at the last reconcile, per repository: origins of paths changed since are looked up again. */
  private readonly lastTips = new Map<string, string>();
  readonly actions: GrantActions;
  readonly breakglass: BreakglassPass;
  private readonly stale: StalePass;

  constructor(private readonly deps: ReconcilerDeps) {
    this.actions = new GrantActions(deps);
    this.breakglass = new BreakglassPass(deps, this.actions);
    this.stale = new StalePass(deps);
  }

  /**
   * `saving`: the installation's GitHub budget is down to its reserve: revoke, and skip what can
   * wait (stale requests, unapproved reports, drift listing, reminders).
   */
  async reconcile(
    gw: Gateway,
    repo: string,
    pusherOf: (sha: string) => string | undefined = () => undefined,
    options: { saving?: boolean } = {},
  ): Promise<ReconcileReport> {
    const report: ReconcileReport = {
      repo,
      active: 0,
      applied: [],
      revoked: [],
      unapproved: [],
      failures: [],
      closedStale: [],
      revocationLagsMs: [],
      failedRevokes: 0,
      ...(options.saving ? { saving: true } : {}),
    };
    const branch = await this.defaultBranch(gw, repo);
    const tip = await gw.commits.branchTip(branch);
    report.tip = tip;
    const { ledger, found } = await this.ledgerFor(gw, repo, tip);
    // Expired and removed grants first, from the ledger and the tip's tree alone: no origin, policy or
    // comment is read before they are revoked.
    await this.revokeEndedFromLedger(gw, repo, branch, tip, ledger, report);

    // Read the facts: the policy is the one Timebox trusts at the tip (a version nobody allowed is skipped, and reported).
    const trusted = await trustedPolicyAt(gw, tip, branch, this.deps.providers);
    const policyText = trusted.text;
    const policy = policyText === undefined ? undefined : checkPolicyFile(POLICY_PATH, policyText, { providers: this.deps.providers }).policy;
    if (policyText !== undefined && !policy) {
      this.deps.log.warn({ repo }, "the policy on the default branch is invalid; nothing is applied until it is fixed");
    }
    if (trusted.untrusted && !options.saving && !this.mayStillLinkCommit(trusted.untrusted.commit, trusted.transient === true, this.deps.clock.now()))
      await this.isolated(repo, POLICY_PATH, () => this.actions.reportUntrustedPolicy(gw, branch, trusted));
    else if (!trusted.untrusted && !options.saving) await this.isolated(repo, POLICY_PATH, () => this.actions.clearUntrustedPolicy(gw, trusted));
    // Events of this repository go where the default branch's policy says (never a PR's own policy).
    this.deps.notifier?.usePolicy(repo, policy);
    const grantsPath = policy?.grants_path ?? "grants/";
    await this.forgetChangedOrigins(gw, repo, tip, ledger);
    const undecided: string[] = [];
    // Without a trusted policy but with one on the tip, grants are still judged (each by the trusted policy at its own merge): none is applied, none revoked for it.
    const tracked = policyText === undefined && !trusted.untrusted ? [] : await this.trackedGrants(gw, repo, tip, branch, grantsPath, undecided);
    report.failures.push(...undecided); // neither applied nor revoked this time: judged again on the next reconcile
    const now = this.deps.clock.now();
    const approved = tracked.filter(isApproved);
    const bg = await this.breakglass.run(gw, {
      repo,
      branch,
      policy,
      approved,
      tracked,
      live: approved.filter((t) => expiresAt(t) > now),
      since: new Date(now.getTime() - breakglassWindowMs(policy, this.deps.historyMarginMs)),
      beforeGrant: async (t, principal) => {
        ledger.upsert(entryOf(t, principal));
        await this.saveLedger(gw, repo, tip, ledger);
      },
      followed: ledger,
      save: () => this.saveLedger(gw, repo, tip, ledger),
      followMarginMs: this.deps.historyMarginMs,
    });
    report.applied.push(...bg.applied);
    report.revoked.push(...bg.revoked);
    report.failures.push(...bg.failures);

    // Decide.
    const decision = decide(
      {
        tracked,
        applied: ledger.entries(),
        breakglass: bg.active,
        policyValid: policy !== undefined,
        mayStillLink: (t) => this.mayStillLinkToPull(t, now),
        attempted: new Set([...report.revoked, ...report.failures]),
      },
      now,
    );
    const { holding, live } = decision;
    report.active = holding.length;

    // Carry it out: revokes first.
    for (const action of decision.revoke) {
      if (action.kind === "revoke-tracked") {
        const t = action.grant;
        const outcome =
          (await this.isolated(repo, t.path, () => this.actions.revoke(gw, repo, branch, t, holding, action.reason, { onBranch: true }))) ?? "failed";
        this.count(report, t.path, outcome, action.expiry);
      } else {
        const e = action.entry;
        const outcome =
          (await this.isolated(repo, e.path, async () =>
            this.actions.revoke(gw, repo, branch, grantOf(e), holding, action.reason, { onBranch: false, known: await this.providerView(gw, repo, e) }),
          )) ?? "failed";
        this.count(report, e.path, outcome);
      }
    }
    // Before any ledger existed (an upgrade), removals are found in recent history as before.
    if (!found && policy) {
      for (const { grant: t, reason } of await this.removedSinceWindow(gw, repo, branch, tip, grantsPath, policy, tracked)) {
        const outcome = (await this.isolated(repo, t.path, () => this.actions.revoke(gw, repo, branch, t, holding, reason, { onBranch: false }))) ?? "failed";
        this.count(report, t.path, outcome);
      }
    }
    // Recorded before the provider is touched: a crash after granting leaves a grant the ledger knows.
    for (const t of live) ledger.upsert(entryOf(t, toActiveGrant(repo, t).principal));
    await this.saveLedger(gw, repo, tip, ledger);

    const stale = options.saving
      ? undefined
      : await this.isolated(repo, "(stale requests)", () => this.stale.run(gw, repo, branch, policy, new Set(bg.active.map((t) => t.origin.pull.number))));
    report.closedStale = stale?.closed ?? [];
    const resources = new Set([...Object.keys(policy?.resources ?? {}), ...holding.map((t) => t.origin.grant.resource)]);
    report.activeByResource = Object.fromEntries([...resources].map((r) => [r, holding.filter((t) => t.origin.grant.resource === r).length]));
    for (const t of options.saving ? [] : decision.report) {
      if (await this.isolated(repo, t.path, () => this.actions.reportUnapproved(gw, t, branch, pusherOf))) report.unapproved.push(t.path);
    }
    const managed = await this.actions.managedIndex(options.saving ? undefined : policy);
    for (const t of policy ? decision.apply : []) {
      const result = (await this.isolated(repo, t.path, () => this.actions.apply(gw, repo, t, holding, policy!, managed))) ?? "failed";
      if (result === "applied") report.applied.push(t.path);
      if (result === "failed") report.failures.push(t.path);
    }
    if (!options.saving)
      await this.actions.revokeDrift(gw, repo, policy, holding, branch, managed, new Map(tracked.map((t) => [t.path, t.tipBlobSha ?? t.blobSha])));
    await this.saveLedger(gw, repo, tip, ledger);
    for (const t of options.saving ? [] : decision.remind) await this.isolated(repo, t.path, () => this.actions.remind(gw, t, repo, branch));
    report.nextExpiry = [decision.next, bg.next, stale?.next].filter((d): d is Date => d !== undefined && d > now).sort((a, b) => a.getTime() - b.getTime())[0];
    this.lastTips.set(repo, tip);
    return report;
  }

  private count(report: ReconcileReport, path: string, outcome: "revoked" | "done-before" | "failed", expiry?: Date): void {
    if (outcome !== "done-before") (outcome === "revoked" ? report.revoked : report.failures).push(path);
    if (outcome === "revoked" && expiry) report.revocationLagsMs.push(this.deps.clock.now().getTime() - expiry.getTime());
    if (outcome === "failed") report.failedRevokes++;
  }

  /**
   * Revokes the ledger's expired grants whose file is gone or unchanged on the tip, before anything
   * else is read (a changed file may be an extension: it is judged with the rest).
   */
  private async revokeEndedFromLedger(gw: Gateway, repo: string, branch: string, tip: string, ledger: Ledger, report: ReconcileReport): Promise<void> {
    const now = this.deps.clock.now();
    const tipBlobs = new Map<string, string | undefined>();
    for (const e of ledger.entries().filter((e) => !e.breakglass)) tipBlobs.set(e.path, await gw.contents.blobShaAt(tip, e.path));
    const ended = endedFromApplied(ledger.entries(), tipBlobs, now);
    const endedPaths = new Set(ended.map((x) => x.entry.path));
    const stillLive = ledger
      .entries()
      .filter((e) => Date.parse(e.expiresAt) > now.getTime() && !endedPaths.has(e.path))
      .map(grantOf);
    for (const { entry: e, onBranch, reason } of ended) {
      await this.isolated(repo, e.path, async () => {
        const outcome = await this.actions.revoke(gw, repo, branch, grantOf(e), stillLive, reason, {
          onBranch,
          known: await this.providerView(gw, repo, e),
        });
        this.count(report, e.path, outcome, reason === "expired" ? new Date(e.expiresAt) : undefined);
      });
    }
    await this.saveLedger(gw, repo, tip, ledger);
  }

  /** The provider's view of a ledger entry, with the prior access recorded when it was applied. */
  private async providerView(gw: Gateway, repo: string, e: LedgerEntry) {
    const prior = e.mergeSha
      ? (await ApplyRecord.load(gw, e.mergeSha)).entries[versionKey({ path: e.path, blobSha: e.blobSha })]?.priorAccess
      : recordsOf(await gw.issues.ownComments(e.pull)).get(e.path)?.priorAccess;
    return activeGrantOf(repo, e, e.breakglassFacts && !prior ? {} : prior);
  }

  /**
   * The repository's ledger: kept in memory, read back from the default branch after a restart, and
   * merged with the stored one whenever the tip moved (another replica may have applied a grant).
   */
  private async ledgerFor(gw: Gateway, repo: string, tip: string): Promise<{ ledger: Ledger; found: boolean }> {
    const known = this.actions.ledgers.get(repo);
    if (known && this.lastTips.get(repo) === tip) return { ledger: known, found: true };
    const stored = await gw.checks.nearestOwnRun(tip, LEDGER_CHECK, this.deps.ledgerSearchDepth ?? 200, FOLLOWED_CHECK);
    const parsed = stored ? Ledger.parse(stored.parts) : undefined;
    if (parsed && stored?.alongside) parsed.absorbFollowed(stored.alongside);
    if (stored && !parsed)
      this.deps.log.error({ repo, commit: stored.sha }, "Timebox's ledger could not be read; recent history is searched for removed grants instead");
    if (known) {
      if (parsed) known.absorb(parsed);
      return { ledger: known, found: true };
    }
    const ledger = parsed ?? new Ledger();
    this.actions.ledgers.set(repo, ledger);
    return { ledger, found: parsed !== undefined };
  }

  /** Writes the ledger on the default branch when it changed (this app's check runs on `tip`). */
  private async saveLedger(gw: Gateway, repo: string, tip: string, ledger: Ledger): Promise<void> {
    if (!ledger.dirty && !ledger.followDirty) return;
    // The followed break-glass PRs go on the same commit as the ledger, where a cold start reads both
    // (none there: none followed), so a change to either writes both.
    const followed = ledger.followedCount();
    if (followed > 0 || ledger.followDirty)
      await gw.checks.writeOwnRunParts(
        tip,
        FOLLOWED_CHECK,
        [ledger.serialiseFollowed()],
        `${plural(followed, "break-glass pull request")} followed`,
        "The break-glass pull requests Timebox follows until their emergency access has ended, their review is settled and their story is recorded (machine-readable, written only by this app; the `timebox:breakglass` label is only a hint).",
      );
    ledger.followDirty = false;
    const n = ledger.entries().length;
    await gw.checks.writeOwnRunParts(
      tip,
      LEDGER_CHECK,
      ledger.serialise(),
      `${plural(n, "grant")} in effect`,
      "Timebox's ledger of the access it has applied and not yet revoked (machine-readable, written only by this app). A grant whose file leaves the default branch, in any way, is revoked from it.",
    );
    ledger.dirty = false;
    this.deps.log.info({ repo, entries: n, commit: tip }, "ledger written");
  }

  /**
   * Origins are cached by path and blob, but a version is the commit and PR that brought it: when
   * the tip moved, the paths changed since are looked up again, and so is an approved origin the
   * ledger no longer holds (revoked: the same bytes can only come back through a new commit).
   */
  private async forgetChangedOrigins(gw: Gateway, repo: string, tip: string, ledger: Ledger): Promise<void> {
    const last = this.lastTips.get(repo);
    const changed = !last || last === tip ? [] : await gw.commits.changedPaths(last, tip);
    for (const [key, origin] of [...this.origins].filter(([k]) => k.startsWith(`${repo}:`))) {
      const path = key.slice(repo.length + 1, key.lastIndexOf("@"));
      const revoked = origin.approved && ledger.get(path)?.pull !== origin.pull.number;
      if (!changed || changed.includes(path) || revoked) this.origins.delete(key);
    }
  }

  /** The default branch as a command sees it: its tip's policy (undefined when missing or invalid) and grant files. */
  async view(gw: Gateway, repo: string): Promise<{ branch: string; policy?: Policy; tracked: TrackedGrant[] }> {
    const branch = await this.defaultBranch(gw, repo);
    const tip = await gw.commits.branchTip(branch);
    const policyText = (await trustedPolicyAt(gw, tip, branch, this.deps.providers)).text;
    const policy = policyText === undefined ? undefined : checkPolicyFile(POLICY_PATH, policyText, { providers: this.deps.providers }).policy;
    return { branch, policy, tracked: await this.trackedGrants(gw, repo, tip, branch, policy?.grants_path ?? "grants/") };
  }

  /**
   * One grant's unexpected error (a provider that cannot even be built, GitHub refusing a write)
   * never stops the others: it is logged and retried on the next reconcile.
   */
  async isolated<T>(repo: string, grant: string, step: () => Promise<T>): Promise<T | undefined> {
    try {
      return await step();
    } catch (error) {
      const { name } = error as { name?: string };
      this.deps.log.error({ repo, grant, error: safeError(error), kind: name, status: httpStatus(error) }, "grant step failed; retrying on the next reconcile");
      return undefined;
    }
  }

  /**
   * GitHub links a merge commit to its PR a moment after the push: give a fresh commit that long.
   * Fresh by when Timebox first saw it (a commit's own date is whatever its author chose), so a
   * direct push with a future date is reported within minutes like any other.
   */
  private mayStillLinkToPull(t: TrackedGrant, now: Date): boolean {
    if (t.origin.approved) return false;
    return this.mayStillLinkCommit(t.origin.commitSha, t.origin.transient === true, now);
  }

  private mayStillLinkCommit(commitSha: string, transient: boolean, now: Date): boolean {
    if (!transient) return false;
    let seen = this.firstSeen.get(commitSha);
    if (seen === undefined) {
      seen = now.getTime();
      this.firstSeen.set(commitSha, seen);
      if (this.firstSeen.size > 10_000) this.firstSeen.delete(this.firstSeen.keys().next().value!);
    }
    return now.getTime() - seen < PULL_LINK_GRACE_MS;
  }

  private async defaultBranch(gw: Gateway, repo: string): Promise<string> {
    let branch = this.defaultBranches.get(repo);
    if (!branch) {
      branch = await gw.commits.defaultBranch();
      this.defaultBranches.set(repo, branch);
    }
    return branch;
  }

  /** Every grant file on the default branch's tip, with its (cached) origin. */
  private async trackedGrants(gw: Gateway, repo: string, tip: string, branch: string, grantsPath: string, undecided: string[] = []): Promise<TrackedGrant[]> {
    // The one definition of a grant file (the checks showed reviewers exactly these): a dot-file or
    // any other stray file under grants_path is never applied.
    const entries = (await gw.contents.grantEntries(tip, grantsPath)).filter((e) => isGrantFilePath(e.path, grantsPath));
    await this.prefetchOrigins(gw, repo, tip, branch, entries);
    const out: TrackedGrant[] = [];
    for (const e of entries) {
      if (e.mode !== "100644" && e.mode !== "100755") continue;
      const origin = await this.originOf(gw, repo, e.path, e.sha, tip, branch).catch((error: unknown) => {
        if (!(error instanceof SchedulesUnreadable)) throw error;
        this.deps.log.warn(
          { repo, grant: e.path, reason: error.message },
          "an on-call schedule the grant's approval needs could not be read; judged again next time",
        );
        undecided.push(e.path);
      });
      if (!origin) continue;
      const t: TrackedGrant = { path: e.path, blobSha: e.sha, origin };
      out.push(t);
      const underneath = await this.approvedUnderneath(gw, repo, t, branch);
      if (underneath) out.push(underneath);
    }
    return out;
  }

  /**
   * An unapproved change on top of an approved version (a direct push, an extension merged
   * without approval or beyond max_extensions) never extends it: the approved version keeps
   * running to its own expiry, and is then revoked with the file.
   */
  private async approvedUnderneath(gw: Gateway, repo: string, t: TrackedGrant, branch: string): Promise<ApprovedGrant | undefined> {
    // A fresh merge GitHub has not linked to its PR yet may be an extension: never revoke under it.
    if (t.origin.approved || this.mayStillLinkToPull(t, this.deps.clock.now())) return undefined;
    const parent = (await gw.commits.commit(t.origin.commitSha)).parents[0];
    const blob = parent ? await gw.contents.blobShaAt(parent, t.path) : undefined;
    if (!blob || blob === t.blobSha) return undefined;
    const origin = await this.originOf(gw, repo, t.path, blob, parent!, branch);
    return origin.approved ? { path: t.path, blobSha: blob, origin, tipBlobSha: t.blobSha } : undefined;
  }

  /**
   * A cold start (or any reconcile with many origins unknown) reads them in GraphQL batches first;
   * `resolveOrigin` then finds its reads answered. Below `GRAPHQL_MIN_ORIGINS` unknown origins, or
   * with `graphqlOrigins: "off"`, everything is read over REST as before.
   */
  private async prefetchOrigins(gw: Gateway, repo: string, tip: string, branch: string, entries: Array<{ path: string; sha: string; mode: string }>) {
    const mode = this.deps.graphqlOrigins ?? "auto";
    if (mode === "off") return;
    const unknown = entries.filter(
      (e) => (e.mode === "100644" || e.mode === "100755") && !this.origins.has(`${repo}:${versionKey({ path: e.path, blobSha: e.sha })}`),
    );
    if (unknown.length === 0 || (mode === "auto" && unknown.length < GRAPHQL_MIN_ORIGINS)) return;
    const grants = unknown.map((e) => ({ path: e.path, blobSha: e.sha }));
    const result = await gw.origins.prefetch(
      { tip, branch, grants, policyPath: POLICY_PATH, validateCheck: VALIDATE_CHECK, applyCheck: APPLY_CHECK },
      this.deps.log,
    );
    this.deps.log.info(
      { repo, origins: grants.length, graphqlRequests: result.requests, rest: Boolean(result.fellBack) },
      "grant origins read in GraphQL batches",
    );
  }

  private async originOf(gw: Gateway, repo: string, path: string, blobSha: string, tip: string, branch: string): Promise<TrackedGrant["origin"]> {
    const key = `${repo}:${versionKey({ path, blobSha })}`;
    let origin = this.origins.get(key);
    if (!origin) {
      const content = await gw.contents.readBlob(blobSha);
      origin = await resolveOrigin(gw, { path, blobSha, content, tip, defaultBranch: branch }, this.deps.providers, (p, blob, ref) =>
        this.originOf(gw, repo, p, blob, ref, branch),
      );
      if (origin.approved || !origin.transient) this.origins.set(key, origin);
    }
    return origin;
  }

  /**
   * Approved grants removed from the default branch within the history window (by a merged PR,
   * a push, or Timebox itself), so their access is revoked and their PR told, even after a crash.
   */
  private async removedSinceWindow(
    gw: Gateway,
    repo: string,
    branch: string,
    tip: string,
    grantsPath: string,
    policy: Policy | undefined,
    present: TrackedGrant[],
  ): Promise<Array<{ grant: ApprovedGrant; reason: RevokeReason }>> {
    const since = new Date(this.deps.clock.now().getTime() - historyWindowMs(policy, this.deps.historyMarginMs));
    const commits = await gw.commits.commitsTouching(tip, grantsPath.replace(/\/$/, ""), since);
    const stillThere = new Set(present.map((t) => t.path));
    const out: Array<{ grant: ApprovedGrant; reason: RevokeReason }> = [];
    const seen = new Set<string>();
    for (const commit of commits) {
      let files = this.commitFiles.get(commit.sha);
      if (!files) {
        files = await gw.commits.commitFiles(commit.sha);
        this.commitFiles.set(commit.sha, files);
      }
      for (const f of files.filter((f) => f.status === "removed" && f.path.startsWith(grantsPath) && !stillThere.has(f.path))) {
        const parent = commit.parents[0];
        const blob = f.sha && !/^0+$/.test(f.sha) ? f.sha : parent ? await gw.contents.blobShaAt(parent, f.path) : undefined;
        if (!blob || !parent || seen.has(`${f.path}@${blob}`)) continue;
        seen.add(`${f.path}@${blob}`);
        const origin = await this.originOf(gw, repo, f.path, blob, parent, branch);
        const t = { path: f.path, blobSha: blob, origin };
        if (isApproved(t)) out.push({ grant: t, reason: timeboxRevokeReason(commit.message, f.path) ?? "removed" });
      }
    }
    return out;
  }
}

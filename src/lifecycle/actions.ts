import { randomBytes } from "node:crypto";
import type { Gateway } from "../github/gateway.js";
import type { TrustedPolicy } from "../github/types.js";
import { POLICY_PATH, type Policy } from "../policy/types.js";
import { ProviderError, type ActiveGrant, type ManagedGrant, type Provider } from "../providers/types.js";
import type { Clock } from "../util/clock.js";
import { shortIdOf, toActiveGrant } from "./active-grant.js";
import { ApplyRecord } from "../records/apply-record.js";
import {
  appliedComment,
  appliedMarker,
  applyFailedComment,
  extendUrl,
  failedMarker,
  reminderComment,
  reminderMarker,
  removalCommitMessage,
  revokedComment,
  revokedMarker,
  stuckMarker,
  unapprovedIssue,
  type RevokeReason,
} from "../records/comments.js";
import type { Ledger } from "../records/ledger.js";
import type { ProviderPool } from "./provider-pool.js";
import type { NotifyPort } from "../notify/notifier.js";
import { driftEvent, grantEvent, revokeDetail, unapprovedEvent } from "../notify/events.js";
import { versionKey, type ApprovedGrant, type TrackedGrant } from "./types.js";

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ActionDeps {
  clock: Clock;
  pool: ProviderPool;
  log: Logger;
  /** Waits between provider retries on apply (bounded backoff); tests pass zeros. */
  applyRetryDelaysMs: readonly number[];
  sleep: (ms: number) => Promise<void>;
  /** Failed revokes before a `timebox:stuck-revoke` issue is opened (revoking goes on regardless). */
  stuckRevokeAfter: number;
  /** Slack and webhook notifications: never throws, never waits for a delivery. */
  notifier?: NotifyPort;
}

export type ApplyResult = "applied" | "present" | "failed";
export type RevokeOutcome = "revoked" | "done-before" | "failed";

/** Resource → what its provider says Timebox manages there (only providers with `listManaged`), by short id. */
export type ManagedIndex = Map<string, { list: ManagedGrant[]; byShortId: Map<string, ManagedGrant> }>;

/**
 * What "done in this process" is keyed by: the version *and* the PR and merge that brought it, so
 * identical bytes brought again by another route are judged afresh (rule 12).
 */
const doneKey = (t: ApprovedGrant) => `${versionKey(t)}#${t.origin.pull.number}@${t.origin.pull.mergeCommitSha.slice(0, 12)}`;

/** A provider error as it may be shown on a PR: its own summary, never a raw driver error. */
export function safeError(error: unknown): string {
  return error instanceof ProviderError ? error.message : "the provider failed unexpectedly (details in the app's logs)";
}

/** The effects of the lifecycle: apply, revoke, report. Each is idempotent and safe to repeat after a crash. */
/** The alert Timebox raises for a policy version it does not trust (`reportUntrustedPolicy`). */
const UNTRUSTED_POLICY_LABEL = "timebox:untrusted-policy";

export class GrantActions {
  /** Versions whose apply or revoke finished in this process (comments posted, records written). */
  private readonly done = new Set<string>();
  private readonly revokeFailures = new Map<string, number>();
  /** Per repository: what Timebox has put in effect and not yet revoked (see ledger.ts). */
  readonly ledgers = new Map<string, Ledger>();
  /**
   * Names this process in its removal commits. Two replicas revoking in the same second would
   * otherwise build byte-identical commits, and both compare-and-swaps would "win".
   */
  readonly runId = randomBytes(4).toString("hex");

  constructor(private readonly deps: ActionDeps) {}

  private provider(t: ApprovedGrant, policy?: Policy): Provider {
    return this.deps.pool.forResource(policy && Object.hasOwn(policy.resources, t.origin.grant.resource) ? policy : t.origin.policy, t.origin.grant.resource);
  }

  private stillActive(repo: string, t: ApprovedGrant, live: ApprovedGrant[]): ActiveGrant[] {
    return live.filter((o) => o.path !== t.path && o.origin.grant.resource === t.origin.grant.resource).map((o) => toActiveGrant(repo, o));
  }

  /** Puts an active grant in effect (prior access recorded first), verifies it, and tells the PR once. */
  async apply(gw: Gateway, repo: string, t: ApprovedGrant, live: ApprovedGrant[], policy: Policy, managed?: ManagedIndex): Promise<ApplyResult> {
    const key = `applied:${repo}:${doneKey(t)}`;
    const provider = this.provider(t, policy);
    // A provider that can list what it manages answers for all grants in one read; others are asked one by one.
    const listed = managed?.get(t.origin.grant.resource);
    const want = toActiveGrant(repo, t);
    // Listed is not enough: the handle must still link this principal to this target (an admin may
    // have revoked a membership and left the role). A false "absent" only costs an idempotent grant.
    const held = listed?.byShortId.get(want.shortId);
    const present = listed ? held?.principal === want.principal && held?.target === want.target : await provider.isGranted(want).catch(() => false);
    if (this.done.has(key) && present) return "present";
    const record = await ApplyRecord.load(gw, t.origin.pull.mergeCommitSha);
    const entryKey = versionKey(t);
    let entry = record.entries[entryKey];
    // Finished applies leave no entry (or an "applied" one): in effect and recorded, nothing to repeat.
    // Not for a provider that records prior access: its finished applies always keep their entry,
    // so no entry means the apply never began, and access already present is the person's own
    // (or another grant's), which must be recorded before this grant can be revoked (rule 7).
    const finished = entry?.state === "applied" || (!entry && !provider.recordPriorAccess);
    if (present && finished && (await gw.issues.hasMarkedComment(t.origin.pull.number, appliedMarker(t)))) {
      // A crash after the comment but before the first record write leaves no check run: write it.
      if (!record.written) await record.save(entryKey, { ...entry, state: "applied" }, `Applied \`${t.path}\`; expires ${want.expiresAt.toISOString()}.`);
      this.done.add(key);
      return "present";
    }
    if (!entry && provider.recordPriorAccess) {
      // Prior access is recorded before the provider is touched: once granted it cannot be read again.
      // An extension or a merged break-glass grant is already in effect: what it found before carries over.
      const prior = (await this.inheritedPriorAccess(gw, t)) ?? (await provider.recordPriorAccess(toActiveGrant(repo, t), this.stillActive(repo, t, live)));
      entry = { state: "granting", priorAccess: prior };
      await record.save(entryKey, entry, `Applying \`${t.path}\`.`);
    }
    entry ??= { state: "granting" };
    const g = toActiveGrant(repo, t, entry.priorAccess);
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.deps.applyRetryDelaysMs.length; attempt++) {
      try {
        const result = await provider.grant(g);
        if (!(await provider.isGranted(g))) throw new ProviderError("the access is not visible after granting it");
        if (!(await gw.issues.hasMarkedComment(t.origin.pull.number, appliedMarker(t)))) {
          await gw.issues.comment(t.origin.pull.number, appliedComment(t, g, result.summary, this.deps.clock.now()));
          this.deps.notifier?.notify(grantEvent(t.origin.extension ? "extended" : "applied", repo, t, this.deps.clock.now()));
        }
        if (entry.state !== "applied")
          await record.save(
            entryKey,
            { ...entry, state: "applied", summary: result.summary },
            `Applied \`${t.path}\`: ${result.summary}; expires ${g.expiresAt.toISOString()}.`,
          );
        this.done.add(key);
        this.deps.log.info({ repo, grant: t.path, pr: t.origin.pull.number }, "grant applied");
        return entry.state === "applied" ? "present" : "applied";
      } catch (error) {
        lastError = error;
        this.deps.log.warn({ repo, grant: t.path, pr: t.origin.pull.number, attempt, error: safeError(error) }, "apply failed");
        if (!(error instanceof ProviderError) || !error.retryable) break;
        const delay = this.deps.applyRetryDelaysMs[attempt];
        if (delay !== undefined) await this.deps.sleep(delay);
      }
    }
    if (!(await gw.issues.hasMarkedComment(t.origin.pull.number, failedMarker(t)))) {
      await gw.issues.comment(t.origin.pull.number, applyFailedComment(t, safeError(lastError)));
      await record.save(entryKey, { ...entry, state: "failed" }, `Could not apply \`${t.path}\`: ${safeError(lastError)}. Retrying on every reconcile.`);
    }
    return "failed";
  }

  /**
   * The prior access of a grant that continues one already in effect: the extended version's
   * record, or what break-glass recorded. `{}` (nothing before) when that record is lost: at
   * expiry Timebox then takes the access away rather than leave it. So for an emergency grant
   * whose break-glass record cannot be read (edited or deleted by someone with write access): what
   * the person holds now may be Timebox's own emergency grant, never to be recorded as theirs.
   */
  private async inheritedPriorAccess(gw: Gateway, t: ApprovedGrant): Promise<Record<string, string> | undefined> {
    if (t.origin.breakglass) return t.origin.breakglass.priorAccess ?? {};
    if (t.origin.grant.emergency) return {};
    const previous = t.origin.extension?.previous;
    if (!previous) return undefined;
    return (await ApplyRecord.load(gw, previous.mergeCommitSha)).entries[previous.key]?.priorAccess ?? {};
  }

  /** Comments once on the grant's PR shortly before it expires, with a link that starts an extension. */
  async remind(gw: Gateway, t: ApprovedGrant, repo: string, branch: string): Promise<void> {
    const key = `reminded:${repo}:${doneKey(t)}`;
    if (this.done.has(key)) return;
    if (!(await gw.issues.hasMarkedComment(t.origin.pull.number, reminderMarker(t)))) {
      await gw.issues.comment(t.origin.pull.number, reminderComment(t, toActiveGrant(repo, t), branch, this.deps.clock.now()));
      this.deps.notifier?.notify(grantEvent("expiring", repo, t, this.deps.clock.now(), { extend_url: extendUrl(t, branch) }));
    }
    this.done.add(key);
  }

  /**
   * Revoke first, record second: revoke at the provider and verify, then remove the file in a
   * Timebox commit (compare-and-swap), then tell the PR. A crash between steps is repaired by the
   * next reconcile; a revoke that keeps failing is retried forever and reported as stuck.
   */
  async revoke(
    gw: Gateway,
    repo: string,
    branch: string,
    t: ApprovedGrant,
    live: ApprovedGrant[],
    reason: RevokeReason,
    how: {
      /** True when the file is still on the branch (it is then removed); false when history shows it gone. */
      onBranch: boolean;
      /** The provider's view when it is known without the apply record (a break-glass grant's own record). */
      known?: ActiveGrant;
      /** Records the story elsewhere once the access is gone (a break-glass PR closed unmerged); says where, for the comment. */
      record?: (g: ActiveGrant, revokedAt: Date) => Promise<string>;
    },
  ): Promise<RevokeOutcome> {
    const { onBranch, known } = how;
    const key = `revoked:${repo}:${doneKey(t)}`;
    if (this.done.has(key)) {
      this.ledgers.get(repo)?.remove(t.path, t.blobSha, t.origin.pull.number);
      return "done-before";
    }
    const provider = this.provider(t);
    const g =
      known ??
      toActiveGrant(
        repo,
        t,
        t.origin.breakglass?.priorAccess ?? (await ApplyRecord.load(gw, t.origin.pull.mergeCommitSha)).entries[versionKey(t)]?.priorAccess,
      );
    const revokedAt = this.deps.clock.now();
    try {
      await provider.revoke(g, this.stillActive(repo, t, live));
      const hadBefore = g.priorAccess !== undefined && Object.values(g.priorAccess).some((v) => v !== "none");
      const overlapped = this.stillActive(repo, t, live).some((o) => o.principal === g.principal && o.target === g.target);
      if (!hadBefore && !overlapped && (await provider.isGranted(g))) throw new ProviderError("the access is still visible after revoking it");
      // Gone at the provider: the ledger forgets it (written at the end of the reconcile).
      this.ledgers.get(repo)?.remove(t.path, t.blobSha, t.origin.pull.number);
    } catch (error) {
      const failures = (this.revokeFailures.get(key) ?? 0) + 1;
      this.revokeFailures.set(key, failures);
      this.deps.log.error({ repo, grant: t.path, pr: t.origin.pull.number, failures, error: safeError(error) }, "revoke failed; retrying on the next tick");
      if (failures >= this.deps.stuckRevokeAfter) {
        await gw.issues.upsertLabelledIssue(
          "timebox:stuck-revoke",
          stuckMarker(t),
          `Revocation is failing: ${t.path}`,
          `${stuckMarker(t)}\nTimebox could not revoke \`${t.path}\` (${g.requester}, ${g.resource}/${g.role}, PR #${g.pullRequest}) after ${failures} attempts: ${safeError(error)}.\n\nIt keeps trying on every tick. Check the provider's credentials and reachability.`,
        );
        this.deps.notifier?.notify(grantEvent("revoke.stuck", repo, t, revokedAt, { detail: `${failures} attempts failed: ${safeError(error)}` }));
      }
      return "failed";
    }
    let where = how.record ? await how.record(g, revokedAt) : "";
    if (onBranch) {
      const outcome = await gw.commits.removeFile(branch, t.path, t.tipBlobSha ?? t.blobSha, removalCommitMessage(t, g, reason, revokedAt, this.runId));
      // Another instance won the compare-and-swap: it comments; if it died first, the history pass does.
      if (outcome.kind === "already-gone") return "revoked";
      where =
        outcome.kind === "committed"
          ? `The file was removed in ${outcome.sha}.`
          : `Branch rules refused Timebox's commit, so the file's removal is proposed in #${outcome.number}.`;
    }
    if (!(await gw.issues.hasMarkedComment(t.origin.pull.number, revokedMarker(t)))) {
      await gw.issues.comment(t.origin.pull.number, revokedComment(t, g, reason, revokedAt, where));
      this.deps.notifier?.notify(grantEvent("revoked", repo, t, revokedAt, { detail: revokeDetail(reason) }));
    }
    if (this.revokeFailures.delete(key)) {
      await gw.issues.closeLabelledIssue("timebox:stuck-revoke", stuckMarker(t), `Revoked at ${revokedAt.toISOString()}; closing.`);
    }
    this.done.add(key);
    this.deps.log.info({ repo, grant: t.path, pr: g.pullRequest, reason }, "grant revoked");
    return "revoked";
  }

  /** Grant content that reached the default branch without an approved merged PR: never applied, reported once. */
  async reportUnapproved(gw: Gateway, t: TrackedGrant, branch: string, pusherOf: (sha: string) => string | undefined): Promise<boolean> {
    if (t.origin.approved) return false;
    const key = `unapproved:${gw.repoRef.owner}/${gw.repoRef.repo}:${versionKey(t)}@${t.origin.commitSha}`;
    if (this.done.has(key)) return false;
    const { title, body } = unapprovedIssue(t, branch, pusherOf(t.origin.commitSha));
    const issue = await gw.issues.upsertLabelledIssue("timebox:unapproved", body.split("\n")[0], title, body);
    this.deps.notifier?.notify(unapprovedEvent(gw.repoRef, t, pusherOf(t.origin.commitSha), this.deps.clock.now()));
    if (t.origin.pull && !(await gw.issues.hasMarkedComment(t.origin.pull.number, body.split("\n")[0]))) {
      await gw.issues.comment(t.origin.pull.number, `${body}\n\nTracked in #${issue}.`);
    }
    this.deps.log.warn(
      { repo: `${gw.repoRef.owner}/${gw.repoRef.repo}`, grant: t.path, pr: t.origin.pull?.number, commit: t.origin.commitSha },
      "unapproved grant content on the default branch",
    );
    this.done.add(key);
    return true;
  }

  /**
   * A version of the policy on the default branch that Timebox does not trust (pushed without a PR,
   * or merged without a policy owner's approval): reported once, in an issue labelled
   * `timebox:untrusted-policy`, and logged. Timebox keeps judging by the trusted policy before it.
   */
  async reportUntrustedPolicy(gw: Gateway, branch: string, trusted: TrustedPolicy): Promise<boolean> {
    const untrusted = trusted.untrusted;
    if (!untrusted) return false;
    const repo = `${gw.repoRef.owner}/${gw.repoRef.repo}`;
    const key = `untrusted-policy:${repo}:${untrusted.commit}`;
    if (this.done.has(key)) return false;
    const marker = `<!-- timebox:untrusted-policy ${untrusted.commit} -->`;
    const body = [
      marker,
      `Timebox found a version of \`${POLICY_PATH}\` on \`${branch}\` that it **does not trust**: ${untrusted.reason}.`,
      "",
      `- **Commit:** ${untrusted.commit}`,
      trusted.commit
        ? `- **Judging by:** the trusted version of ${trusted.commit}`
        : "- **Judging by:** no policy (none is trusted): nothing new is applied; access in effect still ends on time",
      "",
      "A change to the policy takes effect only when it is merged through a pull request a policy owner (`owners` of the policy before it) approved. " +
        "Revert this change, or propose it again in a pull request for an owner to approve.",
    ].join("\n");
    await gw.issues.upsertLabelledIssue(UNTRUSTED_POLICY_LABEL, marker, `Untrusted policy change on ${branch}: ${untrusted.commit.slice(0, 12)}`, body);
    this.done.delete(`untrusted-policy-cleared:${repo}`);
    this.deps.log.warn({ repo, commit: untrusted.commit, reason: untrusted.reason, trusted: trusted.commit }, "untrusted policy version on the default branch");
    this.done.add(key);
    return true;
  }

  /**
   * The tip's policy is trusted (again): Timebox's open untrusted-policy alerts are closed, saying
   * which version it judges by. Looked for once per process and after each alert, not every reconcile.
   */
  async clearUntrustedPolicy(gw: Gateway, trusted: TrustedPolicy): Promise<void> {
    const key = `untrusted-policy-cleared:${gw.repoRef.owner}/${gw.repoRef.repo}`;
    if (trusted.untrusted || this.done.has(key)) return;
    const judging = trusted.commit ? `the version of ${trusted.commit}` : "no policy (the file is gone)";
    await gw.issues.closeLabelledIssue(
      UNTRUSTED_POLICY_LABEL,
      undefined,
      `The policy on the default branch is trusted again: Timebox judges by ${judging}. Closing.`,
    );
    this.done.add(key);
  }

  /** What each provider that can list its managed access holds, by resource (one read each). */
  async managedIndex(policy: Policy | undefined): Promise<ManagedIndex> {
    const index: ManagedIndex = new Map();
    for (const resource of Object.keys(policy?.resources ?? {})) {
      try {
        const provider = this.deps.pool.forResource(policy!, resource);
        if (!provider.listManaged) continue;
        const list = await provider.listManaged();
        index.set(resource, { list, byShortId: new Map(list.flatMap((m) => (m.shortId ? [[m.shortId, m] as const] : []))) });
      } catch (error) {
        this.deps.log.warn({ resource, error: safeError(error) }, "could not list managed access");
      }
    }
    return index;
  }

  /** What a provider holds for this repository that no live grant explains is revoked and reported. */
  async revokeDrift(
    gw: Gateway,
    repo: string,
    policy: Policy | undefined,
    live: ApprovedGrant[],
    branch: string,
    index: ManagedIndex,
    /** The grant files (path → blob) this reconcile judged on the tip: they are not spared unless live. */
    judged: ReadonlyMap<string, string>,
  ): Promise<void> {
    if (!policy) return;
    const liveIds = new Set(live.map((t) => shortIdOf(repo, t.path)));
    const suspects = [...index].flatMap(([resource, { list: managed }]) =>
      managed.filter((m) => m.repo === repo && m.shortId && !liveIds.has(m.shortId)).map((m) => ({ resource, m })),
    );
    if (suspects.length === 0) return;
    // Read the tip again: a grant merged (and applied by another instance) since this reconcile began
    // is not drift. A file this reconcile judged, unchanged since, is spared only when live (above).
    const fresh = await gw.contents.grantEntries(await gw.commits.branchTip(branch), policy.grants_path);
    const onTip = new Set(fresh.filter((e) => judged.get(e.path) !== e.sha).map((e) => shortIdOf(repo, e.path)));
    for (const { resource, m } of suspects.filter((s) => !onTip.has(s.m.shortId!))) {
      const g: ActiveGrant = {
        id: m.grantId ?? m.handle,
        shortId: m.shortId!,
        repo,
        requester: m.principal ?? "",
        principal: m.principal ?? "",
        resource,
        role: "",
        target: m.target ?? "",
        roleSettings: {},
        pullRequest: 0,
        grantedAt: new Date(0),
        expiresAt: m.expiresAt ?? new Date(0),
      };
      try {
        await this.deps.pool.forResource(policy, resource).revoke(g, []);
      } catch (error) {
        this.deps.log.error({ repo, resource, handle: m.handle, error: safeError(error) }, "could not revoke drift");
        continue;
      }
      this.deps.log.warn({ repo, resource, handle: m.handle, grant: m.grantId }, "revoked access no grant explains (drift)");
      const marker = `<!-- timebox:drift ${resource}/${m.handle} -->`;
      await gw.issues.upsertLabelledIssue(
        "timebox:drift",
        marker,
        `Drift revoked on ${resource}: ${m.handle}`,
        `${marker}\nTimebox found \`${m.handle}\` on \`${resource}\` (for \`${m.principal ?? "unknown"}\`, recorded grant \`${m.grantId ?? "unknown"}\`) that no active grant on the default branch explains, and revoked it at ${this.deps.clock.now().toISOString()}.`,
      );
      this.deps.notifier?.notify(driftEvent(repo, resource, m, this.deps.clock.now()));
    }
  }
}

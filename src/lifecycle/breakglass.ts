import type { Gateway } from "../github/gateway.js";
import type { LabelledPull } from "../github/types.js";
import type { Ledger } from "../records/ledger.js";
import { parseDuration } from "../duration.js";
import type { GrantVerdict } from "../grants/check.js";
import { policyNaming, type Policy } from "../policy/types.js";
import { ProviderError, type ActiveGrant } from "../providers/types.js";
import { judgePullRequest } from "../pull-request/run.js";
import type { ReviewDecision } from "../pull-request/decide.js";
import { isoSecond as iso } from "../util/clock.js";
import { shortIdOf, toActiveGrant } from "./active-grant.js";
import { safeError, type ActionDeps, type GrantActions } from "./actions.js";
import {
  appliedNotice,
  approvedAt,
  BREAKGLASS_LABEL,
  closedMarker,
  closedNote,
  closedNotice,
  recordsOf,
  reviewedOf,
  reviewedNotice,
  UNREVIEWED_LABEL,
  unreviewedIssue,
  unreviewedMarker,
  type BreakglassRecord,
  type ReviewedRecord,
} from "../records/breakglass.js";
import { applyFailedComment, failedMarker, recordTrailers, removalCommitMessage, revokedMarker, type RevokeReason } from "../records/comments.js";
import { breakglassToStart, decideBreakglass, type ReviewStep } from "./decide.js";
import { versionKey, type ApprovedGrant, type TrackedGrant } from "./types.js";
import { breakglassEvent } from "../notify/events.js";

export interface BreakglassContext {
  repo: string;
  branch: string;
  /** The policy at the default branch's tip (undefined when missing or invalid: nothing new is applied). */
  policy?: Policy;
  /** Approved grants on the default branch (a merged break-glass PR's grant is then handled there). */
  approved: ApprovedGrant[];
  /** Every grant file on the default branch: an emergency grant merged without its approval is among them, unapproved. */
  tracked: TrackedGrant[];
  /** Grants in effect, for overlap-aware revokes. */
  live: ApprovedGrant[];
  /** How far back labelled PRs are read. */
  since: Date;
  /** Called before an emergency grant is put in effect at the provider (the ledger records it first). */
  beforeGrant: (t: ApprovedGrant, principal: string) => Promise<void>;
  /**
   * The break-glass PRs Timebox follows by its own record (kept next to the ledger): visited whatever
   * their labels say, since anyone with triage rights can take the label off.
   */
  followed: Pick<Ledger, "followed" | "followedUntil" | "follow" | "unfollow">;
  /** Writes the ledger and the followed PRs when they changed. */
  save: () => Promise<void>;
  /** How long past its expiry and review due a closed break-glass PR is still followed. */
  followMarginMs: number;
}

export interface BreakglassResult {
  /** Emergency grants in effect before (or without) a merge: they count as live for revokes and drift. */
  active: ApprovedGrant[];
  applied: string[];
  revoked: string[];
  failures: string[];
  /** The next moment something happens to a break-glass grant (expiry, review due). */
  next?: Date;
}

/**
 * Break-glass: an emergency grant is applied as soon as its PR is open and valid, before any
 * review, for at most the role's `breakglass.max_duration`. Its record is written on the PR before
 * the provider is touched; it is revoked at expiry or at once when its PR closes unmerged (and the
 * story recorded in an empty Timebox commit); a review that does not come within `review_within`
 * opens a `timebox:breakglass-unreviewed` issue. Once the PR merges with its approval, the grant
 * is an ordinary one on the default branch whose clock started at the break-glass apply.
 */
export class BreakglassPass {
  constructor(
    private readonly deps: ActionDeps & { providers: ReadonlyMap<string, readonly string[]> },
    private readonly actions: GrantActions,
  ) {}

  async run(gw: Gateway, ctx: BreakglassContext): Promise<BreakglassResult> {
    const result: BreakglassResult = { active: [], applied: [], revoked: [], failures: [] };
    // The label finds new break-glass PRs (the PR handler puts it on, and the PR is judged again
    // here); the ones Timebox already recorded an emergency grant on are followed by its own record.
    const labelled = await gw.issues.labelledPulls(BREAKGLASS_LABEL, ctx.since);
    const known = new Set(labelled.map((p) => p.number));
    const pulls: Array<() => Promise<LabelledPull>> = labelled.map((p) => async () => p);
    for (const number of ctx.followed.followed().filter((n) => !known.has(n))) pulls.push(() => this.followedPull(gw, number));
    for (const read of pulls) {
      let number: number | undefined;
      try {
        const pull = await read();
        number = pull.number;
        const failures = result.failures.length;
        await this.pull(gw, ctx, pull, result);
        if (result.failures.length === failures) this.settleFollow(ctx, pull);
      } catch (error) {
        result.failures.push(`#${number ?? "?"}`);
        this.deps.log.error({ repo: ctx.repo, pr: number, error: safeError(error) }, "break-glass step failed; retrying on the next reconcile");
      }
    }
    await ctx.save();
    return result;
  }

  /** A followed PR the labelled list did not name (its label taken off, or not updated lately): read, and labelled again. */
  private async followedPull(gw: Gateway, number: number): Promise<LabelledPull> {
    const pr = await gw.pulls.getPull(number);
    // The label is only a hint for people; put back when someone took it off.
    if (!pr.labels?.includes(BREAKGLASS_LABEL)) await gw.issues.addLabel(number, BREAKGLASS_LABEL);
    return { number, open: pr.state === "open", ...(pr.mergedAt ? { mergedAt: pr.mergedAt } : {}), author: pr.author };
  }

  /** A PR is followed while it is open, and once closed until its grants' expiry and review due plus the margin. */
  private settleFollow(ctx: BreakglassContext, pull: LabelledPull): void {
    const until = ctx.followed.followedUntil(pull.number);
    if (!pull.open && (!until || Date.parse(until) <= this.deps.clock.now().getTime())) ctx.followed.unfollow(pull.number);
  }

  /** Follows a PR that holds break-glass records, until its last expiry or review due plus the margin. */
  private follow(ctx: BreakglassContext, pr: number, records: Iterable<BreakglassRecord>): void {
    let last = 0;
    for (const r of records) last = Math.max(last, Date.parse(r.expiresAt), Date.parse(r.reviewDue));
    if (last > 0) ctx.followed.follow(pr, iso(new Date(last + ctx.followMarginMs)));
  }

  private async pull(gw: Gateway, ctx: BreakglassContext, pull: LabelledPull, result: BreakglassResult): Promise<void> {
    const markers = await gw.issues.markers(pull.number);
    const comments = await gw.issues.ownComments(pull.number);
    const records = boundedRecords(recordsOf(comments), ctx.policy);
    this.follow(ctx, pull.number, records.values());
    const reviewed = reviewedOf(comments);
    // One moment for judging and for the record: an on-call requester is judged at the start the record keeps.
    const startAt = new Date(Math.floor(this.deps.clock.now().getTime() / 1000) * 1000); // whole seconds, as the record writes it
    const judged = pull.open ? await judgePullRequest(gw, pull.number, { providers: this.deps.providers, log: this.deps.log, now: startAt }) : undefined;
    const decision = judged?.decision;

    // Only a PR into the default branch is judged by a policy people cannot change at will: a PR
    // into some other branch is judged by that branch's policy, which its author may have written.
    const intoDefault = judged?.snapshot.pr.baseRef === ctx.branch;
    if (decision && intoDefault && ctx.policy) {
      // Started before if the ledger holds it, whatever the PR's comments say now: a record edited
      // or deleted is no new start (the ledger revokes the grant it no longer sees recorded).
      const started = (this.actions.ledgers.get(ctx.repo)?.entries() ?? []).filter((e) => e.breakglass && e.pull === pull.number).map((e) => e.path);
      for (const v of breakglassToStart(decision, new Set([...records.keys(), ...started]))) {
        const record = await this.start(gw, ctx, pull.number, v, ctx.policy, startAt);
        records.set(record.path, record);
        result.applied.push(record.path);
      }
    }

    const now = this.deps.clock.now();
    for (const record of records.values()) {
      const merged = pull.mergedAt ? ctx.approved.find((a) => a.path === record.path && a.origin.pull.number === pull.number) : undefined;
      let review = reviewed.get(record.path);
      if (!review) {
        review = await this.reviewOf(gw, record, pull, decision, merged);
        if (review) {
          await gw.issues.comment(pull.number, reviewedNotice(review, record));
          this.deps.notifier?.notify(breakglassEvent("breakglass.reviewed", ctx.repo, pull.number, record, now, { approved_by: review.by }));
          reviewed.set(record.path, review);
        }
      }
      const t = asGrant(record, pull, review, ctx.policy);
      const g = activeGrantOf(ctx.repo, record, pull.number);
      const onPull: RecordOnPull = { pull, record, t, g };
      const asked = (v: GrantVerdict) => v.path === record.path && v.valid && v.grant?.emergency && sameGrant(v, record);
      if (record.mismatch)
        this.deps.log.error(
          { repo: ctx.repo, pr: pull.number, grant: record.path, mismatch: record.mismatch },
          "a break-glass record disagrees with the policy; revoking it",
        );
      const { step, review: reviewStep } = decideBreakglass(
        {
          expiresAt: record.expiresAt,
          reviewDue: record.reviewDue,
          mismatch: record.mismatch !== undefined,
          takenOver: merged !== undefined,
          open: pull.open,
          merged: pull.mergedAt !== undefined,
          ...(decision ? { stillAsked: intoDefault && decision.grants.some(asked) } : {}),
          revokedBefore: markers.has(revokedMarker(t)),
          closeRecorded: markers.has(closedMarker(record.path)),
          reviewed: review !== undefined,
        },
        now,
      );
      if (step.kind === "keep") {
        // Live even when the provider failed just now: never mistaken for drift, retried next time.
        result.active.push(t);
        if (!(await this.ensureGranted(gw, ctx, t, g, pull.number))) result.failures.push(record.path);
        result.next = earliest(result.next, step.until);
      } else if (step.kind === "revoke") {
        // Closed unmerged and still in effect: revoke, record in Git, and say both in one comment.
        const outcome = await this.actions.revoke(gw, ctx.repo, ctx.branch, t, ctx.live, step.reason, {
          onBranch: false,
          known: g,
          ...(step.recordClose === "with-revoke"
            ? { record: (_: ActiveGrant, at: Date) => this.recordClosed(gw, ctx, onPull, { reason: step.reason, at }) }
            : {}),
        });
        if (outcome === "revoked") result.revoked.push(record.path);
        if (outcome === "failed") result.failures.push(record.path);
        else if (step.recordClose === "after-earlier-revoke") await this.recordClosedLater(gw, ctx, onPull, step.reason, markers);
        else if (step.removeMergedFile) await this.removeUnapprovedMerge(gw, ctx, onPull, step.reason, markers);
      }
      await this.followUpReview(gw, pull.number, record, review, reviewStep, now, result);
    }
  }

  /** The break-glass grants of PR `pr` still in effect (for `/timebox revoke`), with the provider's view of each. */
  async activeOn(gw: Gateway, repo: string, pr: number, policy: Policy | undefined): Promise<Array<{ t: ApprovedGrant; g: ActiveGrant }>> {
    const markers = await gw.issues.markers(pr);
    const comments = await gw.issues.ownComments(pr);
    const reviewed = reviewedOf(comments);
    const now = this.deps.clock.now().getTime();
    return [...boundedRecords(recordsOf(comments), policy).values()]
      .filter((r) => Date.parse(r.expiresAt) > now)
      .map((r) => ({ t: asGrant(r, { number: pr, open: true, author: r.requester }, reviewed.get(r.path), policy), g: activeGrantOf(repo, r, pr) }))
      .filter(({ t }) => !markers.has(revokedMarker(t)));
  }

  /** Records the grant on the PR (prior access first), then applies it. */
  private async start(gw: Gateway, ctx: BreakglassContext, pr: number, v: GrantVerdict, policy: Policy, now: Date): Promise<BreakglassRecord> {
    const grant = v.grant!;
    const role = v.role!;
    const reviewWithin = parseDuration(role.breakglass!.review_within);
    const resource = policy.resources[grant.resource];
    const record: BreakglassRecord = {
      path: grant.path,
      requester: grant.requester,
      principal: policy.identities[grant.requester.toLowerCase()]?.[resource.provider] ?? grant.requester,
      resource: grant.resource,
      role: grant.role,
      target: role.target,
      roleSettings: role.settings ?? {},
      duration: grant.duration,
      durationMs: grant.durationMs,
      reason: grant.reason,
      ...(grant.ticket ? { ticket: grant.ticket } : {}),
      grantedAt: iso(now),
      expiresAt: iso(new Date(now.getTime() + grant.durationMs)),
      reviewDue: iso(new Date(now.getTime() + (reviewWithin.ok ? reviewWithin.ms : 0))),
    };
    const provider = this.deps.pool.forResource(policy, grant.resource);
    if (provider.recordPriorAccess) {
      record.priorAccess = await provider.recordPriorAccess(activeGrantOf(ctx.repo, record, pr), stillActiveFor(ctx.repo, record, ctx.live));
    }
    // The record comes first: once it exists, expiry is enforced even if the app dies mid-grant.
    // Followed from here on by Timebox's own record (written with the ledger before the provider is touched).
    this.follow(ctx, pr, [record]);
    await gw.issues.comment(pr, appliedNotice(record, role.approvers));
    this.deps.notifier?.notify(breakglassEvent("breakglass.used", ctx.repo, pr, record, now), policy);
    this.deps.log.warn({ repo: ctx.repo, grant: record.path, pr, requester: record.requester }, "break-glass grant recorded; applying before review");
    return record;
  }

  /** In effect (read back), granting it when it is not; a failure is reported once on the PR. */
  private async ensureGranted(gw: Gateway, ctx: BreakglassContext, t: ApprovedGrant, g: ActiveGrant, pr: number): Promise<boolean> {
    const provider = this.deps.pool.forResource(t.origin.policy, g.resource);
    try {
      await ctx.beforeGrant(t, g.principal);
      if (await provider.isGranted(g)) return true;
      await provider.grant(g);
      if (!(await provider.isGranted(g))) throw new ProviderError("the access is not visible after granting it");
      this.deps.log.info({ repo: ctx.repo, grant: t.path, pr }, "break-glass grant applied");
      return true;
    } catch (error) {
      this.deps.log.error({ repo: ctx.repo, grant: t.path, pr, error: safeError(error) }, "break-glass apply failed");
      if (!(await gw.issues.hasMarkedComment(pr, failedMarker(t)))) await gw.issues.comment(pr, applyFailedComment(t, safeError(error)));
      return false;
    }
  }

  /** The normal approval that came after the emergency grant, if it has. */
  private async reviewOf(
    gw: Gateway,
    record: BreakglassRecord,
    pull: LabelledPull,
    decision: ReviewDecision | undefined,
    merged: ApprovedGrant | undefined,
  ): Promise<ReviewedRecord | undefined> {
    const approval = decision?.approval.grants.find((a) => a.path === record.path);
    const by = merged ? merged.origin.approvedBy : approval?.satisfied ? approval.counted : undefined;
    if (!by?.length) return undefined;
    // Merged: the origin already read the reviews before the merge.
    const known = merged?.origin.breakglass?.reviewedAt;
    if (known) return { path: record.path, by, at: known };
    const reviews = await gw.pulls.listReviews(pull.number);
    return { path: record.path, by, at: approvedAt(reviews, by) ?? iso(this.deps.clock.now()) };
  }

  /** Past the review window without the approval: an issue, closed when the approval arrives. */
  private async followUpReview(
    gw: Gateway,
    pr: number,
    record: BreakglassRecord,
    review: ReviewedRecord | undefined,
    step: ReviewStep,
    now: Date,
    result: BreakglassResult,
  ): Promise<void> {
    if (step.kind === "wait") result.next = earliest(result.next, step.until);
    if (step.kind === "close-unreviewed-issue" && review) {
      await gw.issues.closeLabelledIssue(UNREVIEWED_LABEL, unreviewedMarker(pr, record.path), `Reviewed by ${review.by.join(", ")} at ${review.at}; closing.`);
    }
    if (step.kind === "open-unreviewed-issue") {
      const issue = unreviewedIssue(pr, record, now);
      await gw.issues.upsertLabelledIssue(UNREVIEWED_LABEL, issue.marker, issue.title, issue.body);
      this.deps.notifier?.notify(breakglassEvent("breakglass.review_overdue", `${gw.repoRef.owner}/${gw.repoRef.repo}`, pr, record, now));
    }
  }

  /**
   * Merged without its approval, the emergency grant's file is unapproved content that is never
   * applied; once the break-glass access has ended, Timebox removes the file with the story's
   * trailers, so Git shows how it ended.
   */
  private async removeUnapprovedMerge(
    gw: Gateway,
    ctx: BreakglassContext,
    { pull, t, g }: RecordOnPull,
    reason: RevokeReason,
    markers: Set<string>,
  ): Promise<void> {
    const onTip = ctx.tracked.find((o) => o.path === t.path && !o.origin.approved && o.origin.pull?.number === pull.number);
    if (!onTip) return;
    const end = this.endOf(markers, t, reason);
    await gw.commits.removeFile(ctx.branch, t.path, onTip.blobSha, removalCommitMessage(t, g, end.reason, end.at, this.actions.runId));
  }

  /**
   * A PR closed unmerged never brought its grant to the default branch: an empty Timebox commit
   * tells the story there. Returns the comment's words for it (with the marker that says it is done).
   */
  private async recordClosed(gw: Gateway, ctx: BreakglassContext, { pull, record, t, g }: RecordOnPull, { reason, at: revokedAt }: GrantEnd): Promise<string> {
    const message = [
      `Revoke emergency grant ${record.path} (PR #${pull.number} closed unmerged)`,
      "",
      `${record.requester}'s break-glass ${record.role} access to ${record.resource} (${record.duration}, PR #${pull.number}) ended: ${reason}. The pull request was closed without merging.`,
      "",
      ...recordTrailers(t, g, reason, revokedAt, this.actions.runId),
    ].join("\n");
    // A crash after the commit and before the comment: the commit is found, not made twice.
    const since = new Date(Date.parse(record.grantedAt) - 60_000);
    const existing = (await gw.commits.commitsSince(ctx.branch, since)).find(
      (c) => c.message.includes(`Timebox-Grant: ${record.path}\n`) && c.message.includes(`Pull-Request: #${pull.number}\n`),
    );
    const sha = existing?.sha ?? (await gw.commits.recordCommit(ctx.branch, message));
    return closedNote(record.path, sha);
  }

  /** Closed after its grant had already ended (expired, revoked by command): the record keeps that end's time and reason. */
  private async recordClosedLater(gw: Gateway, ctx: BreakglassContext, onPull: RecordOnPull, reason: RevokeReason, markers: Set<string>): Promise<void> {
    const where = await this.recordClosed(gw, ctx, onPull, this.endOf(markers, onPull.t, reason));
    await gw.issues.comment(onPull.pull.number, closedNotice(where));
    markers.add(closedMarker(onPull.record.path));
  }

  /** How the grant ended: as its revoke comment says (it may be long before the PR closed), else for `reason`, now. */
  private endOf(markers: Set<string>, t: ApprovedGrant, reason: RevokeReason): GrantEnd {
    return revokedEarlier(markers, t) ?? { reason, at: this.deps.clock.now() };
  }
}

type BoundedRecord = BreakglassRecord & { mismatch?: string };

/** A break-glass record on its pull request, with its grant as the lifecycle (`t`) and the provider (`g`) see it. */
interface RecordOnPull {
  pull: LabelledPull;
  record: BreakglassRecord;
  t: ApprovedGrant;
  g: ActiveGrant;
}

/** When a grant ended, and why. */
interface GrantEnd {
  at: Date;
  reason: RevokeReason;
}

/**
 * Records bounded by the default branch's policy (rule 11): the role must still allow break-glass,
 * the principal and target must be what the policy gives the requester, and the access ends within
 * `breakglass.max_duration` of the apply. A record that disagrees is marked, to be revoked.
 */
function boundedRecords(records: Map<string, BreakglassRecord>, policy: Policy | undefined): Map<string, BoundedRecord> {
  const out = new Map<string, BoundedRecord>();
  for (const [path, r] of records) {
    if (!policy) {
      out.set(path, r);
      continue;
    }
    const resource = Object.hasOwn(policy.resources, r.resource) ? policy.resources[r.resource] : undefined;
    const role = resource && Object.hasOwn(resource.roles, r.role) ? resource.roles[r.role] : undefined;
    const max = role?.breakglass ? parseDuration(role.breakglass.max_duration) : undefined;
    if (!resource || !role?.breakglass || !max?.ok) {
      out.set(path, { ...r, mismatch: "the policy allows no break-glass on this role" });
      continue;
    }
    const principal = policy.identities[r.requester.toLowerCase()]?.[resource.provider] ?? r.requester;
    const expiresAt = iso(new Date(Math.min(Date.parse(r.expiresAt), Date.parse(r.grantedAt) + max.ms)));
    const mismatch =
      principal !== r.principal || role.target !== r.target || JSON.stringify(role.settings ?? {}) !== JSON.stringify(r.roleSettings ?? {})
        ? "the recorded principal, target or settings differ from the policy's"
        : undefined;
    out.set(path, { ...r, expiresAt, ...(mismatch ? { mismatch } : {}) });
  }
  return out;
}

/** Whether the PR's grant file still asks for what the record holds (same requester, resource, role). */
function sameGrant(v: GrantVerdict, r: BreakglassRecord): boolean {
  const g = v.grant!;
  return g.requester.toLowerCase() === r.requester.toLowerCase() && g.resource === r.resource && g.role === r.role;
}

/** When and why the record's revoke comment says it was revoked (it may be long before the PR closed). */
function revokedEarlier(markers: Set<string>, t: ApprovedGrant): GrantEnd | undefined {
  const prefix = `<!-- timebox:revoked-at ${versionKey(t)} `;
  for (const m of markers) {
    if (!m.startsWith(prefix)) continue;
    const [at, reason] = m.slice(prefix.length, -" -->".length).split(" ");
    if (!Number.isNaN(Date.parse(at)) && /^(expired|removed|pr-closed|drift|revoked-by:[A-Za-z0-9-]+)$/.test(reason ?? ""))
      return { at: new Date(at), reason: reason as RevokeReason };
  }
  return undefined;
}

function earliest(a: Date | undefined, b: Date): Date {
  return a && a < b ? a : b;
}

/** The provider's view of a break-glass grant, from its record alone. */
function activeGrantOf(repo: string, r: BreakglassRecord, pr: number): ActiveGrant {
  return {
    id: r.path,
    shortId: shortIdOf(repo, r.path),
    repo,
    requester: r.requester,
    principal: r.principal,
    resource: r.resource,
    role: r.role,
    target: r.target,
    roleSettings: r.roleSettings,
    pullRequest: pr,
    grantedAt: new Date(r.grantedAt),
    expiresAt: new Date(r.expiresAt),
    ...(r.priorAccess ? { priorAccess: r.priorAccess } : {}),
  };
}

function stillActiveFor(repo: string, r: BreakglassRecord, live: ApprovedGrant[]): ActiveGrant[] {
  return live.filter((o) => o.path !== r.path && o.origin.grant.resource === r.resource).map((o) => toActiveGrant(repo, o));
}

/**
 * A break-glass grant in the shape the shared revoke path and messages take. Its "version" is the
 * record (the path under `breakglass:<pr>`), so its markers never collide with a merged version's.
 */
function asGrant(r: BreakglassRecord, pull: LabelledPull, review: ReviewedRecord | undefined, policy: Policy | undefined): ApprovedGrant {
  const basis = policy ?? policyNaming();
  return {
    path: r.path,
    blobSha: `b${String(pull.number).padStart(11, "0")}`,
    origin: {
      approved: true,
      pull: { number: pull.number, author: pull.author, headSha: "", baseRef: "", mergedAt: r.grantedAt, mergeCommitSha: "", htmlUrl: "" },
      approvedBy: review?.by ?? [],
      grant: {
        path: r.path,
        requester: r.requester,
        resource: r.resource,
        role: r.role,
        duration: r.duration,
        durationMs: r.durationMs,
        reason: r.reason,
        ticket: r.ticket,
        emergency: true,
      },
      role: { target: r.target, max_duration: r.duration, approvers: [], approvals: 1, settings: r.roleSettings },
      policy: basis,
      activatedAt: r.grantedAt,
      breakglass: { grantedAt: r.grantedAt, reviewDue: r.reviewDue, priorAccess: r.priorAccess, reviewedBy: review?.by, reviewedAt: review?.at },
    },
  };
}

/**
 * Timebox's ledger: every grant it has put in effect and not yet revoked, for one repository.
 *
 * Git says what *should* exist, but not what Timebox *did*: a grant file can leave the default
 * branch in ways history searched by date cannot see (a back-dated commit, a rename, a force-push,
 * a change of `grants_path`, a removal merged while the app was down). The ledger is Timebox's own
 * record of what it applied, so "applied, and no longer approved content on the tip" is a set
 * difference, never a history search. An entry is written *before* the provider is touched and
 * dropped only after the revoke is verified, so a crash in between leaves a revoke to retry, never
 * access nobody tracks.
 *
 * It lives in check runs this app creates on a commit of the default branch (`timebox/ledger`):
 * nobody else can write or edit a check run of this app, and none can be deleted. Entries carry the
 * expiry, so expired grants are revoked before anything else is read.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { Ajv } from "ajv";
import type { ApprovedGrant, BreakglassFacts, Extension } from "../lifecycle/types.js";
import { expiresAt, shortIdOf } from "../lifecycle/active-grant.js";
import { formatDuration } from "../duration.js";
import { policyNaming } from "../policy/types.js";
import type { ActiveGrant } from "../providers/types.js";

export const LEDGER_CHECK = "timebox/ledger";
/**
 * The break-glass PRs Timebox follows, written next to the ledger: a PR joins when Timebox records
 * an emergency grant on it and leaves once its story is done (closed or merged, and past its review
 * window). The `timebox:breakglass` label is only a hint anyone with triage rights can remove.
 */
export const FOLLOWED_CHECK = "timebox/breakglass";

export interface LedgerEntry {
  path: string;
  blobSha: string;
  /** The PR that brought the version in effect. */
  pull: number;
  /** Its merge commit ("" for break-glass before a merge). */
  mergeSha: string;
  requester: string;
  principal: string;
  resource: string;
  /** The resource's provider and settings when applied: revoking never depends on the policy still naming it. */
  provider: string;
  settings: Record<string, string | number | boolean>;
  role: string;
  target: string;
  roleSettings: Record<string, string | number | boolean>;
  approvedBy: string[];
  durationMs: number;
  grantedAt: string;
  expiresAt: string;
  /** Applied by break-glass before (or without) a merge. */
  breakglass?: boolean;
  /** What the removal commit's trailers tell of an extension or a merged break-glass grant. */
  extension?: Extension;
  breakglassFacts?: Omit<BreakglassFacts, "priorAccess">;
}

const ENTRY_SCHEMA = {
  type: "object",
  required: [
    "path",
    "blobSha",
    "pull",
    "mergeSha",
    "requester",
    "principal",
    "resource",
    "provider",
    "settings",
    "role",
    "target",
    "roleSettings",
    "approvedBy",
    "durationMs",
    "grantedAt",
    "expiresAt",
  ],
  properties: {
    path: { type: "string", maxLength: 1000 },
    blobSha: { type: "string", maxLength: 64 },
    pull: { type: "integer", minimum: 0 },
    mergeSha: { type: "string", maxLength: 64 },
    requester: { type: "string", maxLength: 200 },
    principal: { type: "string", maxLength: 1000 },
    resource: { type: "string", maxLength: 200 },
    provider: { type: "string", maxLength: 100 },
    settings: { type: "object", additionalProperties: { type: ["string", "number", "boolean"] } },
    role: { type: "string", maxLength: 200 },
    target: { type: "string", maxLength: 1000 },
    roleSettings: { type: "object", additionalProperties: { type: ["string", "number", "boolean"] } },
    approvedBy: { type: "array", items: { type: "string", maxLength: 200 } },
    durationMs: { type: "number", minimum: 0 },
    grantedAt: { type: "string", format: "date-time" },
    expiresAt: { type: "string", format: "date-time" },
    breakglass: { type: "boolean" },
    extension: { type: "object" },
    breakglassFacts: { type: "object" },
  },
} as const;
const validEntries = new Ajv({ allErrors: false, validateFormats: false, allowUnionTypes: true }).compile<LedgerEntry[]>({
  type: "array",
  items: ENTRY_SCHEMA,
});

/** Check-run text holds at most 65,535 characters: the compressed ledger is cut into parts below that. */
const PART_CHARS = 60_000;

export class Ledger {
  private readonly byPath = new Map<string, LedgerEntry>();
  /** Versions this process revoked: another replica's older ledger never brings them back. */
  private readonly revoked = new Set<string>();
  /** True when entries changed since the ledger was last written. */
  dirty = false;
  /** Break-glass PRs followed (number → until when at least), whatever their labels say. */
  private readonly followedPulls = new Map<number, string>();
  /** PRs this process stopped following: another replica's older list never brings them back. */
  private readonly unfollowed = new Set<number>();
  /** True when the followed PRs changed since they were last written. */
  followDirty = false;

  constructor(entries: readonly LedgerEntry[] = []) {
    for (const e of entries) this.byPath.set(e.path, e);
  }

  entries(): LedgerEntry[] {
    return [...this.byPath.values()];
  }

  get(path: string): LedgerEntry | undefined {
    return this.byPath.get(path);
  }

  /** Records a grant about to be (or already) in effect; a new version of a path replaces the old. */
  upsert(entry: LedgerEntry): void {
    if (JSON.stringify(this.byPath.get(entry.path)) === JSON.stringify(entry)) return;
    this.byPath.set(entry.path, entry);
    this.dirty = true;
  }

  /** Forgets a revoked grant, unless the entry is already another version (granted meanwhile). */
  remove(path: string, blobSha: string, pull: number): void {
    const e = this.byPath.get(path);
    if (!e || e.blobSha !== blobSha || e.pull !== pull) return;
    this.byPath.delete(path);
    this.revoked.add(versionOf(e));
    if (this.revoked.size > 10_000) this.revoked.delete(this.revoked.values().next().value!);
    this.dirty = true;
  }

  /**
   * Takes in what another replica recorded: entries for paths this one does not hold, except
   * versions this one has revoked (another replica that revoked one too soon only costs a revoke).
   */
  absorb(other: Ledger): void {
    for (const e of other.entries()) if (!this.byPath.has(e.path) && !this.revoked.has(versionOf(e))) this.byPath.set(e.path, e);
    for (const [pull, until] of other.followedPulls) if (!this.unfollowed.has(pull)) this.follow(pull, until, false);
  }

  /** The break-glass PRs followed, and the PRs of break-glass grants in effect (recorded by an older Timebox, perhaps). */
  followed(): number[] {
    return [...new Set([...this.followedPulls.keys(), ...this.entries().flatMap((e) => (e.breakglass ? [e.pull] : []))])];
  }

  /** How many PRs the followed list holds (without the ledger's own break-glass entries). */
  followedCount(): number {
    return this.followedPulls.size;
  }

  /** The moment before which PR `pull` is followed even once closed. */
  followedUntil(pull: number): string | undefined {
    return this.followedPulls.get(pull);
  }

  /** Follows a break-glass PR until at least `until` (and after it while it stays open). */
  follow(pull: number, until: string, mark = true): void {
    const known = this.followedPulls.get(pull);
    if (known !== undefined && Date.parse(known) >= Date.parse(until)) return;
    this.followedPulls.set(pull, until);
    this.unfollowed.delete(pull);
    if (mark) this.followDirty = true;
  }

  unfollow(pull: number): void {
    if (!this.followedPulls.delete(pull)) return;
    this.unfollowed.add(pull);
    this.followDirty = true;
  }

  /** The followed PRs as a check-run text. */
  serialiseFollowed(): string {
    return JSON.stringify([...this.followedPulls].map(([pull, until]) => ({ pull, until })));
  }

  /** Reads followed PRs back (this app's own run); what does not fit the shape is skipped. */
  absorbFollowed(parts: readonly string[]): void {
    try {
      const list: unknown = JSON.parse(parts.join(""));
      if (!Array.isArray(list)) return;
      for (const f of list as Array<{ pull?: unknown; until?: unknown }>) {
        if (
          Number.isInteger(f?.pull) &&
          (f.pull as number) > 0 &&
          typeof f.until === "string" &&
          !Number.isNaN(Date.parse(f.until)) &&
          !this.unfollowed.has(f.pull as number)
        )
          this.follow(f.pull as number, f.until, false);
      }
    } catch {
      return;
    }
  }

  /** The ledger as check-run texts (gzip, base64), in order. */
  serialise(): string[] {
    const packed = gzipSync(JSON.stringify(this.entries())).toString("base64");
    const parts: string[] = [];
    for (let i = 0; i < packed.length || parts.length === 0; i += PART_CHARS) parts.push(packed.slice(i, i + PART_CHARS));
    return parts;
  }

  /** Reads the parts back; undefined when they are not a ledger (never trusted beyond the schema). */
  static parse(parts: readonly string[]): Ledger | undefined {
    try {
      const entries: unknown = JSON.parse(gunzipSync(Buffer.from(parts.join(""), "base64")).toString("utf8"));
      return validEntries(entries) ? new Ledger(entries) : undefined;
    } catch {
      return undefined;
    }
  }
}

const versionOf = (e: LedgerEntry) => `${e.path}@${e.blobSha}#${e.pull}`;

/** The ledger entry of an approved grant in effect. */
export function entryOf(t: ApprovedGrant, principal: string): LedgerEntry {
  const { grant, role, pull, approvedBy, activatedAt, breakglass, policy } = t.origin;
  const resource = policy.resources[grant.resource];
  return {
    path: t.path,
    blobSha: t.blobSha,
    pull: pull.number,
    mergeSha: pull.mergeCommitSha,
    requester: grant.requester,
    principal,
    resource: grant.resource,
    provider: resource?.provider ?? "",
    settings: resource?.settings ?? {},
    role: grant.role,
    target: role.target,
    roleSettings: role.settings ?? {},
    approvedBy,
    durationMs: grant.durationMs,
    grantedAt: new Date(activatedAt).toISOString(),
    expiresAt: expiresAt(t).toISOString(),
    ...(breakglass && !pull.mergeCommitSha ? { breakglass: true } : {}),
    ...(t.origin.extension ? { extension: t.origin.extension } : {}),
    ...(breakglass
      ? {
          breakglassFacts: {
            grantedAt: breakglass.grantedAt,
            reviewDue: breakglass.reviewDue,
            reviewedBy: breakglass.reviewedBy,
            reviewedAt: breakglass.reviewedAt,
          },
        }
      : {}),
  };
}

/** A ledger entry in the shape the revoke path takes: what was applied, needing no policy or history. */
export function grantOf(e: LedgerEntry): ApprovedGrant {
  const policy = policyNaming({ [e.resource]: { provider: e.provider, settings: e.settings, roles: {} } });
  return {
    path: e.path,
    blobSha: e.blobSha,
    origin: {
      approved: true,
      pull: { number: e.pull, author: e.requester, headSha: "", baseRef: "", mergedAt: e.grantedAt, mergeCommitSha: e.mergeSha, htmlUrl: "" },
      approvedBy: e.approvedBy,
      grant: {
        path: e.path,
        requester: e.requester,
        resource: e.resource,
        role: e.role,
        duration: formatDuration(e.durationMs),
        durationMs: e.durationMs,
        reason: "",
        emergency: !!e.breakglassFacts,
      },
      role: { target: e.target, max_duration: formatDuration(e.durationMs), approvers: [], approvals: 1, settings: e.roleSettings },
      policy,
      activatedAt: e.grantedAt,
      ...(e.extension ? { extension: e.extension } : {}),
      ...(e.breakglassFacts ? { breakglass: e.breakglassFacts } : {}),
    },
  };
}

/** The provider's view of a ledger entry (prior access as recorded when it was applied). */
export function activeGrantOf(repo: string, e: LedgerEntry, priorAccess?: Record<string, string>): ActiveGrant {
  return {
    id: e.path,
    shortId: shortIdOf(repo, e.path),
    repo,
    requester: e.requester,
    principal: e.principal,
    resource: e.resource,
    role: e.role,
    target: e.target,
    roleSettings: e.roleSettings,
    pullRequest: e.pull,
    grantedAt: new Date(e.grantedAt),
    expiresAt: new Date(e.expiresAt),
    ...(priorAccess ? { priorAccess } : {}),
  };
}

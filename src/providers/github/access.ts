/**
 * What a grant asks of GitHub, and what the person had before: pure interpretation of
 * `ActiveGrant` fields and of the `priorAccess` record the lifecycle persisted.
 */
import { otherGrantsWanting, type OtherGrant } from "../overlap.js";
import type { ActiveGrant } from "../types.js";
import { ProviderError } from "../types.js";
import {
  DEFAULT_REPO_PERMISSION,
  isRepoPermission,
  isTeamRole,
  normaliseRoleName,
  parseLogin,
  parseTarget,
  repoLevel,
  teamLevel,
  type RepoPermission,
  type RepoTarget,
  type TeamRole,
  type TeamTarget,
} from "./target.js";

/** Role-level settings (`roles.<name>.settings` in the policy) this provider understands. */
export const ROLE_SETTINGS_KEYS = ["permission", "team_role"] as const;

export type Wanted =
  | { kind: "team"; target: TeamTarget; principal: string; role: TeamRole; level: number }
  | {
      kind: "repo";
      target: RepoTarget;
      principal: string;
      permission: RepoPermission;
      level: number;
    };

export type TeamWanted = Extract<Wanted, { kind: "team" }>;
export type RepoWanted = Extract<Wanted, { kind: "repo" }>;

/**
 * Reads what a grant asks for; throws a non-retryable ProviderError for a malformed target,
 * principal or role setting, before any HTTP call.
 */
export function wantedAccess(g: ActiveGrant): Wanted {
  const target = parseTarget(g.target);
  if (!target.ok) throw new ProviderError(target.error, false);
  const principal = parseLogin(g.principal);
  if (!principal.ok) throw new ProviderError(`principal ${principal.error}`, false);
  const settings = g.roleSettings ?? {};
  const unknown = Object.keys(settings).filter((k) => !(ROLE_SETTINGS_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new ProviderError(
      `role "${g.role}": unknown GitHub role setting(s) ${unknown.map((k) => `\`${k}\``).join(", ")}; ` + `known: ${ROLE_SETTINGS_KEYS.join(", ")}`,
      false,
    );
  }
  if (target.value.kind === "team") {
    if (settings.permission !== undefined) {
      throw new ProviderError(
        `role "${g.role}": \`permission\` applies to repository targets; for team ${target.value.display} use \`team_role\` (member or maintainer)`,
        false,
      );
    }
    const role = settings.team_role ?? "member";
    if (!isTeamRole(role)) {
      throw new ProviderError(`role "${g.role}": \`team_role\` must be member or maintainer, not ${JSON.stringify(role)}`, false);
    }
    return { kind: "team", target: target.value, principal: principal.value, role, level: teamLevel(role) };
  }
  if (settings.team_role !== undefined) {
    throw new ProviderError(`role "${g.role}": \`team_role\` applies to team targets; for repository ${target.value.display} use \`permission\``, false);
  }
  const permission = settings.permission ?? DEFAULT_REPO_PERMISSION;
  if (!isRepoPermission(permission)) {
    throw new ProviderError(`role "${g.role}": \`permission\` must be one of pull, triage, push, maintain, admin, not ${JSON.stringify(permission)}`, false);
  }
  return {
    kind: "repo",
    target: target.value,
    principal: principal.value,
    permission,
    level: repoLevel(permission),
  };
}

/** The same person at the same team/repository (GitHub names are case-insensitive). */
function sameAccessTarget(a: Wanted, b: Wanted): boolean {
  return a.kind === b.kind && a.target.key === b.target.key && a.principal.toLowerCase() === b.principal.toLowerCase();
}

/** Another still-active grant, with what it asks of GitHub. */
export type Overlap = OtherGrant<Wanted>;

/** The other still-active grants that give the same principal the same target (unreadable ones give nothing). */
export function overlapping(g: ActiveGrant, wanted: Wanted, stillActive: readonly ActiveGrant[]): Overlap[] {
  return otherGrantsWanting(g, wanted, stillActive, wantedAccess, sameAccessTarget);
}

/** The highest level that other still-active grants give the same principal on the same target. */
export function levelKeptByOthers(g: ActiveGrant, wanted: Wanted, stillActive: readonly ActiveGrant[]): number {
  return highestLevel(overlapping(g, wanted, stillActive));
}

/** The highest level some overlapping grants give (0 for none). */
export function highestLevel(others: readonly Overlap[]): number {
  return Math.max(0, ...others.map((o) => o.wanted.level));
}

export interface PriorTeamAccess {
  kind: "team";
  state: "active" | "pending" | "none";
  role: TeamRole | "none";
}

export interface PriorRepoAccess {
  kind: "repo";
  /** Effective permission (from any source: direct, team, organisation base role). */
  permission: RepoPermission | "none";
  /** Direct-collaborator permission, when it was read; what revoke may restore by itself. */
  direct: RepoPermission | "none";
}

/**
 * Reads the persisted prior access. Absent or unreadable means "none": the lifecycle persists it
 * before the first grant, so a grant without it is one Timebox alone put in place.
 */
export function readPriorTeam(prior: Record<string, string> | undefined): PriorTeamAccess {
  if (prior?.kind !== "team") return { kind: "team", state: "none", role: "none" };
  const state = prior.state === "active" || prior.state === "pending" ? prior.state : "none";
  const role = isTeamRole(prior.role) ? prior.role : "none";
  return { kind: "team", state, role: state === "none" ? "none" : role };
}

export function readPriorRepo(prior: Record<string, string> | undefined): PriorRepoAccess {
  if (prior?.kind !== "repo") return { kind: "repo", permission: "none", direct: "none" };
  const permission = normaliseRoleName(prior.permission) ?? "none";
  // Without a recorded direct permission, assume the effective one was direct: keeping access is
  // the safe side of rule 7.
  const direct = normaliseRoleName(prior.direct) ?? permission;
  return { kind: "repo", permission, direct };
}

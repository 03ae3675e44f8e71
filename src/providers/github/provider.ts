/**
 * The GitHub provider: temporary team membership (`@org/team-slug`) and temporary repository
 * permission (`owner/repo`), acting with its own credentials.
 *
 * No `listManaged`: GitHub has no labels, descriptions or other metadata on a team membership or
 * a collaborator permission, so nothing at GitHub can tell a membership Timebox added from one an
 * administrator added. Drift detection for this provider is `isGranted` against the grants Git
 * says are active; reporting "memberships Timebox made" would be a guess, and a wrong guess there
 * would invite removing someone's legitimate access.
 */
import type { Diagnostic } from "../../diagnostics.js";
import type { ActiveGrant, GrantResult, Provider, ProviderOptions } from "../types.js";
import { ProviderError } from "../types.js";
import {
  levelKeptByOthers,
  overlapping,
  priorTeamLevel,
  readPriorRepo,
  readPriorTeam,
  wantedAccess,
  type Wanted,
} from "./access.js";
import {
  createOctokit,
  resolveCredentials,
  secretsOf,
  statusOf,
  toProviderError,
  type GithubClientOptions,
  type GithubOctokit,
} from "./client.js";
import {
  normaliseRoleName,
  parseLogin,
  parseTarget,
  repoLevel,
  repoPermissionAt,
  REPO_PERMISSIONS,
  teamLevel,
  TEAM_ROLES,
  type RepoPermission,
  type RepoTarget,
  type TeamRole,
  type TeamTarget,
} from "./target.js";

interface TeamMembership {
  state: "active" | "pending";
  role: TeamRole;
}

interface RepoPermissionRead {
  permission: RepoPermission | "none";
  /** GitHub's own name for the role, e.g. `write` or a custom role. */
  roleName: string;
}

function teamMembershipLevel(m: TeamMembership | undefined): number {
  return m?.state === "active" ? teamLevel(m.role) : 0;
}

/** Highest base role a permissions object (`{ admin, maintain, push, triage, pull }`) grants. */
function fromPermissionFlags(flags: unknown): RepoPermission | "none" | undefined {
  if (!flags || typeof flags !== "object") return undefined;
  const f = flags as Record<string, unknown>;
  for (let i = REPO_PERMISSIONS.length - 1; i >= 0; i--) {
    if (f[REPO_PERMISSIONS[i]!] === true) return REPO_PERMISSIONS[i]!;
  }
  return "none";
}

/** A role as GitHub reports it → our order; custom roles count by the base permissions they hold. */
function permissionOf(data: {
  role_name?: unknown;
  permission?: unknown;
  permissions?: unknown;
  user?: { permissions?: unknown } | null;
}): RepoPermission | "none" {
  return (
    normaliseRoleName(data.role_name) ??
    fromPermissionFlags(data.user?.permissions ?? data.permissions) ??
    normaliseRoleName(data.permission) ??
    "none"
  );
}

export class GithubProvider implements Provider {
  readonly id = "github";
  private client?: { octokit: GithubOctokit; secrets: string[] };

  constructor(
    private readonly options: ProviderOptions,
    private readonly clientOptions: GithubClientOptions = {},
  ) {}

  /** Credentials are resolved on first use, so a missing variable fails a call, not start-up. */
  private api(): { octokit: GithubOctokit; secrets: string[] } {
    if (!this.client) {
      const credentials = resolveCredentials(
        this.options.resource,
        this.options.settings,
        this.options.env,
      );
      this.client = {
        octokit: createOctokit(credentials, this.clientOptions),
        secrets: secretsOf(credentials),
      };
    }
    return this.client;
  }

  private async call<T>(what: string, fn: (octokit: GithubOctokit) => Promise<T>): Promise<T> {
    const { octokit, secrets } = this.api();
    try {
      return await fn(octokit);
    } catch (error) {
      throw toProviderError(what, error, secrets);
    }
  }

  /** Like `call`, but a 404 is an answer (`undefined`), not an error. */
  private async callOr404<T>(
    what: string,
    fn: (octokit: GithubOctokit) => Promise<T>,
  ): Promise<T | undefined> {
    const { octokit, secrets } = this.api();
    try {
      return await fn(octokit);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw toProviderError(what, error, secrets);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  private async readTeam(t: TeamTarget, user: string): Promise<TeamMembership | undefined> {
    return this.callOr404(`read @${user}'s membership of team ${t.display}`, async (o) => {
      const { data } = await o.request("GET /orgs/{org}/teams/{team_slug}/memberships/{username}", {
        org: t.org,
        team_slug: t.slug,
        username: user,
      });
      return {
        state: data.state === "active" ? "active" : "pending",
        role: data.role === "maintainer" ? "maintainer" : "member",
      } as TeamMembership;
    });
  }

  /** Effective permission from every source (direct, teams, organisation base role). */
  private async readRepo(t: RepoTarget, user: string): Promise<RepoPermissionRead> {
    const read = await this.callOr404(
      `read @${user}'s permission on ${t.display}`,
      async (o) =>
        (
          await o.request("GET /repos/{owner}/{repo}/collaborators/{username}/permission", {
            owner: t.owner,
            repo: t.repo,
            username: user,
          })
        ).data,
    );
    if (!read) return { permission: "none", roleName: "none" };
    return { permission: permissionOf(read), roleName: String(read.role_name ?? read.permission) };
  }

  /**
   * The person's direct-collaborator permission (not through a team or the organisation's base
   * role) — the only kind `PUT/DELETE …/collaborators` changes, so the only kind revoke restores.
   */
  private async readDirect(t: RepoTarget, user: string): Promise<RepoPermission | "none"> {
    const lower = user.toLowerCase();
    return this.call(`list the direct collaborators of ${t.display}`, async (o) => {
      let found: RepoPermission | "none" = "none";
      await o.paginate(
        "GET /repos/{owner}/{repo}/collaborators",
        { owner: t.owner, repo: t.repo, affiliation: "direct", per_page: 100 },
        (response, done) => {
          for (const c of response.data) {
            if (c.login.toLowerCase() === lower) {
              found = permissionOf(c);
              done();
            }
          }
          return [];
        },
      );
      return found;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Provider

  async checkTarget(target: string, principal?: string): Promise<Diagnostic[]> {
    const diagnostics: Diagnostic[] = [];
    const diag = (rule: string, message: string): Diagnostic => ({
      path: "",
      line: 1,
      column: 1,
      rule,
      severity: "error",
      message: `resource "${this.options.resource}": ${message}`,
    });
    const parsed = parseTarget(target);
    const login = principal === undefined ? undefined : parseLogin(principal);
    if (!parsed.ok) diagnostics.push(diag("provider.target", parsed.error));
    if (login && !login.ok) diagnostics.push(diag("provider.principal", `principal ${login.error}`));

    if (parsed.ok) {
      const t = parsed.value;
      if (t.kind === "team") {
        const found = await this.callOr404(`look up team ${t.display}`, (o) =>
          o.request("GET /orgs/{org}/teams/{team_slug}", { org: t.org, team_slug: t.slug }),
        );
        if (!found) {
          diagnostics.push(
            diag(
              "provider.target",
              `team ${t.display} does not exist, or the provider's credentials cannot see it; ` +
                "check the org and the team's slug (Settings → Teams)",
            ),
          );
        }
      } else {
        const found = await this.callOr404(`look up repository ${t.display}`, (o) =>
          o.request("GET /repos/{owner}/{repo}", { owner: t.owner, repo: t.repo }),
        );
        if (!found) {
          diagnostics.push(
            diag(
              "provider.target",
              `repository ${t.display} does not exist, or the provider's credentials cannot see it`,
            ),
          );
        }
      }
    }
    if (login?.ok) {
      const user = await this.callOr404(`look up user @${login.value}`, async (o) =>
        (await o.request("GET /users/{username}", { username: login.value })).data,
      );
      if (!user) {
        diagnostics.push(diag("provider.principal", `GitHub user @${login.value} does not exist`));
      } else if (user.type !== "User") {
        diagnostics.push(
          diag(
            "provider.principal",
            `@${login.value} is a GitHub ${String(user.type).toLowerCase()}, not a user; access is granted to people`,
          ),
        );
      }
    }
    return diagnostics;
  }

  /**
   * What the person has before this grant, from outside Timebox.
   *
   * `stillActive` (the other grants of the resource in effect, as for `revoke`) matters when
   * grants overlap: access another Timebox grant gives is not prior access, or the last of the
   * overlapping grants would never remove it. Such access is replaced by what those grants
   * recorded as prior; only access above what they give is taken as coming from outside.
   * Without `stillActive`, everything observed counts as prior (the safe side for rule 7).
   */
  async recordPriorAccess(
    g: ActiveGrant,
    stillActive: readonly ActiveGrant[] = [],
  ): Promise<Record<string, string>> {
    const w = wantedAccess(g);
    const others = overlapping(g, w, stillActive);
    const othersGive = Math.max(0, ...others.map((o) => o.wanted.level));
    if (w.kind === "team") {
      const m = await this.readTeam(w.target, w.principal);
      if (others.length > 0 && teamMembershipLevel(m) <= othersGive && m?.state !== "pending") {
        // Attributable to the other grants: carry forward the highest prior they recorded, but
        // never more than exists now (prior access removed since is not prior any more).
        const best = others
          .map((o) => readPriorTeam(o.grant.priorAccess))
          .reduce((a, b) => (priorTeamLevel(b) > priorTeamLevel(a) ? b : a));
        if (priorTeamLevel(best) > teamMembershipLevel(m)) {
          return { kind: "team", state: m?.state ?? "none", role: m?.role ?? "none" };
        }
        return { kind: "team", state: best.state, role: best.role };
      }
      return { kind: "team", state: m?.state ?? "none", role: m?.role ?? "none" };
    }
    const current = await this.readRepo(w.target, w.principal);
    if (others.length > 0 && repoLevel(current.permission) <= othersGive) {
      // Carry forward the others' prior, capped at what exists now (see the team case).
      const now = repoLevel(current.permission);
      const priors = others.map((o) => readPriorRepo(o.grant.priorAccess));
      const cap = (levels: number[]) => repoPermissionAt(Math.min(now, Math.max(...levels)));
      const permission = cap(priors.map((x) => repoLevel(x.permission)));
      const direct = cap(priors.map((x) => repoLevel(x.direct)));
      return { kind: "repo", permission, role_name: permission, direct };
    }
    let direct: RepoPermission | "none" = current.permission;
    // Only when the person has some access, but less than the grant gives, does it matter whether
    // it is direct: revoke then restores a direct permission and leaves other sources alone.
    if (current.permission !== "none" && repoLevel(current.permission) < w.level) {
      direct = await this.readDirect(w.target, w.principal);
    }
    return {
      kind: "repo",
      permission: current.permission,
      role_name: current.roleName,
      direct,
    };
  }

  async grant(g: ActiveGrant): Promise<GrantResult> {
    const w = wantedAccess(g);
    return w.kind === "team" ? this.grantTeam(g, w) : this.grantRepo(g, w);
  }

  private async grantTeam(
    g: ActiveGrant,
    w: Extract<Wanted, { kind: "team" }>,
  ): Promise<GrantResult> {
    const { target: t, principal: user } = w;
    const prior = readPriorTeam(g.priorAccess);
    const current = await this.readTeam(t, user);
    if (teamMembershipLevel(current) >= w.level) {
      return { summary: this.teamSummary(w, current!, prior.state === "active") };
    }
    const pendingBefore = prior.state === "pending";
    // Only raises: a maintainer is never PUT back to member (that PUT would demote them).
    const put = await this.call(`add @${user} to team ${t.display} as ${w.role}`, async (o) =>
      (
        await o.request("PUT /orgs/{org}/teams/{team_slug}/memberships/{username}", {
          org: t.org,
          team_slug: t.slug,
          username: user,
          role: w.role,
        })
      ).data,
    );
    if (put.state !== "active") {
      let note = "";
      if (!pendingBefore) {
        // The PUT invited someone outside the organisation: withdraw that invitation, so a
        // failed grant changes nothing.
        try {
          await this.deleteTeamMembership(t, user);
          note = "; Timebox withdrew the invitation it caused";
        } catch {
          note = "; withdrawing the invitation failed, a later revoke will retry";
        }
      }
      throw new ProviderError(
        `@${user} is not a member of the organisation ${t.org}; the invitation is pending, so ` +
          `team ${t.display} gives no access yet${note}. Ask them to join the organisation first`,
        false,
      );
    }
    const after = await this.readTeam(t, user);
    if (teamMembershipLevel(after) < w.level) {
      throw new ProviderError(
        `added @${user} to team ${t.display}, but GitHub does not report an active ${w.role} membership yet`,
        true,
      );
    }
    return { summary: this.teamSummary(w, after!, false) };
  }

  private teamSummary(
    w: Extract<Wanted, { kind: "team" }>,
    m: TeamMembership,
    hadBefore: boolean,
  ): string {
    return (
      `@${w.principal} is ${m.role === "maintainer" ? "a maintainer" : "a member"} of team ${w.target.display}` +
      (hadBefore ? " (already before this grant; kept after it ends)" : "")
    );
  }

  private async grantRepo(
    g: ActiveGrant,
    w: Extract<Wanted, { kind: "repo" }>,
  ): Promise<GrantResult> {
    const { target: t, principal: user } = w;
    const prior = readPriorRepo(g.priorAccess);
    const current = await this.readRepo(t, user);
    if (repoLevel(current.permission) >= w.level) {
      return { summary: this.repoSummary(w, current, repoLevel(prior.permission) >= w.level) };
    }
    // Only raises: an existing higher permission is never PUT lower.
    const put = await this.call(`give @${user} ${w.permission} on ${t.display}`, (o) =>
      o.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
        owner: t.owner,
        repo: t.repo,
        username: user,
        permission: w.permission,
      }),
    );
    if (put.status === 201) {
      // 201 = an invitation was created (an outside collaborator): not access. Withdraw it. (An
      // invitation that already existed is updated in place by the PUT and withdrawn too: a
      // pending invitation at this permission is what Timebox must not leave behind.)
      const invitationId = (put.data as { id?: unknown } | undefined)?.id;
      let note = "";
      if (typeof invitationId === "number") {
        try {
          await this.call(`withdraw the invitation of @${user} to ${t.display}`, (o) =>
            o.request("DELETE /repos/{owner}/{repo}/invitations/{invitation_id}", {
              owner: t.owner,
              repo: t.repo,
              invitation_id: invitationId,
            }),
          );
          note = "; Timebox withdrew the invitation it caused";
        } catch {
          note = "; withdrawing the invitation failed, withdraw it in the repository's settings";
        }
      }
      throw new ProviderError(
        `@${user} is not a member of the organisation or a collaborator of ${t.display}; the invitation is pending, ` +
          `so the grant gives no access${note}. Ask them to join the organisation first`,
        false,
      );
    }
    const after = await this.readRepo(t, user);
    if (repoLevel(after.permission) < w.level) {
      throw new ProviderError(
        `gave @${user} ${w.permission} on ${t.display}, but GitHub reports ${after.roleName}`,
        true,
      );
    }
    return { summary: this.repoSummary(w, after, false) };
  }

  private repoSummary(
    w: Extract<Wanted, { kind: "repo" }>,
    current: RepoPermissionRead,
    hadBefore: boolean,
  ): string {
    const higher = repoLevel(current.permission) > w.level;
    return (
      `@${w.principal} has ${current.permission} on ${w.target.display}` +
      (higher ? ` (at least the ${w.permission} granted)` : "") +
      (hadBefore ? " (already before this grant; kept after it ends)" : "")
    );
  }

  async revoke(g: ActiveGrant, stillActive: readonly ActiveGrant[] = []): Promise<void> {
    const w = wantedAccess(g);
    const others = levelKeptByOthers(g, w, stillActive);
    if (w.kind === "team") await this.revokeTeam(g, w, others);
    else await this.revokeRepo(g, w, others);
  }

  private async revokeTeam(
    g: ActiveGrant,
    w: Extract<Wanted, { kind: "team" }>,
    others: number,
  ): Promise<void> {
    const { target: t, principal: user } = w;
    const prior = readPriorTeam(g.priorAccess);
    // An invitation that existed before Timebox is not Timebox's to withdraw or to act on.
    if (prior.state === "pending") return;
    const priorLevel = prior.state === "active" ? teamLevel(prior.role) : 0;
    const keep = Math.max(priorLevel, others);
    if (keep >= w.level) return; // they had it before, or another active grant gives it
    const current = await this.readTeam(t, user);
    if (!current) return; // already gone
    if (current.state === "pending") {
      if (keep === 0) await this.deleteTeamMembership(t, user);
      return;
    }
    const level = teamLevel(current.role);
    // Higher than this grant gives: something other than Timebox raised it; not ours to lower.
    if (level > w.level || level <= keep) return;
    if (keep === 0) {
      await this.deleteTeamMembership(t, user);
    } else {
      const role = TEAM_ROLES[keep - 1]!;
      await this.call(`restore @${user}'s ${role} role in team ${t.display}`, (o) =>
        o.request("PUT /orgs/{org}/teams/{team_slug}/memberships/{username}", {
          org: t.org,
          team_slug: t.slug,
          username: user,
          role,
        }),
      );
    }
  }

  private async deleteTeamMembership(t: TeamTarget, user: string): Promise<void> {
    await this.callOr404(`remove @${user} from team ${t.display}`, (o) =>
      o.request("DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}", {
        org: t.org,
        team_slug: t.slug,
        username: user,
      }),
    );
  }

  private async revokeRepo(
    g: ActiveGrant,
    w: Extract<Wanted, { kind: "repo" }>,
    others: number,
  ): Promise<void> {
    const { target: t, principal: user } = w;
    const prior = readPriorRepo(g.priorAccess);
    if (repoLevel(prior.permission) >= w.level) return; // had it (or more) before
    const keep = Math.max(repoLevel(prior.direct), others);
    if (keep >= w.level) return; // another active grant gives as much
    const current = await this.readRepo(t, user);
    const level = repoLevel(current.permission);
    if (level > w.level || level <= keep) return; // not ours to lower, or nothing left to lower
    if (keep === 0) {
      await this.callOr404(`remove @${user} as a collaborator of ${t.display}`, (o) =>
        o.request("DELETE /repos/{owner}/{repo}/collaborators/{username}", {
          owner: t.owner,
          repo: t.repo,
          username: user,
        }),
      );
    } else {
      const permission = repoPermissionAt(keep) as RepoPermission;
      await this.call(`restore @${user}'s ${permission} on ${t.display}`, (o) =>
        o.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
          owner: t.owner,
          repo: t.repo,
          username: user,
          permission,
        }),
      );
    }
  }

  async isGranted(g: ActiveGrant): Promise<boolean> {
    const w = wantedAccess(g);
    if (w.kind === "team") {
      return teamMembershipLevel(await this.readTeam(w.target, w.principal)) >= w.level;
    }
    return repoLevel((await this.readRepo(w.target, w.principal)).permission) >= w.level;
  }

  async close(): Promise<void> {}
}

/**
 * The GitHub provider's authenticated API access: every call goes through `call` (or
 * `callOr404`), so any error leaves as a ProviderError with the credentials scrubbed. Also the
 * reads the provider decides on: team memberships, repository permissions, and the look-ups of
 * `checkTarget`.
 */
import { hasStatus } from "../../github/errors.js";
import type { ProviderOptions } from "../types.js";
import { createOctokit, resolveCredentials, secretsOf, toProviderError, type GithubClientOptions, type GithubOctokit } from "./client.js";
import { normaliseRoleName, REPO_PERMISSIONS, type RepoPermission, type RepoTarget, type TeamRole, type TeamTarget } from "./target.js";

export interface TeamMembership {
  state: "active" | "pending";
  role: TeamRole;
}

export interface RepoPermissionRead {
  permission: RepoPermission | "none";
  /** GitHub's own name for the role, e.g. `write` or a custom role. */
  roleName: string;
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
  return normaliseRoleName(data.role_name) ?? fromPermissionFlags(data.user?.permissions ?? data.permissions) ?? normaliseRoleName(data.permission) ?? "none";
}

export class GithubApi {
  private client?: { octokit: GithubOctokit; secrets: string[] };

  constructor(
    private readonly options: ProviderOptions,
    private readonly clientOptions: GithubClientOptions = {},
  ) {}

  /** Credentials are resolved on first use, so a missing variable fails a call, not start-up. */
  private connect(): { octokit: GithubOctokit; secrets: string[] } {
    if (!this.client) {
      const credentials = resolveCredentials(this.options.resource, this.options.settings, this.options.env);
      this.client = {
        octokit: createOctokit(credentials, this.clientOptions),
        secrets: secretsOf(credentials),
      };
    }
    return this.client;
  }

  async call<T>(what: string, fn: (octokit: GithubOctokit) => Promise<T>): Promise<T> {
    const { octokit, secrets } = this.connect();
    try {
      return await fn(octokit);
    } catch (error) {
      throw toProviderError(what, error, secrets);
    }
  }

  /** Like `call`, but a 404 is an answer (`undefined`), not an error. */
  async callOr404<T>(what: string, fn: (octokit: GithubOctokit) => Promise<T>): Promise<T | undefined> {
    return this.call(what, async (octokit) => {
      try {
        return await fn(octokit);
      } catch (error) {
        if (hasStatus(error, 404)) return undefined;
        throw error;
      }
    });
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  async readTeam(t: TeamTarget, user: string): Promise<TeamMembership | undefined> {
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
  async readRepo(t: RepoTarget, user: string): Promise<RepoPermissionRead> {
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
  async readDirect(t: RepoTarget, user: string): Promise<RepoPermission | "none"> {
    const lower = user.toLowerCase();
    return this.call(`list the direct collaborators of ${t.display}`, async (o) => {
      let found: RepoPermission | "none" = "none";
      await o.paginate("GET /repos/{owner}/{repo}/collaborators", { owner: t.owner, repo: t.repo, affiliation: "direct", per_page: 100 }, (response, done) => {
        for (const c of response.data) {
          if (c.login.toLowerCase() === lower) {
            found = permissionOf(c);
            done();
          }
        }
        return [];
      });
      return found;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Look-ups (for checkTarget)

  /** Whether the team exists and the provider's credentials can see it. */
  async teamExists(t: TeamTarget): Promise<boolean> {
    const found = await this.callOr404(`look up team ${t.display}`, (o) => o.request("GET /orgs/{org}/teams/{team_slug}", { org: t.org, team_slug: t.slug }));
    return found !== undefined;
  }

  /** Whether the repository exists and the provider's credentials can see it. */
  async repoExists(t: RepoTarget): Promise<boolean> {
    const found = await this.callOr404(`look up repository ${t.display}`, (o) => o.request("GET /repos/{owner}/{repo}", { owner: t.owner, repo: t.repo }));
    return found !== undefined;
  }

  /** The GitHub account with this login (its `type`: User, Organization, Bot…), if any. */
  async readUser(login: string): Promise<{ type: unknown } | undefined> {
    return this.callOr404(`look up user @${login}`, async (o) => (await o.request("GET /users/{username}", { username: login })).data);
  }
}

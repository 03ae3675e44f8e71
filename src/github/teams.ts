// Team membership in an organisation.
import type { GitHubClient } from "./client.js";
import { hasStatus } from "./errors.js";

export class Teams {
  constructor(private readonly c: GitHubClient) {}

  /** Active membership only: a pending invitation is not membership. Each pair is read once per event. */
  async isTeamMember(org: string, slug: string, login: string): Promise<boolean> {
    return this.c.memo.memberships.get(`${org}/${slug}:${login}`.toLowerCase(), () => this.readTeamMembership(org, slug, login));
  }

  private async readTeamMembership(org: string, slug: string, login: string): Promise<boolean> {
    try {
      const { data } = await this.c.rest.teams.getMembershipForUserInOrg({ org, team_slug: slug, username: login });
      return data.state === "active";
    } catch (error) {
      if (hasStatus(error, 404)) return false;
      throw error;
    }
  }
}

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
import { levelKeptByOthers, overlapping, wantedAccess } from "./access.js";
import { GithubApi } from "./api.js";
import type { GithubClientOptions } from "./client.js";
import { grantRepo, isRepoGranted, recordPriorRepoAccess, revokeRepo } from "./repo-permission.js";
import { parseLogin, parseTarget } from "./target.js";
import { grantTeam, isTeamGranted, recordPriorTeamAccess, revokeTeam } from "./team-membership.js";

export class GithubProvider implements Provider {
  readonly id = "github";
  private readonly api: GithubApi;

  constructor(
    private readonly options: ProviderOptions,
    clientOptions: GithubClientOptions = {},
  ) {
    this.api = new GithubApi(options, clientOptions);
  }

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
        if (!(await this.api.teamExists(t))) {
          diagnostics.push(
            diag(
              "provider.target",
              `team ${t.display} does not exist, or the provider's credentials cannot see it; ` + "check the org and the team's slug (Settings → Teams)",
            ),
          );
        }
      } else if (!(await this.api.repoExists(t))) {
        diagnostics.push(diag("provider.target", `repository ${t.display} does not exist, or the provider's credentials cannot see it`));
      }
    }
    if (login?.ok) {
      const user = await this.api.readUser(login.value);
      if (!user) {
        diagnostics.push(diag("provider.principal", `GitHub user @${login.value} does not exist`));
      } else if (user.type !== "User") {
        diagnostics.push(diag("provider.principal", `@${login.value} is a GitHub ${String(user.type).toLowerCase()}, not a user; access is granted to people`));
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
  async recordPriorAccess(g: ActiveGrant, stillActive: readonly ActiveGrant[] = []): Promise<Record<string, string>> {
    const w = wantedAccess(g);
    const others = overlapping(g, w, stillActive);
    return w.kind === "team" ? recordPriorTeamAccess(this.api, w, others) : recordPriorRepoAccess(this.api, w, others);
  }

  async grant(g: ActiveGrant): Promise<GrantResult> {
    const w = wantedAccess(g);
    return w.kind === "team" ? grantTeam(this.api, g, w) : grantRepo(this.api, g, w);
  }

  async revoke(g: ActiveGrant, stillActive: readonly ActiveGrant[] = []): Promise<void> {
    const w = wantedAccess(g);
    const others = levelKeptByOthers(g, w, stillActive);
    if (w.kind === "team") await revokeTeam(this.api, g, w, others);
    else await revokeRepo(this.api, g, w, others);
  }

  async isGranted(g: ActiveGrant): Promise<boolean> {
    const w = wantedAccess(g);
    return w.kind === "team" ? isTeamGranted(this.api, w) : isRepoGranted(this.api, w);
  }

  async close(): Promise<void> {}
}

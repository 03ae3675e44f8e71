/**
 * Temporary team membership (`@org/team-slug` targets): what the person had before, grant,
 * revoke and read-back. A grant only ever raises a membership; a revoke lowers only what the
 * grant added, and never what the person had before or another active grant gives.
 */
import { ProviderError, type ActiveGrant, type GrantResult } from "../types.js";
import { highestLevel, readPriorTeam, type Overlap, type TeamWanted } from "./access.js";
import type { GithubApi, TeamMembership } from "./api.js";
import { teamLevel, teamMembershipLevel, TEAM_ROLES, type TeamRole, type TeamTarget } from "./target.js";

/** `recordPriorAccess` for a team target; `others` are the overlapping still-active grants. */
export async function recordPriorTeamAccess(api: GithubApi, w: TeamWanted, others: readonly Overlap[]): Promise<Record<string, string>> {
  const m = await api.readTeam(w.target, w.principal);
  const observed = { kind: "team", state: m?.state ?? "none", role: m?.role ?? "none" };
  if (others.length > 0 && teamMembershipLevel(m) <= highestLevel(others) && m?.state !== "pending") {
    // Attributable to the other grants: carry forward the highest prior they recorded, but
    // never more than exists now (prior access removed since is not prior any more).
    const best = others.map((o) => readPriorTeam(o.grant.priorAccess)).reduce((a, b) => (teamMembershipLevel(b) > teamMembershipLevel(a) ? b : a));
    if (teamMembershipLevel(best) > teamMembershipLevel(m)) return observed;
    return { kind: "team", state: best.state, role: best.role };
  }
  return observed;
}

export async function grantTeam(api: GithubApi, g: ActiveGrant, w: TeamWanted): Promise<GrantResult> {
  const { target: t, principal: user } = w;
  const prior = readPriorTeam(g.priorAccess);
  const current = await api.readTeam(t, user);
  if (teamMembershipLevel(current) >= w.level) {
    return { summary: teamSummary(w, current!, prior.state === "active") };
  }
  const pendingBefore = prior.state === "pending";
  // Only raises: a maintainer is never PUT back to member (that PUT would demote them).
  const put = await putTeamMembership(api, `add @${user} to team ${t.display} as ${w.role}`, t, user, w.role);
  if (put.state !== "active") {
    let note = "";
    if (!pendingBefore) {
      // The PUT invited someone outside the organisation: withdraw that invitation, so a
      // failed grant changes nothing.
      try {
        await deleteTeamMembership(api, t, user);
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
  const after = await api.readTeam(t, user);
  if (teamMembershipLevel(after) < w.level) {
    throw new ProviderError(`added @${user} to team ${t.display}, but GitHub does not report an active ${w.role} membership yet`, true);
  }
  return { summary: teamSummary(w, after!, false) };
}

function teamSummary(w: TeamWanted, m: TeamMembership, hadBefore: boolean): string {
  return (
    `@${w.principal} is ${m.role === "maintainer" ? "a maintainer" : "a member"} of team ${w.target.display}` +
    (hadBefore ? " (already before this grant; kept after it ends)" : "")
  );
}

/** `revoke` for a team target; `others` is the level other still-active grants give. */
export async function revokeTeam(api: GithubApi, g: ActiveGrant, w: TeamWanted, others: number): Promise<void> {
  const { target: t, principal: user } = w;
  const prior = readPriorTeam(g.priorAccess);
  // An invitation that existed before Timebox is not Timebox's to withdraw or to act on.
  if (prior.state === "pending") return;
  const keep = Math.max(teamMembershipLevel(prior), others);
  if (keep >= w.level) return; // they had it before, or another active grant gives it
  const current = await api.readTeam(t, user);
  if (!current) return; // already gone
  if (current.state === "pending") {
    if (keep === 0) await deleteTeamMembership(api, t, user);
    return;
  }
  const level = teamLevel(current.role);
  // Higher than this grant gives: something other than Timebox raised it; not ours to lower.
  if (level > w.level || level <= keep) return;
  if (keep === 0) {
    await deleteTeamMembership(api, t, user);
  } else {
    const role = TEAM_ROLES[keep - 1]!;
    const what = `restore @${user}'s ${role} role in team ${t.display}`;
    await putTeamMembership(api, what, t, user, role);
  }
}

export async function isTeamGranted(api: GithubApi, w: TeamWanted): Promise<boolean> {
  return teamMembershipLevel(await api.readTeam(w.target, w.principal)) >= w.level;
}

/** Adds the person to the team with this role, or sets their role (a lower role demotes). */
async function putTeamMembership(api: GithubApi, what: string, t: TeamTarget, user: string, role: TeamRole) {
  return api.call(
    what,
    async (o) =>
      (
        await o.request("PUT /orgs/{org}/teams/{team_slug}/memberships/{username}", {
          org: t.org,
          team_slug: t.slug,
          username: user,
          role,
        })
      ).data,
  );
}

async function deleteTeamMembership(api: GithubApi, t: TeamTarget, user: string): Promise<void> {
  await api.callOr404(`remove @${user} from team ${t.display}`, (o) =>
    o.request("DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}", {
      org: t.org,
      team_slug: t.slug,
      username: user,
    }),
  );
}

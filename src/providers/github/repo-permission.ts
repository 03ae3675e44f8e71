/**
 * Temporary repository permission (`owner/repo` targets): what the person had before, grant,
 * revoke and read-back. A grant only ever raises a permission; a revoke lowers only what the
 * grant added, restoring a direct-collaborator permission the person had before and leaving
 * access from teams or the organisation's base role alone.
 */
import { ProviderError, type ActiveGrant, type GrantResult } from "../types.js";
import { highestLevel, readPriorRepo, type Overlap, type RepoWanted } from "./access.js";
import type { GithubApi, RepoPermissionRead } from "./api.js";
import { repoLevel, repoPermissionAt, type RepoPermission, type RepoTarget } from "./target.js";

/** `recordPriorAccess` for a repository target; `others`: the overlapping still-active grants. */
export async function recordPriorRepoAccess(api: GithubApi, w: RepoWanted, others: readonly Overlap[]): Promise<Record<string, string>> {
  const current = await api.readRepo(w.target, w.principal);
  if (others.length > 0 && repoLevel(current.permission) <= highestLevel(others)) {
    // Carry forward the others' prior, capped at what exists now (as recordPriorTeamAccess does).
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
    direct = await api.readDirect(w.target, w.principal);
  }
  return {
    kind: "repo",
    permission: current.permission,
    role_name: current.roleName,
    direct,
  };
}

export async function grantRepo(api: GithubApi, g: ActiveGrant, w: RepoWanted): Promise<GrantResult> {
  const { target: t, principal: user } = w;
  const prior = readPriorRepo(g.priorAccess);
  const current = await api.readRepo(t, user);
  if (repoLevel(current.permission) >= w.level) {
    return { summary: repoSummary(w, current, repoLevel(prior.permission) >= w.level) };
  }
  // Only raises: an existing higher permission is never PUT lower.
  const put = await putCollaborator(api, `give @${user} ${w.permission} on ${t.display}`, t, user, w.permission);
  if (put.status === 201) {
    // 201 = an invitation was created (an outside collaborator): not access. Withdraw it. (An
    // invitation that already existed is updated in place by the PUT and withdrawn too: a
    // pending invitation at this permission is what Timebox must not leave behind.)
    const invitationId = (put.data as { id?: unknown } | undefined)?.id;
    let note = "";
    if (typeof invitationId === "number") {
      try {
        await api.call(`withdraw the invitation of @${user} to ${t.display}`, (o) =>
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
  const after = await api.readRepo(t, user);
  if (repoLevel(after.permission) < w.level) {
    throw new ProviderError(`gave @${user} ${w.permission} on ${t.display}, but GitHub reports ${after.roleName}`, true);
  }
  return { summary: repoSummary(w, after, false) };
}

function repoSummary(w: RepoWanted, current: RepoPermissionRead, hadBefore: boolean): string {
  const higher = repoLevel(current.permission) > w.level;
  return (
    `@${w.principal} has ${current.permission} on ${w.target.display}` +
    (higher ? ` (at least the ${w.permission} granted)` : "") +
    (hadBefore ? " (already before this grant; kept after it ends)" : "")
  );
}

/** `revoke` for a repository target; `others` is the level other still-active grants give. */
export async function revokeRepo(api: GithubApi, g: ActiveGrant, w: RepoWanted, others: number): Promise<void> {
  const { target: t, principal: user } = w;
  const prior = readPriorRepo(g.priorAccess);
  if (repoLevel(prior.permission) >= w.level) return; // had it (or more) before
  const keep = Math.max(repoLevel(prior.direct), others);
  if (keep >= w.level) return; // another active grant gives as much
  const current = await api.readRepo(t, user);
  const level = repoLevel(current.permission);
  if (level > w.level || level <= keep) return; // not ours to lower, or nothing left to lower
  if (keep === 0) {
    await api.callOr404(`remove @${user} as a collaborator of ${t.display}`, (o) =>
      o.request("DELETE /repos/{owner}/{repo}/collaborators/{username}", {
        owner: t.owner,
        repo: t.repo,
        username: user,
      }),
    );
  } else {
    const permission = repoPermissionAt(keep) as RepoPermission;
    const what = `restore @${user}'s ${permission} on ${t.display}`;
    await putCollaborator(api, what, t, user, permission);
  }
}

export async function isRepoGranted(api: GithubApi, w: RepoWanted): Promise<boolean> {
  return repoLevel((await api.readRepo(w.target, w.principal)).permission) >= w.level;
}

/**
 * Makes the person a direct collaborator with this permission, or sets it (a lower permission
 * lowers it). For someone outside the organisation GitHub creates an invitation instead (201).
 */
async function putCollaborator(api: GithubApi, what: string, t: RepoTarget, user: string, permission: RepoPermission) {
  return api.call(what, (o) =>
    o.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
      owner: t.owner,
      repo: t.repo,
      username: user,
      permission,
    }),
  );
}

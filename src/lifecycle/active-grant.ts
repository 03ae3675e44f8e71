import { createHash } from "node:crypto";
import type { ActiveGrant } from "../providers/types.js";
import type { ApprovedGrant } from "./types.js";

/** A short, stable, identifier-safe id for a grant file of a repository (12 lower-case hex chars). */
export function shortIdOf(repo: string, path: string): string {
  return createHash("sha256").update(`${repo}\n${path}`).digest("hex").slice(0, 12);
}

export function expiresAt(t: ApprovedGrant): Date {
  return new Date(Date.parse(t.origin.activatedAt) + t.origin.grant.durationMs);
}

/** What a provider needs to know about an approved grant. */
export function toActiveGrant(repo: string, t: ApprovedGrant, priorAccess?: Record<string, string>): ActiveGrant {
  const { grant, role, policy, pull, activatedAt } = t.origin;
  const resource = policy.resources[grant.resource];
  const identity = policy.identities[grant.requester.toLowerCase()]?.[resource.provider];
  return {
    id: t.path,
    shortId: shortIdOf(repo, t.path),
    repo,
    requester: grant.requester,
    principal: identity ?? grant.requester,
    resource: grant.resource,
    role: grant.role,
    target: role.target,
    roleSettings: role.settings ?? {},
    pullRequest: pull.number,
    grantedAt: new Date(activatedAt),
    expiresAt: expiresAt(t),
    ...(priorAccess ? { priorAccess } : {}),
  };
}

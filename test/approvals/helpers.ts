import type { RoleSpec } from "../../src/policy/types.js";
import type { ApprovalInput, GrantApprovalInput, IsMember, MembershipQuery, PullRequestReview } from "../../src/approvals/types.js";

export const HEAD = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
export const OLD = "abc1234bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

export function spec(approvers: string[], approvals = 1): RoleSpec {
  return { target: "readonly_role", max_duration: "4h", approvers, approvals };
}

export function grant(path: string, s: RoleSpec | undefined, valid = true): GrantApprovalInput {
  return { path, valid, resource: "prod-db", role: "readonly", ...(s ? { spec: s } : {}) };
}

interface ReviewOpts {
  commit?: string | null;
  type?: string;
  at?: string | null;
  id?: number;
}

/** A compact review: timestamps and ids follow array order unless given. */
export type R = [login: string | null, state: string, opts?: ReviewOpts];

function reviews(rows: R[]): PullRequestReview[] {
  return rows.map(([login, state, o = {}], i) => ({
    id: o.id ?? 1000 + i,
    user: login === null ? null : { login, type: o.type ?? "User" },
    state,
    commit_id: o.commit === undefined ? HEAD : o.commit,
    submitted_at: o.at !== undefined ? o.at : state.toUpperCase() === "PENDING" ? null : new Date(Date.UTC(2025, 0, 1, 10, i)).toISOString(),
  }));
}

export function input(p: {
  grants?: GrantApprovalInput[];
  owners?: string[];
  author?: string;
  lastPusher?: string | null;
  headSha?: string;
  reviews?: R[];
}): ApprovalInput {
  const lastPusher = p.lastPusher === undefined ? (p.author ?? "dev1") : p.lastPusher;
  return {
    grants: p.grants ?? [],
    ...(p.owners ? { policyChange: { owners: p.owners } } : {}),
    pr: {
      author: p.author ?? "dev1",
      headSha: p.headSha ?? HEAD,
      ...(lastPusher !== null ? { lastPusher } : {}),
    },
    reviews: reviews(p.reviews ?? []),
  };
}

/** Active team memberships; pending invitees are simply absent. Records every call. */
export function teams(members: Record<string, string[]> = {}): IsMember & { calls: MembershipQuery[] } {
  const calls: MembershipQuery[] = [];
  const fn = ((login: string, team: string) => {
    calls.push({ login, team });
    return (members[team.toLowerCase()] ?? []).some((m) => m.toLowerCase() === login.toLowerCase());
  }) as IsMember & { calls: MembershipQuery[] };
  fn.calls = calls;
  return fn;
}

/** Team memberships used across the tests. `pending-dba` was invited to @acme/dba but has not accepted. */
export const ORG = {
  "@acme/dba": ["dba1", "dba2", "dba3", "Dev1"],
  "@acme/sre": ["sre-a", "sre-b"],
  "@acme/frontend": ["fe1"],
  "@acme/owners": ["owner1", "owner2"],
};

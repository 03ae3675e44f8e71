/** A principal reference in the policy: a GitHub login (`sre1`) or a team slug (`@acme/sre`). */
export type PrincipalRef = string;

interface BreakglassSpec {
  max_duration: string;
  review_within: string;
  requesters: PrincipalRef[];
}

export interface RoleSpec {
  /** What the provider grants (a database role, a team, a repository, ...). */
  target: string;
  max_duration: string;
  approvers: PrincipalRef[];
  /** Distinct eligible approvers needed; defaults to 1. */
  approvals: number;
  breakglass?: BreakglassSpec;
  /** How many extensions a grant of this role may have; the policy-wide `max_extensions` when absent. */
  max_extensions?: number;
  /** Provider-specific options for this role (e.g. `permission: push` for a GitHub repository). */
  settings?: Record<string, string | number | boolean>;
  /**
   * The role's target escalates beyond a temporary grant (a superuser, an admin permission, a team
   * that approves or owns the policy), and the policy says so on purpose. Without it such a role is refused.
   */
  privileged?: boolean;
}

interface ResourceSpec {
  provider: string;
  description?: string;
  /** Provider settings: names of environment variables holding credentials, never the secrets. */
  settings: Record<string, string | number | boolean>;
  roles: Record<string, RoleSpec>;
}

/** One notification channel of the policy: exactly one of `slack` or `webhook`, with optional routing. */
export interface NotificationSpec {
  /** A Slack channel; the bot token is read from the environment variable `token_env` names. */
  slack?: { token_env: string; channel: string };
  /** A signed CloudEvents webhook; its URL and signing secret are read from the environment variables named. */
  webhook?: { url_env: string; secret_env: string };
  /** Only events about these resources (all when absent). */
  resources?: string[];
  /** Only events about grants of these roles (all when absent). */
  roles?: string[];
  /** Only these event names (all when absent). */
  events?: string[];
}

/** The policy (`.github/timebox.yml`) after defaults are applied. */
export interface Policy {
  version: 1;
  /** Always ends in `/`, never starts with one. */
  grants_path: string;
  request_ttl: string;
  /** How many extensions any grant may have unless its role says otherwise; unlimited when absent. */
  max_extensions?: number;
  owners: PrincipalRef[];
  requesters?: PrincipalRef[];
  allow_on_behalf: boolean;
  ticket_pattern?: string;
  /** GitHub login (lower-case) -> provider id -> principal at that provider. */
  identities: Record<string, Record<string, string>>;
  resources: Record<string, ResourceSpec>;
  /** Where events are sent (Slack, signed webhooks); none when absent. Only the default branch's list is ever used. */
  notifications?: NotificationSpec[];
}

export const POLICY_PATH = ".github/timebox.yml";

/** The extension cap for a role: its own `max_extensions`, else the policy's; undefined = unlimited. */
export function maxExtensions(policy: Policy, role: RoleSpec): number | undefined {
  return role.max_extensions ?? policy.max_extensions;
}

/**
 * A policy naming only the given resources, with every other field at its default: what revoking a
 * recorded grant needs when the default branch's policy no longer describes it.
 */
export function policyNaming(resources: Record<string, ResourceSpec> = {}): Policy {
  return { version: 1, grants_path: "grants/", request_ttl: "24h", owners: [], allow_on_behalf: false, identities: {}, resources };
}

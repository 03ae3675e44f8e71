import type { Diagnostic } from "../diagnostics.js";

/** A grant that is (or should be) in effect at a provider. Plain data; built by the lifecycle. */
export interface ActiveGrant {
  /** The grant's id: its repository-relative path, e.g. `grants/dev1-prod-db.yaml`. */
  id: string;
  /** A short, stable, identifier-safe hash of `repo` + `id` (lower-case hex, 12 chars). */
  shortId: string;
  /** `owner/name` of the access repository. */
  repo: string;
  /** GitHub login of the person receiving access. */
  requester: string;
  /** The principal at the provider (from `identities`, else the GitHub login). */
  principal: string;
  resource: string;
  role: string;
  /** What the role grants at the provider (the role's `target`). */
  target: string;
  /** Role-level provider options (e.g. `{ permission: "push" }`). */
  roleSettings: Record<string, string | number | boolean>;
  /** The pull request the grant came from. */
  pullRequest: number;
  grantedAt: Date;
  expiresAt: Date;
  /**
   * What `recordPriorAccess` returned before the first `grant` of this grant, as persisted by the
   * lifecycle; lets `revoke` leave access the person had before Timebox. Absent for providers that
   * do not need it (PostgreSQL's per-grant roles keep prior access by construction).
   */
  priorAccess?: Record<string, string>;
}

export interface GrantResult {
  /** One line for the PR comment: what was put in place (no secrets). */
  summary: string;
}

/** Something Timebox put at a provider, found by `listManaged` (for drift detection). */
export interface ManagedGrant {
  /** Provider-side handle, e.g. the role name `timebox_ab12cd34ef56`. */
  handle: string;
  /** The grant id recorded at the provider, when it could be read back. */
  grantId?: string;
  shortId?: string;
  repo?: string;
  principal?: string;
  target?: string;
  expiresAt?: Date;
}

export interface Provider {
  readonly id: string;
  /** Is this target (and, when given, principal) real at the provider? Never called from a PR event. */
  checkTarget(target: string, principal?: string): Promise<Diagnostic[]>;
  /**
   * Optional first phase of a grant: read what access the principal already has for this target,
   * before Timebox touches it. The lifecycle persists the answer before calling `grant`, so a
   * crash between the two cannot make Timebox's own grant look like prior access. `stillActive`
   * (as for `revoke`) lets it tell access another live grant gives from access the person had.
   */
  recordPriorAccess?(g: ActiveGrant, stillActive?: readonly ActiveGrant[]): Promise<Record<string, string>>;
  /** Idempotent; resolves only when the access is in effect. */
  grant(g: ActiveGrant): Promise<GrantResult>;
  /**
   * Idempotent; safe when already gone; never removes access something else still gives.
   * `stillActive` lists the other grants of the same resource that remain in effect, so a
   * provider without per-grant handles (GitHub teams) can keep access another grant gives.
   */
  revoke(g: ActiveGrant, stillActive?: readonly ActiveGrant[]): Promise<void>;
  /** Read-back, for verification and drift. */
  isGranted(g: ActiveGrant): Promise<boolean>;
  /** What Timebox put there, for drift detection. */
  listManaged?(): Promise<ManagedGrant[]>;
  /** Release connections. */
  close?(): Promise<void>;
}

/** Everything a provider needs to be built for one resource of the policy. */
export interface ProviderOptions {
  /** The policy resource name, for messages. */
  resource: string;
  /** The resource's `settings` from the policy (names of env vars, flags). */
  settings: Record<string, string | number | boolean>;
  /** Environment to resolve `*_env` settings from; injected, never read deep down. */
  env: Record<string, string | undefined>;
  /**
   * The deadline of one call, in ms (TIMEBOX_PROVIDER_TIMEOUT_MS, via the pool): the provider's
   * own per-request timeouts stay within it. Absent: the provider's defaults.
   */
  timeoutMs?: number;
}

export interface ProviderFactory {
  readonly id: string;
  /** Settings keys this provider understands, for policy validation. */
  readonly settingsKeys: readonly string[];
  create(options: ProviderOptions): Provider;
}

/** An error whose message is safe to show on a PR (no credentials, no connection strings). */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable = true,
  ) {
    super(message);
    this.name = "ProviderError";
  }
}

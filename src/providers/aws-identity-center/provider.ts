/**
 * The `aws-identity-center` provider: a temporary account assignment (user × permission set ×
 * AWS account) in IAM Identity Center, with the official AWS SDK v3 clients.
 *
 * An assignment carries no metadata, so nothing at AWS tells one Timebox made from one an
 * administrator made: no `listManaged`. Whether the person had the assignment before Timebox is
 * recorded by `recordPriorAccess` before the first grant, and `revoke` keeps the assignment when
 * it was there before or another live grant of the same user and target still needs it.
 */
import { GetUserIdCommand, type IdentitystoreClient } from "@aws-sdk/client-identitystore";
import {
  CreateAccountAssignmentCommand,
  type CreateAccountAssignmentCommandInput,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListPermissionSetsCommand,
  type AccountAssignmentOperationStatus,
  type SSOAdminClient,
} from "@aws-sdk/client-sso-admin";
import type { Diagnostic } from "../../diagnostics.js";
import { currentDeadline, remainingMs, throwIfPastDeadline } from "../deadline.js";
import { ProviderError, type ActiveGrant, type GrantResult, type Provider } from "../types.js";
import { formatDuration, parseSessionDuration, parseTarget, parseUserName, type AwsTarget } from "./target.js";

export interface AwsIdentityCenterConfig {
  resource: string;
  instanceArn: string;
  identityStoreId: string;
  sso: SSOAdminClient;
  identity: IdentitystoreClient;
  /** How long to wait between two provisioning-status reads (ms). */
  pollIntervalMs?: number;
  /** Bound on waiting for provisioning outside a deadline-bound call (ms). */
  provisioningTimeoutMs?: number;
}

interface PermissionSet {
  arn: string;
  sessionDurationMs?: number;
  sessionDuration?: string;
}

/** The record kept in `priorAccess`: was the assignment there before Timebox's first grant? */
const PRIOR_KEY = "assignment";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class AwsIdentityCenterProvider implements Provider {
  readonly id = "aws-identity-center";
  private readonly userIds = new Map<string, string>();
  private readonly permissionSets = new Map<string, string>();

  constructor(private readonly config: AwsIdentityCenterConfig) {}

  // ---- errors ----------------------------------------------------------------------------

  /**
   * A ProviderError safe to show on a PR: AWS service errors keep their (credential-free) name
   * and message; anything else (network, credential chain) only its name and code, since such
   * messages can carry endpoints or profile details. No `cause` is attached.
   */
  private fail(what: string, error: unknown): ProviderError {
    if (error instanceof ProviderError) return error;
    const prefix = `${this.config.resource}: aws-identity-center: ${what} failed`;
    if (error instanceof Error) {
      const meta = (error as { $metadata?: { httpStatusCode?: number }; $fault?: string }).$metadata;
      const fault = (error as { $fault?: string }).$fault;
      const code = (error as { code?: unknown }).code;
      if (meta?.httpStatusCode && fault) {
        const status = meta.httpStatusCode;
        const retryable = fault === "server" || status === 429 || error.name === "ThrottlingException";
        const message = error.message.replace(/\s+/g, " ").slice(0, 300);
        return new ProviderError(`${prefix}: ${error.name} (HTTP ${status}): ${message}`, retryable);
      }
      return new ProviderError(
        `${prefix}: ${error.name}${typeof code === "string" ? ` (${code})` : ""}; AWS could not be reached or the credentials were refused`,
        true,
      );
    }
    return new ProviderError(`${prefix}: ${typeof error}`, true);
  }

  private async call<T>(what: string, send: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    throwIfPastDeadline();
    try {
      return await send(currentDeadline()?.signal);
    } catch (error) {
      throwIfPastDeadline();
      throw this.fail(what, error);
    }
  }

  // ---- lookups ---------------------------------------------------------------------------

  private target(target: string): AwsTarget {
    const parsed = parseTarget(target);
    if (!parsed.ok) throw new ProviderError(`${this.config.resource}: ${parsed.error}`, false);
    return parsed.value;
  }

  /** The user's id in the Identity Store; undefined when there is no such user. */
  private async userId(principal: string): Promise<string | undefined> {
    const parsed = parseUserName(principal);
    if (!parsed.ok) throw new ProviderError(`${this.config.resource}: principal ${parsed.error}`, false);
    const known = this.userIds.get(principal);
    if (known) return known;
    try {
      const out = await this.call("look up the user", (abortSignal) =>
        this.config.identity.send(
          new GetUserIdCommand({
            IdentityStoreId: this.config.identityStoreId,
            AlternateIdentifier: { UniqueAttribute: { AttributePath: "userName", AttributeValue: principal } },
          }),
          { abortSignal },
        ),
      );
      if (!out.UserId) return undefined;
      this.userIds.set(principal, out.UserId);
      return out.UserId;
    } catch (error) {
      if (error instanceof ProviderError && /ResourceNotFoundException/.test(error.message)) return undefined;
      throw error;
    }
  }

  private async requireUserId(principal: string): Promise<string> {
    const id = await this.userId(principal);
    if (!id) throw new ProviderError(`${this.config.resource}: Identity Store user \`${principal}\` does not exist`, false);
    return id;
  }

  /** The permission set named `name` in the instance: ARN (and session duration when `describe`). */
  private async permissionSet(name: string): Promise<PermissionSet | undefined> {
    const known = this.permissionSets.get(name);
    if (known) {
      const ps = await this.describePermissionSet(known);
      if (ps && ps.name === name) return ps;
      this.permissionSets.delete(name);
    }
    let nextToken: string | undefined;
    do {
      const page = await this.call("list permission sets", (abortSignal) =>
        this.config.sso.send(new ListPermissionSetsCommand({ InstanceArn: this.config.instanceArn, NextToken: nextToken }), { abortSignal }),
      );
      for (const arn of page.PermissionSets ?? []) {
        const ps = await this.describePermissionSet(arn);
        if (ps) this.permissionSets.set(ps.name, ps.arn);
        if (ps?.name === name) return ps;
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return undefined;
  }

  private async describePermissionSet(arn: string): Promise<(PermissionSet & { name: string }) | undefined> {
    const out = await this.call("describe a permission set", (abortSignal) =>
      this.config.sso.send(new DescribePermissionSetCommand({ InstanceArn: this.config.instanceArn, PermissionSetArn: arn }), { abortSignal }),
    ).catch((error: unknown) => {
      if (error instanceof ProviderError && /ResourceNotFoundException/.test(error.message)) return undefined;
      throw error;
    });
    const ps = out?.PermissionSet;
    if (!ps?.Name) return undefined;
    // AWS's default session duration is one hour when the permission set does not set one.
    const sessionDuration = ps.SessionDuration || "PT1H";
    return { arn, name: ps.Name, sessionDuration, sessionDurationMs: parseSessionDuration(sessionDuration) };
  }

  private async requirePermissionSet(t: AwsTarget): Promise<PermissionSet> {
    const ps = await this.permissionSet(t.permissionSetName);
    if (!ps)
      throw new ProviderError(`${this.config.resource}: permission set \`${t.permissionSetName}\` does not exist in the Identity Center instance`, false);
    return ps;
  }

  /** Is the user assigned the permission set in the account (directly, as a USER)? */
  private async assigned(accountId: string, permissionSetArn: string, userId: string): Promise<boolean> {
    let nextToken: string | undefined;
    do {
      const page = await this.call("list account assignments", (abortSignal) =>
        this.config.sso.send(
          new ListAccountAssignmentsCommand({
            InstanceArn: this.config.instanceArn,
            AccountId: accountId,
            PermissionSetArn: permissionSetArn,
            NextToken: nextToken,
          }),
          { abortSignal },
        ),
      );
      if ((page.AccountAssignments ?? []).some((a) => a.PrincipalType === "USER" && a.PrincipalId === userId)) return true;
      nextToken = page.NextToken;
    } while (nextToken);
    return false;
  }

  /** Waits for a creation or deletion request to reach a final state, within the call deadline. */
  private async settle(kind: "creation" | "deletion", first: AccountAssignmentOperationStatus | undefined): Promise<void> {
    let status = first;
    const interval = this.config.pollIntervalMs ?? 1000;
    const giveUpAt = Date.now() + remainingMs(this.config.provisioningTimeoutMs ?? 60_000);
    while (status?.Status === "IN_PROGRESS") {
      if (Date.now() >= giveUpAt)
        throw new ProviderError(`${this.config.resource}: aws-identity-center: the account assignment ${kind} is still in progress`, true);
      await sleep(Math.min(interval, Math.max(1, giveUpAt - Date.now())));
      const requestId = status.RequestId;
      if (kind === "creation") {
        const out = await this.call("read the assignment's provisioning status", (abortSignal) =>
          this.config.sso.send(
            new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: this.config.instanceArn, AccountAssignmentCreationRequestId: requestId }),
            { abortSignal },
          ),
        );
        status = out.AccountAssignmentCreationStatus;
      } else {
        const out = await this.call("read the assignment's deletion status", (abortSignal) =>
          this.config.sso.send(
            new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: this.config.instanceArn, AccountAssignmentDeletionRequestId: requestId }),
            { abortSignal },
          ),
        );
        status = out.AccountAssignmentDeletionStatus;
      }
    }
    if (status?.Status === "FAILED") {
      const reason = (status.FailureReason ?? "no reason given").replace(/\s+/g, " ").slice(0, 300);
      throw new ProviderError(`${this.config.resource}: aws-identity-center: the account assignment ${kind} failed: ${reason}`, true);
    }
  }

  /** The assignment of the permission set to the user in the account, as a create or delete request names it. */
  private assignment(accountId: string, permissionSetArn: string, userId: string): CreateAccountAssignmentCommandInput {
    return {
      InstanceArn: this.config.instanceArn,
      TargetId: accountId,
      TargetType: "AWS_ACCOUNT",
      PermissionSetArn: permissionSetArn,
      PrincipalType: "USER",
      PrincipalId: userId,
    };
  }

  /** Another grant in effect for the same user and target (it keeps the assignment). */
  private sameAssignment(g: ActiveGrant, others: readonly ActiveGrant[]): ActiveGrant[] {
    return others.filter((o) => o.id !== g.id && o.principal === g.principal && o.target === g.target);
  }

  // ---- Provider --------------------------------------------------------------------------

  async checkTarget(target: string, principal?: string): Promise<Diagnostic[]> {
    const diag = (rule: string, message: string): Diagnostic => ({
      path: "",
      line: 1,
      column: 1,
      rule,
      severity: "error",
      message: `resource "${this.config.resource}": ${message}`,
    });
    const out: Diagnostic[] = [];
    const parsed = parseTarget(target);
    const user = principal === undefined ? undefined : parseUserName(principal);
    if (!parsed.ok) out.push(diag("provider.target", parsed.error));
    if (user && !user.ok) out.push(diag("provider.principal", `principal ${user.error}`));
    if (parsed.ok && !(await this.permissionSet(parsed.value.permissionSetName))) {
      out.push(
        diag(
          "provider.target",
          `target \`${target}\`: permission set \`${parsed.value.permissionSetName}\` does not exist in the Identity Center instance, or Timebox's identity cannot see it`,
        ),
      );
    }
    if (user?.ok && !(await this.userId(user.value))) {
      out.push(diag("provider.principal", `Identity Store user \`${user.value}\` does not exist (principals are user names, e.g. dev1@example.com)`));
    }
    return out;
  }

  /**
   * `{ assignment: "present" | "absent" }`. When another live grant of the same user and target
   * explains a present assignment, what that grant recorded is taken instead: the assignment is
   * prior only if it was prior for them.
   */
  async recordPriorAccess(g: ActiveGrant, stillActive: readonly ActiveGrant[] = []): Promise<Record<string, string>> {
    const t = this.target(g.target);
    const userId = await this.requireUserId(g.principal);
    const ps = await this.requirePermissionSet(t);
    const present = await this.assigned(t.accountId, ps.arn, userId);
    if (!present) return { [PRIOR_KEY]: "absent" };
    const others = this.sameAssignment(g, stillActive);
    if (others.length === 0) return { [PRIOR_KEY]: "present" };
    return { [PRIOR_KEY]: others.some((o) => o.priorAccess?.[PRIOR_KEY] !== "absent") ? "present" : "absent" };
  }

  async grant(g: ActiveGrant): Promise<GrantResult> {
    const t = this.target(g.target);
    const userId = await this.requireUserId(g.principal);
    const ps = await this.requirePermissionSet(t);
    if (!(await this.assigned(t.accountId, ps.arn, userId))) {
      // Moto departs from AWS here: it records a duplicate assignment per call, where AWS
      // keeps one. Reading first keeps the grant idempotent on both.
      const out = await this.call("create the account assignment", (abortSignal) =>
        this.config.sso.send(new CreateAccountAssignmentCommand(this.assignment(t.accountId, ps.arn, userId)), { abortSignal }),
      );
      await this.settle("creation", out.AccountAssignmentCreationStatus);
      if (!(await this.assigned(t.accountId, ps.arn, userId))) {
        throw new ProviderError(`${this.config.resource}: aws-identity-center: the account assignment was reported created but is not listed yet`, true);
      }
    }
    let summary = `assigned permission set ${t.permissionSetName} in account ${t.accountId} to ${g.principal}`;
    const grantMs = g.expiresAt.getTime() - g.grantedAt.getTime();
    if (ps.sessionDurationMs === undefined) {
      summary += `; its session duration (${ps.sessionDuration}) could not be read: sessions may outlive the grant`;
    } else if (ps.sessionDurationMs > grantMs) {
      summary +=
        `; note: the permission set's session duration (${formatDuration(ps.sessionDurationMs)}) is longer than the grant` +
        ` (${formatDuration(Math.max(0, grantMs))}): a session started before the revoke stays valid until it ends`;
    }
    return { summary };
  }

  async revoke(g: ActiveGrant, stillActive: readonly ActiveGrant[] = []): Promise<void> {
    const t = this.target(g.target);
    if (g.priorAccess?.[PRIOR_KEY] === "present") return; // the person had it before Timebox
    if (this.sameAssignment(g, stillActive).length > 0) return; // another live grant needs it
    const userId = await this.userId(g.principal);
    if (!userId) return; // the user is gone: so is the assignment
    const ps = await this.permissionSet(t.permissionSetName);
    if (!ps) return; // the permission set is gone: so are its assignments
    if (!(await this.assigned(t.accountId, ps.arn, userId))) return;
    const out = await this.call("delete the account assignment", (abortSignal) =>
      this.config.sso.send(new DeleteAccountAssignmentCommand(this.assignment(t.accountId, ps.arn, userId)), { abortSignal }),
    );
    await this.settle("deletion", out.AccountAssignmentDeletionStatus);
    if (await this.assigned(t.accountId, ps.arn, userId)) {
      throw new ProviderError(`${this.config.resource}: aws-identity-center: the account assignment is still listed after its deletion`, true);
    }
  }

  async isGranted(g: ActiveGrant): Promise<boolean> {
    const t = this.target(g.target);
    const userId = await this.userId(g.principal);
    if (!userId) return false;
    const ps = await this.permissionSet(t.permissionSetName);
    if (!ps) return false;
    return this.assigned(t.accountId, ps.arn, userId);
  }

  async close(): Promise<void> {
    this.config.sso.destroy();
    this.config.identity.destroy();
  }
}

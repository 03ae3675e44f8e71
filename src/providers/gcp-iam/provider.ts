/**
 * The `gcp-iam` provider: one conditional IAM binding per grant on a project, folder or
 * organisation. The binding's condition is `request.time < timestamp("<expiry>")`, so Google ends
 * the access at expiry even while Timebox is down (design rule 8); its title `timebox <short id>`
 * identifies the grant, its description names the grant file, repository and PR.
 *
 * Every change is a read-modify-write of the whole policy with its `etag` (version 3), retried a
 * bounded number of times when another writer got in first (409 ABORTED). Only Timebox's own
 * binding is touched: other bindings, the person's unconditioned access and other conditions stay.
 */
import type { Diagnostic } from "../../diagnostics.js";
import { remainingMs } from "../deadline.js";
import { ProviderError, type ActiveGrant, type GrantResult, type ManagedGrant, type Provider } from "../types.js";
import { IamHttpError, type IamBinding, type IamClient, type IamPolicy } from "./client.js";
import { parsePrincipal, parseTarget, type GcpTarget } from "./target.js";

const TITLE_PREFIX = "timebox ";
const MAX_ATTEMPTS = 5;
const EXPRESSION = /^request\.time < timestamp\("(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z)"\)$/;

/** The condition expression for an expiry (RFC 3339, UTC, milliseconds). */
function expiryExpression(expiresAt: Date): string {
  return `request.time < timestamp("${expiresAt.toISOString()}")`;
}

/** The expiry a Timebox condition expresses, or undefined when it is not one. */
function expiryOf(expression: string | undefined): Date | undefined {
  const m = expression === undefined ? null : EXPRESSION.exec(expression);
  if (!m) return undefined;
  const d = new Date(m[1]!);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const titleOf = (g: Pick<ActiveGrant, "shortId">): string => `${TITLE_PREFIX}${g.shortId}`;

/** Grant file, repository and PR; at most 256 characters (Google's limit for a description). */
function descriptionOf(g: ActiveGrant): string {
  const text = `Timebox grant ${g.id} in ${g.repo} (PR #${g.pullRequest}), requested by ${g.requester}`;
  return text.length <= 256 ? text : `${text.slice(0, 255)}…`;
}

const ours = (b: IamBinding, role: string, title: string): boolean => b.role === role && b.condition?.title === title;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface GcpIamProviderOptions {
  resource: string;
  client: IamClient;
  /** Wall clock for "expiry in the future" in read-backs (tests may pass their own). */
  now?: () => number;
}

export class GcpIamProvider implements Provider {
  readonly id = "gcp-iam";
  private readonly now: () => number;
  /** Resources (projects, folders, organisations) this provider has been asked about: what listManaged reads. */
  private readonly seen = new Set<string>();

  constructor(private readonly options: GcpIamProviderOptions) {
    this.now = options.now ?? Date.now;
  }

  private parse(g: Pick<ActiveGrant, "target" | "principal">): GcpTarget {
    const t = parseTarget(g.target);
    if (!t.ok) throw new ProviderError(`gcp-iam: resource ${this.options.resource}: ${t.error}`, false);
    const p = parsePrincipal(g.principal);
    if (!p.ok) throw new ProviderError(`gcp-iam: resource ${this.options.resource}: ${p.error}`, false);
    this.seen.add(t.value.resource);
    return t.value;
  }

  /**
   * Read, change, write with the etag; `change` returns false when nothing needs writing.
   * A 409 (someone else wrote between our read and write) re-reads and retries, a few times.
   */
  private async modify(resource: string, change: (policy: IamPolicy) => boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const policy = await this.options.client.getPolicy(resource);
      policy.bindings = (policy.bindings ?? []).map((b) => ({ ...b, members: [...(b.members ?? [])] }));
      if (!change(policy)) return;
      policy.bindings = policy.bindings.filter((b) => (b.members ?? []).length > 0);
      try {
        await this.options.client.setPolicy(resource, policy);
        return;
      } catch (error) {
        const conflict = error instanceof IamHttpError && (error.status === 409 || error.status === 412);
        if (!conflict || attempt >= MAX_ATTEMPTS) throw error;
        await sleep(Math.min(remainingMs(50 * 2 ** attempt), 50 * 2 ** attempt) * Math.random());
      }
    }
  }

  async checkTarget(target: string, principal?: string): Promise<Diagnostic[]> {
    const diag = (rule: string, message: string): Diagnostic[] => [{ path: "", line: 1, column: 1, rule, severity: "error", message }];
    const t = parseTarget(target);
    if (!t.ok) return diag("provider.target", `gcp-iam: \`${target}\`: ${t.error}`);
    if (principal !== undefined) {
      const p = parsePrincipal(principal);
      if (!p.ok) return diag("provider.principal", `gcp-iam: \`${principal}\`: ${p.error}`);
    }
    try {
      await this.options.client.getPolicy(t.value.resource);
      this.seen.add(t.value.resource);
    } catch (error) {
      if (error instanceof IamHttpError && (error.status === 403 || error.status === 404)) {
        return diag(
          "provider.target",
          `gcp-iam: \`${target}\`: ${t.value.resource} does not exist, or Timebox's service account may not read its IAM policy (HTTP ${error.status})`,
        );
      }
      throw error;
    }
    return [];
  }

  async grant(g: ActiveGrant): Promise<GrantResult> {
    const { resource, role } = this.parse(g);
    const title = titleOf(g);
    const condition = { title, description: descriptionOf(g), expression: expiryExpression(g.expiresAt) };
    await this.modify(resource, (policy) => {
      const bindings = policy.bindings!;
      const mine = bindings.filter((b) => ours(b, role, title));
      const [first] = mine;
      if (
        mine.length === 1 &&
        first!.members!.includes(g.principal) &&
        first!.condition!.expression === condition.expression &&
        first!.condition!.description === condition.description
      ) {
        return false;
      }
      // One binding for this grant, holding the principal, with the condition for this expiry (an extension replaces it).
      const others = mine.flatMap((b) => b.members!).filter((m) => m !== g.principal);
      policy.bindings = bindings.filter((b) => !ours(b, role, title));
      policy.bindings.push({ role, members: [g.principal, ...new Set(others)], condition });
      return true;
    });
    return { summary: `\`${g.principal}\` has \`${role}\` on \`${resource}\` until ${g.expiresAt.toISOString()} (an IAM condition: Google ends it at expiry)` };
  }

  async revoke(g: ActiveGrant): Promise<void> {
    const { resource, role } = this.parse(g);
    const title = titleOf(g);
    await this.modify(resource, (policy) => {
      let changed = false;
      for (const b of policy.bindings!) {
        if (!ours(b, role, title) || !b.members!.includes(g.principal)) continue;
        b.members = b.members!.filter((m) => m !== g.principal);
        changed = true;
      }
      return changed;
    });
  }

  async isGranted(g: ActiveGrant): Promise<boolean> {
    const { resource, role } = this.parse(g);
    const title = titleOf(g);
    const policy = await this.options.client.getPolicy(resource);
    return (policy.bindings ?? []).some((b) => {
      if (!ours(b, role, title) || !(b.members ?? []).includes(g.principal)) return false;
      const expiry = expiryOf(b.condition?.expression);
      return expiry !== undefined && expiry.getTime() === g.expiresAt.getTime() && expiry.getTime() > this.now();
    });
  }

  /**
   * Timebox's bindings (condition title `timebox <short id>`) on the projects, folders and
   * organisations this provider has been asked about since start-up (checkTarget runs for every
   * role at start, and the reconciler reads back every live grant): IAM has no "find bindings
   * by condition title" across resources.
   */
  async listManaged(): Promise<ManagedGrant[]> {
    const out: ManagedGrant[] = [];
    for (const resource of [...this.seen].sort()) {
      let policy: IamPolicy;
      try {
        policy = await this.options.client.getPolicy(resource);
      } catch (error) {
        // Gone, or no longer readable by Timebox: nothing of ours can be listed there.
        if (error instanceof IamHttpError && (error.status === 403 || error.status === 404)) continue;
        throw error;
      }
      for (const b of policy.bindings ?? []) {
        const title = b.condition?.title;
        if (!title?.startsWith(TITLE_PREFIX)) continue;
        const shortId = title.slice(TITLE_PREFIX.length);
        if (!/^[0-9a-f]{6,64}$/.test(shortId)) continue;
        for (const principal of b.members ?? []) {
          out.push({
            handle: `${resource}#${b.role} ${title}`,
            shortId,
            principal,
            target: `${resource}#${b.role}`,
            expiresAt: expiryOf(b.condition?.expression),
          });
        }
      }
    }
    return out;
  }
}

/**
 * Checks what the default branch's policy names at its providers: every role's target, and every
 * `identities` principal of the resource's provider. Without it, a policy naming a database role
 * that does not exist is only found out when the first grant of that role is merged and fails.
 *
 * Runs after a reconcile of the repository (so on start-up, and after every push or merge), but
 * only when the policy's blob on the default branch changed since this process last checked it:
 * a reconcile where the policy did not change costs one cached tree read and no provider call.
 * Only the default branch's policy is ever read: a pull request cannot choose what is probed.
 *
 * Problems go into one `timebox:misconfigured` issue per repository, kept up to date, and closed
 * (with a comment) by the first check that finds none.
 */
import type { Diagnostic } from "../diagnostics.js";
import { code, plural } from "../markdown.js";
import type { Gateway } from "../github/gateway.js";
import { checkPolicyFile } from "../policy/check.js";
import { POLICY_PATH, type Policy } from "../policy/types.js";
import { ProviderError } from "../providers/types.js";
import type { Clock } from "../util/clock.js";
import type { ProviderPool } from "./provider-pool.js";

export const MISCONFIGURED_LABEL = "timebox:misconfigured";
const MARKER = "<!-- timebox:misconfigured -->";

/** After a check some provider did not answer, the same policy is checked again no sooner than this. */
const RETRY_MS = 15 * 60_000;

interface CheckLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface TargetCheckDeps {
  pool: ProviderPool;
  /** Known providers and their settings keys, to validate the policy as the reconciler does. */
  providers: ReadonlyMap<string, readonly string[]>;
  log: CheckLogger;
  clock: Clock;
  /**
   * The longest one repository's check may take (it holds the repository's reconcile queue); resources
   * still unanswered then count as unchecked. Default: the pool's per-call deadline plus 5 s.
   */
  budgetMs?: number;
  /** How soon a check that could not reach some provider is tried again. Default 15 minutes. */
  retryMs?: number;
}

/** One thing the policy names that its provider does not have (or cannot be given access to). */
export interface TargetProblem {
  resource: string;
  /** The role whose target is at fault, the GitHub login whose `identities` principal is, or the resource's settings. */
  subject: { kind: "role"; role: string; target: string } | { kind: "identity"; login: string; principal: string } | { kind: "settings" };
  /** The provider's own summary (no credentials). */
  message: string;
}

export interface TargetCheckResult {
  /** The commit whose policy was checked. */
  tip: string;
  problems: TargetProblem[];
  /** Resources whose provider could not be built or did not answer: checked again later. */
  unchecked: Array<{ resource: string; error: string }>;
  issue: "opened-or-updated" | "closed" | "none";
}

/** What the check reads and writes on GitHub: the policy at a commit, and its issue. */
export interface CheckGateway {
  contents: Pick<Gateway["contents"], "blobShaAt" | "readFile">;
  issues: Pick<Gateway["issues"], "upsertLabelledIssue" | "closeLabelledIssue">;
}

/** What this process last checked for a repository. */
interface Checked {
  blob: string;
  complete: boolean;
  at: number;
}

export class TargetCheck {
  private readonly checked = new Map<string, Checked>();

  constructor(private readonly deps: TargetCheckDeps) {}

  /**
   * Checks the policy at `tip` (the default branch's tip) when its blob differs from the one last
   * checked for `repo`, or when the last check of it could not reach every provider and is due
   * again. Returns undefined when nothing was checked. GitHub errors propagate (and the policy is
   * checked again next time); provider errors never do.
   */
  async checkIfPolicyChanged(gw: CheckGateway, repo: string, tip: string): Promise<TargetCheckResult | undefined> {
    const blob = (await gw.contents.blobShaAt(tip, POLICY_PATH)) ?? "";
    const now = this.deps.clock.now().getTime();
    const last = this.checked.get(repo);
    if (last && last.blob === blob && (last.complete || now - last.at < (this.deps.retryMs ?? RETRY_MS))) return undefined;

    const text = blob ? await gw.contents.readFile(tip, POLICY_PATH) : undefined;
    const policy = text === undefined ? undefined : checkPolicyFile(POLICY_PATH, text, { providers: this.deps.providers }).policy;
    if (text !== undefined && !policy) {
      // The reconciler reports an invalid policy (nothing is applied); there is nothing to check at providers.
      this.checked.set(repo, { blob, complete: true, at: now });
      return undefined;
    }
    const { problems, unchecked } = policy ? await this.check(policy) : { problems: [], unchecked: [] };
    let issue: TargetCheckResult["issue"] = "none";
    if (problems.length > 0) {
      await gw.issues.upsertLabelledIssue(MISCONFIGURED_LABEL, MARKER, issueTitle(problems), issueBody(tip, problems, unchecked));
      issue = "opened-or-updated";
      this.deps.log.warn(
        { repo, commit: tip, problems: problems.length, unchecked: unchecked.map((u) => u.resource) },
        "the policy names targets or principals its providers do not have",
      );
    } else if (unchecked.length === 0) {
      await gw.issues.closeLabelledIssue(
        MISCONFIGURED_LABEL,
        MARKER,
        `A check of \`${POLICY_PATH}\` at ${tip.slice(0, 12)} found every role's target and every principal at its provider; closing.`,
      );
      issue = "closed";
    }
    if (unchecked.length > 0)
      this.deps.log.warn({ repo, commit: tip, unchecked }, "could not check the policy's targets at some providers; trying again later");
    this.checked.set(repo, { blob, complete: unchecked.length === 0, at: now });
    return { tip, problems, unchecked, issue };
  }

  /** Every resource at once (one that hangs does not hold up the others), within the budget. */
  private async check(policy: Policy): Promise<{ problems: TargetProblem[]; unchecked: Array<{ resource: string; error: string }> }> {
    const budgetMs = this.deps.budgetMs ?? this.deps.pool.timeoutMs + 5_000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), budgetMs);
      timer.unref();
    });
    try {
      const results = await Promise.all(
        Object.keys(policy.resources).map(async (resource) => {
          const result = await Promise.race([this.checkResource(policy, resource), late]);
          return result === "late" ? { resource, problems: [], error: `no answer within ${budgetMs / 1000} s` } : { resource, ...result };
        }),
      );
      return {
        problems: results.flatMap((r) => r.problems),
        unchecked: results.flatMap((r) => (r.error === undefined ? [] : [{ resource: r.resource, error: r.error }])),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * One resource, call by call: each role's target alone, then each `identities` principal of its
   * provider (against the first role's target). The first call that fails ends the resource's
   * check, so a provider that is down costs one deadline, not one per role.
   */
  private async checkResource(policy: Policy, resource: string): Promise<{ problems: TargetProblem[]; error?: string }> {
    const spec = policy.resources[resource];
    const problems: TargetProblem[] = [];
    const seen = new Set<string>();
    const add = (subject: TargetProblem["subject"], diagnostics: Diagnostic[], rule?: string) => {
      for (const d of diagnostics) {
        if (rule !== undefined && d.rule !== rule) continue;
        if (seen.has(d.message)) continue;
        seen.add(d.message);
        problems.push({ resource, subject, message: d.message });
      }
    };
    try {
      const provider = this.deps.pool.forResource(policy, resource);
      const roles = Object.entries(spec.roles);
      for (const [role, { target }] of roles) add({ kind: "role", role, target }, await provider.checkTarget(target));
      const principals = new Map<string, string>();
      for (const [login, ids] of Object.entries(policy.identities)) {
        const principal = ids[spec.provider];
        if (principal !== undefined && !principals.has(principal)) principals.set(principal, login);
      }
      const first = roles[0]?.[1].target;
      if (first !== undefined) {
        for (const [principal, login] of principals)
          add({ kind: "identity", login, principal }, await provider.checkTarget(first, principal), "provider.principal");
      }
      return { problems };
    } catch (error) {
      // A provider error that retrying cannot fix (bad settings, an env var the deployment lacks) is a problem to fix.
      if (error instanceof ProviderError && !error.retryable) {
        add({ kind: "settings" }, [{ path: POLICY_PATH, line: 1, column: 1, rule: "provider.settings", severity: "error", message: error.message }]);
        return { problems };
      }
      return { problems, error: error instanceof ProviderError ? error.message : "the provider failed unexpectedly (details in the app's logs)" };
    }
  }
}

/** A provider's message as issue text: one line, bounded, no HTML, and no @mention that pings anyone. */
const plain = (s: string) =>
  s.replace(/\s+/g, " ").trim().slice(0, 600).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/@/g, "@\u2060");

function issueTitle(problems: readonly TargetProblem[]): string {
  const resources = [...new Set(problems.map((p) => p.resource))];
  const where = resources.length === 1 ? resources[0].slice(0, 60) : `${resources.length} resources`;
  return `Policy misconfigured: ${plural(problems.length, "problem")} at ${where}`;
}

function issueBody(tip: string, problems: readonly TargetProblem[], unchecked: ReadonlyArray<{ resource: string; error: string }>): string {
  const lines = [
    MARKER,
    `## Timebox's policy names things its providers do not have`,
    "",
    `Timebox checked \`${POLICY_PATH}\` on the default branch at ${tip.slice(0, 12)} against its providers. A grant of an affected role (or for an affected person) fails when it is merged until this is fixed.`,
    "",
  ];
  for (const p of problems) {
    const s = p.subject;
    switch (s.kind) {
      case "role":
        lines.push(
          `- **${code(p.resource)} / role ${code(s.role)}** (target ${code(s.target)}): ${plain(p.message)}`,
          `  - Fix: create ${code(s.target)} at the provider (with the access the role should give), or correct ${code(`resources.${p.resource}.roles.${s.role}.target`, 200)} in \`${POLICY_PATH}\` through a pull request.`,
        );
        break;
      case "identity":
        lines.push(
          `- **${code(p.resource)} / identity of ${code(s.login)}** (principal ${code(s.principal)}): ${plain(p.message)}`,
          `  - Fix: give the person their own login at the provider, or correct ${code(`identities.${s.login}`, 200)} in \`${POLICY_PATH}\` through a pull request.`,
        );
        break;
      case "settings":
        lines.push(
          `- **${code(p.resource)}** (its provider's settings): ${plain(p.message)}`,
          `  - Fix: correct ${code(`resources.${p.resource}.settings`, 200)} in \`${POLICY_PATH}\`, or set the environment variable it names in Timebox's deployment.`,
        );
        break;
    }
  }
  if (unchecked.length > 0) {
    lines.push(
      "",
      "Not checked this time (the provider could not be reached; Timebox tries again later):",
      ...unchecked.map((u) => `- ${code(u.resource)}: ${plain(u.error)}`),
    );
  }
  lines.push(
    "",
    "Timebox checks every role's target and every `identities` principal at its provider when it starts and whenever the policy on the default branch changes (never for a pull request). This issue closes itself when a check finds no problem.",
  );
  return lines.join("\n");
}

import { isError, type Diagnostic } from "../diagnostics.js";
import { code, plural } from "../markdown.js";
import { allows, scheduleOf, teamsToCheck, sameLogin, type MembershipLookup } from "../policy/principals.js";
import { maxExtensions, type Policy, type RoleSpec } from "../policy/types.js";
import { parseYaml, type LocatedYaml, type PathSegment } from "../yaml/parse.js";
import { checkSchema } from "../yaml/schema.js";
import { formatDuration, parseDuration } from "../duration.js";
import { classifyGrantsPathEntry, isGrantFilePath } from "./files.js";
import type { Grant, GrantFile } from "./types.js";

/** How a changed path is stored in Git: only regular files can be grants. */
export type EntryKind = "file" | "symlink" | "submodule";

export interface GrantCheckContext {
  /** The policy at the base commit; undefined when it is missing or invalid. */
  policy?: Policy;
  /** The pull request's author; when absent (offline CLI without --author) that rule is not checked. */
  author?: string;
  entryKind?: EntryKind;
  /** Team membership the caller looked up; without it team rules are reported as not checked. */
  isMember?: MembershipLookup;
  /** Words for groups other than teams (on-call schedules): why one could not be read, why `login` is not in it. */
  explain?: { unchecked(ref: string): string | undefined; notIn(login: string, ref: string): string | undefined };
  /**
   * How a team rule that could not be checked is reported: a warning offline (the CLI cannot
   * ask GitHub), an error in the app (a membership it could not confirm is not a pass).
   */
  uncheckedTeams?: "warning" | "error";
  /** Where the policy was read from, for messages (default `.github/timebox.yml`). */
  policyPath?: string;
  /**
   * The version of this file already on the base branch, when the change modifies it: the change
   * is then an extension, which may not change who gets what. `extensions` is how many extensions
   * that version already had, when known (needed only when the policy caps extensions).
   */
  previous?: { content: string | Uint8Array; extensions?: number };
}

export interface GrantVerdict {
  path: string;
  valid: boolean;
  diagnostics: Diagnostic[];
  /** Present when valid. */
  grant?: Grant;
  /** The role the grant asks for, when it exists in the policy. */
  role?: RoleSpec;
}

/** Whether a repository path is a grant file under the policy's grants_path (the one definition: `classifyGrantsPathEntry`). */
export function isGrantPath(path: string, policy: Pick<Policy, "grants_path">): boolean {
  return isGrantFilePath(path, policy.grants_path);
}

/** Parses and checks one grant file against the policy. Pure; never throws. */
export function checkGrantFile(path: string, input: string | Uint8Array, ctx: GrantCheckContext): GrantVerdict {
  const fileLevel = (message: string, rule: string): Diagnostic => ({ path, line: 1, column: 1, message, rule, severity: "error" });
  const pathProblems = checkPath(path, ctx).map(([rule, message]) => fileLevel(message, rule));
  if (ctx.entryKind && ctx.entryKind !== "file") return { path, valid: false, diagnostics: pathProblems };

  const parsed = parseYaml(path, input);
  if (!parsed.ok) return { path, valid: false, diagnostics: [...pathProblems, ...parsed.diagnostics] };
  const schema = checkSchema("grant", path, parsed.yaml);
  const diagnostics = [...pathProblems, ...schema.diagnostics];
  if (!ctx.policy) {
    const policyPath = ctx.policyPath ?? ".github/timebox.yml";
    diagnostics.push(fileLevel(`cannot be checked against the policy: ${policyPath} is missing or invalid (see its own diagnostics)`, "grant.no-policy"));
    return { path, valid: false, diagnostics };
  }
  const raw = parsed.yaml.value;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { path, valid: false, diagnostics };
  const file = raw as Partial<GrantFile>;
  const { diagnostics: policyProblems, role, durationMs } = checkAgainstPolicy(path, parsed.yaml, file, ctx.policy, ctx, schema.invalidKeys);
  diagnostics.push(...policyProblems);
  diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  const valid = !diagnostics.some(isError);
  // Object.assign, not `{ ...file, path, … }`: in V8 (Node 20) a literal that starts with a spread and then
  // adds keys costs microseconds per object, more than the rest of this check (bench/run.js, section a).
  const grant = valid ? Object.assign({}, file as GrantFile, { path, durationMs: durationMs!, emergency: file.emergency === true }) : undefined;
  return { path, valid, diagnostics, grant, role };
}

function checkPath(path: string, ctx: GrantCheckContext): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (ctx.entryKind === "symlink") out.push(["grant.not-regular-file", "is a symbolic link; a grant must be a regular file (Git mode 100644)"]);
  if (ctx.entryKind === "submodule") out.push(["grant.not-regular-file", "is a submodule; a grant must be a regular file (Git mode 100644)"]);
  if (!/\.ya?ml$/.test(path)) out.push(["grant.path", "a grant file must end in .yaml or .yml"]);
  if (ctx.policy && !path.startsWith(ctx.policy.grants_path)) {
    out.push(["grant.path", `a grant file must be under \`${ctx.policy.grants_path}\` (the policy's grants_path)`]);
  } else if (ctx.policy && /\.ya?ml$/.test(path)) {
    // Under grants_path and named like a grant, but not one (a dot-file, an unsafe character): never applied.
    const entry = classifyGrantsPathEntry(path, ctx.policy.grants_path);
    if (entry.kind === "not-a-grant") out.push(["grant.path", entry.reason!]);
  }
  return out;
}

function checkAgainstPolicy(
  path: string,
  yaml: LocatedYaml,
  file: Partial<GrantFile>,
  policy: Policy,
  ctx: GrantCheckContext,
  rejected: ReadonlySet<string>,
): { diagnostics: Diagnostic[]; role?: RoleSpec; durationMs?: number } {
  const out: Diagnostic[] = [];
  const report = (at: PathSegment, rule: string, message: string, severity: Diagnostic["severity"] = "error") =>
    out.push({ path, ...yaml.locate([at]), rule, message, severity });
  // Fields the schema already rejected are not judged again, so each mistake is reported once.
  const usable = (key: keyof GrantFile) => file[key] !== undefined && !rejected.has(key);

  let role: RoleSpec | undefined;
  if (usable("resource")) {
    const resource = Object.hasOwn(policy.resources, file.resource!) ? policy.resources[file.resource!] : undefined;
    if (!resource) {
      report("resource", "policy.unknown-resource", `unknown resource ${code(file.resource!)}; the policy has ${Object.keys(policy.resources).join(", ")}`);
    } else if (usable("role")) {
      role = Object.hasOwn(resource.roles, file.role!) ? resource.roles[file.role!] : undefined;
      if (!role) {
        report("role", "policy.unknown-role", `unknown role ${code(file.role!)}; \`${file.resource}\` has ${Object.keys(resource.roles).join(", ")}`);
      }
    }
  }

  const emergency = file.emergency === true;
  let durationMs: number | undefined;
  if (usable("duration")) {
    const parsed = memo(durations, file.duration!, parseDuration);
    if (!parsed.ok) {
      report("duration", "grant.duration", parsed.message);
    } else {
      durationMs = parsed.ms;
      const limit = role && (emergency ? role.breakglass?.max_duration : role.max_duration);
      const limitMs = limit ? memo(durations, limit, parseDuration) : undefined;
      if (limitMs?.ok && parsed.ms > limitMs.ms) {
        const which = emergency ? "breakglass.max_duration" : "max_duration";
        report(
          "duration",
          "policy.max-duration",
          `duration ${file.duration} exceeds ${which} ${limit} for ${file.resource}/${file.role}; ask for at most ${formatDuration(limitMs.ms)}`,
        );
      }
    }
  }

  if (usable("requester")) {
    const requester = file.requester!;
    if (ctx.author !== undefined && !policy.allow_on_behalf && !sameLogin(requester, ctx.author)) {
      report(
        "requester",
        "policy.requester-not-author",
        `requester ${code(requester)} is not the pull request's author ${code(ctx.author)}; request access for yourself (the policy does not allow on-behalf requests)`,
      );
    }
    if (policy.requesters) {
      judgeMembership(
        report,
        ctx,
        "requester",
        "policy.requester-not-allowed",
        policy.requesters,
        requester,
        "may not request access; the policy's requesters are",
      );
    }
    if (emergency && role?.breakglass) {
      judgeMembership(
        report,
        ctx,
        "emergency",
        "policy.breakglass-requester",
        role.breakglass.requesters,
        requester,
        "may not use break-glass on this role; its breakglass.requesters are",
      );
    }
  }

  if (emergency && role && !role.breakglass) {
    report(
      "emergency",
      "policy.no-breakglass",
      `role ${file.resource}/${file.role} does not allow break-glass; remove \`emergency: true\` or ask for a role with breakglass`,
    );
  }

  if (ctx.previous) checkExtension(report, file, ctx.previous, policy, role);

  if (policy.ticket_pattern) {
    if (file.ticket === undefined) {
      report("ticket", "policy.ticket-required", `a ticket is required (matching ${code(policy.ticket_pattern)}); add e.g. \`ticket: INC-1234\``);
    } else if (usable("ticket") && !memo(ticketPatterns, policy.ticket_pattern, (p) => new RegExp(p, "u")).test(file.ticket)) {
      report("ticket", "policy.ticket-pattern", `ticket ${code(file.ticket)} does not match the policy's ticket_pattern ${code(policy.ticket_pattern)}`);
    }
  }
  return { diagnostics: out, role, durationMs };
}

/**
 * Durations and ticket patterns repeat from file to file (`2h`, the policy's `max_duration` and
 * `ticket_pattern`): each is parsed or compiled once. Bounded; the results are never modified.
 */
const durations = new Map<string, ReturnType<typeof parseDuration>>();
const ticketPatterns = new Map<string, RegExp>();
function memo<T>(cache: Map<string, T>, key: string, make: (key: string) => T): T {
  let value = cache.get(key);
  if (value === undefined) {
    if (cache.size >= 1000) cache.clear();
    value = make(key);
    cache.set(key, value);
  }
  return value;
}

/** The fields an extension may not change: who gets what. */
const EXTENSION_FIXED = ["requester", "resource", "role"] as const;

/** Fields of `before` that `after` changes among who gets what (logins compared case-insensitively). */
function changedIdentity(before: Partial<GrantFile>, after: Partial<GrantFile>): Array<(typeof EXTENSION_FIXED)[number]> {
  return EXTENSION_FIXED.filter((k) => (k === "requester" ? !sameLogin(String(before[k] ?? ""), String(after[k] ?? "")) : before[k] !== after[k]));
}

/** An extension keeps requester, resource and role, and stays within the role's `max_extensions`. */
function checkExtension(
  report: (at: PathSegment, rule: string, message: string) => void,
  file: Partial<GrantFile>,
  previous: NonNullable<GrantCheckContext["previous"]>,
  policy: Policy,
  role: RoleSpec | undefined,
): void {
  const parsed = parseYaml("previous", previous.content);
  const before = parsed.ok && typeof parsed.yaml.value === "object" && parsed.yaml.value !== null ? (parsed.yaml.value as Partial<GrantFile>) : undefined;
  if (!before) return;
  for (const key of changedIdentity(before, file)) {
    report(
      key,
      "grant.extension-changes-identity",
      `an extension may change only duration, reason and ticket; ${key} was ${code(String(before[key] ?? ""))}. To ask for something else, remove this grant and add a new file`,
    );
  }
  const cap = role ? maxExtensions(policy, role) : undefined;
  if (cap !== undefined && previous.extensions !== undefined && previous.extensions + 1 > cap) {
    report(
      "duration",
      "policy.max-extensions",
      `this grant was already extended ${plural(previous.extensions, "time")}; ${file.resource}/${file.role} allows at most ${cap}. Request a new grant instead`,
    );
  }
}

function judgeMembership(
  report: (at: PathSegment, rule: string, message: string, severity?: Diagnostic["severity"]) => void,
  ctx: GrantCheckContext,
  at: PathSegment,
  rule: string,
  refs: readonly string[],
  login: string,
  sentence: string,
): void {
  const verdict = allows(refs, login, ctx.isMember);
  if (verdict === "no") {
    const why = refs.map((r) => ctx.explain?.notIn(login, r)).filter((w): w is string => !!w);
    report(at, rule, `${code(login)} ${sentence} ${refs.map((r) => code(r)).join(", ")}${why.length ? `; ${why.join("; ")}` : ""}`);
  }
  if (verdict === "unchecked") {
    const groups = teamsToCheck(refs, login);
    const schedules = groups.filter((g) => scheduleOf(g) && ctx.isMember?.(login, g) === undefined);
    for (const s of schedules) {
      if (ctx.uncheckedTeams === "error") {
        const why = ctx.explain?.unchecked(s) ?? `on-call schedule ${code(s)} was not read`;
        report(
          at,
          `${rule}.unchecked`,
          `whether ${code(login)} is on call on ${code(s)} could not be checked: ${why}. Refused until it can be (re-run the check)`,
        );
      } else {
        report(
          at,
          `${rule}.unchecked`,
          `whether ${code(login)} is on call on ${code(s)} was not checked offline; the app checks it on the pull request`,
          "warning",
        );
      }
    }
    const teamRefs = groups.filter((g) => !scheduleOf(g));
    if (schedules.length > 0 && !teamRefs.some((g) => ctx.isMember?.(login, g) === undefined)) return;
    const teams = teamRefs.map((r) => code(r)).join(", ");
    if (ctx.uncheckedTeams === "error") {
      report(
        at,
        `${rule}.unchecked`,
        `team membership of ${code(login)} in ${teams} could not be checked through the GitHub API; push again or re-run the check`,
      );
    } else {
      report(
        at,
        `${rule}.unchecked`,
        `team membership of ${code(login)} in ${teams} was not checked offline; the app checks it on the pull request`,
        "warning",
      );
    }
  }
}

/** The (login, team) pairs whose membership decides this grant's requester rules. */
export function requesterTeamQueries(file: Partial<GrantFile>, policy: Policy): Array<{ login: string; team: string }> {
  const login = file.requester;
  if (typeof login !== "string") return [];
  const role = roleOf(policy, file.resource, file.role);
  const teams = teamsToCheck(policy.requesters ?? [], login);
  if (file.emergency === true && role?.breakglass) teams.push(...teamsToCheck(role.breakglass.requesters, login));
  return [...new Set(teams)].map((team) => ({ login, team }));
}

/** A role of the policy by resource and role name; own properties only (`constructor` is no role). */
function roleOf(policy: Policy, resource: unknown, role: unknown): RoleSpec | undefined {
  if (typeof resource !== "string" || typeof role !== "string" || !Object.hasOwn(policy.resources, resource)) return undefined;
  const roles = policy.resources[resource].roles;
  return Object.hasOwn(roles, role) ? roles[role] : undefined;
}

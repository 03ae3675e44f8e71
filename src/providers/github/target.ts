/**
 * Parsing of the GitHub provider's targets and principals, and the orders of GitHub's access
 * levels. Everything here is pure and runs before any HTTP call: a hostile target string
 * (`../../admin`, `@acme/../x`, spaces, Unicode look-alikes) is rejected here and never reaches a
 * URL.
 */

/** `@org/team-slug`: temporary team membership. */
export interface TeamTarget {
  kind: "team";
  org: string;
  slug: string;
  /** Canonical spelling, e.g. `@acme/sre`. */
  display: string;
  /** Lower-cased, for comparing targets of different grants. */
  key: string;
}

/** `owner/repo`: a temporary repository permission. */
export interface RepoTarget {
  kind: "repo";
  owner: string;
  repo: string;
  display: string;
  key: string;
}

export type GithubTarget = TeamTarget | RepoTarget;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * GitHub logins and organisation names: ASCII letters, digits and single inner hyphens, at most
 * 39 characters. (A few very old accounts have doubled hyphens, which GitHub still serves, so
 * inner hyphens are not checked for doubling; a leading or trailing hyphen is refused.)
 */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/;
/** Team slugs as GitHub derives them from team names: lower-case ASCII letters, digits, `-`, `_`. */
const TEAM_SLUG = /^[a-z0-9_](?:[a-z0-9_-]{0,99})$/;
/** Repository names: ASCII letters, digits, `.`, `-`, `_`; never only dots (`.`, `..`). */
const REPO_NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** A bounded, escaped rendering of untrusted input for messages. */
function quote(input: string): string {
  const s = input.length > 80 ? `${input.slice(0, 80)}…` : input;
  return JSON.stringify(s);
}

const EXPECTED = "expected `@org/team-slug` (a team) or `owner/repo` (a repository)";

export function parseLogin(login: unknown): ParseResult<string> {
  if (typeof login !== "string" || !LOGIN.test(login)) {
    return {
      ok: false,
      error: `${typeof login === "string" ? quote(login) : "(missing)"} is not a GitHub login: ` + "use 1–39 ASCII letters, digits or inner hyphens",
    };
  }
  return { ok: true, value: login };
}

export function parseTarget(target: unknown): ParseResult<GithubTarget> {
  if (typeof target !== "string" || target.length === 0) {
    return { ok: false, error: `the GitHub target is missing: ${EXPECTED}` };
  }
  const bad = (why: string): ParseResult<GithubTarget> => ({
    ok: false,
    error: `GitHub target ${quote(target)} is not valid: ${why}`,
  });
  // Anything outside printable ASCII (spaces, control characters, Unicode look-alikes such as a
  // Cyrillic "а" or a full-width "／") is refused outright, with no normalisation.
  if (!/^[\x21-\x7e]+$/.test(target)) {
    return bad(`it contains spaces or non-ASCII characters; ${EXPECTED}`);
  }
  const parts = target.split("/");
  if (parts.length !== 2) return bad(EXPECTED);
  const [first, second] = parts as [string, string];

  if (first.startsWith("@")) {
    const org = first.slice(1);
    if (!LOGIN.test(org)) return bad(`${quote(org)} is not an organisation name; ${EXPECTED}`);
    if (!TEAM_SLUG.test(second)) {
      const lower = second.toLowerCase();
      if (lower !== second && TEAM_SLUG.test(lower)) {
        return bad(`team slugs are lower-case: did you mean "@${org}/${lower}"?`);
      }
      return bad(`${quote(second)} is not a team slug (lower-case letters, digits, "-" and "_"); ${EXPECTED}`);
    }
    return {
      ok: true,
      value: {
        kind: "team",
        org,
        slug: second,
        display: `@${org}/${second}`,
        key: `team:${org.toLowerCase()}/${second}`,
      },
    };
  }

  if (!LOGIN.test(first)) return bad(`${quote(first)} is not a repository owner; ${EXPECTED}`);
  if (!REPO_NAME.test(second) || /^\.+$/.test(second)) {
    return bad(`${quote(second)} is not a repository name; ${EXPECTED}`);
  }
  return {
    ok: true,
    value: {
      kind: "repo",
      owner: first,
      repo: second,
      display: `${first}/${second}`,
      key: `repo:${first.toLowerCase()}/${second.toLowerCase()}`,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Access levels

/** GitHub's repository roles, lowest first. */
export const REPO_PERMISSIONS = ["pull", "triage", "push", "maintain", "admin"] as const;
export type RepoPermission = (typeof REPO_PERMISSIONS)[number];
export const DEFAULT_REPO_PERMISSION: RepoPermission = "push";

/** 0 = no access; 1..5 = pull..admin. */
export function repoLevel(permission: RepoPermission | "none"): number {
  return permission === "none" ? 0 : REPO_PERMISSIONS.indexOf(permission) + 1;
}

export function repoPermissionAt(level: number): RepoPermission | "none" {
  return level <= 0 ? "none" : REPO_PERMISSIONS[Math.min(level, REPO_PERMISSIONS.length) - 1]!;
}

export function isRepoPermission(value: unknown): value is RepoPermission {
  return typeof value === "string" && (REPO_PERMISSIONS as readonly string[]).includes(value);
}

/**
 * A `role_name` as GitHub reports it (`read`, `triage`, `write`, `maintain`, `admin`, or the
 * REST spellings `pull`/`push`) → our permission; undefined for custom roles and unknown names.
 */
export function normaliseRoleName(roleName: unknown): RepoPermission | "none" | undefined {
  switch (typeof roleName === "string" ? roleName.toLowerCase() : "") {
    case "none":
      return "none";
    case "read":
    case "pull":
      return "pull";
    case "triage":
      return "triage";
    case "write":
    case "push":
      return "push";
    case "maintain":
      return "maintain";
    case "admin":
      return "admin";
    default:
      return undefined;
  }
}

export const TEAM_ROLES = ["member", "maintainer"] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];

/** 0 = not an (active) member; 1 = member; 2 = maintainer. */
export function teamLevel(role: TeamRole | "none"): number {
  return role === "none" ? 0 : TEAM_ROLES.indexOf(role) + 1;
}

/**
 * The access level a team membership stands for, read from GitHub or recorded as prior access:
 * a pending invitation (or no membership) is no access.
 */
export function teamMembershipLevel(m: { state: string; role: TeamRole | "none" } | undefined): number {
  return m?.state === "active" ? teamLevel(m.role) : 0;
}

export function isTeamRole(value: unknown): value is TeamRole {
  return typeof value === "string" && (TEAM_ROLES as readonly string[]).includes(value);
}

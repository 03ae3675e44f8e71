/**
 * A tiny stateful fake of the few GitHub REST endpoints the GitHub provider uses, served through
 * nock, so tests exercise real state (memberships, permissions, invitations) rather than scripted
 * replies. Deliberately small: teams, team memberships, repositories with direct collaborators,
 * an organisation base permission, invitations, users.
 */
import nock from "nock";

export type Perm = "pull" | "triage" | "push" | "maintain" | "admin";
const ORDER: Perm[] = ["pull", "triage", "push", "maintain", "admin"];
const level = (p: Perm | "none"): number => (p === "none" ? 0 : ORDER.indexOf(p) + 1);
const ROLE_NAME: Record<Perm, string> = { pull: "read", triage: "triage", push: "write", maintain: "maintain", admin: "admin" };
const LEGACY: Record<Perm, string> = { pull: "read", triage: "read", push: "write", maintain: "write", admin: "admin" };

interface FakeRepo {
  owner: string;
  name: string;
  orgOwned: boolean;
  /** Organisation base permission for its members. */
  base: Perm | "none";
  direct: Map<string, Perm>;
  invitations: Map<number, { login: string; permission: Perm }>;
}

export const FAKE_ORIGIN = "https://github.fake";
export const FAKE_BASE_URL = `${FAKE_ORIGIN}/api/v3`;

export class FakeGitHub {
  readonly tokens = new Set<string>();
  readonly users = new Map<string, { login: string; type: "User" | "Organization" | "Bot" }>();
  readonly orgMembers = new Map<string, Set<string>>();
  readonly teams = new Map<string, Map<string, { role: "member" | "maintainer"; state: "active" | "pending" }>>();
  readonly repos = new Map<string, FakeRepo>();
  /** `METHOD /path` of every request served, in order. */
  readonly requests: string[] = [];
  private nextId = 1000;
  private interceptors: nock.Interceptor[] = [];

  constructor(token: string) {
    this.tokens.add(token);
  }

  // ----- test driver ---------------------------------------------------------------------------
  addUser(login: string, type: "User" | "Organization" | "Bot" = "User"): string {
    this.users.set(login.toLowerCase(), { login, type });
    return login;
  }
  addOrg(org: string, members: string[] = []): void {
    this.addUser(org, "Organization");
    this.orgMembers.set(org.toLowerCase(), new Set(members.map((m) => m.toLowerCase())));
  }
  addOrgMember(org: string, login: string): void {
    this.orgMembers.get(org.toLowerCase())!.add(login.toLowerCase());
  }
  addTeam(org: string, slug: string): string {
    this.teams.set(`${org}/${slug}`.toLowerCase(), new Map());
    return `@${org}/${slug}`;
  }
  setMembership(org: string, slug: string, login: string, role: "member" | "maintainer" = "member", state: "active" | "pending" = "active"): void {
    this.teams.get(`${org}/${slug}`.toLowerCase())!.set(login.toLowerCase(), { role, state });
  }
  membership(org: string, slug: string, login: string) {
    return this.teams.get(`${org}/${slug}`.toLowerCase())?.get(login.toLowerCase());
  }
  addRepo(owner: string, name: string, opts: { base?: Perm | "none" } = {}): string {
    this.repos.set(`${owner}/${name}`.toLowerCase(), {
      owner,
      name,
      orgOwned: this.orgMembers.has(owner.toLowerCase()),
      base: opts.base ?? "none",
      direct: new Map(),
      invitations: new Map(),
    });
    return `${owner}/${name}`;
  }
  repo(target: string): FakeRepo {
    return this.repos.get(target.toLowerCase())!;
  }
  setDirect(target: string, login: string, p: Perm): void {
    this.repo(target).direct.set(login.toLowerCase(), p);
  }
  effective(target: string, login: string): Perm | "none" {
    const r = this.repos.get(target.toLowerCase());
    const u = login.toLowerCase();
    if (!r) return "none";
    if (!r.orgOwned && r.owner.toLowerCase() === u) return "admin";
    let best: Perm | "none" = r.direct.get(u) ?? "none";
    if (r.orgOwned && this.orgMembers.get(r.owner.toLowerCase())?.has(u) && level(r.base) > level(best)) best = r.base;
    return best;
  }
  writes(): string[] {
    return this.requests.filter((r) => !r.startsWith("GET "));
  }

  // ----- nock wiring ---------------------------------------------------------------------------
  install(): this {
    for (const method of ["GET", "PUT", "DELETE", "POST", "PATCH"]) {
      const interceptor = nock(FAKE_ORIGIN).persist().intercept(/.*/, method);
      // eslint-disable-next-line @typescript-eslint/no-this-alias
      const fake = this;
      interceptor.reply(function (uri, body) {
        return fake.handle(method, uri, body, this.req.headers as Record<string, string | string[] | undefined>);
      });
      this.interceptors.push(interceptor);
    }
    return this;
  }

  uninstall(): void {
    for (const i of this.interceptors) nock.removeInterceptor(i);
    this.interceptors = [];
  }

  private handle(
    method: string,
    uri: string,
    rawBody: unknown,
    headers: Record<string, string | string[] | undefined>,
  ): [number, unknown, Record<string, string>?] {
    const url = new URL(uri, FAKE_ORIGIN);
    const path = url.pathname.replace(/^\/api\/v3/, "");
    this.requests.push(`${method} ${path}`);
    const auth = String(headers.authorization ?? "");
    const token = auth.replace(/^(token|bearer) /i, "");
    if (!this.tokens.has(token)) {
      // Echoes the token on purpose: the provider must scrub it even if GitHub ever did.
      return [401, { message: `Bad credentials (got ${token})`, documentation_url: "https://docs.github.com/rest" }];
    }
    const body = (typeof rawBody === "string" && rawBody ? JSON.parse(rawBody) : (rawBody ?? {})) as Record<string, unknown>;
    const notFound: [number, unknown] = [404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" }];
    const seg = path.split("/").slice(1).map(decodeURIComponent);
    const lower = (s: string | undefined) => (s ?? "").toLowerCase();

    // /users/{u}
    if (seg[0] === "users" && seg.length === 2 && method === "GET") {
      const u = this.users.get(lower(seg[1]));
      return u ? [200, { login: u.login, type: u.type, id: 1 }] : notFound;
    }
    // /orgs/{org}/teams/{slug}[/memberships/{u}]
    if (seg[0] === "orgs" && seg[2] === "teams") {
      const team = this.teams.get(`${lower(seg[1])}/${lower(seg[3])}`);
      if (!team) return notFound;
      if (seg.length === 4 && method === "GET") return [200, { slug: seg[3], name: seg[3] }];
      if (seg.length === 6 && seg[4] === "memberships") {
        const u = lower(seg[5]);
        const m = team.get(u);
        if (method === "GET") return m ? [200, { ...m, url: uri }] : notFound;
        if (method === "DELETE") {
          if (!m) return notFound;
          team.delete(u);
          return [204, ""];
        }
        if (method === "PUT") {
          if (!this.users.has(u)) return notFound;
          const role = body.role === "maintainer" ? "maintainer" : "member";
          const member = this.orgMembers.get(lower(seg[1]))?.has(u);
          const state = m?.state === "active" || member ? "active" : "pending";
          team.set(u, { role, state });
          return [200, { role, state, url: uri }];
        }
      }
    }
    // /repos/{o}/{r}/...
    if (seg[0] === "repos") {
      const key = `${lower(seg[1])}/${lower(seg[2])}`;
      const r = this.repos.get(key);
      if (!r) return notFound;
      if (seg.length === 3 && method === "GET") return [200, { full_name: `${r.owner}/${r.name}` }];
      if (seg[3] === "collaborators" && seg.length === 4 && method === "GET") {
        const perPage = Number(url.searchParams.get("per_page") ?? 30);
        const page = Number(url.searchParams.get("page") ?? 1);
        const all = [...r.direct.entries()].map(([login, p]) => ({
          login: this.users.get(login)?.login ?? login,
          role_name: ROLE_NAME[p],
          permissions: Object.fromEntries(ORDER.map((o) => [o, level(o) <= level(p)])),
        }));
        const slice = all.slice((page - 1) * perPage, page * perPage);
        const headers: Record<string, string> = {};
        if (page * perPage < all.length) {
          headers.link = `<${FAKE_BASE_URL}/repos/${r.owner}/${r.name}/collaborators?affiliation=direct&per_page=${perPage}&page=${page + 1}>; rel="next"`;
        }
        return [200, slice, headers];
      }
      if (seg[3] === "collaborators" && seg.length === 6 && seg[5] === "permission" && method === "GET") {
        const u = lower(seg[4]);
        if (!this.users.has(u)) return notFound;
        const p = this.effective(key, u);
        return [
          200,
          {
            permission: p === "none" ? "none" : LEGACY[p],
            role_name: p === "none" ? "none" : ROLE_NAME[p],
            user: { login: this.users.get(u)!.login, permissions: Object.fromEntries(ORDER.map((o) => [o, p !== "none" && level(o) <= level(p)])) },
          },
        ];
      }
      if (seg[3] === "collaborators" && seg.length === 5) {
        const u = lower(seg[4]);
        if (method === "PUT") {
          if (!this.users.has(u)) return notFound;
          const permission = (body.permission ?? "push") as Perm;
          const member = this.orgMembers.get(lower(r.owner))?.has(u);
          if (r.orgOwned && !member && !r.direct.has(u)) {
            const id = this.nextId++;
            r.invitations.set(id, { login: u, permission });
            return [201, { id, permissions: permission, invitee: { login: u } }];
          }
          r.direct.set(u, permission);
          return [204, ""];
        }
        if (method === "DELETE") {
          r.direct.delete(u);
          return [204, ""];
        }
      }
      if (seg[3] === "invitations" && seg.length === 5 && method === "DELETE") {
        return r.invitations.delete(Number(seg[4])) ? [204, ""] : notFound;
      }
    }
    return notFound;
  }
}

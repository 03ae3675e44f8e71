import * as render from "../render.js";
import { notFound, paginate, repoOf, unprocessable, type Ctx, type Router } from "../router.js";
import type { Repo, RepoRole, Team } from "../state.js";

const ROLE_OF: Record<string, RepoRole> = { pull: "read", read: "read", triage: "triage", push: "write", write: "write", maintain: "maintain", admin: "admin" };
const LEGACY: Record<RepoRole, string> = { admin: "admin", maintain: "write", write: "write", triage: "read", read: "read" };
const PERMS = (role: RepoRole | "none") => ({
  admin: role === "admin",
  maintain: role === "admin" || role === "maintain",
  push: ["admin", "maintain", "write"].includes(role),
  triage: ["admin", "maintain", "write", "triage"].includes(role),
  pull: role !== "none",
});

function teamOf(ctx: Ctx): Team {
  const t = ctx.st.team(ctx.params.org, ctx.params.team_slug);
  if (!t) throw notFound();
  return t;
}

/** Effective role: owner is admin; collaborators their role; others read on public repos, none on private. */
function roleIn(ctx: { st: Ctx["st"] }, r: Repo, login: string): RepoRole | "none" {
  if (login.toLowerCase() === r.owner.toLowerCase()) return "admin";
  return r.collaborators.get(login.toLowerCase()) ?? (r.private ? "none" : "read");
}

export function orgRoutes(router: Router): void {
  router.on("GET", "/users/{username}", (ctx) => {
    const u = ctx.st.findUser(ctx.params.username);
    if (!u) throw notFound();
    return { body: render.publicUser(ctx.st, u) };
  });

  router.on("GET", "/orgs/{org}/members/{username}", (ctx) => {
    const u = ctx.st.findUser(ctx.params.username);
    return {
      status: u?.orgs.has(ctx.params.org.toLowerCase()) ? 204 : 404,
      body: u?.orgs.has(ctx.params.org.toLowerCase()) ? undefined : { message: "Not Found" },
    };
  });

  router.on("GET", "/orgs/{org}/teams/{team_slug}", (ctx) => {
    const t = teamOf(ctx);
    return {
      body: {
        id: t.id,
        node_id: t.node_id,
        url: `${ctx.st.api}/organizations/${t.org}/team/${t.id}`,
        html_url: `${ctx.st.origin}/orgs/${t.org}/teams/${t.slug}`,
        name: t.name,
        slug: t.slug,
        description: null,
        privacy: "closed",
        notification_setting: "notifications_enabled",
        permission: "pull",
        members_url: `${ctx.st.api}/organizations/${t.org}/team/${t.id}/members{/member}`,
        repositories_url: `${ctx.st.api}/organizations/${t.org}/team/${t.id}/repos`,
        parent: null,
        members_count: [...t.members.values()].filter((m) => m.state === "active").length,
        repos_count: 0,
        created_at: "2020-01-01T00:00:00Z",
        updated_at: "2020-01-01T00:00:00Z",
        organization: render.user(ctx.st, t.org),
      },
    };
  });

  router.on("GET", "/orgs/{org}/teams/{team_slug}/members", (ctx) => {
    const t = teamOf(ctx);
    const role = ctx.query.get("role") ?? "all";
    const list = [...t.members].filter(([, m]) => m.state === "active" && (role === "all" || m.role === role));
    const { page, headers } = paginate(ctx, list);
    return { body: page.map(([login]) => render.user(ctx.st, login)), headers };
  });

  const membershipJson = (ctx: Ctx, t: Team, login: string) => {
    const m = t.members.get(login.toLowerCase())!;
    return { url: `${ctx.st.api}/organizations/${t.org}/team/${t.id}/memberships/${login}`, role: m.role, state: m.state };
  };

  router.on("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", (ctx) => {
    const t = teamOf(ctx);
    if (!t.members.has(ctx.params.username.toLowerCase())) throw notFound();
    return { body: membershipJson(ctx, t, ctx.params.username) };
  });

  router.on("PUT", "/orgs/{org}/teams/{team_slug}/memberships/{username}", (ctx) => {
    const t = teamOf(ctx);
    const u = ctx.st.findUser(ctx.params.username);
    if (!u || u.type === "Organization") throw notFound();
    const role = ctx.body.role ?? "member";
    if (role !== "member" && role !== "maintainer") throw unprocessable("Validation Failed", [{ resource: "TeamMember", field: "role", code: "invalid" }]);
    const existing = t.members.get(u.login.toLowerCase());
    const state = existing?.state === "active" || u.orgs.has(t.org.toLowerCase()) ? "active" : "pending";
    t.members.set(u.login.toLowerCase(), { role, state });
    return { body: membershipJson(ctx, t, u.login) };
  });

  router.on("DELETE", "/orgs/{org}/teams/{team_slug}/memberships/{username}", (ctx) => {
    const t = teamOf(ctx);
    if (!t.members.delete(ctx.params.username.toLowerCase())) throw notFound();
    return { status: 204 };
  });

  const collaboratorJson = (ctx: Ctx, r: Repo, login: string) => {
    const role = roleIn(ctx, r, login);
    return { ...render.user(ctx.st, ctx.st.findUser(login)!), permissions: PERMS(role), role_name: role };
  };

  router.on("GET", "/repos/{owner}/{repo}/collaborators", (ctx) => {
    const r = repoOf(ctx);
    const list = [r.owner, ...[...r.collaborators.keys()].map((k) => ctx.st.findUser(k)!.login)];
    const { page, headers } = paginate(ctx, list);
    return { body: page.map((l) => collaboratorJson(ctx, r, l)), headers };
  });

  router.on("GET", "/repos/{owner}/{repo}/collaborators/{username}", (ctx) => {
    const r = repoOf(ctx);
    const l = ctx.params.username.toLowerCase();
    const ok = l === r.owner.toLowerCase() || r.collaborators.has(l);
    return ok ? { status: 204 } : { status: 404, body: { message: "Not Found" } };
  });

  router.on("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", (ctx) => {
    const r = repoOf(ctx);
    const u = ctx.st.findUser(ctx.params.username);
    if (!u) throw notFound();
    const role = roleIn(ctx, r, u.login);
    return {
      body: {
        permission: role === "none" ? "none" : LEGACY[role],
        role_name: role,
        user: collaboratorJson(ctx, r, u.login),
      },
    };
  });

  router.on("PUT", "/repos/{owner}/{repo}/collaborators/{username}", (ctx) => {
    const r = repoOf(ctx);
    const u = ctx.st.findUser(ctx.params.username);
    if (!u) throw notFound();
    const role = ROLE_OF[ctx.body.permission ?? "push"];
    if (!role) throw unprocessable("Validation Failed", [{ resource: "Repository", field: "permission", code: "invalid" }]);
    const key = u.login.toLowerCase();
    const ownerIsOrg = ctx.st.findUser(r.owner)?.type === "Organization";
    if (r.collaborators.has(key) || (ownerIsOrg && u.orgs.has(r.owner.toLowerCase()))) {
      r.collaborators.set(key, role);
      return { status: 204 };
    }
    const inv = r.invitations.get(key) ?? { id: ctx.st.id(), role, createdAt: ctx.st.now(), inviter: ctx.token.actor };
    inv.role = role;
    r.invitations.set(key, inv);
    return {
      status: 201,
      body: {
        id: inv.id,
        node_id: ctx.st.nodeId("RepositoryInvitation", inv.id),
        repository: render.repo(ctx.st, r),
        invitee: render.user(ctx.st, u),
        inviter: render.user(ctx.st, ctx.st.user(inv.inviter || ctx.st.botLogin)),
        permissions: role === "read" ? "read" : role,
        created_at: inv.createdAt,
        expired: false,
        url: `${ctx.st.api}/user/repository_invitations/${inv.id}`,
        html_url: `${ctx.st.origin}/${r.fullName}/invitations`,
      },
    };
  });

  router.on("DELETE", "/repos/{owner}/{repo}/collaborators/{username}", (ctx) => {
    const r = repoOf(ctx);
    r.collaborators.delete(ctx.params.username.toLowerCase());
    return { status: 204 };
  });

  router.on("GET", "/repos/{owner}/{repo}/invitations", (ctx) => {
    const r = repoOf(ctx);
    const list = [...r.invitations];
    const { page, headers } = paginate(ctx, list);
    return {
      headers,
      body: page.map(([login, inv]) => ({
        id: inv.id,
        node_id: ctx.st.nodeId("RepositoryInvitation", inv.id),
        repository: render.repo(ctx.st, r),
        invitee: render.user(ctx.st, ctx.st.findUser(login)!),
        inviter: render.user(ctx.st, ctx.st.user(inv.inviter || ctx.st.botLogin)),
        permissions: inv.role,
        created_at: inv.createdAt,
        expired: false,
        url: `${ctx.st.api}/user/repository_invitations/${inv.id}`,
        html_url: `${ctx.st.origin}/${r.fullName}/invitations`,
      })),
    };
  });

  router.on("DELETE", "/repos/{owner}/{repo}/invitations/{invitation_id}", (ctx) => {
    const r = repoOf(ctx);
    const hit = [...r.invitations].find(([, i]) => i.id === Number(ctx.params.invitation_id));
    if (!hit) throw notFound();
    r.invitations.delete(hit[0]);
    return { status: 204 };
  });
}

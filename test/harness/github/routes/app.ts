import { randomBytes } from "node:crypto";
import * as render from "../render.js";
import { notFound, paginate, repoOf, type Router } from "../router.js";

export function appRoutes(router: Router): void {
  router.on("GET", "/app", ({ st }) => ({ body: render.app(st) }));

  router.on("GET", "/app/installations", (ctx) => {
    const { page, headers } = paginate(ctx, [...ctx.st.installations.keys()]);
    return { body: page.map((id) => render.installation(ctx.st, id)), headers };
  });

  router.on("GET", "/app/installations/{installation_id}", (ctx) => {
    const id = Number(ctx.params.installation_id);
    if (!ctx.st.installations.has(id)) throw notFound();
    return { body: render.installation(ctx.st, id) };
  });

  router.on("GET", "/repos/{owner}/{repo}/installation", (ctx) => {
    const r = ctx.st.repo(ctx.params.owner, ctx.params.repo);
    if (!r || r.installationId === null) throw notFound();
    return { body: render.installation(ctx.st, r.installationId) };
  });

  router.on("POST", "/app/installations/{installation_id}/access_tokens", (ctx) => {
    const id = Number(ctx.params.installation_id);
    if (!ctx.st.installations.has(id)) throw notFound();
    const token = `ghs_${randomBytes(18).toString("hex")}`;
    const expiresAt = new Date(ctx.st.clock.now().getTime() + 3600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    ctx.st.tokens.set(token, { kind: "installation", installationId: id, expiresAt, actor: ctx.st.botLogin });
    const repos = [...ctx.st.repos.values()].filter((r) => r.installationId === id);
    return {
      status: 201,
      body: {
        token,
        expires_at: expiresAt,
        permissions: render.app(ctx.st).permissions,
        repository_selection: "selected",
        repositories: repos.map((r) => render.repo(ctx.st, r)),
      },
    };
  });

  router.on("GET", "/installation/repositories", (ctx) => {
    const repos = [...ctx.st.repos.values()].filter((r) => ctx.token.kind !== "installation" || r.installationId === ctx.token.installationId);
    const { page, headers } = paginate(ctx, repos);
    return { body: { total_count: repos.length, repository_selection: "selected", repositories: page.map((r) => render.repo(ctx.st, r)) }, headers };
  });

  router.on("GET", "/repos/{owner}/{repo}", (ctx) => ({ body: render.repo(ctx.st, repoOf(ctx)) }));
}

import * as render from "../render.js";
import { ensureLabel } from "../render.js";
import { notFound, num, paginate, repoOf, requireFields, unprocessable, type Ctx, type Router } from "../router.js";
import { actorOf, addComment, closePull, createIssue } from "../ops.js";
import type { Issue, Repo } from "../state.js";

function issueOf(ctx: Ctx): { r: Repo; i: Issue } {
  const r = repoOf(ctx);
  const i = r.issues.get(num(ctx, "issue_number"));
  if (!i) throw notFound();
  return { r, i };
}

function commentOf(ctx: Ctx) {
  const r = repoOf(ctx);
  const c = r.comments.find((x) => x.id === num(ctx, "comment_id"));
  if (!c) throw notFound();
  return { r, c };
}

function checkBody(body: unknown): string {
  if (typeof body !== "string") throw unprocessable("Validation Failed", [{ resource: "IssueComment", field: "body", code: "missing_field" }]);
  if (body.length > 65536)
    throw unprocessable("Validation Failed", [
      { resource: "IssueComment", field: "body", code: "custom", message: "Body is too long (maximum is 65536 characters)" },
    ]);
  return body;
}

const labelNames = (v: unknown): string[] => (Array.isArray(v) ? v : []).map((l) => (typeof l === "string" ? l : String((l as { name?: string })?.name ?? "")));

export function issueRoutes(router: Router): void {
  router.on("GET", "/repos/{owner}/{repo}/issues", (ctx) => {
    const r = repoOf(ctx);
    const state = ctx.query.get("state") ?? "open";
    const labels = (ctx.query.get("labels") ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    const creator = ctx.query.get("creator")?.toLowerCase();
    const sort = ctx.query.get("sort") ?? "created";
    let list = [...r.issues.values()].filter((i) => state === "all" || i.state === state);
    list = list.filter((i) => labels.every((l) => i.labels.some((x) => x.toLowerCase() === l)));
    if (creator) list = list.filter((i) => i.user.toLowerCase() === creator);
    const since = ctx.query.get("since");
    if (since) list = list.filter((i) => Date.parse(i.updatedAt) >= Date.parse(since));
    const key = (i: Issue) => (sort === "updated" ? i.updatedAt : i.createdAt) + String(i.number).padStart(9, "0");
    list.sort((a, b) => (key(a) < key(b) ? -1 : 1));
    if ((ctx.query.get("direction") ?? "desc") === "desc") list.reverse();
    const { page, headers } = paginate(ctx, list);
    return { body: page.map((i) => render.issue(ctx.st, r, i)), headers };
  });

  router.on("POST", "/repos/{owner}/{repo}/issues", (ctx) => {
    const r = repoOf(ctx);
    requireFields(ctx.body, "title");
    const labels = labelNames(ctx.body.labels);
    labels.forEach((l) => ensureLabel(ctx.st, r, l));
    const me = actorOf(ctx.st, ctx.token.kind, ctx.token.actor);
    const i = createIssue(ctx.st, r, {
      title: String(ctx.body.title),
      body: ctx.body.body,
      user: me.login,
      labels,
      assignees: ctx.body.assignees,
      viaApp: ctx.token.kind === "installation" ? "timebox" : undefined,
    });
    return { status: 201, body: render.issue(ctx.st, r, i) };
  });

  router.on("GET", "/repos/{owner}/{repo}/issues/{issue_number}", (ctx) => {
    const { r, i } = issueOf(ctx);
    return { body: render.issue(ctx.st, r, i) };
  });

  router.on("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", (ctx) => {
    const { r, i } = issueOf(ctx);
    const b = ctx.body;
    const now = ctx.st.now();
    if (b.title !== undefined) i.title = String(b.title);
    if (b.body !== undefined) i.body = b.body;
    if (b.labels !== undefined) {
      i.labels = labelNames(b.labels);
      i.labels.forEach((l) => ensureLabel(ctx.st, r, l));
    }
    if (b.assignees !== undefined) i.assignees = b.assignees;
    if (b.state !== undefined && b.state !== i.state) {
      const p = r.pulls.get(i.number);
      if (p) closePull(ctx.st, r, p, b.state, actorOf(ctx.st, ctx.token.kind, ctx.token.actor).login);
      else {
        i.state = b.state;
        i.closedAt = b.state === "closed" ? now : null;
        i.stateReason = b.state === "closed" ? (b.state_reason ?? "completed") : "reopened";
      }
    }
    const p = r.pulls.get(i.number);
    if (p) {
      p.title = i.title;
      p.body = i.body;
    }
    i.updatedAt = now;
    return { body: render.issue(ctx.st, r, i) };
  });

  router.on("GET", "/repos/{owner}/{repo}/issues/{issue_number}/events", (ctx) => {
    const { r, i } = issueOf(ctx);
    const { page, headers } = paginate(ctx, i.events ?? []);
    return {
      body: page.map((e) => ({
        id: e.id,
        node_id: ctx.st.nodeId("ClosedEvent", e.id),
        url: `${ctx.st.api}/repos/${r.fullName}/issues/events/${e.id}`,
        actor: render.user(ctx.st, e.actor),
        event: e.event,
        commit_id: null,
        commit_url: null,
        created_at: e.createdAt,
        performed_via_github_app: null,
      })),
      headers,
    };
  });

  router.on("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", (ctx) => {
    const { r, i } = issueOf(ctx);
    const names = labelNames(Array.isArray(ctx.body) ? ctx.body : ctx.body.labels);
    for (const n of names) {
      ensureLabel(ctx.st, r, n);
      if (!i.labels.some((x) => x.toLowerCase() === n.toLowerCase())) {
        i.labels.push(n);
        i.updatedAt = ctx.st.now(); // a label added counts as an update, as on GitHub
      }
    }
    return { body: i.labels.map((n) => render.label(ctx.st, r, ensureLabel(ctx.st, r, n))) };
  });

  router.on("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", (ctx) => {
    const { r, i } = issueOf(ctx);
    const before = i.labels.length;
    i.labels = i.labels.filter((x) => x.toLowerCase() !== ctx.params.name.toLowerCase());
    if (i.labels.length === before) throw unprocessable("Label does not exist");
    return { body: i.labels.map((n) => render.label(ctx.st, r, ensureLabel(ctx.st, r, n))) };
  });

  router.on("GET", "/repos/{owner}/{repo}/labels", (ctx) => {
    const r = repoOf(ctx);
    const { page, headers } = paginate(ctx, [...r.labels.values()]);
    return { body: page.map((l) => render.label(ctx.st, r, l)), headers };
  });

  router.on("POST", "/repos/{owner}/{repo}/labels", (ctx) => {
    const r = repoOf(ctx);
    requireFields(ctx.body, "name");
    if (r.labels.has(String(ctx.body.name).toLowerCase()))
      throw unprocessable("Validation Failed", [{ resource: "Label", code: "already_exists", field: "name" }]);
    const l = ensureLabel(ctx.st, r, String(ctx.body.name));
    if (ctx.body.color) l.color = String(ctx.body.color).replace(/^#/, "");
    if (ctx.body.description !== undefined) l.description = ctx.body.description;
    return { status: 201, body: render.label(ctx.st, r, l) };
  });

  router.on("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", (ctx) => {
    const { r, i } = issueOf(ctx);
    const since = ctx.query.get("since");
    const list = r.comments.filter((c) => c.issue === i.number && (!since || c.updatedAt >= since));
    const { page, headers } = paginate(ctx, list);
    return { body: page.map((c) => render.comment(ctx.st, r, c)), headers };
  });

  router.on("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", (ctx) => {
    const { r, i } = issueOf(ctx);
    const me = actorOf(ctx.st, ctx.token.kind, ctx.token.actor);
    const c = addComment(ctx.st, r, i.number, me.login, checkBody(ctx.body.body), ctx.token.kind === "installation" ? "timebox" : undefined);
    return { status: 201, body: render.comment(ctx.st, r, c) };
  });

  router.on("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}", (ctx) => {
    const { r, c } = commentOf(ctx);
    return { body: render.comment(ctx.st, r, c) };
  });

  router.on("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", (ctx) => {
    const { r, c } = commentOf(ctx);
    c.body = checkBody(ctx.body.body);
    c.updatedAt = ctx.st.now();
    return { body: render.comment(ctx.st, r, c) };
  });

  router.on("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}", (ctx) => {
    const { r, c } = commentOf(ctx);
    r.comments.splice(r.comments.indexOf(c), 1);
    return { status: 204 };
  });
}

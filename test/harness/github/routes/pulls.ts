import * as render from "../render.js";
import { HttpError, notFound, num, paginate, repoOf, requireFields, unprocessable, type Ctx, type Router } from "../router.js";
import { actorOf, addReview, closePull, createPull, dismissReview, mergePull, retargetPull } from "../ops.js";
import type { PullRequest, Repo, Review } from "../state.js";

function pullOf(ctx: Ctx): { r: Repo; p: PullRequest } {
  const r = repoOf(ctx);
  const p = r.pulls.get(num(ctx, "pull_number"));
  if (!p) throw notFound();
  return { r, p };
}

function reviewOf(ctx: Ctx, r: Repo, p: PullRequest): Review {
  const v = r.reviews.find((x) => x.id === num(ctx, "review_id") && x.pull === p.number);
  if (!v) throw notFound();
  return v;
}

const EVENTS: Record<string, Review["state"]> = { APPROVE: "APPROVED", REQUEST_CHANGES: "CHANGES_REQUESTED", COMMENT: "COMMENTED" };

export function pullRoutes(router: Router): void {
  router.on("GET", "/repos/{owner}/{repo}/pulls", (ctx) => {
    const r = repoOf(ctx);
    const state = ctx.query.get("state") ?? "open";
    const head = ctx.query.get("head");
    const base = ctx.query.get("base");
    const sort = ctx.query.get("sort") ?? "created";
    const direction = ctx.query.get("direction") ?? (sort === "created" ? "desc" : "asc");
    let list = [...r.pulls.values()].filter((p) => state === "all" || p.state === state);
    if (head) {
      const [owner, branch] = head.includes(":") ? head.split(":", 2) : [r.owner, head];
      list = list.filter((p) => owner.toLowerCase() === r.owner.toLowerCase() && p.headRef === branch);
    }
    if (base) list = list.filter((p) => p.baseRef === base);
    const key = (p: PullRequest) => (sort === "updated" ? p.updatedAt : p.createdAt) + String(p.number).padStart(9, "0");
    list.sort((a, b) => (key(a) < key(b) ? -1 : 1));
    if (direction === "desc") list.reverse();
    const { page, headers } = paginate(ctx, list);
    return { body: page.map((p) => render.pull(ctx.st, r, p, false)), headers };
  });

  router.on("POST", "/repos/{owner}/{repo}/pulls", (ctx) => {
    const r = repoOf(ctx);
    requireFields(ctx.body, "head", "base");
    const head = String(ctx.body.head).replace(/^[^:]+:/, "");
    const me = actorOf(ctx.st, ctx.token.kind, ctx.token.actor);
    const p = createPull(ctx.st, r, { title: ctx.body.title ?? head, body: ctx.body.body, head, base: ctx.body.base, user: me.login, draft: ctx.body.draft });
    return { status: 201, body: render.pull(ctx.st, r, p) };
  });

  router.on("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", (ctx) => {
    const { r, p } = pullOf(ctx);
    return { body: render.pull(ctx.st, r, p) };
  });

  router.on("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}", (ctx) => {
    const { r, p } = pullOf(ctx);
    const b = ctx.body;
    if (b.title !== undefined) p.title = r.issues.get(p.number)!.title = String(b.title);
    if (b.body !== undefined) p.body = r.issues.get(p.number)!.body = b.body;
    if (b.base !== undefined && b.base !== p.baseRef) retargetPull(ctx.st, r, p, String(b.base));
    if (b.state !== undefined) {
      if (b.state !== "open" && b.state !== "closed") throw unprocessable("Validation Failed", [{ resource: "PullRequest", field: "state", code: "invalid" }]);
      closePull(ctx.st, r, p, b.state, actorOf(ctx.st, ctx.token.kind, ctx.token.actor).login);
    }
    p.updatedAt = ctx.st.now();
    return { body: render.pull(ctx.st, r, p) };
  });

  router.on("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", (ctx) => {
    const { r, p } = pullOf(ctx);
    const head = render.pullHeadSha(ctx.st, r, p);
    const { page, headers } = paginate(ctx, render.prFiles(ctx.st, r, p), { maxItems: 3000 });
    return { body: page.map((f) => render.diffEntry(ctx.st, r, head, f)), headers };
  });

  router.on("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits", (ctx) => {
    const { r, p } = pullOf(ctx);
    const { page, headers } = paginate(ctx, p.commits, { maxItems: 250 });
    return { body: page.map((s) => render.restCommit(ctx.st, r, r.git.commits.get(s)!)), headers };
  });

  router.on("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", (ctx) => {
    const { p } = pullOf(ctx);
    return { status: p.merged ? 204 : 404, body: p.merged ? undefined : { message: "Not Found" } };
  });

  router.on("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", (ctx) => {
    const { r, p } = pullOf(ctx);
    if (p.draft) throw new HttpError(405, "Pull Request is still a draft");
    const me = actorOf(ctx.st, ctx.token.kind, ctx.token.actor);
    const sha = mergePull(ctx.st, r, p, {
      by: me.login,
      method: ctx.body.merge_method,
      sha: ctx.body.sha,
      title: ctx.body.commit_title,
      message: ctx.body.commit_message,
      tokenKind: ctx.token.kind,
    });
    return { body: { sha, merged: true, message: "Pull Request successfully merged" } };
  });

  router.on("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", (ctx) => {
    const { r, p } = pullOf(ctx);
    const me = actorOf(ctx.st, ctx.token.kind, ctx.token.actor).login;
    const list = r.reviews.filter((v) => v.pull === p.number && (v.state !== "PENDING" || v.user === me));
    const { page, headers } = paginate(ctx, list);
    return { body: page.map((v) => render.review(ctx.st, r, v)), headers };
  });

  router.on("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}", (ctx) => {
    const { r, p } = pullOf(ctx);
    return { body: render.review(ctx.st, r, reviewOf(ctx, r, p)) };
  });

  router.on("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", (ctx) => {
    const { r, p } = pullOf(ctx);
    const me = actorOf(ctx.st, ctx.token.kind, ctx.token.actor).login;
    const event = ctx.body.event as string | undefined;
    const state: Review["state"] = event ? EVENTS[event] : "PENDING";
    if (!state) throw unprocessable(`Unprocessable Entity: event ${event} is not valid`);
    if ((state === "CHANGES_REQUESTED" || state === "COMMENTED") && !ctx.body.body)
      throw unprocessable("Unprocessable Entity", [`Body is required for ${event} reviews`]);
    if (me === p.user && state !== "COMMENTED" && state !== "PENDING")
      throw unprocessable("Unprocessable Entity", [`Can not ${state === "APPROVED" ? "approve" : "request changes on"} your own pull request`]);
    if (p.state !== "open" && state !== "COMMENTED") throw unprocessable("Unprocessable Entity", ["Pull request is closed"]);
    const v = addReview(ctx.st, r, p, { user: me, state, body: ctx.body.body, commitId: ctx.body.commit_id });
    return { body: render.review(ctx.st, r, v) };
  });

  router.on("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}", (ctx) => {
    const { r, p } = pullOf(ctx);
    requireFields(ctx.body, "body");
    const v = reviewOf(ctx, r, p);
    v.body = String(ctx.body.body);
    return { body: render.review(ctx.st, r, v) };
  });

  router.on("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals", (ctx) => {
    const { r, p } = pullOf(ctx);
    requireFields(ctx.body, "message");
    const v = reviewOf(ctx, r, p);
    dismissReview(r, v);
    return { body: render.review(ctx.st, r, v) };
  });
}

import * as render from "../render.js";
import { HttpError, notFound, num, paginate, repoOf, requireFields, unprocessable, type Ctx, type Router } from "../router.js";
import { resolveCommit } from "../resolve.js";
import { latestCheckRuns } from "../ops.js";
import type { Annotation, CheckRun, Repo } from "../state.js";

const STATUSES = new Set(["queued", "in_progress", "completed", "waiting", "requested", "pending"]);
const CONCLUSIONS = new Set(["action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"]);
const LEVELS = new Set(["notice", "warning", "failure"]);

function tooLong(field: string, v: unknown): void {
  if (typeof v === "string" && v.length > 65535)
    throw unprocessable(`Invalid request.\n\nOnly 65535 characters are allowed; ${v.length} were supplied.`, [
      { resource: "CheckRun", field, code: "custom", message: `${field} is too long (maximum is 65535 characters)` },
    ]);
}

/** Validate and apply a create/update body to a check run (annotations are appended, like GitHub). */
function apply(ctx: Ctx, c: CheckRun, b: any): void {
  if (b.status !== undefined && !STATUSES.has(b.status))
    throw unprocessable(`Invalid request.\n\n${b.status} is not a member of ["queued", "in_progress", "completed", ...].`);
  if (b.conclusion !== undefined && b.conclusion !== null && !CONCLUSIONS.has(b.conclusion))
    throw unprocessable(`Invalid request.\n\n${b.conclusion} is not a valid conclusion.`);
  if (b.output !== undefined) {
    const o = b.output ?? {};
    if (o.title === undefined || o.summary === undefined) throw unprocessable(`Invalid request.\n\n"title" and "summary" are required keys in output.`);
    tooLong("output.summary", o.summary);
    tooLong("output.text", o.text);
    const anns: Annotation[] = o.annotations ?? [];
    if (anns.length > 50)
      throw unprocessable("Invalid request.\n\nAnnotations are limited to 50 per request.", [
        { resource: "CheckRun", field: "output.annotations", code: "too_many" },
      ]);
    for (const a of anns) {
      for (const f of ["path", "start_line", "end_line", "annotation_level", "message"] as const)
        if ((a as any)[f] === undefined) throw unprocessable(`Invalid request.\n\n"${f}" wasn't supplied.`);
      if (!LEVELS.has(a.annotation_level)) throw unprocessable(`Invalid request.\n\n${a.annotation_level} is not a valid annotation_level.`);
      if ((a.start_column !== undefined || a.end_column !== undefined) && a.start_line !== a.end_line)
        throw unprocessable("Invalid request.\n\nstart_column and end_column may only be used when start_line equals end_line.");
    }
    c.output = { title: o.title, summary: o.summary, text: o.text ?? null, annotations: [...c.output.annotations, ...anns] };
  }
  if (b.name !== undefined) c.name = b.name;
  if (b.details_url !== undefined) c.detailsUrl = b.details_url;
  if (b.external_id !== undefined) c.externalId = b.external_id;
  if (b.started_at !== undefined) c.startedAt = b.started_at;
  if (b.conclusion !== undefined && b.conclusion !== null) {
    c.conclusion = b.conclusion;
    c.status = "completed";
  }
  if (b.status !== undefined) c.status = b.status;
  if (b.status !== undefined && b.status !== "completed" && b.conclusion === undefined) c.conclusion = null;
  if (c.status === "completed") {
    if (!c.conclusion) throw unprocessable("Invalid request.\n\nconclusion is required when status is completed.");
    c.completedAt = b.completed_at ?? c.completedAt ?? ctx.st.now();
  } else c.completedAt = null;
}

function checkOf(ctx: Ctx): { r: Repo; c: CheckRun } {
  const r = repoOf(ctx);
  const c = r.checkRuns.find((x) => x.id === num(ctx, "check_run_id"));
  if (!c) throw notFound();
  return { r, c };
}

export function checkRoutes(router: Router): void {
  router.on("POST", "/repos/{owner}/{repo}/check-runs", (ctx) => {
    const r = repoOf(ctx);
    requireFields(ctx.body, "name", "head_sha");
    if (!r.git.commits.has(ctx.body.head_sha)) throw unprocessable(`No commit found for SHA: ${ctx.body.head_sha}`);
    const suite = r.checkRuns.find((x) => x.headSha === ctx.body.head_sha)?.checkSuiteId ?? ctx.st.id();
    const id = ctx.st.id();
    const c: CheckRun = {
      id,
      node_id: ctx.st.nodeId("CheckRun", id),
      headSha: ctx.body.head_sha,
      name: ctx.body.name,
      externalId: null,
      status: "queued",
      conclusion: null,
      startedAt: ctx.st.now(),
      completedAt: null,
      detailsUrl: null,
      output: { title: null, summary: null, text: null, annotations: [] },
      checkSuiteId: suite,
      createdBy: ctx.token.kind,
    };
    apply(ctx, c, ctx.body);
    r.checkRuns.push(c);
    return { status: 201, body: render.checkRun(ctx.st, r, c) };
  });

  router.on("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", (ctx) => {
    const { r, c } = checkOf(ctx);
    if (ctx.token.kind === "installation" && (c.createdBy !== "installation" || c.foreignApp))
      throw new HttpError(403, "Invalid app_id `" + ctx.st.app.id + "` - check run can only be modified by the GitHub App that created it.");
    const copy: CheckRun = structuredClone(c);
    apply(ctx, copy, ctx.body);
    Object.assign(c, copy);
    return { body: render.checkRun(ctx.st, r, c) };
  });

  router.on("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}", (ctx) => {
    const { r, c } = checkOf(ctx);
    return { body: render.checkRun(ctx.st, r, c) };
  });

  router.on("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations", (ctx) => {
    const { c } = checkOf(ctx);
    const { page, headers } = paginate(ctx, c.output.annotations);
    return {
      headers,
      body: page.map((a) => ({
        path: a.path,
        start_line: a.start_line,
        end_line: a.end_line,
        start_column: a.start_column ?? null,
        end_column: a.end_column ?? null,
        annotation_level: a.annotation_level,
        title: a.title ?? null,
        message: a.message,
        raw_details: a.raw_details ?? null,
        blob_href: "",
      })),
    };
  });

  router.on("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", (ctx) => {
    const r = repoOf(ctx);
    const sha = resolveCommit(r, ctx.params.ref);
    if (!sha) throw new HttpError(422, `No commit found for SHA: ${ctx.params.ref}`);
    let runs = r.checkRuns.filter((c) => c.headSha === sha);
    if ((ctx.query.get("filter") ?? "latest") === "latest") runs = latestCheckRuns(runs);
    const name = ctx.query.get("check_name");
    if (name) runs = runs.filter((c) => c.name === name);
    const status = ctx.query.get("status");
    if (status) runs = runs.filter((c) => c.status === status);
    const appId = ctx.query.get("app_id");
    if (appId) runs = runs.filter((c) => (c.foreignApp?.id ?? ctx.st.app.id) === Number(appId));
    runs.sort((a, b) => b.id - a.id);
    const { page, headers } = paginate(ctx, runs);
    return { headers, body: { total_count: runs.length, check_runs: page.map((c) => render.checkRun(ctx.st, r, c)) } };
  });
}

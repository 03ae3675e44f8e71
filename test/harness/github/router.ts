/** A tiny router over GitHub path templates, plus the error and pagination helpers routes share. */
import type { IncomingHttpHeaders } from "node:http";
import type { Repo, State, TokenInfo } from "./state.js";

export interface Ctx {
  st: State;
  method: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: any;
  headers: IncomingHttpHeaders;
  token: TokenInfo;
  /** Absolute URL of this request as the client addressed it (for Link headers). */
  url: URL;
}

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  raw?: string | Buffer;
}

export type Handler = (ctx: Ctx) => Reply;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const notFound = () => new HttpError(404, "Not Found");
export const unprocessable = (message: string, errors?: unknown[]) => new HttpError(422, message, errors ? { errors } : {});

interface Route {
  method: string;
  template: string;
  segments: string[];
  greedy: boolean;
  handler: Handler;
}

const GREEDY = new Set(["ref", "path", "branch"]);

export class Router {
  readonly routes: Route[] = [];

  on(method: string, template: string, handler: Handler): this {
    const segments = template.split("/").filter(Boolean);
    const last = segments[segments.length - 1] ?? "";
    const greedy = /^\{(\w+)\}$/.test(last) && GREEDY.has(last.slice(1, -1));
    this.routes.push({ method, template, segments, greedy, handler });
    return this;
  }

  /** Match raw (still percent-encoded) path segments. Exact matches win over greedy ones. */
  match(method: string, rawPath: string): { route: Route; params: Record<string, string> } | { template: string; methodMismatch: true } | undefined {
    const parts = rawPath.split("/").filter(Boolean);
    let wrongMethod: string | undefined;
    for (const pass of [false, true]) {
      for (const r of this.routes) {
        if (pass && !r.greedy) continue;
        const params = this.tryMatch(r, parts, pass);
        if (!params) continue;
        if (r.method !== method) {
          wrongMethod ??= r.template;
          continue;
        }
        return { route: r, params };
      }
    }
    return wrongMethod ? { template: wrongMethod, methodMismatch: true } : undefined;
  }

  private tryMatch(r: Route, parts: string[], greedy: boolean): Record<string, string> | undefined {
    const n = r.segments.length;
    // only {path} may be empty (GET /contents/ lists the root)
    const minimum = r.segments[n - 1] === "{path}" ? n - 1 : n;
    if (greedy ? parts.length < minimum : parts.length !== n) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < n; i++) {
      const seg = r.segments[i];
      const isLast = i === n - 1;
      const value = greedy && isLast ? parts.slice(i).join("/") : parts[i];
      if (value === undefined) return undefined;
      const m = /^\{(\w+)\}$/.exec(seg);
      if (m) params[m[1]] = decodeURIComponent(value);
      else if (seg.includes("{")) {
        // e.g. "{basehead}" mixed segments are not used; literal segments must match exactly
        return undefined;
      } else if (seg !== value) return undefined;
    }
    return params;
  }
}

/** Repo lookup honouring installation scoping: an installation token only sees its installation's repos. */
export function repoOf(ctx: Ctx): Repo {
  const r = ctx.st.repo(ctx.params.owner, ctx.params.repo);
  if (!r) throw notFound();
  if (ctx.token.kind === "installation" && r.installationId !== ctx.token.installationId) throw notFound();
  return r;
}

export function num(ctx: Ctx, name: string): number {
  const n = Number(ctx.params[name]);
  if (!Number.isInteger(n)) throw notFound();
  return n;
}

/** Slice a list per `page`/`per_page` and produce GitHub's Link header. */
export function paginate<T>(ctx: Ctx, items: T[], opts: { maxItems?: number } = {}): { page: T[]; headers: Record<string, string> } {
  const all = opts.maxItems ? items.slice(0, opts.maxItems) : items;
  const perPage = Math.min(Math.max(Number(ctx.query.get("per_page") ?? 30) || 30, 1), 100);
  const page = Math.max(Number(ctx.query.get("page") ?? 1) || 1, 1);
  const last = Math.max(Math.ceil(all.length / perPage), 1);
  const slice = all.slice((page - 1) * perPage, page * perPage);
  const link = (p: number) => {
    const u = new URL(ctx.url.toString());
    u.searchParams.set("per_page", String(perPage));
    u.searchParams.set("page", String(p));
    return u.toString();
  };
  const rels: string[] = [];
  if (page > 1) rels.push(`<${link(page - 1)}>; rel="prev"`);
  if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
  if (page > 1) rels.push(`<${link(1)}>; rel="first"`);
  return { page: slice, headers: rels.length ? { link: rels.join(", ") } : {} };
}

export function requireFields(body: any, ...fields: string[]): void {
  for (const f of fields)
    if (body?.[f] === undefined) throw unprocessable(`Invalid request.\n\n"${f}" wasn't supplied.`, [{ resource: "Body", field: f, code: "missing_field" }]);
}

/** node:http front end: auth, body parsing, routing, error shapes and the request log. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HttpError, Router, type Ctx, type Reply } from "./router.js";
import type { State, TokenInfo } from "./state.js";

const DOCS = "https://docs.github.com/rest";

/** Routes that take the app's JWT (everything else needs an installation or provider token). */
const isAppRoute = (template: string): boolean =>
  template.startsWith("/app") || /^\/(repos\/\{owner\}\/\{repo\}|orgs\/\{org\}|users\/\{username\})\/installation$/.test(template);

/** GitHub's usual message for an error status (fault injection). */
function defaultMessage(status: number): string {
  const known: Record<number, string> = {
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Validation Failed",
    500: "Internal Server Error",
    502: "Server Error",
    503: "Service Unavailable",
  };
  return known[status] ?? "Error";
}

function tokenFor(st: State, authorization: string | undefined): TokenInfo {
  if (!authorization) return { kind: "none", actor: "" };
  const m = /^(?:token|bearer)\s+(.+)$/i.exec(authorization.trim());
  const tok = m?.[1] ?? "";
  const known = st.tokens.get(tok);
  if (known) return known;
  if (/^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(tok)) return { kind: "app", actor: st.app.slug };
  return { kind: "unknown", actor: "" };
}

export class EmulatorServer {
  private server?: Server;
  constructor(
    private readonly st: State,
    private readonly router: Router,
  ) {}

  async listen(port = 0): Promise<{ baseUrl: string; host: string; port: number }> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    const p = (this.server.address() as AddressInfo).port;
    const host = `127.0.0.1:${p}`;
    return { baseUrl: `http://${host}/api/v3`, host, port: p };
  }

  /** How long an idle connection stays open (Node's default: 5 s). */
  keepIdleConnections(ms: number): void {
    if (this.server) this.server.keepAliveTimeout = ms;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
    const path = url.pathname.replace(/^\/api\/v3(?=\/|$)/, "") || "/";
    const method = (req.method ?? "GET").toUpperCase();
    const token = tokenFor(this.st, req.headers.authorization);
    let body: unknown = undefined;
    let route: string | null = null;
    let reply: Reply;
    try {
      if (raw.length) {
        try {
          body = JSON.parse(raw.toString("utf8"));
        } catch {
          throw new HttpError(400, "Problems parsing JSON");
        }
      }
      const m = this.router.match(method, path);
      if (!m) throw new HttpError(404, "Not Found");
      if ("methodMismatch" in m) throw new HttpError(404, "Not Found");
      route = m.route.template;
      if (token.kind === "none") throw new HttpError(401, "Requires authentication");
      if (token.kind === "unknown") throw new HttpError(401, "Bad credentials");
      if (isAppRoute(route) && token.kind !== "app") throw new HttpError(401, "A JSON web token could not be decoded");
      if (!isAppRoute(route) && token.kind === "app")
        throw new HttpError(403, "Resource not accessible by integration (this endpoint needs an installation token, not the app JWT)");
      if (this.st.rateLimits.exhausted(token, path, this.st.clock.now().getTime()))
        throw new HttpError(403, `API rate limit exceeded for ${token.kind === "installation" ? `installation ID ${token.installationId}` : "this token"}.`);
      for (const hook of [...this.st.requestHooks]) {
        const injected = await hook({ method, path, route, tokenKind: token.kind, query: Object.fromEntries(url.searchParams), body });
        if (injected) throw new HttpError(injected.status, injected.message ?? defaultMessage(injected.status));
      }
      const ctx: Ctx = { st: this.st, method, params: m.params, query: url.searchParams, body: body ?? {}, headers: req.headers, token, url };
      reply = m.route.handler(ctx);
    } catch (e) {
      if (e instanceof HttpError) reply = { status: e.status, body: { message: e.message, documentation_url: DOCS, ...e.extra, status: String(e.status) } };
      else reply = { status: 500, body: { message: `emulator error: ${(e as Error).stack ?? String(e)}` } };
    }
    const status = reply.status ?? 200;
    this.st.requests.push({
      method,
      path,
      route,
      status,
      tokenKind: token.kind,
      query: Object.fromEntries(url.searchParams),
      body,
      at: this.st.now(),
      ...(Array.isArray((reply.body as { errors?: unknown } | undefined)?.errors) ? { graphqlErrors: (reply.body as { errors: unknown[] }).errors } : {}),
    });
    const headers: Record<string, string> = {
      "x-github-media-type": "github.v3; format=json",
      ...this.st.rateLimits.consume(token, path, this.st.clock.now().getTime()),
      ...(reply.headers ?? {}),
    };
    if (reply.raw !== undefined) {
      res.writeHead(status, { "content-type": "application/vnd.github.raw; charset=utf-8", ...headers });
      res.end(reply.raw);
    } else if (status === 204 || reply.body === undefined) {
      res.writeHead(status, headers);
      res.end();
    } else {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(JSON.stringify(reply.body));
    }
  }
}

/**
 * A local on-call service answering like PagerDuty's REST API v2 (`GET /oncalls`) and Opsgenie's
 * Who-is-on-call API (`GET /v2/schedules/{name}/on-calls`), as their published references
 * describe them: it checks the auth header, the Accept header (PagerDuty) and the query, and
 * answers from the shifts a test sets. Every request is logged.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const PD_TOKEN = "pd-test-token-0123456789";
export const OG_KEY = "og-test-key-0123456789";

interface Shift {
  /** PagerDuty user id (PagerDuty) — ignored by Opsgenie. */
  id?: string;
  /** The user's e-mail (PagerDuty `user.email`, Opsgenie user name). */
  email: string;
  name?: string;
  start: string;
  end: string;
}

export interface OnCallServer {
  url: string;
  pagerduty: Record<string, Shift[]>;
  opsgenie: Record<string, Shift[]>;
  /** Schedule → HTTP status to answer with instead. */
  failing: Record<string, number>;
  requests: Array<{ path: string; query: URLSearchParams; authorization?: string }>;
  stop(): Promise<void>;
}

/** The tests' PagerDuty rotation on 2026-03-02 (UTC): dev1 (PDEV1) on call 09:00–09:30, dev2 (PDEV2) 09:30–10:00. */
export function sreShifts(): Shift[] {
  return [
    { id: "PDEV1", email: "dev1@example.com", start: "2026-03-02T09:00:00Z", end: "2026-03-02T09:30:00Z" },
    { id: "PDEV2", email: "dev2@example.com", start: "2026-03-02T09:30:00Z", end: "2026-03-02T10:00:00Z" },
  ];
}

/**
 * Back to where every test starts: no requests logged, no schedule failing, PagerDuty's PSRE01
 * holding {@link sreShifts}, and the Opsgenie schedules given (none by default).
 */
export function resetOnCallServer(server: OnCallServer, opsgenie: Record<string, Shift[]> = {}): void {
  server.requests.length = 0;
  server.failing = {};
  server.pagerduty = { PSRE01: sreShifts() };
  server.opsgenie = opsgenie;
}

export async function startOnCallServer(): Promise<OnCallServer> {
  const state: Omit<OnCallServer, "url" | "stop"> = { pagerduty: {}, opsgenie: {}, failing: {}, requests: [] };
  const server: Server = createServer((req, res) => {
    try {
      handle(state, req, res);
    } catch (error) {
      send(res, 500, { error: String(error) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const overlaps = (s: Shift, from: number, to: number) => Date.parse(s.start) < to && Date.parse(s.end) > from;

function handle(state: Omit<OnCallServer, "url" | "stop">, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  state.requests.push({ path: url.pathname, query: url.searchParams, authorization: req.headers.authorization });
  if (req.method !== "GET") return send(res, 405, { error: "method not allowed" });

  if (url.pathname === "/oncalls") {
    if (req.headers.authorization !== `Token token=${PD_TOKEN}`) return send(res, 401, { error: { message: "Unauthorized", code: 2006 } });
    if (req.headers.accept !== "application/vnd.pagerduty+json;version=2") return send(res, 406, { error: { message: "Not Acceptable" } });
    const ids = url.searchParams.getAll("schedule_ids[]");
    const since = Date.parse(url.searchParams.get("since") ?? "");
    const until = Date.parse(url.searchParams.get("until") ?? "");
    if (ids.length === 0 || Number.isNaN(since) || Number.isNaN(until) || until < since)
      return send(res, 400, { error: { message: "Invalid Input Provided", code: 2001 } });
    const failed = ids.find((id) => state.failing[id]);
    if (failed) return send(res, state.failing[failed], { error: { message: "Service Unavailable" } });
    const withUsers = url.searchParams.getAll("include[]").includes("users");
    const limit = Number(url.searchParams.get("limit") ?? 25);
    const offset = Number(url.searchParams.get("offset") ?? 0);
    const all = ids.flatMap((id) =>
      (state.pagerduty[id] ?? [])
        .filter((s) => overlaps(s, since, until))
        .map((s, i) => ({
          escalation_policy: { id: "PESC001", type: "escalation_policy_reference" },
          escalation_level: 1,
          schedule: { id, type: "schedule_reference", summary: `Schedule ${id}` },
          user: withUsers
            ? { id: s.id ?? `PUSER${i}`, type: "user", summary: s.name ?? s.email, email: s.email }
            : { id: s.id ?? `PUSER${i}`, type: "user_reference", summary: s.name ?? s.email },
          start: s.start,
          end: s.end,
        })),
    );
    const page = all.slice(offset, offset + limit);
    return send(res, 200, { oncalls: page, limit, offset, more: offset + limit < all.length, total: null });
  }

  const og = /^\/v2\/schedules\/([^/]+)\/on-calls$/.exec(url.pathname);
  if (og) {
    if (req.headers.authorization !== `GenieKey ${OG_KEY}`) return send(res, 401, { message: "Could not authenticate", took: 0, requestId: "r1" });
    const name = decodeURIComponent(og[1]);
    if (url.searchParams.get("scheduleIdentifierType") !== "name" || url.searchParams.get("flat") !== "true")
      return send(res, 422, { message: "expected scheduleIdentifierType=name and flat=true", took: 0, requestId: "r2" });
    const date = Date.parse(url.searchParams.get("date") ?? "");
    if (Number.isNaN(date)) return send(res, 422, { message: "date is not valid", took: 0, requestId: "r3" });
    if (state.failing[name]) return send(res, state.failing[name], { message: "error", took: 0, requestId: "r4" });
    const shifts = state.opsgenie[name];
    if (!shifts) return send(res, 404, { message: `No schedule exists with name [${name}]`, took: 0, requestId: "r5" });
    const recipients = shifts.filter((s) => Date.parse(s.start) <= date && date < Date.parse(s.end)).map((s) => s.email);
    return send(res, 200, {
      data: { _parent: { id: "d875a1b4-9b4e-4219-a1b3-0c26936d18de", name, enabled: true }, onCallRecipients: recipients },
      took: 0.01,
      requestId: "r6",
    });
  }
  return send(res, 404, { error: "not found" });
}

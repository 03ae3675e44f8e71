/**
 * A real HTTP server on 127.0.0.1 standing in for Slack's Web API, as Slack documents it: every
 * method is `POST /api/<method>`, authenticated with `Authorization: Bearer <token>`, arguments
 * form-encoded (Slack's client JSON-encodes `blocks`), answered `200 {"ok": true, …}`, or `429`
 * with `Retry-After` and `{"ok": false, "error": "ratelimited"}` when rate limited.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface SlackCall {
  method: string;
  authorization?: string;
  contentType?: string;
  args: Record<string, string>;
  blocks?: Array<Record<string, unknown>>;
}

/** How the next call is answered: Slack's success answer by default. */
export type Answer = { status: number; headers?: Record<string, string>; body: unknown };

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  /** Answers for the next calls, in order; when empty, Slack's success. */
  readonly script: Answer[] = [];
  /** While set, every answer waits for it (a slow Slack: the call is received, the answer comes later). */
  hold?: Promise<void>;
  private server?: Server;
  private nextTs = 1;
  private readonly waiters: Array<() => void> = [];
  private readonly received: Array<() => void> = [];

  /** The base URL for TIMEBOX_SLACK_API_URL. */
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req).then((answer) => {
        res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
        res.end(JSON.stringify(answer.body));
        for (const w of this.waiters.splice(0)) w();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The calls of one method (`chat.postMessage`, `chat.update`). */
  of(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves once `n` calls have been answered (deliveries run in the background). */
  async waitForCalls(n: number): Promise<void> {
    while (this.calls.length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Resolves once `n` calls have been received, answered or not (see `hold`). */
  async waitForReceived(n: number): Promise<void> {
    while (this.calls.length < n) await new Promise<void>((resolve) => this.received.push(resolve));
  }

  private async handle(req: IncomingMessage): Promise<Answer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const args = Object.fromEntries(new URLSearchParams(raw));
    const method = (req.url ?? "").replace(/^\/api\//, "").replace(/\?.*$/, "");
    const call: SlackCall = {
      method,
      authorization: req.headers.authorization,
      contentType: req.headers["content-type"],
      args,
      ...(args.blocks ? { blocks: JSON.parse(args.blocks) as Array<Record<string, unknown>> } : {}),
    };
    this.calls.push(call);
    for (const w of this.received.splice(0)) w();
    if (this.hold) await this.hold;
    const scripted = this.script.shift();
    if (scripted) return scripted;
    if (method === "chat.postMessage") {
      const ts = `1700000000.${String(this.nextTs++).padStart(6, "0")}`;
      return { status: 200, body: { ok: true, channel: "C0ACCESS01", ts, message: { text: args.text } } };
    }
    if (method === "chat.update") return { status: 200, body: { ok: true, channel: args.channel, ts: args.ts, text: args.text } };
    return { status: 200, body: { ok: false, error: "unknown_method" } };
  }
}

/** All the text a call carries (fallback text and every block's text), for content assertions. */
export function textOf(call: SlackCall): string {
  return [call.args.text, JSON.stringify(call.blocks ?? [])].join("\n");
}

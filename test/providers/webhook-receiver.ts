/**
 * A real HTTP receiver on 127.0.0.1 for the webhook provider's tests, running the example
 * receiver of docs/providers/webhook.md exactly as printed there (the code block is written to a
 * temporary module and imported), so the documented code is what the tests exercise.
 *
 * Around it, the test server records every request (headers, body, status) and can be told to
 * misbehave before the example sees a request: answer slowly, fail, or lie.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";

interface MemorySystem {
  has(principal: string, target: string): boolean;
  add(principal: string, target: string): void;
  remove(principal: string, target: string): void;
  knows(kind: "target" | "principal", name: string): boolean;
  members: Map<string, Set<string>>;
  people: Set<string>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface ExampleReceiver {
  verify(secret: string, headers: IncomingHttpHeaders | Record<string, string>, body: string, seen: Map<string, number>, now?: number): boolean;
  receiver(secret: string, system: MemorySystem, grants?: Map<string, any>, seen?: Map<string, number>): Handler;
  memorySystem(targets?: Record<string, string[]>, principals?: string[]): MemorySystem;
}

const DOC = new URL("../../docs/providers/webhook.md", import.meta.url);
const MARKER = "<!-- example-receiver:";

/** The example receiver's code, as printed in the doc. */
function exampleSource(): string {
  const doc = readFileSync(DOC, "utf8");
  const at = doc.indexOf(MARKER);
  if (at < 0) throw new Error("docs/providers/webhook.md has no example-receiver marker");
  const m = /```js\n([\s\S]*?)\n```/.exec(doc.slice(at));
  if (!m) throw new Error("no ```js block after the example-receiver marker");
  return `${m[1]}\n`;
}

let loaded: Promise<ExampleReceiver> | undefined;

export function loadExampleReceiver(): Promise<ExampleReceiver> {
  loaded ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "timebox-webhook-"));
    const file = join(dir, "receiver.mjs");
    writeFileSync(file, exampleSource());
    return (await import(pathToFileURL(file).href)) as ExampleReceiver;
  })();
  return loaded;
}

export interface RecordedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
  status?: number;
  answer?: string;
}

/** What the test server does instead of (or before) the example: undefined lets the example answer. */
type Misbehaviour = (
  request: RecordedRequest,
) =>
  | undefined
  | { delayMs?: number; status?: number; body?: string; headers?: Record<string, string>; thenExample?: boolean }
  | Promise<undefined | { delayMs?: number; status?: number; body?: string; headers?: Record<string, string>; thenExample?: boolean }>;

export interface TestReceiver {
  url: string;
  secret: string;
  system: MemorySystem;
  /** The example's records, by short_id. */
  grants: Map<string, any>;
  requests: RecordedRequest[];
  /** Replaces the misbehaviour (undefined: the example answers everything). */
  misbehave(fn: Misbehaviour | undefined): void;
  /** Rewrites the example's answer before it is sent (a receiver that lies). */
  rewrite(fn: ((request: RecordedRequest, answer: any) => any) | undefined): void;
  close(): Promise<void>;
}

export async function startReceiver(secret: string, path = "/timebox"): Promise<TestReceiver> {
  const example = await loadExampleReceiver();
  const system = example.memorySystem();
  const grants = new Map<string, any>();
  const handler = example.receiver(secret, system, grants);
  const requests: RecordedRequest[] = [];
  let misbehaviour: Misbehaviour | undefined;
  let rewriter: ((request: RecordedRequest, answer: any) => any) | undefined;
  const sockets = new Set<import("node:net").Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString("utf8");
        let json: any;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const rec: RecordedRequest = { headers: req.headers, body, json };
        requests.push(rec);
        const act = await misbehaviour?.(rec);
        if (act?.delayMs) {
          await new Promise<void>((r) => {
            const timer = setTimeout(() => {
              timers.delete(timer);
              r();
            }, act.delayMs);
            timers.add(timer);
          });
        }
        if (res.destroyed) return;
        if (act && !act.thenExample) {
          rec.status = act.status ?? 200;
          rec.answer = act.body ?? "";
          res.writeHead(rec.status, { "content-type": "application/json", ...act.headers }).end(rec.answer);
          return;
        }
        // The example reads the request itself: hand it the recorded body as a stream.
        const replay = Object.assign(Readable.from([Buffer.from(body)]), { headers: req.headers }) as unknown as IncomingMessage;
        const capture = captureResponse((status, text) => {
          let out = text;
          if (rewriter && status >= 200 && status < 300) out = JSON.stringify(rewriter(rec, JSON.parse(text)));
          rec.status = status;
          rec.answer = out;
          if (!res.destroyed) res.writeHead(status, { "content-type": "application/json" }).end(out);
        });
        handler(replay, capture);
      })();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    secret,
    system,
    grants,
    requests,
    misbehave: (fn) => {
      misbehaviour = fn;
    },
    rewrite: (fn) => {
      rewriter = fn;
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The little of ServerResponse the example uses: writeHead(status, headers).end(text). */
function captureResponse(done: (status: number, text: string) => void): ServerResponse {
  let status = 200;
  const res = {
    writeHead(s: number) {
      status = s;
      return res;
    },
    end(text: string) {
      done(status, text);
      return res;
    },
  };
  return res as unknown as ServerResponse;
}

import { afterEach, beforeEach, expect, test } from "@jest/globals";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { signBody, verifySignature } from "../../src/notify/signature.js";
import { event, policyWith, testNotifier } from "./support.js";

const HOOK = "  - webhook: { url_env: AUDIT_HOOK_URL, secret_env: AUDIT_HOOK_SECRET }\n";
const SECRET = "whsec-test-signing-secret";

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let server: Server;
let url: string;
let received: Received[];
let answers: number[];

beforeEach(async () => {
  received = [];
  answers = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const status = answers.shift() ?? 204;
      res.writeHead(status, status === 503 ? { "retry-after": "7" } : {});
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  // The URL may carry a token of the receiver's: it must never show up in a log line.
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/timebox?token=receiver-token-123`;
});
afterEach(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const now = new Date("2026-03-02T09:00:05Z");
const env = () => ({ AUDIT_HOOK_URL: url, AUDIT_HOOK_SECRET: SECRET });

test("each event is POSTed as CloudEvents JSON with a signature the receiver can verify", async () => {
  const { notifier, count } = testNotifier({ env: env(), now: () => now });
  notifier.notify(event("breakglass.used", { emergency: true }), policyWith(HOOK));
  await notifier.idle();

  expect(received).toHaveLength(1);
  const [{ headers, body }] = received;
  expect(headers["content-type"]).toBe("application/cloudevents+json; charset=utf-8");
  const signature = headers["x-timebox-signature"] as string;
  expect(signature).toMatch(/^t=1772442005,v1=[0-9a-f]{64}$/);
  expect(verifySignature(SECRET, body, signature, now.getTime() / 1000)).toBe(true);
  // Tampered with, signed with another secret, or replayed later: refused.
  expect(verifySignature(SECRET, body.replace("dev1", "dev2"), signature, now.getTime() / 1000)).toBe(false);
  expect(verifySignature("another-secret", body, signature, now.getTime() / 1000)).toBe(false);
  expect(verifySignature(SECRET, body, signature, now.getTime() / 1000 + 3600)).toBe(false);

  const cloudEvent = JSON.parse(body);
  expect(cloudEvent).toMatchObject({
    specversion: "1.0",
    type: "dev.timebox.breakglass.used",
    source: "https://github.com/acme/access",
    subject: "grants/dev1-prod-db.yaml",
    datacontenttype: "application/json",
    data: { repository: "acme/access", requester: "dev1", resource: "prod-db", role: "readonly", emergency: true, pull_request: 7 },
  });
  expect(body).not.toContain(SECRET);
  expect(await count({ channel: "webhook", event: "breakglass.used", outcome: "delivered" })).toBe(1);
});

test("a 503 is retried after its Retry-After; a 4xx is dropped at once; the URL is never logged", async () => {
  const { notifier, waits, lines, count } = testNotifier({ env: env(), now: () => now });
  answers.push(503, 200, 410);
  const policy = policyWith(HOOK);
  notifier.notify(event("requested"), policy);
  notifier.notify(event("approved"), policy);
  await notifier.idle();
  expect(received).toHaveLength(3);
  expect(waits).toEqual([7_000]);
  expect(await count({ channel: "webhook", outcome: "delivered" })).toBe(1);
  expect(await count({ channel: "webhook", event: "approved", outcome: "dropped" })).toBe(1);
  const dropped = lines.find((l) => l.msg === "notification dropped");
  expect(dropped?.obj).toMatchObject({ target: "AUDIT_HOOK_URL", error: "the webhook endpoint answered HTTP 410" });
  expect(JSON.stringify(lines)).not.toContain("receiver-token-123");
  expect(JSON.stringify(lines)).not.toContain(SECRET);
});

test('signing is HMAC-SHA256 over "<t>.<body>", as docs/notifications.md shows', () => {
  // The same value as `printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret`.
  expect(signBody("secret", '{"a":1}', 1700000000)).toBe("t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686");
  const header = signBody("secret", '{"a":1}', 1700000000);
  expect(verifySignature("secret", '{"a":1}', header, 1700000100)).toBe(true);
  expect(verifySignature("secret", '{"a":1}', "t=1700000000,v1=00", 1700000000)).toBe(false);
  expect(verifySignature("secret", '{"a":1}', undefined, 1700000000)).toBe(false);
});

/**
 * What is particular to the webhook provider, against a real HTTP server on 127.0.0.1 running the
 * documented example receiver: the signature and what it covers, bad signatures and replays
 * refused by the example's own logic, slow, failing and lying receivers, what the provider checks
 * in every answer, that no secret reaches a message, and the settings as policy validation sees them.
 */
import { createHmac, randomBytes } from "node:crypto";
import { checkPolicyFile } from "../../src/policy/check.js";
import { knownProviders } from "../../src/policy/providers.js";
import { withDeadline } from "../../src/providers/deadline.js";
import { ProviderError, type ActiveGrant } from "../../src/providers/types.js";
import { createWebhookProvider, type WebhookProvider, type WebhookTiming } from "../../src/providers/webhook/index.js";
import { errorTexts, makeActiveGrant } from "./contract.js";
import { loadExampleReceiver, startReceiver, type RecordedRequest, type TestReceiver } from "./webhook-receiver.js";

const SECRET = `test-${randomBytes(24).toString("hex")}`;
const FAST: Partial<WebhookTiming> = { attempts: 3, backoffMs: 10, maxBackoffMs: 20, requestMs: 2_000 };
const settings = { url_env: "HOOK_URL", secret_env: "HOOK_SECRET" };
const PRINCIPAL = "dev1@acme.example";
const TARGET = "prod-admins";

let rx: TestReceiver;
beforeEach(async () => {
  rx = await startReceiver(SECRET);
  rx.system.members.set(TARGET, new Set());
  rx.system.people.add(PRINCIPAL);
});
afterEach(async () => {
  await rx.close();
});

const build = (env: Record<string, string | undefined> = {}, timing: Partial<WebhookTiming> = FAST): WebhookProvider =>
  createWebhookProvider({ resource: "vpn", settings, env: { HOOK_URL: rx.url, HOOK_SECRET: SECRET, ...env } }, timing);
const grantFor = (overrides: Partial<ActiveGrant> = {}): ActiveGrant => makeActiveGrant(PRINCIPAL, TARGET, { resource: "vpn", ...overrides });

/** The rejection, checked to be a ProviderError that carries none of `secrets`. */
async function failure(p: Promise<unknown>, secrets: string[] = [SECRET, rx.url]): Promise<ProviderError> {
  const err = await p.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  const text = errorTexts(err);
  for (const s of secrets) expect(text.includes(s)).toBe(false);
  return err as ProviderError;
}

const resend = (r: RecordedRequest) =>
  fetch(rx.url, {
    method: "POST",
    body: r.body,
    headers: Object.fromEntries(
      ["content-type", "x-timebox-timestamp", "x-timebox-signature-256", "x-timebox-delivery", "x-timebox-action"].map((h) => [h, String(r.headers[h])]),
    ),
  });

describe("requests", () => {
  test("are signed over '<timestamp>.<body>' with the documented headers, and carry only the documented grant fields", async () => {
    const g = grantFor({ priorAccess: { membership: "none", token: "prior-S3cret-value" }, roleSettings: { tier: "gold" } });
    await build().grant(g);
    const [r] = rx.requests;
    expect(r.status).toBe(200);
    const ts = String(r.headers["x-timebox-timestamp"]);
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(5);
    expect(r.headers["x-timebox-signature-256"]).toBe(`sha256=${createHmac("sha256", SECRET).update(`${ts}.${r.body}`).digest("hex")}`);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(r.headers["x-timebox-action"]).toBe("grant");
    expect(r.headers["x-timebox-delivery"]).toBe(r.json.delivery_id);
    expect(r.headers["user-agent"]).toBe("timebox-webhook/1");
    expect(Object.keys(r.json).sort()).toEqual(["action", "delivery_id", "grant", "idempotency_key", "resource", "version"]);
    expect(r.json).toMatchObject({ version: 1, action: "grant", resource: "vpn" });
    expect(r.json.grant).toEqual({
      id: g.id,
      short_id: g.shortId,
      repo: "acme/access",
      pull_request: 42,
      requester: "dev1",
      principal: PRINCIPAL,
      resource: "vpn",
      role: "readonly",
      target: TARGET,
      role_settings: { tier: "gold" },
      granted_at: g.grantedAt.toISOString(),
      expires_at: g.expiresAt.toISOString(),
    });
    // Nothing of the prior access, nor the secret, is sent.
    expect(r.body).not.toContain("prior-S3cret-value");
    expect(r.body).not.toContain("membership");
    expect(r.body).not.toContain(SECRET);
  });

  test("the idempotency key is the same for the same change of a grant version, and new for an extension or a read", async () => {
    const p = build();
    const g = grantFor();
    await p.grant(g);
    await p.grant(g);
    await p.grant({ ...g, expiresAt: new Date(g.expiresAt.getTime() + 3600_000) });
    await p.isGranted(g);
    await p.isGranted(g);
    await p.revoke(g);
    await p.revoke(g);
    const keys = rx.requests.map((r) => r.json.idempotency_key as string);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(keys[3]).not.toBe(keys[4]);
    expect(keys[5]).toBe(keys[6]);
    expect(keys[5]).not.toBe(keys[0]);
    expect(new Set(rx.requests.map((r) => r.json.delivery_id)).size).toBe(rx.requests.length);
  });
});

describe("the example receiver refuses what Timebox did not sign, stale and replayed requests", () => {
  test("verify(): wrong secret, tampered body or timestamp, missing or malformed headers", async () => {
    const { verify } = await loadExampleReceiver();
    const body = JSON.stringify({ action: "check", delivery_id: "d-1" });
    const now = Date.now();
    const ts = String(Math.floor(now / 1000));
    const sig = (secret: string, t = ts, b = body) => `sha256=${createHmac("sha256", secret).update(`${t}.${b}`).digest("hex")}`;
    const h = (t: string, s: string) => ({ "x-timebox-timestamp": t, "x-timebox-signature-256": s });
    expect(verify(SECRET, h(ts, sig(SECRET)), body, new Map(), now)).toBe(true);
    expect(verify(SECRET, h(ts, sig("another-secret-0123456789abcdef0123")), body, new Map(), now)).toBe(false);
    expect(verify(SECRET, h(ts, sig(SECRET)), body.replace("check", "grant"), new Map(), now)).toBe(false);
    expect(verify(SECRET, h(String(Number(ts) - 1), sig(SECRET)), body, new Map(), now)).toBe(false);
    expect(verify(SECRET, h(ts, sig(SECRET).toUpperCase()), body, new Map(), now)).toBe(false);
    expect(verify(SECRET, h(ts, sig(SECRET).slice(0, -2)), body, new Map(), now)).toBe(false);
    expect(verify(SECRET, h(ts, sig(SECRET).replace("sha256=", "")), body, new Map(), now)).toBe(false);
    expect(verify(SECRET, {}, body, new Map(), now)).toBe(false);
    expect(verify(SECRET, h(`${ts}.5`, sig(SECRET, `${ts}.5`)), body, new Map(), now)).toBe(false);
    // Stale or from the future: more than 5 minutes off.
    const old = String(Number(ts) - 301);
    expect(verify(SECRET, h(old, sig(SECRET, old)), body, new Map(), now)).toBe(false);
    const future = String(Number(ts) + 301);
    expect(verify(SECRET, h(future, sig(SECRET, future)), body, new Map(), now)).toBe(false);
    const edge = String(Number(ts) - 299);
    expect(verify(SECRET, h(edge, sig(SECRET, edge)), body, new Map(), now)).toBe(true);
    // Seen before: refused, even within the window.
    const seen = new Map<string, number>();
    expect(verify(SECRET, h(ts, sig(SECRET)), body, seen, now)).toBe(true);
    expect(verify(SECRET, h(ts, sig(SECRET)), body, seen, now + 1000)).toBe(false);
  });

  test("a provider with the wrong secret is refused (401, permanent) and changes nothing", async () => {
    const wrong = `wrong-${randomBytes(24).toString("hex")}`;
    const err = await failure(build({ HOOK_SECRET: wrong }).grant(grantFor()), [SECRET, wrong, rx.url]);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(
      /^webhook: grant grants\/contract-[0-9a-f]+\.yaml on vpn was refused by the receiver \(HTTP 401\): bad signature, stale or replayed request$/,
    );
    expect(rx.requests).toHaveLength(1); // a 4xx is not retried
    expect(rx.grants.size).toBe(0);
    expect(rx.system.has(PRINCIPAL, TARGET)).toBe(false);
  });

  test("a request replayed verbatim is refused: an old grant cannot bring access back after its revoke", async () => {
    const p = build();
    const g = grantFor();
    await p.grant(g);
    const grantRequest = rx.requests[0];
    await p.revoke(g);
    expect(rx.system.has(PRINCIPAL, TARGET)).toBe(false);
    const replay = await resend(grantRequest);
    expect(replay.status).toBe(401);
    expect(rx.system.has(PRINCIPAL, TARGET)).toBe(false);
    expect(rx.grants.size).toBe(0);
  });

  test("a request signed more than 5 minutes ago is refused even with a fresh delivery id", async () => {
    const ts = Math.floor(Date.now() / 1000) - 400;
    const body = JSON.stringify({
      version: 1,
      action: "grant",
      delivery_id: "fresh-1",
      idempotency_key: "k",
      resource: "vpn",
      grant: { short_id: "abc", principal: PRINCIPAL, target: TARGET },
    });
    const res = await fetch(rx.url, {
      method: "POST",
      body,
      headers: { "x-timebox-timestamp": String(ts), "x-timebox-signature-256": `sha256=${createHmac("sha256", SECRET).update(`${ts}.${body}`).digest("hex")}` },
    });
    expect(res.status).toBe(401);
    expect(rx.system.has(PRINCIPAL, TARGET)).toBe(false);
  });

  test("each retry is signed afresh (new delivery id and timestamp), so the receiver does not take it for a replay", async () => {
    let n = 0;
    rx.misbehave(() => (++n === 1 ? { status: 503, body: "{}" } : undefined));
    await build().grant(grantFor());
    expect(rx.requests.map((r) => r.status)).toEqual([503, 200]);
    expect(rx.requests[0].json.delivery_id).not.toBe(rx.requests[1].json.delivery_id);
    expect(rx.requests[0].json.idempotency_key).toBe(rx.requests[1].json.idempotency_key);
  });
});

describe("slow receivers", () => {
  test("an attempt that gets no answer in time is given up and retried; then the call fails retryably", async () => {
    rx.misbehave(() => ({ delayMs: 3_000 }));
    const started = Date.now();
    const err = await failure(build({}, { attempts: 2, backoffMs: 10, maxBackoffMs: 10, requestMs: 200 }).grant(grantFor()));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/^webhook: grant \S+ on vpn failed after 2 attempts \(no answer within 0\.2 s\)$/);
    expect(rx.requests).toHaveLength(2);
  });

  test("under the pool's deadline the call ends at the deadline, and no attempt starts after it", async () => {
    rx.misbehave(() => ({ delayMs: 5_000 }));
    const p = withDeadline(build({}, { attempts: 5, backoffMs: 10, maxBackoffMs: 10, requestMs: 10_000 }), "vpn", 300);
    const g = grantFor();
    const started = Date.now();
    const err = await failure(p.revoke(g));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(err.retryable).toBe(true);
    // The pool's deadline and the provider's own abort at that deadline race; either says so.
    expect([
      `vpn: the webhook provider did not answer within 0.3 s (revoke ${g.id})`,
      `webhook: revoke ${g.id} on vpn failed after 1 attempt (no answer within 0.3 s)`,
    ]).toContain(err.message);
    // The one attempt in flight was aborted; none followed it (the server may record it late on a busy machine).
    await new Promise((r) => setTimeout(r, 700));
    expect(rx.requests.length).toBe(1);
  });

  test("a receiver that sends headers and then stalls the body is given up too", async () => {
    rx.misbehave(() => ({ delayMs: 0, status: 200, body: "" }));
    // Headers at once, body never finished: a raw response the test server cannot express, so use a 2nd server.
    const { createServer } = await import("node:http");
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"idempotency_key":');
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const err = await failure(build({ HOOK_URL: `http://127.0.0.1:${port}/x` }, { attempts: 1, requestMs: 200 }).isGranted(grantFor()));
      expect(err.message).toMatch(/failed after 1 attempt \(no complete answer within 0\.2 s\)$/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe("failing receivers", () => {
  test("5xx is retried with the same idempotency key and succeeds when the receiver recovers", async () => {
    let n = 0;
    rx.misbehave(() => (++n <= 2 ? { status: 502, body: "bad gateway" } : undefined));
    const g = grantFor();
    const result = await build().grant(g);
    expect(result.summary).toBe(`vpn webhook: ${PRINCIPAL.replace("@", " ")} added to ${TARGET}`);
    expect(rx.requests.map((r) => r.status)).toEqual([502, 502, 200]);
    expect(rx.system.has(PRINCIPAL, TARGET)).toBe(true);
  });

  test("5xx on every attempt: a retryable error after the bounded attempts, naming the status only", async () => {
    rx.misbehave(() => ({ status: 503, body: `upstream ${SECRET} ${rx.url} down` }));
    const err = await failure(build().revoke(grantFor()));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/^webhook: revoke \S+ on vpn failed after 3 attempts \(HTTP 503\)$/);
    expect(rx.requests).toHaveLength(3);
  });

  test("429 with Retry-After is waited for; a Retry-After beyond the bound ends the call retryably at once", async () => {
    let n = 0;
    rx.misbehave(() => (++n === 1 ? { status: 429, headers: { "retry-after": "1" } } : undefined));
    const started = Date.now();
    await build().isGranted(grantFor());
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(rx.requests.map((r) => r.status)).toEqual([429, 200]);

    rx.requests.length = 0;
    rx.misbehave(() => ({ status: 429, headers: { "retry-after": "3600" } }));
    const err = await failure(build().isGranted(grantFor()));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/failed after 1 attempt \(HTTP 429\)$/);
    expect(rx.requests).toHaveLength(1);
  });

  test("a connection refused is retried, then fails retryably with the code only", async () => {
    const closed = await startReceiver(SECRET);
    const url = closed.url;
    await closed.close();
    const err = await failure(build({ HOOK_URL: url }).grant(grantFor()), [SECRET, url]);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/failed after 3 attempts \(network error ECONNREFUSED\)$/);
  });

  test("4xx is permanent: not retried; the receiver's reason is shown truncated, as plain text, without secrets", async () => {
    const reason = `principal not allowed here <!-- timebox:applied x --> @acme/security \`code\` [link](https://evil.example) token ${SECRET} at ${rx.url}?k=1 ${"x".repeat(500)}`;
    rx.misbehave(() => ({ status: 403, body: JSON.stringify({ error: reason }) }));
    const err = await failure(build().grant(grantFor()));
    expect(err.retryable).toBe(false);
    expect(rx.requests).toHaveLength(1);
    const said = err.message.split("(HTTP 403): ")[1];
    expect(said.startsWith("principal not allowed here")).toBe(true);
    expect(said.length).toBeLessThanOrEqual(201);
    expect(said.endsWith("…")).toBe(true);
    for (const bad of ["<", ">", "`", "@", "[", "]", "!--"]) expect(said).not.toContain(bad);
    expect(said).toContain("***");
  });

  test("4xx with a body over the size limit: still permanent, its beginning shown", async () => {
    rx.misbehave(() => ({ status: 400, body: `grant refused: ${"y".repeat(200 * 1024)}` }));
    const err = await failure(build().grant(grantFor()));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/\(HTTP 400\): grant refused: y+…$/);
    expect(rx.requests).toHaveLength(1);
  });

  test("4xx with a plain-text or HTML body: its text, cleaned", async () => {
    rx.misbehave(() => ({ status: 404, body: "<html><body><h1>Not Found</h1></body></html>", headers: { "content-type": "text/html" } }));
    const err = await failure(build().revoke(grantFor()));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/refused by the receiver \(HTTP 404\): html body h1 Not Found \/h1 \/body \/html$/);
  });

  test("a redirect is not followed: permanent, asking for the final URL", async () => {
    rx.misbehave(() => ({ status: 307, headers: { location: "http://127.0.0.1:1/elsewhere" } }));
    const err = await failure(build().grant(grantFor()));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/the receiver redirected \(HTTP 307\); set HOOK_URL to the final URL/);
    expect(rx.requests).toHaveLength(1);
  });
});

describe("answers are validated before use, and never trusted when they say something impossible", () => {
  const lies: Array<[string, (r: RecordedRequest, a: any) => any, string]> = [
    ["a grant answered with granted: false", (_r, a) => ({ ...a, granted: false }), "granted must be equal to constant"],
    [
      "an answer to another request (idempotency key)",
      (_r, a) => ({ ...a, idempotency_key: "grant-0000" }),
      "it answers another request (idempotency_key does not match)",
    ],
    ["an answer without the key", ({ json }, a) => (json.action === "grant" ? { granted: true } : a), "must have required property 'idempotency_key'"],
    ["a string for a boolean", (_r, a) => ({ ...a, granted: "yes" }), "granted must be equal to constant"],
  ];
  test.each(lies)("%s", async (_name, lie, problem) => {
    rx.rewrite(lie);
    const err = await failure(build().grant(grantFor()));
    expect(err.retryable).toBe(true);
    expect(err.message).toContain("the receiver's answer is not valid");
    expect(err.message).toContain(problem.replace(/[`<>@[\]\\|!]/g, " "));
    expect(rx.requests).toHaveLength(1); // the receiver answered: not retried within the call
  });

  test("a 2xx that is not JSON, or a revoke that does not say it revoked", async () => {
    rx.misbehave(() => ({ status: 200, body: "OK" }));
    const err = await failure(build().grant(grantFor()));
    expect(err.message).toMatch(/the receiver's answer is not valid \(not JSON\)$/);
    expect(err.retryable).toBe(true);
    rx.misbehave(undefined);
    rx.rewrite((_r, a) => ({ idempotency_key: a.idempotency_key, revoked: false }));
    expect((await failure(build().revoke(grantFor()))).message).toContain("revoked must be equal to constant");
  });

  test("a list naming one grant twice, or with a principal that could form markup, is refused whole", async () => {
    const p = build();
    await p.grant(grantFor());
    rx.rewrite(({ json }, a) => (json.action === "list" ? { ...a, grants: [...a.grants, ...a.grants] } : a));
    expect((await failure(p.listManaged())).message).toMatch(/it lists the grant [0-9a-f]+ twice\)$/);
    rx.rewrite(({ json }, a) => (json.action === "list" ? { ...a, grants: a.grants.map((m: any) => ({ ...m, principal: "dev1` <!-- x -->" })) } : a));
    expect((await failure(p.listManaged())).message).toContain("grants.0.principal must match pattern");
  });

  test("check_target must answer for the principal it was asked about", async () => {
    rx.rewrite(({ json }, a) => (json.action === "check_target" ? { idempotency_key: a.idempotency_key, target: a.target } : a));
    expect((await failure(build().checkTarget(TARGET, PRINCIPAL))).message).toContain("it says nothing about the principal");
    expect(await build().checkTarget(TARGET)).toEqual([]);
  });

  test("check_target's message from the receiver is cleaned before it reaches a diagnostic", async () => {
    rx.rewrite(({ json }, a) => (json.action === "check_target" ? { ...a, target: { exists: false, message: "no such group; ask @acme/it <b>now</b>" } } : a));
    const [d] = await build().checkTarget("no-such-group");
    expect(d.rule).toBe("provider.target");
    expect(d.message).toBe(
      "The vpn webhook receiver does not know the target `no-such-group`; fix the role's target or the receiver. The receiver says: no such group; ask acme/it b now /b",
    );
  });

  test("a receiver that says granted on check while it never granted: the provider reports what it is told", async () => {
    rx.rewrite(({ json }, a) => (json.action === "check" ? { ...a, granted: true } : a));
    // The provider keeps no state: only the lifecycle's read-back after grant/revoke can catch a
    // contradiction (see webhook-pr.e2e.test.ts). Here: true, though nothing was granted.
    expect(await build().isGranted(grantFor())).toBe(true);
    expect(rx.system.has(PRINCIPAL, TARGET)).toBe(false);
  });

  test("an answer over the size limit is refused unread", async () => {
    rx.rewrite((_r, a) => ({ ...a, padding: "x".repeat(70 * 1024) }));
    const err = await failure(build({}, { ...FAST, attempts: 1 }).isGranted(grantFor()));
    expect(err.message).toMatch(/HTTP 200 with an answer over 65536 bytes\)$/);
  });
});

describe("settings and configuration", () => {
  test("misconfiguration is a permanent error naming the variable, never its value", async () => {
    const g = grantFor();
    const cases: Array<[Record<string, string | undefined>, RegExp]> = [
      [{ HOOK_URL: undefined }, /environment variable HOOK_URL \(the receiver's URL\) is not set/],
      [{ HOOK_SECRET: undefined }, /environment variable HOOK_SECRET \(the signing secret\) is not set/],
      [{ HOOK_SECRET: "short-secret" }, /shorter than 32 characters/],
      [{ HOOK_URL: "http://hooks.example.com/timebox" }, /HOOK_URL must be an https:\/\/ URL/],
      [{ HOOK_URL: "https://user:pa55word-123@hooks.example.com/x" }, /HOOK_URL must not carry credentials/],
      [{ HOOK_URL: "not a url" }, /HOOK_URL is not a URL/],
    ];
    for (const [env, message] of cases) {
      const err = await failure(build(env).grant(g), [SECRET, "pa55word-123", "short-secret", "hooks.example.com"]);
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(message);
    }
    expect(rx.requests).toHaveLength(0);
  });

  test("the factory refuses unknown settings and values that are not env var names", () => {
    const create = (s: Record<string, string>) => () => createWebhookProvider({ resource: "vpn", settings: s, env: {} });
    expect(create({ ...settings, timeout: "5" })).toThrow("webhook: resource vpn: unknown setting `timeout`; allowed: url_env, secret_env");
    expect(create({ url_env: "HOOK_URL" })).toThrow("setting `secret_env` must name the environment variable that holds the signing secret");
    expect(create({ url_env: "https://hooks.example.com", secret_env: "S" })).toThrow("setting `url_env` must name");
  });

  test("policy validation knows the settings and refuses secret-looking values", () => {
    const policy = (s: string) => `version: 1
owners: ["@acme/security"]
resources:
  vpn:
    provider: webhook
    settings: ${s}
    roles:
      prod-network:
        target: prod-admins
        settings: { tier: gold }
        max_duration: 4h
        approvers: [sre1]
`;
    const check = (s: string) => checkPolicyFile(".github/timebox.yml", policy(s), { providers: knownProviders() });
    expect(check("{ url_env: VPN_WEBHOOK_URL, secret_env: VPN_WEBHOOK_SECRET }").diagnostics).toEqual([]);
    const rules = (s: string) => check(s).diagnostics.map((d) => [d.rule, d.message]);
    expect(rules("{ url_env: VPN_WEBHOOK_URL, secret_env: VPN_WEBHOOK_SECRET, token_env: X }")).toEqual([
      ["policy.settings", "unknown setting `token_env`; this provider understands: url_env, secret_env"],
    ]);
    expect(rules("{ url_env: VPN_WEBHOOK_URL, secret_env: sk_live_0123456789abcdef }").map(([r]) => r)).toEqual(["policy.secret"]);
    expect(rules('{ url_env: "https://u:p4ss@hooks.example.com/x", secret_env: S }').map(([r]) => r)).toContain("policy.secret");
    expect(rules("{ url_env: vpn-url, secret_env: VPN_WEBHOOK_SECRET }")).toEqual([
      ["policy.settings", "setting `url_env` must name an environment variable (UPPER_CASE_WITH_UNDERSCORES)"],
    ]);
  });
});

/**
 * The gcp-iam provider against the emulated Resource Manager IAM endpoint: the read-modify-write
 * with etags (conflicts retried, bounded), what it leaves alone, extensions, the condition that
 * carries the expiry, strict parsing of hostile targets, credentials kept out of errors, deadlines
 * against a server that never answers — and the emulator's own fidelity to the API description.
 */
import { withDeadline } from "../../src/providers/deadline.js";
import { gcpIamProviderFactory } from "../../src/providers/gcp-iam/index.js";
import { ProviderError, type Provider } from "../../src/providers/types.js";
import { checkSchema } from "../harness/gcp/discovery.js";
import { startResourceManager, type Binding, type ResourceManagerEmulator } from "../harness/gcp/resource-manager.js";
import { errorTexts, makeActiveGrant } from "./contract.js";

const PROJECT = "projects/acme-prod";
const ROLE = "roles/cloudsql.client";
const TARGET = `${PROJECT}#${ROLE}`;
const DEV1 = "user:dev1@acme.example";
const settings = { credentials_env: "TB_GCP_KEY", endpoint_env: "TB_GCP_ENDPOINT" };

let rm: ResourceManagerEmulator;
let provider: Provider;
const build = (timeoutMs?: number, env: Record<string, string> = { TB_GCP_KEY: rm.keyJson, TB_GCP_ENDPOINT: rm.url }) =>
  gcpIamProviderFactory.create({ resource: "gcp-prod", settings, env, timeoutMs });

beforeEach(async () => {
  rm = await startResourceManager();
  rm.addResource(PROJECT);
  for (const p of [DEV1, "user:dev2@acme.example", "group:dba@acme.example"]) rm.addPrincipal(p);
  provider = build();
});
afterEach(async () => {
  rm.hang = false;
  expect(rm.violations).toEqual([]);
  await rm.stop();
});

const ourBindings = (shortId: string): Binding[] => rm.bindings(PROJECT).filter((b) => b.condition?.title === `timebox ${shortId}`);

describe("gcp-iam: the binding and its condition", () => {
  test("grant writes one conditioned binding whose expression is the expiry; Google-side evaluation ends it then", async () => {
    const g = makeActiveGrant(DEV1, TARGET, { expiresAt: new Date(Date.now() + 3600_000) });
    const result = await provider.grant(g);
    expect(result.summary).toContain(ROLE);
    const [b, ...more] = ourBindings(g.shortId);
    expect(more).toEqual([]);
    expect(b).toEqual({
      role: ROLE,
      members: [DEV1],
      condition: {
        title: `timebox ${g.shortId}`,
        description: expect.stringContaining(`${g.id} in acme/access (PR #42)`),
        expression: `request.time < timestamp("${g.expiresAt.toISOString()}")`,
      },
    });
    expect(rm.hasAccess(DEV1, PROJECT, ROLE, new Date(g.expiresAt.getTime() - 1))).toBe(true);
    expect(rm.hasAccess(DEV1, PROJECT, ROLE, g.expiresAt)).toBe(false);
    expect(await provider.isGranted(g)).toBe(true);
    // Version 3 on the wire, both ways, and the write carries the etag it read.
    const gets = rm.requests.filter((r) => r.method === "getIamPolicy");
    const sets = rm.requests.filter((r) => r.method === "setIamPolicy");
    expect(gets.every((r) => r.body.options?.requestedPolicyVersion === 3)).toBe(true);
    expect(sets).toHaveLength(1);
    expect(sets[0]!.body.policy.version).toBe(3);
    expect(typeof sets[0]!.body.policy.etag).toBe("string");
  });

  test("a grant whose expiry has passed is not reported as in effect (Google would not honour it)", async () => {
    const past = makeActiveGrant(DEV1, TARGET, { expiresAt: new Date(Date.now() - 1000) });
    await provider.grant(past);
    expect(await provider.isGranted(past)).toBe(false);
    expect(rm.hasAccess(DEV1, PROJECT, ROLE)).toBe(false);
  });

  test("an extension replaces the condition (one binding, the new expiry)", async () => {
    const g = makeActiveGrant(DEV1, TARGET);
    await provider.grant(g);
    const longer = { ...g, expiresAt: new Date(g.expiresAt.getTime() + 4 * 3600_000) };
    await provider.grant(longer);
    const mine = ourBindings(g.shortId);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.condition!.expression).toBe(`request.time < timestamp("${longer.expiresAt.toISOString()}")`);
    expect(await provider.isGranted(longer)).toBe(true);
    expect(await provider.isGranted(g)).toBe(false); // the old expiry is no longer what is in place
    expect(rm.hasAccess(DEV1, PROJECT, ROLE, new Date(g.expiresAt.getTime() + 3600_000))).toBe(true);
    // Granting the same again writes nothing.
    const writes = rm.requests.filter((r) => r.method === "setIamPolicy").length;
    await provider.grant(longer);
    expect(rm.requests.filter((r) => r.method === "setIamPolicy")).toHaveLength(writes);
  });

  test("grant and revoke leave every other binding untouched (others, unconditioned, other conditions, other roles)", async () => {
    const others: Binding[] = [
      { role: ROLE, members: [DEV1] }, // the person's own, unconditioned access
      {
        role: ROLE,
        members: ["user:dev2@acme.example"],
        condition: { title: "timebox 0123456789ab", expression: 'request.time < timestamp("2099-01-01T00:00:00Z")' },
      },
      { role: ROLE, members: [DEV1], condition: { title: "business hours", expression: "request.time.getHours('Europe/Berlin') < 18" } },
      { role: "roles/viewer", members: ["group:dba@acme.example", DEV1] },
    ];
    for (const b of others) rm.addBinding(PROJECT, b);
    const before = rm.bindings(PROJECT);
    const g = makeActiveGrant(DEV1, TARGET);
    await provider.grant(g);
    expect(rm.bindings(PROJECT).filter((b) => b.condition?.title !== `timebox ${g.shortId}`)).toEqual(before);
    await provider.revoke(g);
    expect(rm.bindings(PROJECT)).toEqual(before);
    expect(rm.hasAccess(DEV1, PROJECT, ROLE)).toBe(true);
    await provider.revoke(g);
    expect(rm.bindings(PROJECT)).toEqual(before);
  });

  test("listManaged finds bindings titled `timebox …` only", async () => {
    rm.addBinding(PROJECT, { role: ROLE, members: [DEV1], condition: { title: "temporary", expression: 'request.time < timestamp("2099-01-01T00:00:00Z")' } });
    const g = makeActiveGrant(DEV1, TARGET);
    await provider.grant(g);
    const managed = await provider.listManaged!();
    expect(managed).toEqual([expect.objectContaining({ shortId: g.shortId, principal: DEV1, target: TARGET, expiresAt: g.expiresAt })]);
  });
});

describe("gcp-iam: concurrency", () => {
  test("an etag conflict (409 ABORTED) re-reads and retries; the other writer's change is kept", async () => {
    rm.interfere(2);
    const g = makeActiveGrant(DEV1, TARGET);
    await provider.grant(g);
    expect(rm.requests.filter((r) => r.method === "setIamPolicy").map((r) => r.status)).toEqual([409, 409, 200]);
    expect(await provider.isGranted(g)).toBe(true);
    expect(rm.bindings(PROJECT)).toContainEqual({ role: "roles/browser", members: ["domain:interference.example.com"] });
  });

  test("retries are bounded: endless conflicts end in a retryable ProviderError", async () => {
    rm.interfere(100);
    const err = await provider.grant(makeActiveGrant(DEV1, TARGET)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).retryable).toBe(true);
    expect((err as Error).message).toContain("409 ABORTED");
    expect(rm.requests.filter((r) => r.method === "setIamPolicy")).toHaveLength(5);
  });
});

describe("gcp-iam: strict parsing", () => {
  const hostileTargets = [
    "projects/acme-prod",
    "projects/acme-prod#roles/viewer#roles/owner",
    "projects/acme-prod/../organizations/1#roles/owner",
    "projects/acme-prod:setIamPolicy#roles/viewer",
    "projects/acme-prod?alt=media#roles/viewer",
    "projects/ACME-PROD#roles/viewer",
    "projects/acme-prod #roles/viewer",
    "folders/abc#roles/viewer",
    "organizations/0#roles/viewer",
    "billingAccounts/0000-1111#roles/viewer",
    "projects/acme-prod#owner",
    "projects/acme-prod#roles/",
    "projects/acme-prod#roles/viewer\n",
    "projects/acme-prod#projects/other/roles/x",
    "https://evil.example/v3/projects/acme-prod#roles/viewer",
  ];
  test.each(hostileTargets)("target %j is refused before any request", async (target) => {
    const diags = await provider.checkTarget(target, DEV1);
    expect(diags).toEqual([expect.objectContaining({ rule: "provider.target", severity: "error" })]);
    const err = await provider.grant(makeActiveGrant(DEV1, target)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).retryable).toBe(false);
    await expect(provider.revoke(makeActiveGrant(DEV1, target))).rejects.toBeInstanceOf(ProviderError);
    expect(rm.requests).toEqual([]);
  });

  const hostilePrincipals = [
    "dev1@acme.example",
    "allUsers",
    "allAuthenticatedUsers",
    "domain:acme.example",
    "user:a@acme.example,user:b@acme.example",
    "user:dev1@acme.example\n",
    "deleted:user:a@acme.example?uid=1",
    "principal://iam.googleapis.com/x",
    "user:",
  ];
  test.each(hostilePrincipals)("principal %j is refused before any request", async (principal) => {
    expect(await provider.checkTarget(TARGET, principal)).toEqual([expect.objectContaining({ rule: "provider.principal", severity: "error" })]);
    await expect(provider.grant(makeActiveGrant(principal, TARGET))).rejects.toBeInstanceOf(ProviderError);
    expect(rm.requests).toEqual([]);
  });

  test("accepted shapes: folders, organizations, custom roles, groups and service accounts", async () => {
    rm.addResource("folders/123456");
    rm.addResource("organizations/987654321");
    for (const t of [
      "folders/123456#roles/resourcemanager.folderViewer",
      "organizations/987654321#organizations/987654321/roles/timebox.dbRead",
      `${PROJECT}#projects/acme-prod/roles/custom_reader`,
    ]) {
      expect(await provider.checkTarget(t, "group:dba@acme.example")).toEqual([]);
    }
    rm.addPrincipal("serviceAccount:ci@acme-prod.iam.gserviceaccount.com");
    const g = makeActiveGrant("serviceAccount:ci@acme-prod.iam.gserviceaccount.com", "folders/123456#roles/resourcemanager.folderViewer");
    await provider.grant(g);
    expect(await provider.isGranted(g)).toBe(true);
  });

  test("bad settings are refused when the provider is built", () => {
    expect(() => gcpIamProviderFactory.create({ resource: "r", settings: {}, env: {} })).toThrow("credentials_env");
    expect(() => gcpIamProviderFactory.create({ resource: "r", settings: { credentials_env: "KEY", region: "x" }, env: {} })).toThrow(
      "unknown setting `region`",
    );
    expect(() => gcpIamProviderFactory.create({ resource: "r", settings: { credentials_env: "KEY", endpoint_env: "EP" }, env: { EP: "ftp://x" } })).toThrow(
      "EP",
    );
  });
});

describe("gcp-iam: credentials never in errors", () => {
  test("missing, malformed and refused keys give summaries that quote nothing of the key", async () => {
    const key = JSON.parse(rm.keyJson) as Record<string, string>;
    const secretLine = key.private_key!.split("\n")[1]!;
    const cases: Array<[string, Record<string, string>]> = [
      ["missing", { TB_GCP_ENDPOINT: rm.url }],
      ["not JSON", { TB_GCP_KEY: `{"private_key": "${secretLine}"`, TB_GCP_ENDPOINT: rm.url }],
      [
        "bad PEM",
        {
          TB_GCP_KEY: JSON.stringify({ ...key, private_key: `-----BEGIN PRIVATE KEY-----\n${secretLine}\n-----END PRIVATE KEY-----\n` }),
          TB_GCP_ENDPOINT: rm.url,
        },
      ],
      ["refused", { TB_GCP_KEY: JSON.stringify({ ...key, client_email: "someone-else@x.iam.gserviceaccount.com" }), TB_GCP_ENDPOINT: rm.url }],
      ["unreachable", { TB_GCP_KEY: JSON.stringify({ ...key, token_uri: "http://127.0.0.1:9/token" }), TB_GCP_ENDPOINT: rm.url }],
    ];
    for (const [what, env] of cases) {
      const err = await build(undefined, env)
        .grant(makeActiveGrant(DEV1, TARGET))
        .catch((e: unknown) => e);
      expect({ what, isProviderError: err instanceof ProviderError }).toEqual({ what, isProviderError: true });
      const text = errorTexts(err);
      for (const s of [secretLine, key.private_key_id!, "PRIVATE KEY"]) expect({ what, leaked: text.includes(s) }).toEqual({ what, leaked: false });
    }
  });
});

describe("gcp-iam: deadlines", () => {
  test("a server that never answers: the call fails within the deadline, for every operation", async () => {
    await provider.checkTarget(TARGET); // a token is cached; the API then hangs
    rm.hang = true;
    const bounded = withDeadline(provider, "gcp-prod", 300);
    const g = makeActiveGrant(DEV1, TARGET);
    for (const call of [
      () => bounded.grant(g),
      () => bounded.revoke(g),
      () => bounded.isGranted(g),
      () => bounded.checkTarget(TARGET, DEV1),
      () => bounded.listManaged!(),
    ]) {
      const started = Date.now();
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(2000);
    }
  });

  test("without the wrapper, the provider's own request timeout (from the pool's deadline) holds", async () => {
    const own = build(250);
    await own.checkTarget(TARGET);
    rm.hang = true;
    const started = Date.now();
    const err = await own.grant(makeActiveGrant(DEV1, TARGET)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toContain("no answer within");
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe("the emulator follows the Resource Manager description", () => {
  async function call(method: string, resource: string, body: unknown, token?: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`${rm.url}/v3/${resource}:${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }
  async function token(): Promise<string> {
    await provider.checkTarget(TARGET); // the provider signs a JWT and gets a token; take one the same way
    const { createSign } = await import("node:crypto");
    const key = JSON.parse(rm.keyJson) as Record<string, string>;
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${enc({ alg: "RS256", typ: "JWT" })}.${enc({ iss: key.client_email, scope: "https://www.googleapis.com/auth/cloud-platform", aud: key.token_uri, iat: now, exp: now + 600 })}`;
    const assertion = `${unsigned}.${createSign("RSA-SHA256").update(unsigned).sign(key.private_key!, "base64url")}`;
    const res = await fetch(key.token_uri!, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  }

  test("unauthenticated requests are 401; unknown resources 403; unknown fields 400", async () => {
    expect((await call("getIamPolicy", PROJECT, {})).status).toBe(401);
    const t = await token();
    expect((await call("getIamPolicy", "projects/no-such-project", {}, t)).body.error.status).toBe("PERMISSION_DENIED");
    expect((await call("getIamPolicy", PROJECT, { options: { requestedPolicyVersion: 3 }, extra: 1 }, t)).status).toBe(400);
    expect((await call("getIamPolicy", PROJECT, { options: { requestedPolicyVersion: 2 } }, t)).status).toBe(400);
  });

  test("policy versions: conditional bindings read below version 3 come back as version 1 with _withcond_ roles; writing them needs version 3", async () => {
    const t = await token();
    const g = makeActiveGrant(DEV1, TARGET);
    await provider.grant(g);
    const v1 = await call("getIamPolicy", PROJECT, { options: { requestedPolicyVersion: 1 } }, t);
    expect(v1.body.version).toBe(1);
    expect(v1.body.bindings[0].role).toMatch(/^roles\/cloudsql\.client_withcond_[0-9a-f]+$/);
    expect(v1.body.bindings[0].condition).toBeUndefined();
    expect((await call("setIamPolicy", PROJECT, { policy: v1.body }, t)).status).toBe(400);
    const v3 = await call("getIamPolicy", PROJECT, { options: { requestedPolicyVersion: 3 } }, t);
    expect(v3.body.version).toBe(3);
    expect(checkSchema("Policy", v3.body)).toEqual([]);
    expect((await call("setIamPolicy", PROJECT, { policy: { ...v3.body, version: 1 } }, t)).status).toBe(400);
    // A stale etag is 409 ABORTED; the current one is accepted.
    const stale = v3.body.etag as string;
    expect((await call("setIamPolicy", PROJECT, { policy: v3.body }, t)).status).toBe(200);
    const conflict = await call("setIamPolicy", PROJECT, { policy: { ...v3.body, etag: stale } }, t);
    expect([conflict.status, conflict.body.error.status]).toEqual([409, "ABORTED"]);
  });

  test("a policy without conditions is version 1 even when 3 is asked for; unknown accounts are refused", async () => {
    const t = await token();
    const p = await call("getIamPolicy", PROJECT, { options: { requestedPolicyVersion: 3 } }, t);
    expect(p.body.version).toBe(1);
    const unknown = await call(
      "setIamPolicy",
      PROJECT,
      { policy: { version: 3, etag: p.body.etag, bindings: [{ role: ROLE, members: ["user:nobody@acme.example"] }] } },
      t,
    );
    expect([unknown.status, unknown.body.error.message]).toEqual([400, "User nobody@acme.example does not exist."]);
  });
});

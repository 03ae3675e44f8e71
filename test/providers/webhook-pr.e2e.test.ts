/**
 * The webhook provider end to end, on the emulated GitHub: a PR adds a grant for a `provider:
 * webhook` resource → approved → merged → the receiver (the documented example, on 127.0.0.1)
 * gets a signed `grant`, and Timebox reads back with `check` → the clock passes expiry → a signed
 * `revoke` and a read-back → the file is removed in a Timebox commit. Then what Timebox reports
 * when the receiver refuses, and when it lies about state.
 */
import { jest } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { startAccessRepo, type AccessRepo } from "../support/access-repo.js";
import { markedComments, mergeApprovedGrant, removalCommits } from "../support/lifecycle-stage.js";
import { loadExampleReceiver, startReceiver, type RecordedRequest, type TestReceiver } from "./webhook-receiver.js";

jest.setTimeout(60_000);

const HOUR = 3600_000;
const SECRET = `pr-${randomBytes(24).toString("hex")}`;
const PRINCIPAL = "dev1@acme.example";
const PATH = "grants/dev1-vpn.yaml";

const POLICY = `version: 1
owners: ["@acme/security"]
requesters: ["@acme/engineering", "dev1", "dev2"]
ticket_pattern: "^(INC|CHG)-[0-9]+$"
identities:
  dev1: { webhook: "${PRINCIPAL}" }
resources:
  vpn:
    provider: webhook
    description: Production VPN groups, through the IT team's receiver
    settings: { url_env: VPN_WEBHOOK_URL, secret_env: VPN_WEBHOOK_SECRET }
    roles:
      prod-network:
        target: prod-admins
        settings: { tier: gold }
        max_duration: 8h
        approvers: ["@acme/sre", "sre1"]
        approvals: 1
`;

let rx: TestReceiver;
let env: AccessRepo;
beforeEach(async () => {
  rx = await startReceiver(SECRET);
  rx.system.members.set("prod-admins", new Set());
  rx.system.people.add(PRINCIPAL);
  env = await startAccessRepo({ policy: POLICY, env: { VPN_WEBHOOK_URL: rx.url, VPN_WEBHOOK_SECRET: SECRET } });
});
afterEach(async () => {
  expect(env.gh.unknownRequests()).toEqual([]);
  await env.stop();
  await rx.close();
});

const merge = () => mergeApprovedGrant(env.gh, env.probot, { requester: "dev1", path: PATH, fields: { resource: "vpn", role: "prod-network" } });
const actions = () => rx.requests.map((r) => r.json?.action as string);
const ofAction = (action: string) => rx.requests.filter((r) => r.json?.action === action);
const hasAccess = () => rx.system.has(PRINCIPAL, "prod-admins");

/** Everything the PR, its checks and the issues show, to look for secrets in. */
function everythingShown(number: number): string {
  const { gh } = env;
  return [...gh.comments(number).map((c: { body: string }) => c.body), ...gh.issues({ state: "all" }).map((i) => `${i.title}\n${i.body}`)].join("\n");
}

test("merged: the receiver gets a signed grant, then at expiry a signed revoke; the file is removed", async () => {
  const { verify } = await loadExampleReceiver();
  const pr = await merge();
  expect(pr.deliveries.every((d) => d.status === 200)).toBe(true);
  expect(hasAccess()).toBe(true);

  // The grant, signed (checked again here with the example's own verify), then the read-back.
  const [grant] = ofAction("grant");
  expect(grant.status).toBe(200);
  expect(verify(SECRET, grant.headers, grant.body, new Map())).toBe(true);
  expect(grant.json.grant).toMatchObject({
    id: PATH,
    repo: env.fullName,
    requester: "dev1",
    principal: PRINCIPAL,
    resource: "vpn",
    role: "prod-network",
    target: "prod-admins",
    role_settings: { tier: "gold" },
    pull_request: pr.number,
  });
  expect(grant.json.grant.expires_at).toBe("2026-03-02T11:01:00.000Z");
  const afterGrant = actions().slice(actions().indexOf("grant"));
  expect(afterGrant.slice(0, 2)).toEqual(["grant", "check"]);
  expect(rx.requests.every((r) => r.status === 200)).toBe(true);

  const applied = markedComments(env.gh, pr.number, "applied");
  expect(applied).toHaveLength(1);
  expect(applied[0].body).toContain(`vpn webhook: dev1 acme.example added to prod-admins`);
  expect(applied[0].body).toContain("Expires at:** 2026-03-02T11:01:00Z");

  // Expiry: revoke first, read back, then the removal commit.
  const before = rx.requests.length;
  env.clock.advance(2 * HOUR);
  await env.runtime.reconcileAll();
  expect(hasAccess()).toBe(false);
  const later = rx.requests.slice(before);
  const revoke = later.find((r) => r.json.action === "revoke")!;
  expect(revoke.status).toBe(200);
  expect(verify(SECRET, revoke.headers, revoke.body, new Map())).toBe(true);
  expect(revoke.json.grant).toMatchObject({ id: PATH, short_id: grant.json.grant.short_id, principal: PRINCIPAL, target: "prod-admins" });
  expect(later.map((r) => r.json.action).slice(later.indexOf(revoke), later.indexOf(revoke) + 2)).toEqual(["revoke", "check"]);
  expect(rx.requests.every((r) => r.status === 200)).toBe(true);
  expect(new Set(rx.requests.map((r) => r.json.delivery_id)).size).toBe(rx.requests.length);

  expect(env.gh.fileAt("main", PATH)).toBeUndefined();
  const [removal] = removalCommits(env.gh, PATH);
  expect(removal.message).toContain("Revoke-Reason: expired");
  expect(markedComments(env.gh, pr.number, "revoked")).toHaveLength(1);
  expect(rx.grants.size).toBe(0);
  expect(everythingShown(pr.number)).not.toContain(SECRET);
  expect(everythingShown(pr.number)).not.toContain(rx.url);
});

test("a receiver that refuses (4xx): one attempt, its reason on the PR, cleaned and without secrets", async () => {
  rx.misbehave((r: RecordedRequest) =>
    r.json?.action === "grant"
      ? { status: 403, body: JSON.stringify({ error: `@dev1 is not allowed on prod-admins outside business hours (key ${SECRET}, ${rx.url})` }) }
      : undefined,
  );
  const pr = await merge();
  expect(hasAccess()).toBe(false);
  // Permanent: one attempt per reconcile (each lists once for drift), retried neither by the provider nor the lifecycle.
  expect(ofAction("grant").length).toBeGreaterThanOrEqual(1);
  expect(ofAction("grant").length).toBe(ofAction("list").length);
  const [failed] = markedComments(env.gh, pr.number, "apply-failed");
  expect(failed.body).toContain(
    "webhook: grant grants/dev1-vpn.yaml on vpn was refused by the receiver (HTTP 403): dev1 is not allowed on prod-admins outside business hours (key ***, ***)",
  );
  expect(markedComments(env.gh, pr.number, "applied")).toHaveLength(0);
  expect(everythingShown(pr.number)).not.toContain(SECRET);
  expect(everythingShown(pr.number)).not.toContain(rx.url);
});

test("a receiver that says granted but never grants: the read-back catches it and the PR is told", async () => {
  // `grant` answered without doing anything; `check` (the example) then truthfully says false.
  rx.misbehave((r) =>
    r.json?.action === "grant" ? { status: 200, body: JSON.stringify({ idempotency_key: r.json.idempotency_key, granted: true }) } : undefined,
  );
  const pr = await merge();
  expect(hasAccess()).toBe(false);
  // Three attempts per reconcile (TIMEBOX_APPLY_RETRY_DELAYS_MS "0,0" in the test app), each read back.
  expect(ofAction("grant").length).toBe(3 * ofAction("list").length);
  expect(ofAction("check").length).toBeGreaterThanOrEqual(ofAction("grant").length);
  const [failed] = markedComments(env.gh, pr.number, "apply-failed");
  expect(failed.body).toContain("the access is not visible after granting it");
  expect(markedComments(env.gh, pr.number, "applied")).toHaveLength(0);
  expect(env.gh.checkRuns(pr.mergeSha, "timebox/apply").at(-1)!.conclusion).toBe("failure");
});

test("a receiver that says granted on check after revoking: the revoke is not recorded, it is retried and reported as stuck", async () => {
  const pr = await merge();
  expect(hasAccess()).toBe(true);
  // From now on every `check` says granted, whatever the receiver holds.
  rx.rewrite((r, answer) => (r.json.action === "check" ? { ...answer, granted: true } : answer));
  env.clock.advance(2 * HOUR);
  for (let tick = 0; tick < 3; tick++) {
    await env.runtime.reconcileAll();
    env.clock.advance(60_000);
  }
  // The receiver did revoke (its system says so), but it keeps saying otherwise: Timebox only has
  // its word, so the grant file stays and the revoke is reported as stuck, never as done.
  expect(hasAccess()).toBe(false);
  expect(ofAction("revoke").length).toBeGreaterThanOrEqual(3);
  expect(env.gh.fileAt("main", PATH)).toBeDefined();
  expect(markedComments(env.gh, pr.number, "revoked")).toHaveLength(0);
  const stuck = env.gh.issues({ labels: ["timebox:stuck-revoke"] });
  expect(stuck).toHaveLength(1);
  expect(stuck[0].body).toContain("the access is still visible after revoking it");

  // The receiver is fixed: the next tick completes the revoke.
  rx.rewrite(undefined);
  await env.runtime.reconcileAll();
  expect(env.gh.fileAt("main", PATH)).toBeUndefined();
  expect(markedComments(env.gh, pr.number, "revoked")).toHaveLength(1);
});

test("drift: access the receiver lists for this repository that no grant explains is revoked and reported", async () => {
  const pr = await merge();
  expect(hasAccess()).toBe(true);
  // Someone puts a second grant record at the receiver by hand (same repository, no grant file).
  const [grant] = ofAction("grant");
  const stray = { ...grant.json.grant, id: "grants/ghost.yaml", short_id: "0123456789ab" };
  rx.grants.set(stray.short_id, stray);
  env.clock.advance(60_000);
  await env.runtime.reconcileAll();
  expect(rx.grants.has(stray.short_id)).toBe(false);
  expect(ofAction("revoke").map((r) => r.json.grant.short_id)).toEqual([stray.short_id]);
  const drift = env.gh.issues({ labels: ["timebox:drift"] });
  expect(drift).toHaveLength(1);
  expect(drift[0].body).toContain("webhook:0123456789ab");
  // The real grant is untouched.
  expect(hasAccess()).toBe(true);
  expect(rx.grants.has(grant.json.grant.short_id)).toBe(true);
  expect(markedComments(env.gh, pr.number, "revoked")).toHaveLength(0);
});

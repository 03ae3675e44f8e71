/**
 * The shared provider contract (design §3): every provider must pass it.
 *
 * How to use it for a provider:
 *
 *   import { describeProviderContract } from "./contract.js";
 *   describeProviderContract("my-provider", async () => ({
 *     provider,                       // built for one resource, talking to a real or emulated backend
 *     makePrincipal: async () => …,   // create a principal that exists; return its provider-side name
 *     makeTarget: async () => …,      // create a target that exists; return the role's `target` value
 *     missingTarget: () => …,         // a target that does not exist
 *     grantOutsideTimebox: async (p, t) => …,  // give p access to t the way an admin would, not via the provider
 *     hasAccess: async (p, t) => …,   // does p have t by ANY path? asked without the provider under test
 *     withBadCredentials: async () => ({ provider: brokenProvider, secrets: ["the password", "the URL"] }),
 *     teardown: async () => …,        // remove everything the fixture made; close the provider
 *   }));
 *
 * `setup` runs once (beforeAll); every test makes its own principal and target, so tests are
 * independent. The suite plays the lifecycle's part: when the provider has `recordPriorAccess`, it
 * is called before the first `grant` and its answer passed as `priorAccess`; `revoke` gets the
 * other grants still in effect as `stillActive`. Grants the suite made are revoked in afterAll
 * before `teardown`, even when a test failed half-way.
 */
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { ProviderError, type ActiveGrant, type Provider } from "../../src/providers/types.js";

export interface ContractFixture {
  provider: Provider;
  /** Policy resource name the provider was built for (default "contract"). */
  resource?: string;
  /** Role-level settings every grant carries (e.g. `{ permission: "push" }`). */
  roleSettings?: ActiveGrant["roleSettings"];
  makePrincipal(): Promise<string>;
  makeTarget(): Promise<string>;
  missingTarget(): string;
  /** A principal that does not exist, when the provider can tell (checked with `checkTarget`). */
  missingPrincipal?(): string;
  grantOutsideTimebox(principal: string, target: string): Promise<void>;
  hasAccess(principal: string, target: string): Promise<boolean>;
  /** A provider whose credentials are wrong or unreachable, and every secret string in them. */
  withBadCredentials(): Promise<{ provider: Provider; secrets: string[] }>;
  teardown(): Promise<void>;
}

export interface ContractOptions {
  /** Per-test timeout in ms (default 30 s: real servers and emulators are slow to start). */
  timeoutMs?: number;
}

/** An ActiveGrant with a fresh random shortId, for tests. */
export function makeActiveGrant(principal: string, target: string, overrides: Partial<ActiveGrant> = {}): ActiveGrant {
  const shortId = randomBytes(6).toString("hex");
  const grantedAt = new Date();
  return {
    id: `grants/contract-${shortId}.yaml`,
    shortId,
    repo: "acme/access",
    requester: "dev1",
    principal,
    resource: "contract",
    role: "readonly",
    target,
    roleSettings: {},
    pullRequest: 42,
    grantedAt,
    expiresAt: new Date(grantedAt.getTime() + 2 * 3600_000),
    ...overrides,
  };
}

/** Everything a caught error could show to a human or a log. */
export function errorTexts(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return [err.message, err.stack ?? "", String(err), inspect(err, { depth: 5 }), JSON.stringify(err)].join("\n");
}

export function describeProviderContract(name: string, setup: () => Promise<ContractFixture>, options: ContractOptions = {}): void {
  const timeout = options.timeoutMs ?? 30_000;

  describe(`provider contract: ${name}`, () => {
    let fx: ContractFixture;
    /** Grants the suite made and has not revoked yet (for stillActive and cleanup). */
    const live = new Map<string, ActiveGrant>();

    beforeAll(async () => {
      fx = await setup();
    }, timeout);

    afterAll(async () => {
      if (!fx) return;
      for (const g of live.values()) await fx.provider.revoke(g).catch(() => undefined);
      await fx.teardown();
    }, timeout);

    const newGrant = (principal: string, target: string): ActiveGrant =>
      makeActiveGrant(principal, target, { resource: fx.resource ?? "contract", roleSettings: fx.roleSettings ?? {} });

    /** What the lifecycle does: record prior access once, then grant. */
    async function grant(g: ActiveGrant): Promise<ActiveGrant> {
      const known = live.get(g.id);
      let withPrior = known ?? g;
      if (!known && fx.provider.recordPriorAccess) {
        const stillActive = [...live.values()].filter((o) => o.resource === g.resource);
        withPrior = { ...g, priorAccess: await fx.provider.recordPriorAccess(g, stillActive) };
      }
      live.set(g.id, withPrior);
      const result = await fx.provider.grant(withPrior);
      expect(typeof result.summary).toBe("string");
      expect(result.summary.length).toBeGreaterThan(0);
      return withPrior;
    }

    async function revoke(g: ActiveGrant): Promise<void> {
      const stillActive = [...live.values()].filter((o) => o.id !== g.id && o.resource === g.resource);
      await fx.provider.revoke(live.get(g.id) ?? g, stillActive);
      live.delete(g.id);
    }

    async function pair(): Promise<[string, string]> {
      return [await fx.makePrincipal(), await fx.makeTarget()];
    }

    test(
      "grant puts the access in place and isGranted reads it back",
      async () => {
        const [p, t] = await pair();
        const g = await grant(newGrant(p, t));
        expect(await fx.provider.isGranted(g)).toBe(true);
        expect(await fx.hasAccess(p, t)).toBe(true);
      },
      timeout,
    );

    test(
      "granting twice is harmless",
      async () => {
        const [p, t] = await pair();
        const g = await grant(newGrant(p, t));
        await grant(g);
        expect(await fx.provider.isGranted(g)).toBe(true);
        expect(await fx.hasAccess(p, t)).toBe(true);
      },
      timeout,
    );

    test(
      "revoke removes the access; revoking twice is harmless",
      async () => {
        const [p, t] = await pair();
        const g = await grant(newGrant(p, t));
        await revoke(g);
        expect(await fx.provider.isGranted(g)).toBe(false);
        expect(await fx.hasAccess(p, t)).toBe(false);
        await revoke(g);
        expect(await fx.provider.isGranted(g)).toBe(false);
        expect(await fx.hasAccess(p, t)).toBe(false);
      },
      timeout,
    );

    test(
      "revoke without a grant is harmless",
      async () => {
        const [p, t] = await pair();
        const g = newGrant(p, t);
        await revoke(g);
        expect(await fx.provider.isGranted(g)).toBe(false);
        expect(await fx.hasAccess(p, t)).toBe(false);
      },
      timeout,
    );

    test(
      "overlapping grants: revoking one keeps the access, revoking both removes it",
      async () => {
        const [p, t] = await pair();
        const g1 = await grant(newGrant(p, t));
        const g2 = await grant(newGrant(p, t));
        await revoke(g1);
        expect(await fx.hasAccess(p, t)).toBe(true);
        expect(await fx.provider.isGranted(g2)).toBe(true);
        await revoke(g2);
        expect(await fx.hasAccess(p, t)).toBe(false);
        expect(await fx.provider.isGranted(g2)).toBe(false);
      },
      timeout,
    );

    test(
      "access the person had before Timebox is never removed",
      async () => {
        const [p, t] = await pair();
        await fx.grantOutsideTimebox(p, t);
        const g = await grant(newGrant(p, t));
        expect(await fx.hasAccess(p, t)).toBe(true);
        await revoke(g);
        expect(await fx.hasAccess(p, t)).toBe(true);
        await revoke(g);
        expect(await fx.hasAccess(p, t)).toBe(true);
      },
      timeout,
    );

    test(
      "checkTarget accepts a target and principal that exist",
      async () => {
        const [p, t] = await pair();
        expect((await fx.provider.checkTarget(t, p)).filter((d) => d.severity === "error")).toEqual([]);
        expect((await fx.provider.checkTarget(t)).filter((d) => d.severity === "error")).toEqual([]);
      },
      timeout,
    );

    test(
      "checkTarget rejects a target that does not exist",
      async () => {
        const p = await fx.makePrincipal();
        const diags = await fx.provider.checkTarget(fx.missingTarget(), p);
        expect(diags).toEqual([expect.objectContaining({ path: "", line: 1, column: 1, rule: "provider.target", severity: "error" })]);
        expect(diags[0]?.message).toContain(fx.missingTarget());
      },
      timeout,
    );

    test(
      "checkTarget rejects a principal that does not exist",
      async () => {
        if (!fx.missingPrincipal) return; // the provider cannot tell (documented by the fixture)
        const t = await fx.makeTarget();
        const diags = await fx.provider.checkTarget(t, fx.missingPrincipal());
        expect(diags).toEqual([expect.objectContaining({ path: "", line: 1, column: 1, rule: "provider.principal", severity: "error" })]);
      },
      timeout,
    );

    test(
      "errors never leak credentials",
      async () => {
        const [p, t] = await pair();
        const { provider, secrets } = await fx.withBadCredentials();
        expect(secrets.length).toBeGreaterThan(0);
        const g = newGrant(p, t);
        const calls: Array<[string, () => Promise<unknown>]> = [
          ["checkTarget", () => provider.checkTarget(t, p)],
          ["grant", () => provider.grant(g)],
          ["revoke", () => provider.revoke(g, [])],
          ["isGranted", () => provider.isGranted(g)],
        ];
        if (provider.recordPriorAccess) calls.push(["recordPriorAccess", () => provider.recordPriorAccess!(g)]);
        if (provider.listManaged) calls.push(["listManaged", () => provider.listManaged!()]);
        try {
          for (const [method, call] of calls) {
            const err = await call().then(
              () => new Error(`${method} succeeded with bad credentials`),
              (e: unknown) => e,
            );
            expect(err).toBeInstanceOf(ProviderError);
            const text = errorTexts(err);
            for (const s of secrets) expect({ method, leaked: text.includes(s) }).toEqual({ method, leaked: false });
          }
        } finally {
          await provider.close?.();
        }
      },
      timeout,
    );

    test(
      "listManaged lists what was granted and not what was revoked",
      async () => {
        if (!fx.provider.listManaged) return; // optional in the interface
        const [p, t] = await pair();
        const kept = await grant(newGrant(p, t));
        const gone = await grant(newGrant(p, t));
        await revoke(gone);
        const managed = await fx.provider.listManaged();
        const matches = (g: ActiveGrant) => managed.filter((m) => m.grantId === g.id || m.shortId === g.shortId);
        expect(matches(kept)).toHaveLength(1);
        expect(matches(gone)).toHaveLength(0);
      },
      timeout,
    );
  });
}

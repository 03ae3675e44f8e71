/**
 * Fault injection for lifecycle tests: providers wrapped through an injected ProviderPool, and a
 * "process death" on the emulated GitHub (every request fails from a chosen moment on), so a test
 * can stop an app instance right after any step and let a fresh instance repair what it left.
 */
import type { GitHubEmulator } from "../harness/github/index.js";
import type { RequestInfo } from "../harness/github/index.js";
import { ProviderPool } from "../../src/lifecycle/provider-pool.js";
import type { Policy } from "../../src/policy/types.js";
import type { Provider } from "../../src/providers/types.js";

/** A pool whose providers are wrapped (once per provider instance) by `wrap`. */
export class WrappingPool extends ProviderPool {
  private readonly wrapped = new Map<Provider, Provider>();

  constructor(
    env: Record<string, string | undefined>,
    private readonly wrap: (inner: Provider, resource: string) => Provider,
  ) {
    super(env);
  }

  override forResource(policy: Policy, resource: string): Provider {
    const inner = super.forResource(policy, resource);
    let outer = this.wrapped.get(inner);
    if (!outer) {
      outer = this.wrap(inner, resource);
      this.wrapped.set(inner, outer);
    }
    return outer;
  }
}

type ProviderOp = "checkTarget" | "recordPriorAccess" | "grant" | "revoke" | "isGranted" | "listManaged";

export interface ProviderHooks {
  /** Before every call (e.g. to refuse all calls of a dead instance). */
  before?: (op: ProviderOp) => void;
  beforeGrant?: () => void;
  afterGrant?: () => void;
  beforeRevoke?: () => void;
  afterRevoke?: () => void;
}

/** A provider that behaves like `inner`, with hooks around its calls. */
export function interceptProvider(inner: Provider, hooks: ProviderHooks): Provider {
  const gate = <T>(op: ProviderOp, fn: () => Promise<T>): Promise<T> => {
    try {
      hooks.before?.(op);
    } catch (error) {
      return Promise.reject(error);
    }
    return fn();
  };
  return {
    id: inner.id,
    checkTarget: (t, p) => gate("checkTarget", () => inner.checkTarget(t, p)),
    ...(inner.recordPriorAccess ? { recordPriorAccess: (g, s) => gate("recordPriorAccess", () => inner.recordPriorAccess!(g, s)) } : {}),
    grant: (g) =>
      gate("grant", async () => {
        hooks.beforeGrant?.();
        const result = await inner.grant(g);
        hooks.afterGrant?.();
        return result;
      }),
    revoke: (g, s) =>
      gate("revoke", async () => {
        hooks.beforeRevoke?.();
        await inner.revoke(g, s);
        hooks.afterRevoke?.();
      }),
    isGranted: (g) => gate("isGranted", () => inner.isGranted(g)),
    ...(inner.listManaged ? { listManaged: () => gate("listManaged", () => inner.listManaged!()) } : {}),
    close: () => inner.close?.() ?? Promise.resolve(),
  };
}

/** Not a ProviderError: what an instance sees when it is killed mid-step. */
export class SimulatedCrash extends Error {
  constructor(where: string) {
    super(`simulated crash ${where}`);
    this.name = "SimulatedCrash";
  }
}

/**
 * The death of one app instance: from `kill()` on, every request to GitHub fails with 503 and
 * every provider call wrapped with `gate` throws, so nothing the dying instance would still do
 * has an effect. `revive()` before the next
 * instance starts. `killAt` / `killAfter` die at (failing it) or right after (letting it through)
 * the first request that matches.
 */
export class Death {
  private dead = false;
  private readonly removeHook: () => void;
  private trigger?: { match: (r: RequestInfo) => boolean; after: boolean };
  /** Set once the instance died. */
  diedAt?: string;

  constructor(private readonly gh: GitHubEmulator) {
    this.removeHook = gh.onRequest((r) => {
      if (!this.dead && this.trigger?.match(r)) {
        const after = this.trigger.after;
        this.trigger = undefined;
        this.kill(`${after ? "after" : "at"} ${r.method} ${r.route}`);
        if (after) return undefined;
      }
      return this.dead ? { status: 503, message: "Service Unavailable" } : undefined;
    });
  }

  get isDead(): boolean {
    return this.dead;
  }

  kill(where = "now"): void {
    this.dead = true;
    this.diedAt ??= where;
  }

  killAt(match: (r: RequestInfo) => boolean): void {
    this.trigger = { match, after: false };
  }

  killAfter(match: (r: RequestInfo) => boolean): void {
    this.trigger = { match, after: true };
  }

  /** A provider gate: a dead instance reaches no provider either. */
  readonly gate = (op: string): void => {
    if (this.dead) throw new SimulatedCrash(`(dead instance called ${op})`);
  };

  /** A provider hook that kills the instance and throws (the process is gone after this step). */
  crashHere(where: string): () => never {
    return () => {
      this.kill(where);
      throw new SimulatedCrash(where);
    };
  }

  revive(): void {
    this.dead = false;
    this.trigger = undefined;
  }

  dispose(): void {
    this.revive();
    this.removeHook();
  }
}

/** Request matchers for the steps of the lifecycle. */
export const requests = {
  applyRecordWrite: (r: RequestInfo) =>
    /\/check-runs(\/\{check_run_id\})?$/.test(r.route) &&
    ["POST", "PATCH"].includes(r.method) &&
    (r.body as { name?: string } | undefined)?.name === "timebox/apply",
  comment: (marker: string) => (r: RequestInfo) =>
    r.method === "POST" &&
    r.route === "/repos/{owner}/{repo}/issues/{issue_number}/comments" &&
    String((r.body as { body?: string } | undefined)?.body ?? "").includes(marker),
  listComments: (r: RequestInfo) => r.method === "GET" && r.route === "/repos/{owner}/{repo}/issues/{issue_number}/comments",
  createCommit: (r: RequestInfo) => r.method === "POST" && r.route === "/repos/{owner}/{repo}/git/commits",
  updateBranch: (r: RequestInfo) => r.method === "PATCH" && r.route === "/repos/{owner}/{repo}/git/refs/{ref}",
};

/**
 * Holds matching requests until `parties` of them have arrived, then lets them all through at
 * once (and re-arms for the next group): forces replicas into lockstep at one step. A request
 * left alone is released after `timeoutMs` of real time, so a test never hangs on it.
 */
export function lockstep(gh: GitHubEmulator, match: (r: RequestInfo) => boolean, opts: { parties?: number; timeoutMs?: number } = {}) {
  const parties = opts.parties ?? 2;
  let waiting: Array<() => void> = [];
  let timer: NodeJS.Timeout | undefined;
  let groups = 0;
  const releaseAll = () => {
    clearTimeout(timer);
    timer = undefined;
    const go = waiting;
    waiting = [];
    for (const g of go) g();
  };
  const remove = gh.onRequest((r) => {
    if (!match(r)) return undefined;
    return new Promise<undefined>((resolve) => {
      waiting.push(() => resolve(undefined));
      if (waiting.length >= parties) {
        groups++;
        releaseAll();
      } else if (!timer) {
        timer = setTimeout(releaseAll, opts.timeoutMs ?? 2_000);
      }
    });
  });
  return {
    /** Groups that met in full (not released by the timeout). */
    get groups() {
      return groups;
    },
    remove: () => {
      releaseAll();
      remove();
    },
  };
}

/**
 * Deadlines for provider calls (design rule 13: nothing delays a revocation). Two locks:
 *
 * - `withDeadline` wraps a provider so every call (grant, revoke, isGranted, listManaged,
 *   recordPriorAccess, checkTarget, close) settles within the deadline: past it the call rejects
 *   with a retryable ProviderError, whatever the provider does. The lifecycle then moves on to
 *   the next grant, resource and repository.
 * - While a wrapped call runs, `currentDeadline()` tells the provider underneath when the call
 *   was given up (an AbortSignal), so its own I/O stops there too: a PostgreSQL query is not sent
 *   and the one in flight is abandoned, a GitHub request is aborted. Nothing a call started is
 *   still changing access minutes after the lifecycle was told it failed (a late grant landing
 *   after the revoke that followed it).
 *
 * Each provider also keeps its own per-request timeouts, which hold without the wrapper too.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ProviderError, type Provider } from "./types.js";

/** When the current provider call is given up. */
export interface CallDeadline {
  /** Epoch milliseconds. */
  readonly at: number;
  /** Aborted when the deadline passes (reason: the ProviderError the caller sees). */
  readonly signal: AbortSignal;
}

const storage = new AsyncLocalStorage<CallDeadline>();

/** The deadline of the provider call this code runs in, if it runs in one. */
export function currentDeadline(): CallDeadline | undefined {
  return storage.getStore();
}

/**
 * Milliseconds left before the current call's deadline (at least 1), capped at `cap`: the
 * timeout to give one request. `cap` alone outside a deadline-bound call.
 */
export function remainingMs(cap: number): number {
  const d = storage.getStore();
  if (!d) return cap;
  return Math.max(1, Math.min(cap, d.at - Date.now()));
}

/** Throws the deadline's error when the current call has been given up: call before each request. */
export function throwIfPastDeadline(): void {
  const d = storage.getStore();
  if (d?.signal.aborted) throw d.signal.reason;
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return Number.isInteger(s) ? `${s}` : s.toFixed(s < 1 ? 2 : 1).replace(/0+$/, "");
}

/** The message a caller sees; names the resource and the operation, never settings or credentials. */
function deadlineMessage(resource: string, providerId: string, what: string, ms: number): string {
  return `${resource}: the ${providerId} provider did not answer within ${seconds(ms)} s (${what})`;
}

/** Runs `call` under a deadline of `ms`; rejects with a retryable ProviderError past it. */
function runWithDeadline<T>(ms: number, timeoutError: () => ProviderError, call: () => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const deadline: CallDeadline = { at: Date.now() + ms, signal: controller.signal };
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = timeoutError();
      controller.abort(error);
      reject(error);
    }, ms);
    let started: Promise<T>;
    try {
      started = storage.run(deadline, call);
    } catch (error) {
      started = Promise.reject(error);
    }
    started.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        // The provider's own timeout, cut to the same deadline, may fire a moment before ours:
        // a failure at or past the deadline is the deadline's, so callers see one message.
        if (Date.now() < deadline.at) return reject(error);
        const late = timeoutError();
        controller.abort(late);
        reject(late);
      },
    );
  });
}

/**
 * The same provider with a deadline on every call. Optional members stay absent when the
 * provider has none; `id` passes through. A late answer after the deadline is ignored.
 */
export function withDeadline(provider: Provider, resource: string, ms: number): Provider {
  const bound = <T>(what: string, call: () => Promise<T>): Promise<T> =>
    runWithDeadline(ms, () => new ProviderError(deadlineMessage(resource, provider.id, what, ms), true), call);
  const wrapped: Provider = {
    id: provider.id,
    checkTarget: (target, principal) => bound(`check target ${target}`, () => provider.checkTarget(target, principal)),
    grant: (g) => bound(`grant ${g.id}`, () => provider.grant(g)),
    revoke: (g, stillActive) => bound(`revoke ${g.id}`, () => provider.revoke(g, stillActive)),
    isGranted: (g) => bound(`check grant ${g.id}`, () => provider.isGranted(g)),
  };
  if (provider.recordPriorAccess) {
    wrapped.recordPriorAccess = (g, stillActive) => bound(`read prior access for ${g.id}`, () => provider.recordPriorAccess!(g, stillActive));
  }
  if (provider.listManaged) wrapped.listManaged = () => bound("list managed access", () => provider.listManaged!());
  if (provider.close) wrapped.close = () => bound("close connections", () => provider.close!());
  return wrapped;
}

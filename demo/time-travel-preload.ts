/**
 * DEMO ONLY. Loaded into the Timebox app process by the demo (`node --import …`), never by Timebox
 * itself, never by `npm start`: it lets the demo move the process's wall clock forward, as if the
 * machine had been asleep for a while.
 *
 * - `Date` and `Date.now()` read real time plus an offset (0 until the demo jumps).
 * - When the offset grows, timers set with the global `setTimeout` whose due time has now passed
 *   fire at once (e.g. Timebox's timer for the next expiry) — what would happen had the time
 *   really gone by. Other timers keep their real schedule.
 * - The demo talks to it over the IPC channel: `{ type: "timebox-demo:jump", ms }` is answered
 *   with `{ type: "timebox-demo:jumped", now }` (the process's new time, ISO 8601).
 * - When the demo goes away (the channel closes, even on SIGKILL), the process exits: no orphans.
 */
import { promisify } from "node:util";

const RealDate = Date;
let offsetMs = 0;
const shiftedNow = (): number => RealDate.now() + offsetMs;

globalThis.Date = new Proxy(RealDate, {
  construct: (target, args, newTarget) => Reflect.construct(target, args.length ? args : [shiftedNow()], newTarget),
  apply: () => new RealDate(shiftedNow()).toString(),
  get: (target, key, receiver) => (key === "now" ? shiftedNow : Reflect.get(target, key, receiver)),
});

interface Pending {
  handle: NodeJS.Timeout;
  dueAt: number;
  run: () => void;
  /** The timer started in its place when a jump made it due. */
  early?: NodeJS.Timeout;
}

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
/** By the timer's numeric id, so clearTimeout(id) and clearTimeout(handle) both find it. */
const pending = new Map<number, Pending>();
const idOf = (handle: unknown): number | undefined =>
  typeof handle === "number" ? handle : handle && typeof handle === "object" && Symbol.toPrimitive in handle ? Number(handle) : undefined;

function shiftedSetTimeout(callback: unknown, delay?: number, ...args: unknown[]): NodeJS.Timeout {
  if (typeof callback !== "function") return (realSetTimeout as (...a: unknown[]) => NodeJS.Timeout)(callback, delay, ...args);
  let id = 0;
  const run = () => {
    pending.delete(id);
    callback(...args);
  };
  const handle = realSetTimeout(run, delay);
  id = Number(handle);
  pending.set(id, { handle, dueAt: shiftedNow() + Math.max(1, Number(delay) || 0), run });
  return handle;
}
Object.defineProperty(shiftedSetTimeout, promisify.custom, { value: (realSetTimeout as unknown as Record<symbol, unknown>)[promisify.custom] });

function shiftedClearTimeout(handle?: string | number | NodeJS.Timeout): void {
  const id = idOf(handle);
  const entry = id === undefined ? undefined : pending.get(id);
  if (entry) {
    pending.delete(id!);
    if (entry.early) realClearTimeout(entry.early);
  }
  realClearTimeout(handle as NodeJS.Timeout);
}

globalThis.setTimeout = shiftedSetTimeout as typeof globalThis.setTimeout;
globalThis.clearTimeout = shiftedClearTimeout as typeof globalThis.clearTimeout;

function jump(ms: number): void {
  offsetMs += ms;
  const now = shiftedNow();
  for (const [id, entry] of pending) {
    // `_destroyed`: cleared some other way (node:timers' own clearTimeout) or already run.
    if ((entry.handle as unknown as { _destroyed?: boolean })._destroyed && !entry.early) pending.delete(id);
    if (entry.early || entry.dueAt > now || !pending.has(id)) continue;
    realClearTimeout(entry.handle);
    entry.early = realSetTimeout(entry.run, 0);
    if (!entry.handle.hasRef()) entry.early.unref();
  }
}

if (process.send) {
  process.on("message", (message: { type?: string; ms?: unknown }) => {
    if (message?.type !== "timebox-demo:jump" || typeof message.ms !== "number" || !(message.ms >= 0)) return;
    jump(message.ms);
    process.send!({ type: "timebox-demo:jumped", now: new Date().toISOString() });
  });
  process.on("disconnect", () => process.exit(0));
  process.channel?.unref();
}

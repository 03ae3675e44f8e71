/** Log lines about a webhook delivery carry its id and installation; other lines do not. */
import { DeliveryScope, type DeliveryContext, type FieldLogger } from "../../src/logging/delivery-scope.js";

type Line = Record<string, unknown> & { msg: string };

/** A pino-like logger recording what it would print: child bindings, then the line's own fields. */
function recorder(lines: Line[], bindings: Record<string, unknown> = {}) {
  const at = (level: string) => (obj: object, msg: string) => lines.push({ level, ...bindings, ...obj, msg });
  return {
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    debug: at("debug"),
    child: (more: Record<string, unknown>) => recorder(lines, { ...bindings, ...more }),
  };
}

/** What Probot hands a handler: `context.log` is its child logger with the delivery id as `id`. */
function context(lines: Line[], id: string, installation?: number): DeliveryContext & { octokit: { log: unknown } } {
  return {
    id,
    payload: installation === undefined ? { action: "opened" } : { action: "opened", installation: { id: installation } },
    log: recorder(lines, { name: "event", id }) as unknown as DeliveryContext["log"],
    octokit: { log: undefined },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 1));

test("while a handler runs, the lifecycle's lines carry the delivery id and installation; afterwards they do not", async () => {
  const lines: Line[] = [];
  const scope = new DeliveryScope();
  const log: FieldLogger = scope.logger(recorder(lines));
  let later: Promise<void> | undefined;
  const handler = scope.wrap(async () => {
    await tick();
    log.info({ repo: "acme/access", grant: "grants/a.yaml", pr: 3 }, "grant applied");
    // A timer armed while handling (the next expiry) fires after the handler returned.
    later = new Promise((resolve) => setTimeout(() => resolve(log.info({ repo: "acme/access" }, "timed reconcile")), 5));
  });
  await handler(context(lines, "delivery-1", 42));
  await later;
  log.warn({ repo: "acme/access" }, "backstop tick");

  expect(lines).toEqual([
    { level: "info", id: "delivery-1", installation: 42, repo: "acme/access", grant: "grants/a.yaml", pr: 3, msg: "grant applied" },
    { level: "info", repo: "acme/access", msg: "timed reconcile" },
    { level: "warn", repo: "acme/access", msg: "backstop tick" },
  ]);
  expect(scope.current()).toBeUndefined();
});

test("the handler's own context.log, and its GitHub client's log, gain the installation", async () => {
  const lines: Line[] = [];
  const scope = new DeliveryScope();
  const ctx = context(lines, "delivery-2", 7);
  await scope.wrap(async (c: typeof ctx) => {
    c.log.info({ repo: "acme/access", pr: 3 }, "/timebox revoke handled");
    (c.octokit.log as FieldLogger).debug({}, "GitHub request: GET /repos/acme/access - 200");
  })(ctx);
  expect(lines).toEqual([
    { level: "info", name: "event", id: "delivery-2", installation: 7, repo: "acme/access", pr: 3, msg: "/timebox revoke handled" },
    { level: "debug", name: "github", id: "delivery-2", installation: 7, msg: "GitHub request: GET /repos/acme/access - 200" },
  ]);
});

test("deliveries handled at the same time keep their own fields", async () => {
  const lines: Line[] = [];
  const scope = new DeliveryScope();
  const log = scope.logger(recorder(lines));
  const handler = scope.wrap(async (c: DeliveryContext) => {
    for (let i = 0; i < 3; i++) {
      await tick();
      log.info({ step: i, handling: c.id }, "step");
    }
  });
  await Promise.all([handler(context(lines, "a", 1)), handler(context(lines, "b", 2)), handler(context(lines, "c"))]);
  expect(lines).toHaveLength(9);
  for (const line of lines) {
    expect(line.id).toBe(line.handling);
    expect(line.installation).toBe({ a: 1, b: 2, c: undefined }[line.handling as string]);
  }
  // A delivery without an installation names none (not `installation: undefined`).
  expect(Object.keys(lines.find((l) => l.id === "c")!)).not.toContain("installation");
});

test("a handler's error propagates and closes its scope", async () => {
  const lines: Line[] = [];
  const scope = new DeliveryScope();
  const log = scope.logger(recorder(lines));
  const failing = scope.wrap(async () => {
    log.error({ repo: "acme/access" }, "about to fail");
    throw new Error("boom");
  });
  await expect(failing(context(lines, "delivery-3", 5))).rejects.toThrow("boom");
  log.info({}, "after");
  expect(lines).toEqual([
    { level: "error", id: "delivery-3", installation: 5, repo: "acme/access", msg: "about to fail" },
    { level: "info", msg: "after" },
  ]);
});

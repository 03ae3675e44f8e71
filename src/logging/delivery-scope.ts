import { AsyncLocalStorage } from "node:async_hooks";
import type { Context } from "probot";

/** What every log line about one webhook delivery carries: Probot's `id` (the delivery id) and the installation. */
export interface DeliveryFields {
  /** The `X-GitHub-Delivery` id, under the key Probot's own event lines use. */
  id: string;
  installation?: number;
}

/** The logger shape the lifecycle takes: pino's `(fields, message)` calls. */
export interface FieldLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** What a webhook handler is given that matters here: Probot's `Context`. */
export interface DeliveryContext {
  id: string;
  payload: unknown;
  log: Context["log"];
  octokit?: { log: unknown };
}

interface Scope {
  fields: DeliveryFields;
  /** False once the handler has returned: timers it armed run later, for no delivery. */
  open: boolean;
}

/**
 * Ties log lines to the webhook delivery being handled. Probot's `context.log` already carries the
 * delivery id (`id`); `wrap` adds the installation, and lines logged while the handler runs
 * through a logger from `logger()` (the lifecycle's, built once at start) get both, without
 * passing the context down. Work that outlives the handler (a timer it armed) carries neither.
 */
export class DeliveryScope {
  private readonly storage = new AsyncLocalStorage<Scope>();

  /** The delivery being handled in this async context, if any. */
  current(): DeliveryFields | undefined {
    const scope = this.storage.getStore();
    return scope?.open ? scope.fields : undefined;
  }

  wrap<C extends DeliveryContext>(handler: (context: C) => Promise<void>): (context: C) => Promise<void> {
    return async (context) => {
      const installation = (context.payload as { installation?: { id?: unknown } } | null)?.installation?.id;
      const fields: DeliveryFields = { id: context.id, ...(typeof installation === "number" ? { installation } : {}) };
      // context.log is Probot's child with `id` already; its GitHub client logs through it too.
      if (fields.installation !== undefined) context.log = context.log.child({ installation: fields.installation });
      if (context.octokit) context.octokit.log = context.log.child({ name: "github" });
      const scope: Scope = { fields, open: true };
      try {
        await this.storage.run(scope, () => handler(context));
      } finally {
        scope.open = false;
      }
    };
  }

  /** `base`, with the current delivery's fields on every line (a line's own fields win). */
  logger(base: FieldLogger): FieldLogger {
    const at =
      (level: keyof FieldLogger) =>
      (obj: object, msg: string): void => {
        const fields = this.current();
        base[level](fields ? { ...fields, ...obj } : obj, msg);
      };
    return { info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug") };
  }
}

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApplicationFunctionOptions } from "probot";
import type { TimeboxMetrics } from "./metrics.js";

export const METRICS_PATH = "/metrics";

/** A Node request handler (Probot 14's `addHandler` form) answering `GET /metrics` in the Prometheus text format. */
export function metricsHandler(metrics: TimeboxMetrics) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if ((req.method !== "GET" && req.method !== "HEAD") || req.url?.split("?")[0] !== METRICS_PATH) return false;
    const body = await metrics.registry.metrics();
    res.writeHead(200, { "content-type": metrics.registry.contentType, "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  };
}

/**
 * Serves `/metrics` on Probot's HTTP server when there is one (`probot run`, `npm start`, the
 * Docker image). Loaded without a server (tests, `new Probot()` + `load`), Probot's `addHandler`
 * throws or is absent: the metrics are still collected, just not served.
 */
export function serveMetrics(options: Partial<ApplicationFunctionOptions> | undefined, metrics: TimeboxMetrics, log: { debug(msg: string): void }): boolean {
  try {
    if (typeof options?.addHandler !== "function") throw new Error("no addHandler");
    options.addHandler(metricsHandler(metrics));
    return true;
  } catch {
    log.debug("no HTTP server: /metrics is not served");
    return false;
  }
}

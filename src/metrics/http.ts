import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApplicationFunctionOptions } from "probot";
import type { TimeboxMetrics } from "./metrics.js";

const METRICS_PATH = "/metrics";

/**
 * A Node request handler (Probot 14's `addHandler` form) answering `GET /metrics` in the Prometheus
 * text format. With a `token` (TIMEBOX_METRICS_TOKEN), only a request carrying
 * `Authorization: Bearer <token>` is answered; any other gets 401 and no metrics.
 */
export function metricsHandler(metrics: TimeboxMetrics, token?: string) {
  const expected = token ? Buffer.from(`Bearer ${token}`) : undefined;
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if ((req.method !== "GET" && req.method !== "HEAD") || req.url?.split("?")[0] !== METRICS_PATH) return false;
    if (expected && !sameSecret(req.headers.authorization, expected)) {
      res.writeHead(401, { "www-authenticate": 'Bearer realm="timebox-metrics"', "cache-control": "no-store", "content-type": "text/plain" });
      res.end(req.method === "HEAD" ? undefined : "401 Unauthorized: /metrics needs Authorization: Bearer <TIMEBOX_METRICS_TOKEN>\n");
      return true;
    }
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
export function serveMetrics(
  options: Partial<ApplicationFunctionOptions> | undefined,
  metrics: TimeboxMetrics,
  log: { debug(msg: string): void },
  token?: string,
): boolean {
  try {
    if (typeof options?.addHandler !== "function") throw new Error("no addHandler");
    options.addHandler(metricsHandler(metrics, token));
    return true;
  } catch {
    log.debug("no HTTP server: /metrics is not served");
    return false;
  }
}

/** Constant-time comparison of the Authorization header with the expected `Bearer <token>`. */
function sameSecret(header: string | undefined, expected: Buffer): boolean {
  if (typeof header !== "string") return false;
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

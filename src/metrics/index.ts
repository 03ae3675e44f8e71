export { TimeboxMetrics, type TimeboxMetricsOptions } from "./metrics.js";
export { METRICS_PATH, metricsHandler, serveMetrics } from "./http.js";

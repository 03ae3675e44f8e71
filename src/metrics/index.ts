export { TimeboxMetrics, type EventContext, type TimeboxMetricsOptions } from "./metrics.js";
export { GitHubApiMetrics, type HookableOctokit } from "./github-api.js";
export { ProviderMetrics } from "./providers.js";
export { METRICS_PATH, metricsHandler, serveMetrics } from "./http.js";

export { TimeboxMetrics, type EventContext } from "./metrics.js";
export { GitHubApiMetrics, type HookableOctokit } from "./github-api.js";
export { ProviderMetrics } from "./providers.js";
export { metricsHandler, serveMetrics } from "./http.js";

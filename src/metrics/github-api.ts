import { Counter, Gauge, type Registry } from "prom-client";
import { httpStatus } from "../github/errors.js";
import { RouteCatalog, type RouteSource } from "./github-routes.js";
import { statusClass } from "./labels.js";

/** What is read of an Octokit request's options in its hooks. */
interface RequestOptions {
  method?: string;
  url?: string;
  baseUrl?: string;
}

type Headers = Record<string, string | number | undefined>;

/** The part of an Octokit instance the metrics hook into: its `request` hooks (and, once, its routes). */
export interface HookableOctokit extends RouteSource {
  hook: {
    after(name: "request", fn: (response: { status: number; headers: Headers }, options: RequestOptions) => void): void;
    error(name: "request", fn: (error: Error, options: RequestOptions) => never): void;
  };
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]);

/** The rate-limit bucket a request counted against: the app's own (JWT) or one installation's. */
function bucketOf(route: string, url: string | undefined, installation: number | undefined): string {
  // `/app…` routes are authenticated with the app's JWT even on an installation's client (token minting).
  if (installation === undefined || route.startsWith("/app") || url?.startsWith("/app")) return "app";
  return /^\d{1,20}$/.test(String(installation)) ? String(installation) : "other";
}

/**
 * GitHub API use, measured on the Octokit clients Probot creates: every request by method, route
 * template and status class, and the rate limit GitHub reports in each response's
 * `x-ratelimit-*` headers, per installation (or `app`, for calls made with the app's JWT).
 */
export class GitHubApiMetrics {
  private readonly calls: Counter<"method" | "route" | "status">;
  private readonly remaining: Gauge<"installation" | "resource">;
  private readonly limit: Gauge<"installation" | "resource">;
  private readonly routes = new RouteCatalog();
  private readonly instrumented = new WeakSet<object>();
  /** The newest reading per bucket: responses can arrive out of order within one rate-limit window. */
  private readonly latest = new Map<string, { reset: number; remaining: number }>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.calls = new Counter({
      name: "timebox_github_api_calls_total",
      help: "GitHub API requests Timebox made, by HTTP method, route template and status class (2xx…5xx; error: no response).",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.remaining = new Gauge({
      name: "timebox_github_rate_limit_remaining",
      help: "Requests left in the current rate-limit window, from the latest x-ratelimit-remaining header, by installation id (app: the app's own JWT calls) and GitHub's rate-limit resource (core, graphql, …).",
      labelNames: ["installation", "resource"],
      registers,
    });
    this.limit = new Gauge({
      name: "timebox_github_rate_limit_limit",
      help: "Requests allowed per rate-limit window, from the latest x-ratelimit-limit header, by installation id and resource.",
      labelNames: ["installation", "resource"],
      registers,
    });
  }

  /**
   * Hooks one Octokit instance (idempotent: hooking it twice counts once). `installation` is the
   * installation it acts for; undefined for the app-authenticated client.
   */
  instrument<O extends HookableOctokit>(octokit: O, installation?: number): O {
    if (this.instrumented.has(octokit)) return octokit;
    this.instrumented.add(octokit);
    this.routes.learn(octokit);
    octokit.hook.after("request", (response, options) => this.record(options, installation, response.status, response.headers));
    octokit.hook.error("request", (error, options) => {
      // A RequestError has the response's status and headers (a 403 at the rate limit says remaining 0);
      // without a response (connection refused, timeout) Octokit says 500, but GitHub said nothing.
      const { response } = error as Error & { response?: { headers?: Headers } };
      this.record(options, installation, response ? httpStatus(error) : undefined, response?.headers);
      throw error;
    });
    return octokit;
  }

  private record(options: RequestOptions, installation: number | undefined, status: number | undefined, headers: Headers | undefined): void {
    const verb = (options.method ?? "GET").toUpperCase();
    const method = METHODS.has(verb) ? verb : "other";
    const route = options.url ? this.routes.routeOf(verb, options.url, options.baseUrl) : "other";
    this.calls.inc({ method, route, status: statusClass(status) });
    if (headers) this.rateLimit(bucketOf(route, options.url, installation), headers);
  }

  private rateLimit(installation: string, headers: Headers): void {
    const remaining = Number(headers["x-ratelimit-remaining"]);
    const limit = Number(headers["x-ratelimit-limit"]);
    if (headers["x-ratelimit-remaining"] === undefined || !Number.isFinite(remaining)) return;
    const raw = String(headers["x-ratelimit-resource"] ?? "core");
    const resource = /^[a-z][a-z_]{0,31}$/.test(raw) ? raw : "other";
    const reset = Number(headers["x-ratelimit-reset"] ?? 0) || 0;
    const key = `${installation} ${resource}`;
    const last = this.latest.get(key);
    if (last && reset > 0 && (reset < last.reset || (reset === last.reset && remaining > last.remaining))) return;
    this.latest.set(key, { reset, remaining });
    this.remaining.set({ installation, resource }, remaining);
    if (Number.isFinite(limit) && headers["x-ratelimit-limit"] !== undefined) this.limit.set({ installation, resource }, limit);
  }
}

/**
 * GitHub's rate-limit headers (`x-ratelimit-limit`, `-remaining`, `-used`, `-reset`, `-resource`)
 * on every response, counted per token: each installation, the app's JWT and the provider token
 * have their own budget per hour of the emulator's clock. Reported only, never enforced (benchmarks
 * make more calls in a fake hour than GitHub would allow).
 */
import type { TokenInfo } from "./state.js";

const HOUR_MS = 3600_000;

/** GraphQL (`/graphql`, GHES `/api/graphql`) has its own budget, like GitHub's; the emulator counts one point per request. */
const resourceOf = (path: string): string => (path === "/graphql" || path === "/api/graphql" ? "graphql" : "core");

export class RateLimits {
  /** Requests per hour per bucket (GitHub: 5,000 for apps and tokens, 60 unauthenticated). */
  limit = 5000;
  anonymousLimit = 60;
  /** When set, a bucket with nothing left is answered 403 `API rate limit exceeded` (as GitHub does) until the hour turns. */
  enforce = false;
  private readonly used = new Map<string, { window: number; used: number }>();

  /** Whether a request with this token is refused now (enforced, and its bucket spent). */
  exhausted(token: TokenInfo, path: string, nowMs: number): boolean {
    if (!this.enforce) return false;
    const bucket = RateLimits.bucketOf(token);
    return bucket !== "app" && this.remaining(bucket, nowMs, resourceOf(path)) <= 0;
  }

  /** Spends `n` requests of a bucket now (a test standing in for other traffic on the same installation). */
  spend(bucket: string, n: number, nowMs: number, resource = "core"): void {
    const window = Math.floor(nowMs / HOUR_MS);
    const key = `${bucket} ${resource}`;
    const entry = this.used.get(key);
    this.used.set(key, { window, used: (entry && entry.window === window ? entry.used : 0) + n });
  }

  /** The bucket a token's requests count against: `installation:<id>`, `app`, `provider` or `anonymous`. */
  static bucketOf(token: TokenInfo): string {
    if (token.kind === "installation") return `installation:${token.installationId}`;
    if (token.kind === "app" || token.kind === "provider") return token.kind;
    return "anonymous";
  }

  /** Counts one request and returns the headers GitHub would send with its response. */
  consume(token: TokenInfo, path: string, nowMs: number): Record<string, string> {
    const bucket = RateLimits.bucketOf(token);
    const resource = resourceOf(path);
    const window = Math.floor(nowMs / HOUR_MS);
    const key = `${bucket} ${resource}`;
    const entry = this.used.get(key);
    const used = entry && entry.window === window ? entry.used + 1 : 1;
    this.used.set(key, { window, used });
    const limit = bucket === "anonymous" ? this.anonymousLimit : this.limit;
    return {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - used)),
      "x-ratelimit-used": String(used),
      "x-ratelimit-reset": String(((window + 1) * HOUR_MS) / 1000),
      "x-ratelimit-resource": resource,
    };
  }

  /** What `x-ratelimit-remaining` said last for a bucket (`installation:1`, `app`, …), as of `nowMs`. */
  remaining(bucket: string, nowMs: number, resource = "core"): number {
    const entry = this.used.get(`${bucket} ${resource}`);
    const limit = bucket === "anonymous" ? this.anonymousLimit : this.limit;
    return entry && entry.window === Math.floor(nowMs / HOUR_MS) ? Math.max(0, limit - entry.used) : limit;
  }
}

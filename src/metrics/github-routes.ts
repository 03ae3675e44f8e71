/**
 * Which REST route an Octokit request went to, as GitHub's route template
 * (`/repos/{owner}/{repo}/pulls/{pull_number}`): a bounded label, never the owner, repository,
 * path or login a concrete URL carries. The templates are the ~1,000 routes Octokit's endpoint
 * methods know (read from the instance itself), plus GraphQL.
 */

interface EndpointMethod {
  endpoint?: { DEFAULTS?: { method?: string; url?: string } };
}

/** What the catalogue reads from an Octokit instance: its endpoint methods (`octokit.rest.pulls.get`). */
export interface RouteSource {
  rest?: object;
}

interface Pattern {
  template: string;
  regex: RegExp;
  params: number;
}

const OTHER = "other";
const CACHE_LIMIT = 2_000;

export class RouteCatalog {
  /** `METHOD template` of every known route. */
  private readonly known = new Set<string>(["POST /graphql"]);
  /** Known routes by method, compiled, for URLs that are not templates (pagination's `next` links). */
  private readonly patterns = new Map<string, Pattern[]>();
  private readonly resolved = new Map<string, string>();
  private learned = false;

  /** Learns the routes from the first Octokit instance that has endpoint methods. */
  learn(octokit: RouteSource): void {
    if (this.learned || !octokit.rest) return;
    for (const methods of Object.values(octokit.rest)) {
      for (const fn of Object.values((methods ?? {}) as Record<string, EndpointMethod>)) {
        const d = fn?.endpoint?.DEFAULTS;
        if (d?.method && d.url) this.known.add(`${d.method.toUpperCase()} ${d.url}`);
      }
    }
    for (const route of this.known) {
      const [method, template] = route.split(" ", 2) as [string, string];
      const source = template
        .split(/\{[^}]+\}/)
        .map(escapeRegExp)
        .join("[^/]+");
      const list = this.patterns.get(method) ?? [];
      list.push({ template, regex: new RegExp(`^${source}$`), params: (template.match(/\{/g) ?? []).length });
      this.patterns.set(method, list);
    }
    // Prefer the most specific template: `/pulls/comments` over `/pulls/{pull_number}`.
    for (const list of this.patterns.values()) list.sort((a, b) => a.params - b.params);
    this.learned = true;
  }

  /**
   * The route template of a request: `url` as Octokit hands it to its hooks (a template for
   * endpoint methods and `request("GET /x/{y}")`, an absolute URL for pagination's later pages).
   * Anything that matches no known route is `other`.
   */
  routeOf(method: string, url: string, baseUrl?: string): string {
    const m = method.toUpperCase();
    if (this.known.has(`${m} ${url}`)) return url;
    const path = pathOf(url, baseUrl);
    if (path === undefined) return OTHER;
    const key = `${m} ${path}`;
    let route = this.resolved.get(key);
    if (route === undefined) {
      route = this.match(m, path) ?? OTHER;
      if (this.resolved.size >= CACHE_LIMIT) this.resolved.clear();
      this.resolved.set(key, route);
    }
    return route;
  }

  private match(method: string, path: string): string | undefined {
    const candidates = this.patterns.get(method) ?? [];
    // GitHub's `next` links name repositories by id: `/repositories/123/commits` is `/repos/{owner}/{repo}/commits`.
    const byName = path.replace(/^\/repositories\/\d+(?=\/|$)/, "/repos/{owner}/{repo}");
    for (const candidate of [path, byName]) {
      const found = candidates.find((p) => p.regex.test(candidate));
      if (found) return found.template;
    }
    return undefined;
  }
}

/** The API path of a URL (base path such as GHES's `/api/v3` and the query removed), if it is one. */
function pathOf(url: string, baseUrl: string | undefined): string | undefined {
  try {
    let path = new URL(url, baseUrl && /^https?:\/\//.test(baseUrl) ? baseUrl : "https://api.github.com").pathname;
    const base = baseUrl ? new URL(baseUrl).pathname.replace(/\/+$/, "") : "";
    if (/^https?:\/\//.test(url) && base && path.startsWith(`${base}/`)) path = path.slice(base.length);
    return decodeURI(path);
  } catch {
    return undefined;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * GitHub's rate limit per installation, as its responses report it (`x-ratelimit-*`), and the
 * share kept for revocation (rule 13): below it, Timebox spends what is left on revoking expired
 * and removed grants only — pull request reviews, reminders, stale-request sweeps, unapproved
 * reports and drift listing wait until the hour turns. A person opening or editing PRs can then
 * never spend the calls an expiry needs.
 */
interface Seen {
  remaining: number;
  limit: number;
  /** Epoch seconds when the window resets. */
  reset: number;
}

type Headers = Record<string, string | number | undefined>;

interface Hookable {
  hook: { after(name: "request", fn: (response: { status: number; headers: Headers }) => void): void };
}

export class RateBudget {
  private readonly seen = new Map<string, Seen>();
  private readonly watched = new WeakSet<object>();

  /** `reserveShare`: the share of the hourly limit kept for revocation (0.1 = 10%). */
  constructor(private readonly reserveShare: number) {}

  /** Follows the rate limit a client's responses report, for one installation. */
  watch(octokit: Hookable, installation: number | undefined): void {
    if (installation === undefined || this.watched.has(octokit)) return;
    this.watched.add(octokit);
    octokit.hook.after("request", (response) => this.observe(installation, response.headers));
  }

  observe(installation: number, headers: Headers): void {
    if ((headers["x-ratelimit-resource"] ?? "core") !== "core") return;
    const remaining = Number(headers["x-ratelimit-remaining"]);
    const limit = Number(headers["x-ratelimit-limit"]);
    const reset = Number(headers["x-ratelimit-reset"]);
    if ([remaining, limit, reset].every(Number.isFinite)) this.seen.set(String(installation), { remaining, limit, reset });
  }

  /** Whether an installation is down to its reserve (false when its limit is not known yet, or the window has reset). */
  low(installation: number | undefined, now: Date): boolean {
    const s = installation === undefined ? undefined : this.seen.get(String(installation));
    if (!s || now.getTime() / 1000 >= s.reset) return false;
    return s.remaining < s.limit * this.reserveShare;
  }
}

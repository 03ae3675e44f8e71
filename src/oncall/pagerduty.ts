/**
 * PagerDuty REST API v2: `GET /oncalls?schedule_ids[]=<id>&since=&until=&include[]=users`, with
 * `Authorization: Token token=<key>` and `Accept: application/vnd.pagerduty+json;version=2`.
 * Every on-call entry that overlaps the range is returned with its `start` and `end`, so whether
 * someone was on call at one moment is decided exactly. `include[]=users` puts the user's `email`
 * in the entry (otherwise only `id` and `summary`). Paginated with `limit`/`offset`/`more`.
 */
import { apiUrl, DEFAULT_TIMEOUT_MS, getJson, type FetchLike } from "./http.js";
import { OnCallError, type OnCallShift, type ScheduleSource } from "./types.js";

const PAGERDUTY_API_URL = "https://api.pagerduty.com";

const PAGE = 100;
/** A schedule's on-calls over one minute fit in a page; a few more pages are read, never an unbounded walk. */
const MAX_PAGES = 5;

interface PagerDutyOnCall {
  user?: { id?: unknown; email?: unknown; summary?: unknown } | null;
  schedule?: { id?: unknown } | null;
  start?: unknown;
  end?: unknown;
}

export class PagerDutySchedules implements ScheduleSource {
  readonly name = "PagerDuty";

  constructor(
    private readonly token: string,
    private readonly baseUrl: string = PAGERDUTY_API_URL,
    private readonly fetchImpl: FetchLike = fetch,
    private readonly timeoutMs: number = DEFAULT_TIMEOUT_MS,
  ) {}

  async read(schedule: string, from: Date, to: Date): Promise<OnCallShift[]> {
    const what = `PagerDuty schedule ${schedule}`;
    const shifts: OnCallShift[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const url = apiUrl(this.baseUrl, "oncalls");
      url.searchParams.append("schedule_ids[]", schedule);
      url.searchParams.set("since", from.toISOString());
      url.searchParams.set("until", to.toISOString());
      url.searchParams.append("include[]", "users");
      url.searchParams.set("time_zone", "UTC");
      url.searchParams.set("limit", String(PAGE));
      url.searchParams.set("offset", String(page * PAGE));
      const body = await getJson(
        this.fetchImpl,
        url.toString(),
        { Authorization: `Token token=${this.token}`, Accept: "application/vnd.pagerduty+json;version=2" },
        what,
        this.timeoutMs,
      );
      const oncalls = (body as { oncalls?: unknown })?.oncalls;
      if (!Array.isArray(oncalls)) throw new OnCallError(`${what} could not be read: the answer has no oncalls list`);
      for (const entry of oncalls as PagerDutyOnCall[]) {
        // Filtered by schedule already; an entry for another schedule (or none) is never counted.
        if (entry?.schedule?.id !== schedule) continue;
        const who = [entry.user?.id, entry.user?.email].filter((v): v is string => typeof v === "string" && v !== "");
        if (who.length === 0) continue;
        shifts.push({ who, start: time(entry.start, -Infinity), end: time(entry.end, Infinity) });
      }
      if ((body as { more?: unknown }).more !== true) return shifts;
    }
    throw new OnCallError(`${what} could not be read: more than ${MAX_PAGES * PAGE} on-call entries in one minute`);
  }
}

function time(value: unknown, missing: number): number {
  if (typeof value !== "string") return missing;
  const t = Date.parse(value);
  // An unreadable time is treated as covering nothing rather than everything.
  return Number.isNaN(t) ? -missing : t;
}

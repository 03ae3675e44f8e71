/**
 * Opsgenie's Who-is-on-call API: `GET /v2/schedules/<name>/on-calls?scheduleIdentifierType=name&flat=true&date=<iso>`
 * with `Authorization: GenieKey <key>`; the answer is `{ data: { _parent: { id, name, enabled },
 * onCallRecipients: ["user@example.com", ...] } }`. It tells who is on call at `date` only, with no
 * shift times: the reading is taken at the start of the minute asked about and holds for that
 * minute. EU instances use https://api.eu.opsgenie.com (TIMEBOX_OPSGENIE_API_URL).
 */
import { apiUrl, DEFAULT_TIMEOUT_MS, getJson, type FetchLike } from "./http.js";
import { OnCallError, type OnCallShift, type ScheduleSource } from "./types.js";

const OPSGENIE_API_URL = "https://api.opsgenie.com";

export class OpsgenieSchedules implements ScheduleSource {
  readonly name = "Opsgenie";

  constructor(
    private readonly apiKey: string,
    private readonly baseUrl: string = OPSGENIE_API_URL,
    private readonly fetchImpl: FetchLike = fetch,
    private readonly timeoutMs: number = DEFAULT_TIMEOUT_MS,
  ) {}

  async read(schedule: string, from: Date, to: Date): Promise<OnCallShift[]> {
    const what = `Opsgenie schedule ${schedule}`;
    const url = apiUrl(this.baseUrl, `v2/schedules/${encodeURIComponent(schedule)}/on-calls`);
    url.searchParams.set("scheduleIdentifierType", "name");
    url.searchParams.set("flat", "true");
    url.searchParams.set("date", from.toISOString().replace(/\.\d{3}Z$/, "Z"));
    const body = await getJson(this.fetchImpl, url.toString(), { Authorization: `GenieKey ${this.apiKey}`, Accept: "application/json" }, what, this.timeoutMs);
    const data = (body as { data?: { onCallRecipients?: unknown; _parent?: { enabled?: unknown } } })?.data;
    const recipients = data?.onCallRecipients;
    if (!Array.isArray(recipients)) throw new OnCallError(`${what} could not be read: the answer has no onCallRecipients list`);
    // A disabled schedule puts nobody on call.
    if (data?._parent?.enabled === false) return [];
    return recipients.filter((r): r is string => typeof r === "string" && r !== "").map((r) => ({ who: [r], start: from.getTime(), end: to.getTime() }));
  }
}

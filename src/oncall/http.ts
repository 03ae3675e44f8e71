import { OnCallError } from "./types.js";

export type FetchLike = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<Response>;

/** How long one request to an on-call service may take before the schedule counts as unreadable. */
export const DEFAULT_TIMEOUT_MS = 5_000;

/** The most bytes of an answer read: a schedule's on-calls for one minute are small. */
const MAX_BYTES = 1_000_000;

/** `path` resolved under `baseUrl`, whether or not the configured base ends in a slash. */
export function apiUrl(baseUrl: string, path: string): URL {
  return new URL(path, baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
}

/**
 * GETs `url` and parses its JSON body, within `timeoutMs`. Every failure is an {@link OnCallError}
 * whose message starts with `what` (the service and schedule) and gives the HTTP status, the
 * timeout or "not JSON" — never the URL's query, the headers or the answer's body.
 */
export async function getJson(fetchImpl: FetchLike, url: string, headers: Record<string, string>, what: string, timeoutMs: number): Promise<unknown> {
  let response: Response;
  try {
    response = await fetchImpl(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const name = (error as Error)?.name;
    if (name === "TimeoutError" || name === "AbortError") throw new OnCallError(`${what} could not be read: no answer within ${timeoutMs / 1000} s`);
    throw new OnCallError(`${what} could not be read: the service could not be reached`);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new OnCallError(`${what} could not be read: HTTP ${response.status}${statusHint(response.status)}`);
  }
  const text = await response.text();
  if (text.length > MAX_BYTES) throw new OnCallError(`${what} could not be read: the answer is larger than expected`);
  try {
    return JSON.parse(text);
  } catch {
    throw new OnCallError(`${what} could not be read: the answer is not JSON`);
  }
}

function statusHint(status: number): string {
  if (status === 401 || status === 403) return " (check the app's API key and its access to this schedule)";
  if (status === 404) return " (no such schedule)";
  if (status === 429) return " (rate limited)";
  return "";
}

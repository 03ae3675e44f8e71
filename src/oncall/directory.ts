/**
 * Reads on-call schedules through the configured services, one minute at a time, and caches each
 * answer for a minute (per schedule and minute): judging a PR, then its reviews, then the
 * break-glass pass asks the service once. A schedule that cannot be read is a reading with a
 * problem — the decision then fails closed — and is not cached, so the next check asks again.
 */
import type { ScheduleProvider, ScheduleRef } from "../policy/principals.js";
import { OpsgenieSchedules } from "./opsgenie.js";
import { PagerDutySchedules } from "./pagerduty.js";
import { BUCKET_MS, bucketOf, OnCallError, readingKey, type ScheduleReading, type ScheduleSource } from "./types.js";

/** How long an answer is kept. */
const CACHE_TTL_MS = 60_000;
const MAX_ENTRIES = 2_000;

/** The environment variables the on-call services are configured by (on the app's side, never in the policy). */
const ONCALL_ENV = {
  pagerduty: { key: "PAGERDUTY_API_TOKEN", url: "TIMEBOX_PAGERDUTY_API_URL" },
  opsgenie: { key: "OPSGENIE_API_KEY", url: "TIMEBOX_OPSGENIE_API_URL" },
} as const;

const SERVICE_NAME: Record<ScheduleProvider, string> = { pagerduty: "PagerDuty", opsgenie: "Opsgenie" };

export class OnCallDirectory {
  private readonly cache = new Map<string, { at: number; reading: ScheduleReading }>();
  private readonly inFlight = new Map<string, Promise<ScheduleReading>>();

  constructor(
    private readonly sources: Partial<Record<ScheduleProvider, ScheduleSource>>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Who was on call on `ref` during the minute that holds `at`. Never throws. */
  async read(ref: ScheduleRef, at: Date): Promise<ScheduleReading> {
    const key = readingKey(ref.ref, at);
    const cached = this.cache.get(key);
    if (cached && this.now() - cached.at < CACHE_TTL_MS) return cached.reading;
    const running = this.inFlight.get(key);
    if (running) return running;
    const reading = this.load(ref, at).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, reading);
    return reading;
  }

  private async load(ref: ScheduleRef, at: Date): Promise<ScheduleReading> {
    const key = readingKey(ref.ref, at);
    const source = this.sources[ref.provider];
    if (!source) {
      const env = ONCALL_ENV[ref.provider].key;
      return { ok: false, problem: `${SERVICE_NAME[ref.provider]} schedule ${ref.schedule} could not be read: ${env} is not set on the app` };
    }
    const from = new Date(bucketOf(at));
    try {
      const shifts = await source.read(ref.schedule, from, new Date(from.getTime() + BUCKET_MS));
      const reading: ScheduleReading = { ok: true, shifts };
      this.cache.set(key, { at: this.now(), reading });
      if (this.cache.size > MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
      return reading;
    } catch (error) {
      const problem =
        error instanceof OnCallError ? error.message : `${SERVICE_NAME[ref.provider]} schedule ${ref.schedule} could not be read: an unexpected error`;
      return { ok: false, problem };
    }
  }
}

/** The directory the environment configures: a service whose key is not set is not asked (its schedules fail closed). */
export function directoryFromEnv(env: Record<string, string | undefined>, now: () => number = Date.now): OnCallDirectory {
  const sources: Partial<Record<ScheduleProvider, ScheduleSource>> = {};
  const pd = env[ONCALL_ENV.pagerduty.key];
  if (pd) sources.pagerduty = new PagerDutySchedules(pd, env[ONCALL_ENV.pagerduty.url] || undefined);
  const og = env[ONCALL_ENV.opsgenie.key];
  if (og) sources.opsgenie = new OpsgenieSchedules(og, env[ONCALL_ENV.opsgenie.url] || undefined);
  return new OnCallDirectory(sources, now);
}

let shared: { config: string; directory: OnCallDirectory } | undefined;

/**
 * The process's directory, configured from `process.env` (one cache for every judgement); built
 * again, with an empty cache, when those variables change.
 */
export function defaultDirectory(): OnCallDirectory {
  const config = JSON.stringify(Object.values(ONCALL_ENV).flatMap((v) => [process.env[v.key] ?? "", process.env[v.url] ?? ""]));
  if (shared?.config !== config) shared = { config, directory: directoryFromEnv(process.env) };
  return shared.directory;
}

/** Time, injected: production uses the system clock, tests move a fake one. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** `2026-03-02T09:01:00Z`: UTC, to the second, as Timebox writes every time people read. */
export const isoSecond = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");

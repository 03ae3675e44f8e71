/**
 * On-call schedules as facts (issue 15): who was on call on a schedule over a minute, read from
 * PagerDuty or Opsgenie before a decision and handed to it as data. The decision itself never
 * calls a service; it only asks "was this login on call on that schedule at that moment?".
 */

/** One person's on-call period on a schedule, as the service reported it. */
export interface OnCallShift {
  /** Every identifier the service gave for the person (user id, e-mail, user name); matched case-insensitively. */
  who: string[];
  /** Epoch milliseconds; -Infinity when the service gave no start. */
  start: number;
  /** Epoch milliseconds, exclusive; Infinity when the service gave no end. */
  end: number;
}

/** What reading one schedule for one minute gave: the shifts, or why it could not be read (never a secret). */
export type ScheduleReading = { ok: true; shifts: OnCallShift[] } | { ok: false; problem: string };

/** One on-call service's client: the shifts of `schedule` that overlap [from, to). Throws {@link OnCallError}. */
export interface ScheduleSource {
  readonly name: string;
  read(schedule: string, from: Date, to: Date): Promise<OnCallShift[]>;
}

/** A schedule that could not be read: the message names the service, the schedule and the HTTP status, never a credential. */
export class OnCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OnCallError";
  }
}

/**
 * A verdict that came out negative while a schedule it needed could not be read: undecided, not
 * refused. The lifecycle neither applies nor revokes on it, and judges again on the next reconcile
 * (an outage at PagerDuty never takes away access that was approved).
 */
export class SchedulesUnreadable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SchedulesUnreadable";
  }
}

/** Answers are read and cached per minute: the bucket of a moment is the minute that holds it. */
export const BUCKET_MS = 60_000;

export const bucketOf = (at: Date | number): number => Math.floor((typeof at === "number" ? at : at.getTime()) / BUCKET_MS) * BUCKET_MS;

/** The key of one schedule's reading for the minute that holds `at`. */
export const readingKey = (ref: string, at: Date | number): string => `${ref}@${bucketOf(at)}`;

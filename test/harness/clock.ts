/** Injected time. Everything in the harness that stamps a time asks a Clock. */
export interface Clock {
  now(): Date;
}

/** A clock that only moves when the test says so. */
export class FakeClock implements Clock {
  private t: number;
  constructor(start: Date | string | number = "2024-01-01T00:00:00Z") {
    this.t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  set(d: Date | string | number): void {
    this.t = new Date(d).getTime();
  }
  advance(ms: number): Date {
    this.t += ms;
    return this.now();
  }
}

export const systemClock: Clock = { now: () => new Date() };

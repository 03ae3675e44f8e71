import type { Clock } from "../test/harness/clock.js";

/**
 * The emulated GitHub's clock in the demo: real time, plus however far the demo has jumped.
 * It keeps ticking (the app runs in real time in its own process); `jump` moves it forward.
 */
export class ShiftedClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  jump(ms: number): Date {
    this.offsetMs += ms;
    return this.now();
  }
}

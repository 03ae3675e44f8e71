/**
 * Jest's own order (failed first, then longest first by the last run's timings, else by file size),
 * except that the files listed here start first. They spend minutes mostly waiting on the wall
 * clock (grants expiring, leases lapsing) while using little CPU: started first, they overlap with
 * the rest of the suite instead of running alone at its end — on a fresh checkout, with no timings
 * cached, their small size would otherwise put them last.
 */
import Sequencer from "@jest/test-sequencer";

const WAITS_ON_THE_CLOCK = ["test/replicas/replicas.e2e.test.ts"];

export default class StartClockBoundFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const first = (t) => WAITS_ON_THE_CLOCK.some((p) => t.path.endsWith(p));
    return [...sorted.filter(first), ...sorted.filter((t) => !first(t))];
  }
}

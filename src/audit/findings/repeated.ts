import { formatDuration } from "../../duration.js";
import { groupBy } from "../group.js";
import { stories } from "./stories.js";
import type { Finding, FindingContext, FindingItem } from "./types.js";

/** Same person, same resource and role, more than N times within a window: a standing need or a tooling gap. */
export function repeatedAccess(ctx: FindingContext): Finding {
  const { threshold, windowMs } = ctx.options.repeat;
  const groups = groupBy(stories(ctx.rows), ([first]) =>
    first.requester === null || first.resource === null || first.role === null
      ? undefined
      : `${first.requester.toLowerCase()}\0${first.resource}\0${first.role}`,
  );
  const items: FindingItem[] = [];
  for (const group of groups.values()) {
    const starts = group.map((s) => Date.parse(s[0].granted_at));
    const flagged = new Set<number>();
    let most = 0;
    // Two pointers over starts (rows are sorted by granted_at): every window of `windowMs` holding more than `threshold`.
    for (let lo = 0, hi = 0; hi < starts.length; hi++) {
      while (starts[hi] - starts[lo] >= windowMs) lo++;
      const count = hi - lo + 1;
      most = Math.max(most, count);
      if (count > threshold) for (let i = lo; i <= hi; i++) flagged.add(i);
    }
    if (flagged.size === 0) continue;
    const firsts = [...flagged].sort((a, b) => a - b).map((i) => group[i][0]);
    const f = firsts[0];
    items.push({
      summary: `${f.requester} needed ${f.resource}/${f.role} ${firsts.length} times (up to ${most} within ${formatDuration(windowMs)}), ${firsts[0].granted_at} – ${firsts.at(-1)!.granted_at}`,
      grants: firsts.map(ctx.ref),
    });
  }
  return {
    id: "repeated-access",
    title: "Same access needed again and again",
    rule: `more than ${threshold} grants of one resource and role to one person within ${formatDuration(windowMs)} (extensions do not count as new grants)`,
    status: items.length > 0 ? "found" : "clear",
    items,
  };
}

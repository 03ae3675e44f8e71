import { parseDuration } from "../duration.js";
import type { Policy, RoleSpec } from "./types.js";

/** The longest of `measure` over every role of the policy, in ms (0 without a policy). */
function longest(policy: Policy | undefined, measure: (role: RoleSpec) => Array<string | undefined>): number {
  let ms = 0;
  for (const resource of Object.values(policy?.resources ?? {})) {
    for (const role of Object.values(resource.roles)) {
      let sum = 0;
      for (const d of measure(role)) {
        const parsed = d ? parseDuration(d) : undefined;
        if (parsed?.ok) sum += parsed.ms;
      }
      ms = Math.max(ms, sum);
    }
  }
  return ms;
}

/**
 * How far back the history matters: no grant lives longer than the longest `max_duration`
 * (break-glass included), plus a margin for downtime.
 */
export function historyWindowMs(policy: Policy | undefined, marginMs: number): number {
  return (
    Math.max(
      longest(policy, (r) => [r.max_duration]),
      longest(policy, (r) => [r.breakglass?.max_duration]),
    ) + marginMs
  );
}

/** How far back break-glass PRs matter: the longest emergency grant plus its review window, plus a margin. */
export function breakglassWindowMs(policy: Policy | undefined, marginMs: number): number {
  return longest(policy, (r) => (r.breakglass ? [r.breakglass.max_duration, r.breakglass.review_within] : [])) + marginMs;
}

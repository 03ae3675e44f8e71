import { formatDuration } from "../../duration.js";
import { access, gaveAccess, who } from "./stories.js";
import type { Finding, FindingContext, FindingItem } from "./types.js";

/** Access that outlived its expiry: revoked (or still not revoked) more than a threshold after Expires-at. */
export function revocationLag(ctx: FindingContext): Finding {
  const limit = ctx.options.lagMs;
  const now = ctx.options.now.getTime();
  const items: FindingItem[] = [];
  for (const row of ctx.rows) {
    if (row.expires_at === null || !gaveAccess(row)) continue;
    const expires = Date.parse(row.expires_at);
    if (row.status === "revoked" && row.revoked_at !== null) {
      const lag = Date.parse(row.revoked_at) - expires;
      if (lag > limit)
        items.push({
          summary: `${who(row)}'s ${access(row)} was revoked ${formatDuration(lag)} after its expiry (${row.expires_at} → ${row.revoked_at})`,
          grants: [ctx.ref(row)],
        });
    } else if (row.status === "overdue" && now - expires > limit) {
      items.push({
        summary: `${who(row)}'s ${access(row)} expired at ${row.expires_at} and Timebox has recorded no revocation ${formatDuration(now - expires)} later`,
        grants: [ctx.ref(row)],
      });
    }
  }
  return {
    id: "revocation-lag",
    title: "Access that outlived its expiry",
    rule: `Revoked-at more than ${formatDuration(limit)} after Expires-at, or still on the branch that long after expiry`,
    status: items.length > 0 ? "found" : "clear",
    items,
  };
}

import { formatDuration } from "../../duration.js";
import type { AuditRow } from "../types.js";
import { access, pr, stories, who } from "./stories.js";
import type { Finding, FindingContext, FindingItem } from "./types.js";

type ReviewState = "reviewed in time" | "reviewed late" | "reviewed" | "not reviewed" | "review pending" | "no review record";

/** Where a break-glass story stands: its review facts are on its last version that has any. */
function reviewState(story: readonly AuditRow[], now: Date): { state: ReviewState; detail: string } {
  const facts = [...story].reverse().find((r) => r.reviewed_at !== null || r.review_due !== null) ?? story.at(-1)!;
  const { reviewed_at: at, review_due: due } = facts;
  const by = facts.reviewed_by.length > 0 ? ` by ${facts.reviewed_by.join(", ")}` : "";
  if (at !== null && due !== null) {
    const late = Date.parse(at) - Date.parse(due);
    return late <= 0
      ? { state: "reviewed in time", detail: `${by} at ${at}, due ${due}` }
      : { state: "reviewed late", detail: `${by} at ${at}, ${formatDuration(late)} after it was due (${due})` };
  }
  if (at !== null) return { state: "reviewed", detail: `${by} at ${at} (no due time recorded)` };
  if (due !== null)
    return now.getTime() >= Date.parse(due) ? { state: "not reviewed", detail: `; it was due ${due}` } : { state: "review pending", detail: `; due ${due}` };
  return { state: "no review record", detail: " (Timebox has not recorded one yet)" };
}

/** Every break-glass use, and whether the normal approval came in time, late, or never. */
export function breakGlass(ctx: FindingContext): Finding {
  const items: FindingItem[] = [];
  for (const story of stories(ctx.rows)) {
    if (!story.some((r) => r.emergency)) continue;
    const first = story[0];
    const { state, detail } = reviewState(story, ctx.options.now);
    const closed = first.origin === "closed-unmerged" ? ", PR closed unmerged" : "";
    items.push({
      summary: `${who(first)} used break-glass for ${access(first)} (${pr(first)}${closed}) at ${first.granted_at}: ${state}${detail}`,
      grants: story.map(ctx.ref),
    });
  }
  return {
    id: "break-glass",
    title: "Break-glass uses and their review",
    rule: "every emergency grant; reviewed in time means Reviewed-at <= Review-Due",
    status: items.length > 0 ? "found" : "clear",
    items,
  };
}

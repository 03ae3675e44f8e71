import { plural } from "../../markdown.js";
import { gaveAccess, stories } from "./stories.js";
import type { Finding, FindingContext } from "./types.js";

/** Grants whose access ended with no recorded outcome: nobody said whether the access did its job. */
export function missingOutcomes(ctx: FindingContext): Finding {
  const ended = stories(ctx.rows).filter((story) => {
    const last = story.at(-1)!;
    return (last.status === "revoked" || last.status === "removed") && gaveAccess(last) && story.every((r) => r.outcome === null);
  });
  const grants = ended.map((story) => ctx.ref(story.at(-1)!));
  return {
    id: "no-outcome",
    title: "Grants with no recorded outcome",
    rule: "access ended (revoked or removed) and no `/timebox outcome` was recorded for the grant",
    status: grants.length > 0 ? "found" : "clear",
    items: grants.length > 0 ? [{ summary: `${plural(grants.length, "grant")} ended without an outcome`, grants }] : [],
  };
}

import type { Finding, FindingContext, FindingItem } from "./types.js";

/**
 * Commits that carry Timebox's trailers but that Timebox did not make (not authored by the app's
 * bot, or not signed by a trusted key, or — with `--github` — not verified by GitHub as the app's
 * commit): none of their claims (PR, approvers, times, break-glass, outcome) is in the report.
 * A look-alike that would have spoken for a version is listed when that version is in the report;
 * one that speaks for no version (an empty commit) is always listed: it is about the history itself.
 */
export function untrustedRecords(ctx: FindingContext): Finding {
  const inReport = new Set(ctx.rows);
  const items: FindingItem[] = [];
  for (const l of ctx.lookAlikes ?? []) {
    if (l.row && !inReport.has(l.row)) continue;
    const paths = l.paths.join(", ");
    const by = l.author ? ` by ${l.author}` : "";
    items.push({
      summary: `commit ${l.sha.slice(0, 12)} (${l.at}${by}, "${l.subject}") carries Timebox's trailers for ${paths} but ${l.reason}: its claims are ignored${l.row ? "" : " (it speaks for no version in the history)"}`,
      grants: l.row ? [ctx.ref(l.row)] : [],
    });
  }
  return {
    id: "untrusted-records",
    title: "Records not written by Timebox",
    rule: "a commit with Timebox-Grant trailers that is not authored by the app's bot with a signature that verifies with a trusted key (GitHub's web-flow key unless --trusted-key names others)",
    status: items.length > 0 ? "found" : "clear",
    items,
  };
}

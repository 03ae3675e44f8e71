import { tick } from "../markdown.js";
import type { OutcomeResult, RevokeCommandResult } from "./commands.js";

/** The thread's answer to `/timebox revoke`. A successful revoke is answered by the revoked comment itself. */
export function revokeReply(login: string, result: RevokeCommandResult): string | undefined {
  if (result.kind === "none") {
    return `${tick(login)}: nothing to revoke — this pull request has no grant active on the default branch.`;
  }
  const lines: string[] = [];
  for (const { path, mayRevoke } of result.refused) {
    lines.push(
      `${tick(login)} may not revoke ${tick(path)}. Only its requester, an eligible approver of its role, or a policy owner may: ${mayRevoke.map(tick).join(", ")}.`,
    );
  }
  for (const path of result.failed) {
    lines.push(`Timebox could not revoke ${tick(path)} now (details in the app's logs); it is still active. Try \`/timebox revoke\` again.`);
  }
  return lines.length ? lines.join("\n\n") : undefined;
}

/** The thread's answer to `/timebox outcome`. */
export function outcomeReply(login: string, result: OutcomeResult): string {
  if (result.kind === "missing") return `${tick(login)}: say what happened after the command, e.g. \`/timebox outcome found the slow query, fixed in CHG-42\`.`;
  if (result.kind === "none") return `${tick(login)}: no grant of this pull request has ended yet; answer \`/timebox outcome\` after Timebox revokes it.`;
  const lines = result.recorded.map(({ path, sha }) =>
    sha
      ? `Recorded the outcome of ${tick(path)} in ${sha}, for the audit.`
      : `Branch rules refused Timebox's commit, so the outcome of ${tick(path)} is kept in this thread only.`,
  );
  for (const { path, mayAnswer } of result.refused) {
    lines.push(`${tick(login)} may not record the outcome of ${tick(path)}; its requester or a policy owner may: ${mayAnswer.map(tick).join(", ")}.`);
  }
  return lines.join("\n\n");
}

import type { Context } from "probot";
import { Gateway } from "../github/gateway.js";
import { markersIn } from "../github/issues.js";
import { writtenBySelf } from "../github/self.js";
import { tick } from "../markdown.js";
import { parseOutcomeCommand } from "../commands/outcome.js";
import type { AppDeps } from "./deps.js";
import { handleRequestComment } from "./request.js";

/** `/timebox revoke [reason]` on the comment's first line: the reason, or undefined when it is no such command. */
function parseRevokeCommand(body: string): { reason?: string } | undefined {
  const first = body.replace(/^\s+/, "").split(/\r?\n/)[0].trim();
  const m = /^\/timebox\s+revoke(?:\s+(.*))?$/i.exec(first);
  if (!m) return undefined;
  const reason = m[1]?.trim();
  return reason ? { reason } : {};
}

/**
 * A new comment on a PR (or, for `/timebox request`, on an issue). Only `created` is subscribed: an edited comment never runs a command
 * (it could rewrite a harmless comment into one after the fact). Bots' comments are ignored.
 */
export function onIssueCommentCreated(deps: AppDeps) {
  return async (context: Context<"issue_comment.created">): Promise<void> => {
    const { comment, issue, installation } = context.payload;
    if (context.payload.action !== "created") return;
    if (!installation?.id) return;
    if (comment.user?.type === "Bot" || context.payload.sender?.type === "Bot") return;
    const login = comment.user?.login;
    if (!login) return;
    // `/timebox request` on an issue opens a request PR (handlers/request.ts); everything else here is a PR command.
    if (await handleRequestComment(deps, context, login)) return;
    if (!issue.pull_request) return;
    const { owner, repo } = context.repo();
    const outcome = parseOutcomeCommand(comment.body ?? "");
    if (outcome) {
      const reply =
        "missing" in outcome
          ? `${tick(login)}: say what happened after the command, e.g. \`/timebox outcome found the slow query, fixed in CHG-42\`.`
          : outcomeReply(
              login,
              await deps.lifecycle.recordOutcome({ installationId: installation.id, owner, repo }, context.octokit, issue.number, login, outcome.text),
            );
      await new Gateway(context.octokit, { owner, repo }, await deps.self()).issues.comment(issue.number, reply);
      return;
    }
    const command = parseRevokeCommand(comment.body ?? "");
    if (!command) return;
    const result = await deps.lifecycle.revokeByCommand({ installationId: installation.id, owner, repo }, context.octokit, issue.number, login);
    context.log.info({ repo: `${owner}/${repo}`, pr: issue.number, login, reason: command.reason }, "/timebox revoke handled");
    const reply = replyFor(login, result);
    if (reply) await new Gateway(context.octokit, { owner, repo }, await deps.self()).issues.comment(issue.number, reply);
  };
}

/**
 * Someone edited one of this app's comments (anyone with write access can): logged, loudly when
 * the edit touched a marker. Nothing depends on seeing it — the app may be down during the edit —
 * since a changed marker loses its seal and is no longer read back (github/seal.ts).
 */
export function onIssueCommentEdited(deps: Pick<AppDeps, "self">) {
  return async (context: Context<"issue_comment.edited">): Promise<void> => {
    const { comment, issue, sender, changes } = context.payload;
    const self = await deps.self();
    if (!writtenBySelf(self, comment) || sender?.login?.toLowerCase() === self.botLogin.toLowerCase()) return;
    const before = markersIn(changes.body?.from ?? "").join("\n");
    const after = markersIn(comment.body ?? "").join("\n");
    const { owner, repo } = context.repo();
    const facts = { repo: `${owner}/${repo}`, issue: issue.number, comment: comment.id, editor: sender?.login };
    if (before !== after) context.log.error(facts, "someone edited the markers of a Timebox comment; edited markers are not read back (they lose their seal)");
    else context.log.warn(facts, "someone edited a Timebox comment");
  };
}

type Result = Awaited<ReturnType<AppDeps["lifecycle"]["revokeByCommand"]>>;

/** The thread's answer. A successful revoke is answered by the revoked comment itself. */
function replyFor(login: string, result: Result): string | undefined {
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
function outcomeReply(login: string, result: Awaited<ReturnType<AppDeps["lifecycle"]["recordOutcome"]>>): string {
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

import type { Context } from "probot";
import { markersIn } from "../github/issues.js";
import { writtenBySelf } from "../github/self.js";
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
    const target = { installationId: installation.id, owner, repo };
    const command = { id: comment.id, createdAt: comment.created_at, login };
    const outcome = parseOutcomeCommand(comment.body ?? "");
    if (outcome) {
      await deps.lifecycle.recordOutcome(target, context.octokit, issue.number, command, "text" in outcome ? outcome.text : undefined);
      return;
    }
    const revoke = parseRevokeCommand(comment.body ?? "");
    if (!revoke) return;
    const result = await deps.lifecycle.revokeByCommand(target, context.octokit, issue.number, command);
    context.log.info({ repo: `${owner}/${repo}`, pr: issue.number, login, reason: revoke.reason, repeated: result === "repeated" }, "/timebox revoke handled");
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

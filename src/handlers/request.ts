import type { Context } from "probot";
import { openAccessRequest } from "../commands/request.js";
import { parseRequestCommand, parseRequestForm, type ParsedRequest } from "../commands/request-parse.js";
import { onPullRequestReply, usageReply } from "../commands/request-reply.js";
import { Gateway } from "../github/gateway.js";
import type { RepoRef } from "../github/types.js";
import { sameLogin } from "../policy/principals.js";
import type { AppDeps } from "./deps.js";
import { review, savingForRevocation } from "./pull-request.js";

/**
 * `/timebox request …` in a new comment. True when the comment was a request command (handled
 * here, answered on the thread), false when it is something else. On a pull request it is only
 * answered with where to ask.
 */
export async function handleRequestComment(deps: AppDeps, context: Context<"issue_comment.created">, login: string): Promise<boolean> {
  const { comment, issue } = context.payload;
  const parsed = parseRequestCommand(comment.body ?? "");
  if (!parsed) return false;
  const repo = context.repo();
  if (issue.pull_request) {
    await new Gateway(context.octokit, repo, await deps.self()).issues.comment(issue.number, onPullRequestReply(login));
    return true;
  }
  await request(deps, context, repo, login, issue.number, parsed, `${repo.owner}/${repo.repo} comment ${comment.id}`);
  return true;
}

/**
 * An issue opened with the request form (`.github/ISSUE_TEMPLATE/timebox-request.yml`): its
 * opener (GitHub's `user`, never a field of the form) is the requester. Only `opened` is
 * subscribed: editing the issue afterwards never requests anything. GitHub also sends `opened`
 * for an issue transferred here from another repository (`changes.old_issue`), with the mover as
 * `sender` and the original author as `user`: the author did not ask here — the mover, or anyone
 * with write access there, may have rewritten the body — so only an issue its author opened here
 * (the `sender` is its `user`) is a request.
 */
export function onIssueOpened(deps: AppDeps) {
  return async (context: Context<"issues.opened">): Promise<void> => {
    const { issue, installation, sender, changes } = context.payload;
    if (context.payload.action !== "opened" || !installation?.id) return;
    if (issue.user?.type === "Bot" || sender?.type === "Bot" || !issue.user?.login) return;
    if (changes?.old_issue || !sender?.login || !sameLogin(sender.login, issue.user.login)) return;
    const parsed = parseRequestForm(issue.body ?? "");
    if (!parsed) return;
    const repo = context.repo();
    await request(deps, context, repo, issue.user.login, issue.number, parsed, `${repo.owner}/${repo.repo} issue ${issue.id}`);
  };
}

async function request(deps: AppDeps, context: Context, repo: RepoRef, login: string, issue: number, parsed: ParsedRequest, seed: string): Promise<void> {
  const gw = new Gateway(context.octokit, repo, await deps.self());
  if ("problem" in parsed) {
    await gw.issues.comment(issue, usageReply(login, parsed.problem));
    return;
  }
  // Opening a PR spends the installation's budget: not while it is down to the share kept for revocation.
  if (savingForRevocation(deps, context)) return;
  // One request at a time per person and repository, so two comments cannot both pass the one-open-PR rule.
  const outcome = await deps.queue.run(`${repo.owner}/${repo.repo} request ${login.toLowerCase()}`, () =>
    openAccessRequest(
      gw,
      { login, issue, input: parsed.input, seed },
      {
        providers: deps.providers,
        log: context.log,
        judge: (number) => deps.queue.run(`${repo.owner}/${repo.repo}#${number}`, () => review(context, deps, number)),
      },
    ),
  );
  context.log.info({ repo: `${repo.owner}/${repo.repo}`, issue, login, outcome: outcome.kind }, "/timebox request handled");
  if (outcome.reply) await gw.issues.comment(issue, outcome.reply);
}

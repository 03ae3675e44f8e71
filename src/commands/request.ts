import type { Gateway } from "../github/gateway.js";
import { checkGrantFile, requesterTeamQueries } from "../grants/check.js";
import type { GrantFile } from "../grants/types.js";
import { checkPolicyFile } from "../policy/check.js";
import { POLICY_PATH } from "../policy/types.js";
import { trustedPolicyAt } from "../lifecycle/policy-trust.js";
import { lookUpMemberships } from "../pull-request/context.js";
import { REQUEST_CHECK, REQUESTED_BY_PREFIX } from "../pull-request/requested.js";
import { requestBranch, requestBranchPrefix, requestGrantPath, requestGrantText, requestId } from "./request-grant.js";
import type { RequestInput } from "./request-parse.js";
import { alreadyOpenReply, noPolicyReply, openedReply, refusedReply, requestPullBody } from "./request-reply.js";

/** One request: who asked (a GitHub-set login), from which issue, and a seed unique to the comment or issue. */
export interface AccessRequest {
  login: string;
  issue: number;
  input: RequestInput;
  /** Unique per comment or form issue: the request's id (and branch) derive from it, so a redelivery finds its own PR. */
  seed: string;
}

export interface RequestDeps {
  providers: ReadonlyMap<string, readonly string[]>;
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** Judges a PR once it is open (the usual checks and plan comment). */
  judge: (number: number) => Promise<unknown>;
}

/** What happened, and the reply for the issue (none when a redelivery found the PR it already opened). */
export type RequestOutcome =
  { kind: "opened"; number: number; reply: string } | { kind: "exists"; number: number; reply?: string } | { kind: "refused"; reply: string };

/**
 * Opens the pull request for an access request, as if the requester had written the grant file:
 * the file is judged first by the one grant rule (`checkGrantFile`) against the default branch's
 * policy, with the requester as author, exactly as `timebox/validate` will judge the PR. A refusal
 * changes nothing on GitHub but the reply. One open request PR per (requester, resource, role).
 */
export async function openAccessRequest(gw: Gateway, req: AccessRequest, deps: RequestDeps): Promise<RequestOutcome> {
  const { login, input } = req;
  const branch = await gw.commits.defaultBranch();
  const tip = await gw.commits.branchTip(branch);
  const policyText = (await trustedPolicyAt(gw, tip, branch, deps.providers)).text;
  const policy = policyText === undefined ? undefined : checkPolicyFile(POLICY_PATH, policyText, { providers: deps.providers }).policy;
  if (!policy) return { kind: "refused", reply: noPolicyReply(login, branch) };

  const id = requestId(req.seed);
  const path = requestGrantPath(policy.grants_path, login, input, id);
  const text = requestGrantText(login, input, req.issue);
  const file: Partial<GrantFile> = { requester: login, resource: input.resource, role: input.role };
  const isMember = await lookUpMemberships(gw, requesterTeamQueries(file, policy), deps.log);
  const verdict = checkGrantFile(path, text, { policy, author: login, entryKind: "file", isMember, uncheckedTeams: "error" });
  if (!verdict.valid || !verdict.role) return { kind: "refused", reply: refusedReply(login, input, verdict.diagnostics, policy) };

  const name = requestBranch(login, input, id);
  const open = await gw.requests.openRequestPulls(branch, requestBranchPrefix(login, input.resource, input.role));
  if (open.length > 0) {
    const pr = open[0];
    // The same comment delivered again: its PR is open and was answered already.
    return { kind: "exists", number: pr.number, reply: pr.headRef === name ? undefined : alreadyOpenReply(login, pr, input) };
  }

  const sha = await gw.requests.commitOnNewBranch(name, tip, path, text, `Request ${input.resource}/${input.role} for ${login} (#${req.issue})`);
  // The record that makes this PR the requester's: a check run only this app can write, on this commit.
  await gw.checks.writeCheckRun({
    name: REQUEST_CHECK,
    headSha: sha,
    status: "completed",
    conclusion: "neutral",
    externalId: `${REQUESTED_BY_PREFIX}${login}`,
    output: {
      title: `Requested by ${login}`,
      summary: `Timebox wrote this commit for the request in #${req.issue}; ${login} is its requester and cannot approve it. A push by anyone else replaces this commit and makes the pusher the author whose rights count.`,
    },
  });
  const pr = await gw.requests.openPull(
    name,
    branch,
    `Access request: ${input.resource}/${input.role} for ${login}, ${input.duration}`,
    requestPullBody(login, input, req.issue, path),
  );
  deps.log?.info({ pr: pr.number, issue: req.issue, login, resource: input.resource, role: input.role }, "request pull request opened");
  await deps.judge(pr.number);
  return { kind: "opened", number: pr.number, reply: openedReply(login, pr, input, verdict.role) };
}

import { isError, type Diagnostic } from "../diagnostics.js";
import { code, tick } from "../markdown.js";
import type { Policy, RoleSpec } from "../policy/types.js";
import type { RequestInput } from "./request-parse.js";
import { REQUEST_USAGE } from "./request-parse.js";

/**
 * Timebox's answers to a request, on the issue. Values people typed are shown inert (`code`,
 * `prose`); policy names and GitHub logins as code spans too.
 */

const USAGE = `Usage: \`${REQUEST_USAGE}\`, e.g. \`/timebox request prod-db readonly 2h investigate slow checkout queries ticket:INC-1234\`.`;

export function usageReply(login: string, problem: string): string {
  return `${tick(login)}: this is not a request Timebox can read: ${problem}.\n\n${USAGE}`;
}

export function noPolicyReply(login: string, branch: string): string {
  return `${tick(login)}: Timebox cannot take requests here now: the policy \`.github/timebox.yml\` on ${tick(branch)} is missing or invalid. Ask a policy owner to fix it.`;
}

/** A refusal: what is wrong (the grant file rules' own words) and what the policy would allow. */
export function refusedReply(login: string, input: RequestInput, diagnostics: readonly Diagnostic[], policy: Policy): string {
  const problems = diagnostics.filter(isError).map((d) => `- ${d.message}`);
  return [
    `${tick(login)}: Timebox did not open a pull request for ${code(input.resource)} / ${code(input.role)} for ${code(input.duration)}:`,
    "",
    ...problems,
    "",
    allowed(policy, input.resource),
    "",
    USAGE,
  ].join("\n");
}

/** What the policy allows: the roles of `resource` (or every resource's, when it has no such resource), and the ticket rule. */
function allowed(policy: Policy, resource: string): string {
  const known = Object.hasOwn(policy.resources, resource) ? [resource] : Object.keys(policy.resources);
  const lines = ["**What the policy allows**", "", "| resource | role | at most | approved by |", "|---|---|---|---|"];
  for (const name of known) {
    for (const [roleName, role] of Object.entries(policy.resources[name].roles)) {
      lines.push(`| ${tick(name)} | ${tick(roleName)} | ${role.max_duration} | ${approvers(role)} |`);
    }
  }
  lines.push("");
  lines.push(
    policy.ticket_pattern
      ? `A ticket is required, matching ${code(policy.ticket_pattern)}: add \`ticket:<id>\` to the command (or fill in the form's Ticket field).`
      : "No ticket is required.",
  );
  if (policy.requesters) lines.push(`Who may request: ${policy.requesters.map(tick).join(", ")}.`);
  return lines.join("\n");
}

const approvers = (role: RoleSpec): string => `${role.approvals ?? 1} of ${role.approvers.map(tick).join(", ")}`;

export function openedReply(login: string, pr: { number: number }, input: RequestInput, role: RoleSpec): string {
  return [
    `${tick(login)}: Timebox opened #${pr.number} for your request: ${tick(input.resource)} / ${tick(input.role)} for ${code(input.duration)}.`,
    "",
    `It needs ${approvers(role)} to approve it on GitHub; the requester's own review never counts. When it merges, Timebox grants the access, and takes it away when the time is up.`,
  ].join("\n");
}

export function alreadyOpenReply(login: string, pr: { number: number }, input: Pick<RequestInput, "resource" | "role">): string {
  return `${tick(login)}: you already have an open request for ${tick(input.resource)} / ${tick(input.role)}: #${pr.number}. Close it first to ask again (or extend the grant once it is merged).`;
}

export function onPullRequestReply(login: string): string {
  return `${tick(login)}: requests are made from an issue, not a pull request: open an issue (there is a "Timebox access request" form) or comment \`/timebox request …\` on one.`;
}

/** The body of the PR Timebox opens: what is asked, by whom, from which issue. */
export function requestPullBody(login: string, input: RequestInput, issue: number, path: string): string {
  return [
    `Access request by ${tick(login)}, opened by Timebox from #${issue}.`,
    "",
    "| | |",
    "|---|---|",
    `| resource | ${tick(input.resource)} |`,
    `| role | ${tick(input.role)} |`,
    `| duration | ${code(input.duration)} |`,
    `| reason | ${code(input.reason, 500).replace(/\|/g, "\\|")} |`,
    ...(input.ticket !== undefined ? [`| ticket | ${code(input.ticket)} |`] : []),
    `| grant file | ${tick(path)} |`,
    "",
    `The requester's own review never counts. A push to this branch by anyone else makes them the author whose rights count.`,
    "",
    `Closes #${issue}`,
  ].join("\n");
}

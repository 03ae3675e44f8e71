/** Driving `/timebox request` and the request issue form on the emulated GitHub. */
import { createIssue } from "../harness/github/ops.js";
import * as render from "../harness/github/render.js";
import type { GitHubEmulator } from "../harness/github/index.js";
import type { ActionResult } from "../harness/github/repo-handle.js";
import type { PullRequest } from "../harness/github/state.js";

/**
 * An issue opened by `author` (the `issues.opened` webhook GitHub sends), with `.number`. With
 * `transferredBy`, the issue was written by `author` in another repository and moved here by that
 * person: GitHub then sends `issues.opened` here with the mover as `sender`, the original author as
 * the issue's `user`, and the old issue under `changes`.
 */
export function openIssue(gh: GitHubEmulator, opts: { author: string; title?: string; body: string; transferredBy?: string }): ActionResult {
  const handle = gh.repo();
  const r = handle.repo;
  const i = createIssue(gh.state, r, { title: opts.title ?? "Access request", body: opts.body, user: gh.state.user(opts.author).login });
  const issue = render.issue(gh.state, r, i);
  const payload = {
    action: "opened",
    issue,
    ...(opts.transferredBy
      ? {
          changes: {
            old_issue: { ...issue, number: 7, repository_url: `${gh.state.api}/repos/acme/elsewhere` },
            old_repository: { full_name: "acme/elsewhere" },
          },
        }
      : {}),
    repository: render.repo(gh.state, r),
    sender: render.user(gh.state, opts.transferredBy ?? opts.author),
    installation: { id: r.installationId },
  };
  return Object.assign([{ event: "issues", payload }], { number: i.number });
}

/** The body GitHub writes for the request issue form (one `### <label>` section per field). */
export function formBody(fields: { resource: string; role: string; duration: string; reason: string; ticket?: string }): string {
  return [
    ["Resource", fields.resource],
    ["Role", fields.role],
    ["Duration", fields.duration],
    ["Reason", fields.reason],
    ["Ticket", fields.ticket ?? "_No response_"],
  ]
    .map(([label, value]) => `### ${label}\n\n${value}`)
    .join("\n\n");
}

/** Pull requests of the repository, oldest first. */
export function pulls(gh: GitHubEmulator): PullRequest[] {
  return [...gh.repo().repo.pulls.values()].sort((a, b) => a.number - b.number);
}

/** Bodies of the comments on an issue or PR. */
export const commentBodies = (gh: GitHubEmulator, n: number): string[] => gh.comments(n).map((c: { body: string }) => c.body);

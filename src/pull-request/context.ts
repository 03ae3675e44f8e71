import { httpStatus } from "../github/errors.js";
import type { Gateway } from "../github/gateway.js";
import type { ExistingCheckRun } from "../github/types.js";
import type { MembershipLookup } from "../policy/principals.js";
import { parseTeam, scheduleOf } from "../policy/principals.js";
import { defaultDirectory, type OnCallDirectory } from "../oncall/directory.js";
import { onCallMoments, type OnCallFacts } from "../oncall/facts.js";
import { needsSchedules, readSchedules } from "../oncall/resolve.js";
import { recordsOf } from "../records/breakglass.js";
import type { PullRequestSnapshot } from "./gather.js";
import { pusherIn, recordedPusher } from "./pushes.js";

/**
 * Who pushed the head commit: told only by the push's webhook (`sender`), and remembered on the
 * validate check run for that commit. Unknown otherwise — never guessed from the commit's author,
 * which anyone can forge with a git e-mail address; the evaluator then counts no approval.
 */
export function headPusher(
  headSha: string,
  pushed: { login: string; headSha: string } | undefined,
  validateRun: ExistingCheckRun | undefined,
): string | undefined {
  if (pushed && pushed.headSha === headSha) return pushed.login;
  return pusherIn(validateRun);
}

/**
 * `headPusher`, and when neither this process nor the validate run knows, this app's push record
 * on the commit (`PUSH_CHECK`; another app's run of that name is never read): the one rule for
 * the pusher, used when a PR is judged and when its merge is.
 */
export async function readHeadPusher(
  gw: Gateway,
  headSha: string,
  pushed: { login: string; headSha: string } | undefined,
  validateRun: ExistingCheckRun | undefined,
): Promise<string | undefined> {
  return headPusher(headSha, pushed, validateRun) ?? (await recordedPusher(gw, headSha));
}

/** Reads each (login, team) membership once; a lookup that fails stays unknown (never a pass). */
export async function lookUpMemberships(
  gateway: Gateway,
  needs: Array<{ login: string; team: string }>,
  log?: { warn(obj: object, msg: string): void },
): Promise<MembershipLookup> {
  const key = (login: string, team: string) => `${login.toLowerCase()} ${team.toLowerCase()}`;
  const memberships = new Map<string, boolean>();
  for (const { login, team } of needs) {
    if (scheduleOf(team)) continue; // an on-call schedule: read by lookUpOnCall, never asked of GitHub
    const { org, slug } = parseTeam(team);
    try {
      memberships.set(key(login, team), await gateway.teams.isTeamMember(org, slug, login));
    } catch (error) {
      log?.warn({ team, status: httpStatus(error) }, "team membership lookup failed");
    }
  }
  return (login, team) => memberships.get(key(login, team));
}

/**
 * Reads the on-call schedules the pairs name (none: undefined, nothing read), at the moments the
 * judgement is about: a break-glass requester at the start Timebox recorded on this PR (its own
 * comments only), else `now` (open) or `merged_at` (merged); a reviewer at their review's
 * `submitted_at`. A schedule that cannot be read is a fact too: the decision fails closed on it.
 */
export async function lookUpOnCall(
  gateway: Gateway,
  snapshot: Pick<PullRequestSnapshot, "pr" | "reviews">,
  needs: Array<{ login: string; team: string }>,
  now: Date,
  directory: OnCallDirectory = defaultDirectory(),
): Promise<OnCallFacts | undefined> {
  if (!needsSchedules(needs)) return undefined;
  const starts = new Map<string, { at: string; requester: string }>();
  for (const [path, record] of recordsOf(await gateway.issues.ownComments(snapshot.pr.number)))
    starts.set(path, { at: record.grantedAt, requester: record.requester });
  return readSchedules(directory, needs, onCallMoments(snapshot.pr, snapshot.reviews, starts, now));
}

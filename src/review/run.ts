import type { GitHubGateway } from "../github/gateway.js";
import type { CheckRunSpec, ExistingCheckRun } from "../github/types.js";
import { parseTeam } from "../policy/principals.js";
import { decide, DEFAULT_GRANTS_PATH, membershipNeeds, type ReviewDecision } from "./decide.js";
import { gatherPullRequest } from "./gather.js";
import { approvalCheck, APPROVAL_CHECK, planComment, PLAN_MARKER, validateCheck, VALIDATE_CHECK } from "./render.js";
import { checkPolicyFile } from "../policy/check.js";
import { POLICY_PATH } from "../policy/types.js";

export interface ReviewOptions {
  providers: ReadonlyMap<string, readonly string[]>;
  /** From an `opened`/`synchronize` webhook: who pushed which head commit (REST has no "pusher"). */
  pushed?: { login: string; headSha: string };
  log?: { warn(obj: object, msg: string): void };
}

const PUSHER_PREFIX = "pusher:";

/**
 * Re-evaluates a pull request from the state GitHub reports now (not the webhook's snapshot),
 * and reports it: the `timebox/validate` and `timebox/approval` check runs on the head commit and
 * the sticky plan comment. Writes only what changed, so a redelivered webhook writes nothing.
 */
export async function reviewPullRequest(gateway: GitHubGateway, number: number, options: ReviewOptions): Promise<ReviewDecision | undefined> {
  const snapshot = await gatherPullRequest(gateway, number, (policyText) => grantsPathOf(policyText, options.providers));
  const { pr } = snapshot;
  if (pr.state !== "open") return undefined;

  const [existingValidate, existingApproval] = await Promise.all([
    gateway.findCheckRun(pr.headSha, VALIDATE_CHECK),
    gateway.findCheckRun(pr.headSha, APPROVAL_CHECK),
  ]);
  const pusher = await headPusher(gateway, pr.headSha, options.pushed, existingValidate);
  const needs = membershipNeeds(snapshot, { providers: options.providers, pusher });
  const memberships = new Map<string, boolean>();
  for (const { login, team } of needs) {
    const { org, slug } = parseTeam(team);
    try {
      memberships.set(key(login, team), await gateway.isTeamMember(org, slug, login));
    } catch (error) {
      // Left unknown: the decision treats a membership it could not confirm as not given.
      options.log?.warn({ team, status: (error as { status?: number }).status }, "team membership lookup failed");
    }
  }
  const decision = decide(snapshot, { providers: options.providers, pusher, isMember: (login, team) => memberships.get(key(login, team)) });

  await writeIfChanged(gateway, validateCheck(decision, pr.headSha, pusher ? `${PUSHER_PREFIX}${pusher}` : undefined), existingValidate);
  await writeIfChanged(gateway, approvalCheck(decision, pr.headSha), existingApproval);
  await gateway.upsertMarkedComment(pr.number, PLAN_MARKER, planComment(decision));
  return decision;
}

const key = (login: string, team: string) => `${login.toLowerCase()} ${team.toLowerCase()}`;

function grantsPathOf(policyText: string | undefined, providers: ReviewOptions["providers"]): string {
  if (policyText === undefined) return DEFAULT_GRANTS_PATH;
  return checkPolicyFile(POLICY_PATH, policyText, { providers }).policy?.grants_path ?? DEFAULT_GRANTS_PATH;
}

/**
 * Who pushed the head commit: told by the push's webhook, remembered on the validate check run
 * for that commit; failing both, the commit's author as GitHub links it.
 */
async function headPusher(
  gateway: GitHubGateway,
  headSha: string,
  pushed: ReviewOptions["pushed"],
  existing: ExistingCheckRun | undefined,
): Promise<string | undefined> {
  if (pushed && pushed.headSha === headSha) return pushed.login;
  if (existing?.externalId?.startsWith(PUSHER_PREFIX)) return existing.externalId.slice(PUSHER_PREFIX.length);
  return gateway.commitAuthorLogin(headSha);
}

async function writeIfChanged(gateway: GitHubGateway, spec: CheckRunSpec, existing: ExistingCheckRun | undefined): Promise<void> {
  const unchanged =
    existing &&
    existing.status === "completed" &&
    existing.conclusion === spec.conclusion &&
    existing.title === spec.output.title &&
    existing.summary === spec.output.summary &&
    (spec.externalId === undefined || existing.externalId === spec.externalId);
  if (!unchanged) await gateway.writeCheckRun(spec, existing);
}

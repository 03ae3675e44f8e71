import type { Gateway } from "../github/gateway.js";
import type { CheckRunSpec, ExistingCheckRun } from "../github/types.js";

/**
 * Who pushed which commit, as push webhooks (any branch) and `synchronize` events told this
 * process. GitHub's REST API has no "pusher" of a commit, and a commit's author is whatever the
 * pusher's git config says, so this is the only trustworthy source; it is also kept on this app's
 * own `timebox/validate` run (`external_id: pusher:<login>`) so it survives a restart.
 *
 * The first login seen pushing a commit is its pusher: whoever first put that content on GitHub
 * wrote it (or got it out of band, which no server-side fact can show). A later push of the same
 * commit to another branch — e.g. a colleague pointing a new branch at an approver's commit and
 * opening the PR — never replaces it. The opener of a PR is never assumed to have pushed.
 */
export class PushLog {
  private readonly pushers = new Map<string, string>();

  constructor(private readonly maxEntries = 20_000) {}

  /** Remembers `login` as the pusher of each commit not already known. */
  note(commitShas: readonly string[], login: string): void {
    if (!login) return;
    for (const sha of commitShas) {
      const key = sha.toLowerCase();
      if (!key || this.pushers.has(key)) continue;
      this.pushers.set(key, login);
      if (this.pushers.size > this.maxEntries) this.pushers.delete(this.pushers.keys().next().value!);
    }
  }

  /** `login` is the pusher of `sha` on this app's record on GitHub, which outranks what this process saw. */
  settle(sha: string, login: string): void {
    this.pushers.delete(sha.toLowerCase());
    this.note([sha], login);
  }

  pusherOf(sha: string): string | undefined {
    return this.pushers.get(sha.toLowerCase());
  }
}

const logs = new WeakMap<object, PushLog>();

/** The push log of one app instance (keyed by its handler dependencies), created on first use. */
export function pushLogOf(owner: object): PushLog {
  let log = logs.get(owner);
  if (!log) logs.set(owner, (log = new PushLog()));
  return log;
}

/**
 * This app's record of who pushed a commit to a branch, written by whichever replica got the push
 * webhook, so that another replica (or this one after a restart) judging the PR knows it too.
 */
export const PUSH_CHECK = "timebox/push";
/** How a push record and the validate run name the pusher in their `external_id`. */
export const PUSHER_PREFIX = "pusher:";

/** The push record for `sha`: a neutral check run (never a required check) naming the pusher. */
function pushRecord(sha: string, login: string): CheckRunSpec {
  return {
    name: PUSH_CHECK,
    headSha: sha,
    status: "completed",
    conclusion: "neutral",
    externalId: `${PUSHER_PREFIX}${login}`,
    output: {
      title: `Pushed by @${login}`,
      summary: `GitHub's push event says @${login} pushed this commit. Whoever pushed a pull request's head never approves it (docs/approvals.md).`,
    },
  };
}

/** The pusher one of this app's runs names in its `external_id`, if any. */
export function pusherIn(run: Pick<ExistingCheckRun, "externalId"> | undefined): string | undefined {
  const id = run?.externalId;
  return id?.startsWith(PUSHER_PREFIX) ? id.slice(PUSHER_PREFIX.length) : undefined;
}

/** The pusher this app's first push record on `sha` names (a look-alike by another app names nobody). */
export async function recordedPusher(gw: Gateway, sha: string): Promise<string | undefined> {
  return pusherIn(await gw.checks.firstCheckRun(sha, PUSH_CHECK));
}

/**
 * Writes the push record for `sha` unless this app has one there already, and returns the pusher
 * on record: the first one written. Two replicas that got pushes of the same commit at the same
 * moment may both write; the older record wins for both, and for whoever reads it later.
 */
export async function recordPush(gw: Gateway, sha: string, login: string): Promise<string> {
  const recorded = await recordedPusher(gw, sha);
  if (recorded) return recorded;
  await gw.checks.writeCheckRun(pushRecord(sha, login));
  return (await recordedPusher(gw, sha)) ?? login;
}

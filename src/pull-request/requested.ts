import type { Gateway } from "../github/gateway.js";
import type { ExistingCheckRun } from "../github/types.js";
import { sameLogin } from "../policy/principals.js";

/**
 * Pull requests Timebox opens itself for `/timebox request` (and the request issue form).
 *
 * Such a PR's author is this app's bot: a fact GitHub sets, which no person can take (logins with
 * `[bot]` belong to GitHub Apps). Whose request it is, is kept in a record only this app can
 * write: its own check run {@link REQUEST_CHECK} on the commit Timebox made, with
 * `external_id: requested-by:<login>`. A check run cannot be edited by anyone but the app that
 * created it, and is read back only when this app created it (`app.id`).
 *
 * How such a PR is judged:
 *
 * - head is Timebox's commit (the record is on it): the author whose rights count is the commenter
 *   (the grant's requester, always the commenter: nobody can request on behalf of someone else
 *   through the app), and the head's pusher is this app's bot when no push webhook said otherwise.
 * - someone pushed to the branch afterwards (another head, no record on it): that pusher counts as
 *   the author — the requester must then be them, unless the policy allows on-behalf requests —
 *   and, like every last pusher, they cannot approve. With the pusher unknown, the author stays the
 *   bot: a requester is never the bot, so the grant fails validation.
 * - a PR a person opened is judged as always, whatever its body or branch name says.
 */
export const REQUEST_CHECK = "timebox/request";

/** `external_id` of the {@link REQUEST_CHECK} run: `requested-by:<login>`. */
export const REQUESTED_BY_PREFIX = "requested-by:";

/** The requester a {@link REQUEST_CHECK} run of this app records, or undefined. */
function requesterOf(run: ExistingCheckRun | undefined): string | undefined {
  const id = run?.externalId;
  if (!id?.startsWith(REQUESTED_BY_PREFIX)) return undefined;
  const login = id.slice(REQUESTED_BY_PREFIX.length);
  return /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/.test(login) ? login : undefined;
}

/** Whose rights count as the PR's author, and who pushed its head, for judging it. */
export interface PullIdentity {
  author: string;
  pusher?: string;
}

/**
 * The author and pusher a PR is judged with: the PR's own unless this app opened it (see the
 * module comment). Reads one check run, only for PRs this app's bot authored.
 */
export async function identityOf(gw: Gateway, pr: { author: string; headSha: string }, pusher: string | undefined): Promise<PullIdentity> {
  const bot = gw.self.botLogin;
  if (!sameLogin(pr.author, bot)) return { author: pr.author, pusher };
  const requester = requesterOf(await gw.checks.findCheckRun(pr.headSha, REQUEST_CHECK));
  if (requester) return { author: requester, pusher: pusher ?? bot };
  return { author: pusher && !sameLogin(pusher, bot) ? pusher : pr.author, pusher };
}

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

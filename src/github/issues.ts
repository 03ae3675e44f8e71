// Issues and PR conversations: this app's comments and their markers, labels, labelled issues, timeline events.
import type { GitHubClient } from "./client.js";
import { hasStatus } from "./errors.js";
import { sealedMarkers, sealMarkers } from "./seal.js";
import { writtenBySelf } from "./self.js";
import type { LabelledPull, OwnComment } from "./types.js";

/** The hidden markers of a comment that start a line: text a person typed inside a comment never starts one. */
export const markersIn = (body: string): string[] => body.match(/^<!-- timebox:[^>\n]*-->/gm) ?? [];

export class Issues {
  constructor(private readonly c: GitHubClient) {}

  /**
   * This app's comments on a PR with GitHub's creation time (server-set) and their sealed markers,
   * listed once per event. A marker without a valid seal for this repository and PR is not among
   * them: anyone with write access can edit this app's comments (they stay this app's), so a
   * marker changed, added or copied from elsewhere is read as nothing, never as a record.
   */
  ownComments(number: number): Promise<OwnComment[]> {
    return this.c.memo.ownComments.get(String(number), async () => {
      const mine =
        this.c.prefetched.ownComments.get(number) ??
        (await this.c.octokit.paginate(this.c.rest.issues.listComments, { ...this.c.repoRef, issue_number: number, per_page: 100 }))
          .filter((c) => writtenBySelf(this.c.self, c))
          .map((c) => ({ body: c.body ?? "", createdAt: c.created_at }));
      return mine.map((c) => ({ ...c, markers: sealedMarkers(this.c.self.recordKey, this.scope(number), c.body) }));
    });
  }

  /**
   * The hidden `<!-- timebox:… -->` markers of this app's own comments on a PR, sealed by this app
   * for this PR, listed once per event. Never another bot's: a workflow can make
   * `github-actions[bot]` write any text; never an unsealed one: a person with write access can edit ours.
   */
  markers(number: number): Promise<Set<string>> {
    return this.c.memo.markers.get(String(number), async () => new Set((await this.ownComments(number)).flatMap((c) => c.markers)));
  }

  private scope(number: number) {
    return { repo: `${this.c.repoRef.owner}/${this.c.repoRef.repo}`, number };
  }

  async hasMarkedComment(number: number, marker: string): Promise<boolean> {
    return (await this.markers(number)).has(marker);
  }

  /** Comments on a PR or issue, its markers sealed; what this event already listed learns of it. */
  async comment(number: number, body: string): Promise<void> {
    const { data } = await this.c.rest.issues.createComment({
      ...this.c.repoRef,
      issue_number: number,
      body: sealMarkers(this.c.self.recordKey, this.scope(number), body),
    });
    const own = this.c.memo.ownComments.peek(String(number));
    if (own) (await own).push({ body, createdAt: data.created_at, markers: markersIn(body) });
    const known = this.c.memo.markers.peek(String(number));
    if (known) for (const m of markersIn(body)) (await known).add(m);
  }

  /** Finds Timebox's own comment carrying `marker` (a hidden HTML comment). */
  async findMarkedComment(number: number, marker: string): Promise<{ id: number; body: string } | undefined> {
    const comments = await this.c.octokit.paginate(this.c.rest.issues.listComments, { ...this.c.repoRef, issue_number: number, per_page: 100 });
    const mine = comments.find((c) => writtenBySelf(this.c.self, c) && (c.body ?? "").includes(marker));
    return mine ? { id: mine.id, body: mine.body ?? "" } : undefined;
  }

  /** The sticky comment: edited in place when it exists (and only if changed), created otherwise. */
  async upsertMarkedComment(number: number, marker: string, body: string): Promise<void> {
    const existing = await this.findMarkedComment(number, marker);
    if (existing?.body === body) return;
    if (existing) {
      await this.c.rest.issues.updateComment({ ...this.c.repoRef, comment_id: existing.id, body });
    } else {
      await this.c.rest.issues.createComment({ ...this.c.repoRef, issue_number: number, body });
    }
  }

  async addLabel(number: number, label: string): Promise<void> {
    await this.c.rest.issues.addLabels({ ...this.c.repoRef, issue_number: number, labels: [label] });
  }

  /** Pull requests (open or closed) carrying `label`, updated since a time. */
  async labelledPulls(label: string, since: Date): Promise<LabelledPull[]> {
    const items = await this.c.octokit.paginate(this.c.rest.issues.listForRepo, {
      ...this.c.repoRef,
      labels: label,
      state: "all",
      since: since.toISOString(),
      per_page: 100,
    });
    const out: LabelledPull[] = [];
    for (const i of items.filter((i) => i.pull_request)) {
      let mergedAt = i.pull_request?.merged_at;
      // Servers that predate `pull_request.merged_at` in the issues list: ask the PR itself.
      if (mergedAt === undefined && i.state === "closed") mergedAt = (await this.c.rest.pulls.get({ ...this.c.repoRef, pull_number: i.number })).data.merged_at;
      out.push({
        number: i.number,
        open: i.state === "open",
        mergedAt: mergedAt ?? undefined,
        closedAt: i.closed_at ?? undefined,
        author: i.user?.login ?? "",
      });
    }
    return out;
  }

  /**
   * The open issue with `label` that this app opened and whose body carries `marker`. Only this
   * app's own (`writtenBySelf`): anyone with triage rights, or a workflow, can open an issue with
   * the same label and marker, and editing theirs would raise the alert silently, in their hands.
   */
  private async openLabelledIssue(label: string, marker: string) {
    return (await this.ownOpenIssues(label)).find((i) => (i.body ?? "").includes(marker));
  }

  /** The open issues with `label` that this app opened. */
  private async ownOpenIssues(label: string) {
    const open = await this.c.octokit.paginate(this.c.rest.issues.listForRepo, { ...this.c.repoRef, labels: label, state: "open", per_page: 100 });
    return open.filter((i) => !i.pull_request && writtenBySelf(this.c.self, i));
  }

  /** Opens an issue with `label`, or updates the open one this app opened whose body carries `marker`. */
  async upsertLabelledIssue(label: string, marker: string, title: string, body: string): Promise<number> {
    const existing = await this.openLabelledIssue(label, marker);
    if (existing) {
      if (existing.body !== body || existing.title !== title) {
        await this.c.rest.issues.update({ ...this.c.repoRef, issue_number: existing.number, title, body });
      }
      return existing.number;
    }
    const { data } = await this.c.rest.issues.create({ ...this.c.repoRef, title, body, labels: [label] });
    return data.number;
  }

  /** Closes the open issues with `label` this app opened (with `marker`: the one whose body carries it), each with a closing comment. */
  async closeLabelledIssue(label: string, marker: string | undefined, closing: string): Promise<void> {
    for (const issue of await this.ownOpenIssues(label)) {
      if (marker !== undefined && !(issue.body ?? "").includes(marker)) continue;
      await this.c.rest.issues.createComment({ ...this.c.repoRef, issue_number: issue.number, body: closing });
      await this.c.rest.issues.update({ ...this.c.repoRef, issue_number: issue.number, state: "closed" });
    }
  }

  /** When the PR was last reopened, if ever (from its timeline events). */
  async lastReopenedAt(number: number): Promise<string | undefined> {
    try {
      const events = await this.c.octokit.paginate(this.c.rest.issues.listEvents, { ...this.c.repoRef, issue_number: number, per_page: 100 });
      return events
        .filter((e) => e.event === "reopened")
        .map((e) => e.created_at)
        .sort()
        .at(-1);
    } catch (error) {
      // A server without timeline events: the clock counts from the PR's creation.
      if (!hasStatus(error, 404)) throw error;
      return undefined;
    }
  }
}

// Check runs: Timebox's own runs on a commit, read back and written.
import type { GitHubClient } from "./client.js";
import { createdBySelf } from "./self.js";
import type { CheckRunSpec, ExistingCheckRun } from "./types.js";

/** GitHub allows 50 annotations per check-run request; more go in follow-up updates. */
const ANNOTATIONS_PER_REQUEST = 50;

/** A check run as GitHub's REST API lists it, in the shape Timebox reads its own runs back. */
export function existingCheckRun(run: {
  id: number;
  external_id?: string | null;
  status: string;
  conclusion?: string | null;
  output?: { title?: string | null; summary?: string | null; text?: string | null };
}): ExistingCheckRun {
  return {
    id: run.id,
    externalId: run.external_id ?? null,
    status: run.status,
    conclusion: run.conclusion ?? null,
    title: run.output?.title ?? null,
    summary: run.output?.summary ?? null,
    text: run.output?.text ?? null,
  };
}

export class Checks {
  constructor(private readonly c: GitHubClient) {}

  async findCheckRun(headSha: string, name: string): Promise<ExistingCheckRun | undefined> {
    const prefetched = this.c.prefetched.checkRuns.get(`${headSha}\n${name}`);
    if (prefetched !== undefined) return prefetched ?? undefined;
    // Only this app's runs: another app (a workflow) can write a run with the same name on any commit.
    const { data } = await this.c.rest.checks.listForRef({
      ...this.c.repoRef,
      ref: headSha,
      check_name: name,
      app_id: this.c.self.appId,
      filter: "latest",
      per_page: 10,
    });
    const run = data.check_runs.find((c) => c.name === name && createdBySelf(this.c.self, c));
    return run && existingCheckRun(run);
  }

  /**
   * This app's oldest run of `name` on the commit (GitHub's ids only grow), for records where the
   * first one written is the one that counts even if a racing replica wrote another after it.
   */
  async firstCheckRun(headSha: string, name: string): Promise<ExistingCheckRun | undefined> {
    const { data } = await this.c.rest.checks.listForRef({
      ...this.c.repoRef,
      ref: headSha,
      check_name: name,
      app_id: this.c.self.appId,
      filter: "all",
      per_page: 100,
    });
    const runs = data.check_runs.filter((c) => c.name === name && createdBySelf(this.c.self, c));
    const first = runs.reduce<(typeof runs)[number] | undefined>((a, c) => (a && a.id < c.id ? a : c), undefined);
    return first && existingCheckRun(first);
  }

  /** Creates the check run, or updates `existing`; annotations beyond 50 go in follow-up updates. */
  async writeCheckRun(spec: CheckRunSpec, existing?: ExistingCheckRun): Promise<number> {
    const annotations = spec.output.annotations ?? [];
    const first = annotations.slice(0, ANNOTATIONS_PER_REQUEST);
    const body = {
      ...this.c.repoRef,
      name: spec.name,
      status: spec.status,
      ...(spec.conclusion ? { conclusion: spec.conclusion } : {}),
      ...(spec.externalId !== undefined ? { external_id: spec.externalId } : {}),
      output: { title: spec.output.title, summary: spec.output.summary, ...(spec.output.text ? { text: spec.output.text } : {}), annotations: first },
    };
    const id = existing
      ? (await this.c.rest.checks.update({ ...body, check_run_id: existing.id })).data.id
      : (await this.c.rest.checks.create({ ...body, head_sha: spec.headSha })).data.id;
    for (let i = ANNOTATIONS_PER_REQUEST; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) {
      await this.c.rest.checks.update({
        ...this.c.repoRef,
        check_run_id: id,
        output: { title: spec.output.title, summary: spec.output.summary, annotations: annotations.slice(i, i + ANNOTATIONS_PER_REQUEST) },
      });
    }
    return id;
  }

  /**
   * This app's runs named `name` (and its numbered parts `name (2)`, …) on a commit, in part order;
   * undefined when a part is missing. Another app's runs of the same name are never read.
   */
  async ownRunParts(sha: string, name: string): Promise<{ parts: string[]; runs: Array<{ id: number; name: string }> } | undefined> {
    return partsOf(await this.ownRunsOn(sha), name);
  }

  /** This app's latest runs on a commit, as listed (one call). */
  private async ownRunsOn(sha: string): Promise<OwnRun[]> {
    const { data } = await this.c.rest.checks.listForRef({ ...this.c.repoRef, ref: sha, app_id: this.c.self.appId, filter: "latest", per_page: 100 });
    return data.check_runs.filter((c) => createdBySelf(this.c.self, c));
  }

  /**
   * The nearest commit on the first-parent history of `tip` (itself included) carrying this app's
   * runs named `name` (with this app's runs named `alongside` on that commit, when asked), looking
   * at most `limit` commits back: one call per commit looked at, plus
   * one per hundred commits listed.
   */
  async nearestOwnRun(
    tip: string,
    name: string,
    limit: number,
    alongside?: string,
  ): Promise<{ sha: string; parts: string[]; alongside?: string[] } | undefined> {
    const firstParent = new Map<string, string | undefined>();
    let sha: string | undefined = tip;
    for (let looked = 0; sha && looked < limit; looked++) {
      const runs = await this.ownRunsOn(sha);
      const found = partsOf(runs, name);
      // `alongside`: another record written on the same commit, read from the same listing (no extra call).
      const other = alongside ? partsOf(runs, alongside) : undefined;
      if (found) return { sha, parts: found.parts, ...(other ? { alongside: other.parts } : {}) };
      if (!firstParent.has(sha)) {
        const { data } = await this.c.rest.repos.listCommits({ ...this.c.repoRef, sha, per_page: 100 });
        for (const c of data) firstParent.set(c.sha, c.parents[0]?.sha);
      }
      sha = firstParent.get(sha);
    }
    return undefined;
  }

  /** Writes `parts` as this app's runs named `name`, `name (2)`, … on a commit (updated in place when there). */
  async writeOwnRunParts(sha: string, name: string, parts: readonly string[], title: string, summary: string): Promise<void> {
    const existing = (await this.ownRunParts(sha, name))?.runs ?? [];
    for (let i = 0; i < parts.length; i++) {
      const partName = i === 0 ? name : `${name} (${i + 1})`;
      const run = existing.find((r) => r.name === partName);
      const spec: CheckRunSpec = {
        name: partName,
        headSha: sha,
        status: "completed",
        conclusion: "neutral",
        externalId: i === 0 ? `parts:${parts.length}` : "",
        output: { title, summary, text: parts[i] },
      };
      await this.writeCheckRun(spec, run ? { id: run.id, externalId: null, status: "", conclusion: null, title: null, summary: null, text: null } : undefined);
    }
  }
}

type OwnRun = { id: number; name: string; external_id?: string | null; output?: { text?: string | null } };

/** The parts of the runs named `name` (`name`, `name (2)`, …) among a commit's runs, in order; undefined when a part is missing. */
function partsOf(all: readonly OwnRun[], name: string): { parts: string[]; runs: Array<{ id: number; name: string }> } | undefined {
  const runs = all.filter((c) => c.name === name || c.name.startsWith(`${name} (`));
  const first = runs.find((c) => c.name === name);
  const count = Number(/^parts:(\d+)$/.exec(first?.external_id ?? "")?.[1] ?? 0);
  if (!first || count < 1) return undefined;
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const run = runs.find((c) => c.name === (i === 0 ? name : `${name} (${i + 1})`));
    if (!run?.output?.text) return undefined;
    parts.push(run.output.text);
  }
  return { parts, runs: runs.map((c) => ({ id: c.id, name: c.name })) };
}

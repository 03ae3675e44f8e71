import { Ajv } from "ajv";
import type { Gateway } from "../github/gateway.js";
import type { ExistingCheckRun } from "../github/types.js";

export const APPLY_CHECK = "timebox/apply";

/** Per grant version: what the provider said about prior access, and how far the apply got. */
export interface ApplyEntry {
  priorAccess?: Record<string, string>;
  state: "granting" | "applied" | "failed";
  summary?: string;
}

/** One entry as stored; unknown keys are dropped (a newer replica may write more), wrong types refuse the entry. */
const ENTRY_SCHEMA = {
  type: "object",
  required: ["state"],
  additionalProperties: false,
  properties: {
    state: { type: "string", enum: ["granting", "applied", "failed"] },
    priorAccess: { type: "object", maxProperties: 100, propertyNames: { maxLength: 200 }, additionalProperties: { type: "string", maxLength: 1000 } },
    summary: { type: "string", maxLength: 5000 },
  },
} as const;
const validEntry = new Ajv({ allErrors: false, validateFormats: false, removeAdditional: true }).compile<ApplyEntry>(ENTRY_SCHEMA);

/**
 * The entries of an apply record's check-run text (`Timebox's apply record (machine-readable):` and
 * a JSON object of version key → entry). Text that is not such an object yields no entries, as
 * before; an entry of the wrong shape is ignored alone, so the others' prior access is kept.
 */
export function parseApplyRecord(text: string | null | undefined): Record<string, ApplyEntry> {
  // From the first `{` to the last `}` (index look-ups: a regex anchored at the end is quadratic on long text).
  const start = text?.indexOf("{") ?? -1;
  const end = text?.lastIndexOf("}") ?? -1;
  if (!text || start < 0 || end < start) return {};
  let value: unknown;
  try {
    value = JSON.parse(text.slice(start, end + 1));
  } catch {
    return {};
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  // Built with fromEntries: a key like `__proto__` stays a plain key.
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, ApplyEntry] => e[0].length <= 2000 && validEntry(e[1])));
}

/**
 * The apply record lives on a check run on the PR's merge commit: durable, written only by this
 * app, visible to auditors. Prior access is written there *before* the provider is touched.
 */
export class ApplyRecord {
  private constructor(
    private readonly gw: Gateway,
    private readonly mergeSha: string,
    private run: ExistingCheckRun | undefined,
    readonly entries: Record<string, ApplyEntry>,
  ) {
    for (const [key, entry] of Object.entries(entries)) this.track(key, entry);
  }

  /** The record of a merge commit, read once per reconcile however many grants the PR merged. */
  static load(gw: Gateway, mergeSha: string): Promise<ApplyRecord> {
    return gw.memo.applyRecords.get(mergeSha, () => ApplyRecord.read(gw, mergeSha));
  }

  private static async read(gw: Gateway, mergeSha: string): Promise<ApplyRecord> {
    const run = await gw.checks.findCheckRun(mergeSha, APPLY_CHECK);
    return new ApplyRecord(gw, mergeSha, run, parseApplyRecord(run?.text));
  }

  /** Whether the check run exists at all (a crash can come before its first write). */
  get written(): boolean {
    return this.run !== undefined;
  }

  /**
   * What must survive a restart: prior access (it cannot be read again once Timebox has granted)
   * and unfinished applies. Finished entries without prior access are dropped, so a PR with many
   * grants stays under GitHub's 65,535-character limit for the check run's text. Kept up to date
   * entry by entry, so a PR with thousands of grants is not rescanned on every save.
   */
  private readonly durable = new Map<string, ApplyEntry>();
  private readonly unfinished = new Set<string>();
  private readonly failed = new Set<string>();

  private track(key: string, entry: ApplyEntry): void {
    if (entry.priorAccess || entry.state !== "applied") this.durable.set(key, entry);
    else this.durable.delete(key);
    if (entry.state === "applied") this.unfinished.delete(key);
    else this.unfinished.add(key);
    if (entry.state === "failed") this.failed.add(key);
    else this.failed.delete(key);
  }

  async save(key: string, entry: ApplyEntry, summary: string): Promise<void> {
    this.entries[key] = entry;
    this.track(key, entry);
    const done = this.unfinished.size === 0;
    const failed = this.failed.size > 0;
    const id = await this.gw.checks.writeCheckRun(
      {
        name: APPLY_CHECK,
        headSha: this.mergeSha,
        status: done || failed ? "completed" : "in_progress",
        conclusion: done ? "success" : failed ? "failure" : undefined,
        output: {
          title: done ? "Access applied" : failed ? "Access not applied" : "Applying access",
          summary,
          text: `Timebox's apply record (machine-readable):\n${JSON.stringify(Object.fromEntries(this.durable))}`,
        },
      },
      this.run,
    );
    this.run = { id, externalId: null, status: "", conclusion: null, title: null, summary: null, text: null };
  }
}

import type { Gateway } from "../github/gateway.js";
import type { PullRequestInfo, Review, TreeEntry } from "../github/types.js";
import type { EntryKind } from "../grants/check.js";
import { classifyGrantsPathEntry, DEFAULT_MAX_GRANT_FILES } from "../grants/files.js";
import { POLICY_PATH } from "../policy/types.js";
import { MAX_YAML_BYTES } from "../yaml/parse.js";

/** Git modes of non-regular files. */
const MODE_KIND: Record<string, EntryKind> = { "120000": "symlink", "160000": "submodule" };

/** A changed file of the PR that may be a grant, with its content at the head. */
interface ChangedGrantFile {
  path: string;
  kind: EntryKind;
  /** Undefined for symlinks and submodules (their "content" is not a grant), and for a file refused unread. */
  content?: Buffer;
  /** The version on the base when the PR modifies an existing grant (an extension), and its extension count when known. */
  previous?: { content: string | Uint8Array; extensions?: number };
  /** Set when the file was refused without being read (too large from its tree entry, or too many files): why. */
  refused?: { rule: string; message: string };
}

/** A file the PR adds or changes under grants_path that is not a grant (a dot-file, another extension, an unsafe name). */
interface StrayGrantsFile {
  path: string;
  /** Why it is not a grant (see `classifyGrantsPathEntry`). */
  reason: string;
}

/** Everything about a pull request that the review decision needs, read at handling time. */
export interface PullRequestSnapshot {
  pr: PullRequestInfo;
  /** The base branch's current tip: the newest trusted state (a payload's base.sha can be stale). */
  baseSha: string;
  basePolicyText?: string;
  /** The newest policy on the base branch when Timebox does not trust it (`basePolicyText` is then the trusted one before it): its commit and why. */
  untrustedBasePolicy?: { commit: string; reason: string };
  /** The PR's version of the policy, when the PR changes it. */
  headPolicy?: { kind: EntryKind; content?: Buffer; removed: boolean; refused?: { rule: string; message: string } };
  grantFiles: ChangedGrantFile[];
  /** Files under grants_path that are not grants: shown in the plan and failing `timebox/validate`. */
  strays?: StrayGrantsFile[];
  reviews: Review[];
}

export interface GatherLimits {
  /** The policy text a PR is judged by at its base branch's tip (the trusted one, lifecycle/policy-trust.ts); default: the file there. */
  basePolicyAt?: (baseSha: string, baseRef: string) => Promise<{ text?: string; untrusted?: { commit: string; reason: string } }>;
  /** More grant files (and strays) than this in one PR: all refused unread. Default {@link DEFAULT_MAX_GRANT_FILES}. */
  maxGrantFiles?: number;
}

/**
 * Reads a PR's state through the gateway. Which changed files are grants is decided by the one
 * definition, `classifyGrantsPathEntry`, against the base policy's grants_path (default
 * `grants/`). Grants are read as blobs at the head with their tree modes, so a symlink is seen as
 * a symlink rather than followed to some other file's content. Reading is bounded: past
 * `maxGrantFiles` nothing is read at all, and a blob the tree says is over 64 KiB is never
 * downloaded.
 */
export async function gatherPullRequest(
  gateway: Gateway,
  number: number,
  grantsPath: (policyText?: string) => string,
  limits: GatherLimits = {},
): Promise<PullRequestSnapshot> {
  const pr = await gateway.pulls.getPull(number);
  const baseSha = await gateway.commits.branchTip(pr.baseRef);
  const [{ text: basePolicyText, untrusted }, files, reviews] = await Promise.all([
    limits.basePolicyAt
      ? limits.basePolicyAt(baseSha, pr.baseRef)
      : gateway.contents.readFile(baseSha, POLICY_PATH).then((text) => ({ text, untrusted: undefined })),
    gateway.pulls.listPullFiles(number),
    gateway.pulls.listReviews(number),
  ]);
  const dir = grantsPath(basePolicyText);
  const present = files.filter((f) => f.status !== "removed");
  const classified = present.map((f) => ({ f, c: classifyGrantsPathEntry(f.path, dir) }));
  const candidates = classified.filter((x) => x.c.kind === "grant").map((x) => x.f);
  const strays = classified.filter((x) => x.c.kind === "not-a-grant").map((x) => ({ path: x.f.path, reason: x.c.reason! }));
  const policyFile = files.find((f) => f.path === POLICY_PATH || f.previousPath === POLICY_PATH);

  const cap = limits.maxGrantFiles ?? DEFAULT_MAX_GRANT_FILES;
  const judged = candidates.length + strays.length;
  if (judged > cap) {
    // Refused unread: a PR cannot make Timebox spend its API budget (or memory) on thousands of files.
    const message = `not read: this pull request adds or changes ${judged} files under \`${dir}\`, more than the ${cap} Timebox checks in one pull request (TIMEBOX_MAX_GRANT_FILES); split it into smaller pull requests`;
    const grantFiles = candidates.map((f): ChangedGrantFile => ({ path: f.path, kind: "file", refused: { rule: "grant.too-many-files", message } }));
    const headPolicy = policyFile
      ? {
          kind: "file" as const,
          removed: policyFile.status === "removed" || policyFile.path !== POLICY_PATH,
          refused: { rule: "grant.too-many-files", message },
        }
      : undefined;
    return { pr, baseSha, basePolicyText, ...(untrusted ? { untrustedBasePolicy: untrusted } : {}), headPolicy, grantFiles, strays, reviews };
  }

  const needsModes = candidates.length > 0 || (policyFile && policyFile.status !== "removed");
  const entries = needsModes
    ? await entriesOf(gateway, pr.headSha, [...candidates.map((f) => f.path), ...(policyFile ? [POLICY_PATH] : [])])
    : new Map<string, TreeEntry>();

  const grantFiles = await Promise.all(
    candidates.map(async (f): Promise<ChangedGrantFile> => {
      const entry = entries.get(f.path);
      const kind = MODE_KIND[entry?.mode ?? ""] ?? "file";
      const refused = kind === "file" ? tooLarge(entry) : undefined;
      const content = kind === "file" && f.sha && !refused ? await gateway.contents.readBlob(f.sha) : undefined;
      const before = f.status === "modified" && !refused ? await gateway.contents.readFile(baseSha, f.path) : undefined;
      return { path: f.path, kind, content, ...(refused ? { refused } : {}), ...(before !== undefined ? { previous: { content: before } } : {}) };
    }),
  );
  let headPolicy: PullRequestSnapshot["headPolicy"];
  if (policyFile) {
    const removed = policyFile.status === "removed" || policyFile.path !== POLICY_PATH;
    const entry = entries.get(POLICY_PATH);
    const kind = MODE_KIND[entry?.mode ?? ""] ?? "file";
    const refused = !removed && kind === "file" ? tooLarge(entry) : undefined;
    headPolicy = {
      kind,
      removed,
      ...(refused ? { refused } : {}),
      content: !removed && !refused && kind === "file" && policyFile.sha ? await gateway.contents.readBlob(policyFile.sha) : undefined,
    };
  }
  return { pr, baseSha, basePolicyText, ...(untrusted ? { untrustedBasePolicy: untrusted } : {}), headPolicy, grantFiles, strays, reviews };
}

/** A blob the tree says is over the YAML size limit: refused from its size, never downloaded. */
function tooLarge(entry: TreeEntry | undefined): ChangedGrantFile["refused"] {
  if (entry?.size === undefined || entry.size <= MAX_YAML_BYTES) return undefined;
  return { rule: "yaml.too-large", message: `file is ${entry.size} bytes; at most ${MAX_YAML_BYTES} bytes (64 KiB) are allowed (not downloaded)` };
}

/** Tree entries (mode, size) of `paths` at a commit, reading only the trees of the folders involved. */
async function entriesOf(gateway: Gateway, sha: string, paths: string[]): Promise<Map<string, TreeEntry>> {
  const dirs = [...new Set(paths.map((p) => p.slice(0, p.lastIndexOf("/") + 1)))];
  // One recursive read of the shallowest common folder keeps this at a few calls per PR.
  const common = dirs.reduce((a, b) => commonPrefix(a, b));
  const entries = await gateway.contents.treeEntries(sha, common.replace(/\/$/, ""));
  return new Map(entries.map((e) => [e.path, e]));
}

function commonPrefix(a: string, b: string): string {
  const as = a.split("/");
  const bs = b.split("/");
  const out: string[] = [];
  for (let i = 0; i < Math.min(as.length, bs.length) && as[i] === bs[i]; i++) out.push(as[i]);
  return out.length ? `${out.join("/")}/`.replace(/\/+$/, "/") : "";
}

import type { GitHubGateway } from "../github/gateway.js";
import type { PullRequestInfo, Review } from "../github/types.js";
import type { EntryKind } from "../grants/check.js";
import { POLICY_PATH } from "../policy/types.js";

/** Git modes of non-regular files. */
const MODE_KIND: Record<string, EntryKind> = { "120000": "symlink", "160000": "submodule" };

/** A changed file of the PR that may be a grant, with its content at the head. */
export interface ChangedGrantFile {
  path: string;
  kind: EntryKind;
  /** Undefined for symlinks and submodules (their "content" is not a grant). */
  content?: Buffer;
  /** The version on the base when the PR modifies an existing grant (an extension), and its extension count when known. */
  previous?: { content: string | Uint8Array; extensions?: number };
}

/** Everything about a pull request that the review decision needs, read at handling time. */
export interface PullRequestSnapshot {
  pr: PullRequestInfo;
  /** The base branch's current tip: the newest trusted state (a payload's base.sha can be stale). */
  baseSha: string;
  basePolicyText?: string;
  /** The PR's version of the policy, when the PR changes it. */
  headPolicy?: { kind: EntryKind; content?: Buffer; removed: boolean };
  grantFiles: ChangedGrantFile[];
  reviews: Review[];
}

/**
 * Reads a PR's state through the gateway. Grant files are recognised by the base policy's
 * grants_path (default `grants/`), read as blobs at the head with their tree modes, so a
 * symlink is seen as a symlink rather than followed to some other file's content.
 */
export async function gatherPullRequest(gateway: GitHubGateway, number: number, grantsPath: (policyText?: string) => string): Promise<PullRequestSnapshot> {
  const pr = await gateway.getPull(number);
  const baseSha = await gateway.branchTip(pr.baseRef);
  const [basePolicyText, files, reviews] = await Promise.all([
    gateway.readFile(baseSha, POLICY_PATH),
    gateway.listPullFiles(number),
    gateway.listReviews(number),
  ]);
  const dir = grantsPath(basePolicyText);
  const candidates = files.filter((f) => f.status !== "removed" && f.path.startsWith(dir) && !isHousekeeping(f.path));
  const policyFile = files.find((f) => f.path === POLICY_PATH || f.previousPath === POLICY_PATH);

  const needsModes = candidates.length > 0 || (policyFile && policyFile.status !== "removed");
  const modes = needsModes ? await modesOf(gateway, pr.headSha, [...candidates.map((f) => f.path), ...(policyFile ? [POLICY_PATH] : [])]) : new Map();

  const grantFiles = await Promise.all(
    candidates.map(async (f): Promise<ChangedGrantFile> => {
      const kind = MODE_KIND[modes.get(f.path) ?? ""] ?? "file";
      const content = kind === "file" && f.sha ? await gateway.readBlob(f.sha) : undefined;
      const before = f.status === "modified" ? await gateway.readFile(baseSha, f.path) : undefined;
      return { path: f.path, kind, content, ...(before !== undefined ? { previous: { content: before } } : {}) };
    }),
  );
  let headPolicy: PullRequestSnapshot["headPolicy"];
  if (policyFile) {
    const removed = policyFile.status === "removed" || policyFile.path !== POLICY_PATH;
    const kind = MODE_KIND[modes.get(POLICY_PATH) ?? ""] ?? "file";
    headPolicy = { kind, removed, content: !removed && kind === "file" && policyFile.sha ? await gateway.readBlob(policyFile.sha) : undefined };
  }
  return { pr, baseSha, basePolicyText, headPolicy, grantFiles, reviews };
}

/** Files a grants folder may hold besides grants (`README.md`, `.gitkeep`). */
function isHousekeeping(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return name.startsWith(".") || /^readme(\.md)?$/i.test(name);
}

/** Git modes of `paths` at a commit, reading only the trees of the folders involved. */
async function modesOf(gateway: GitHubGateway, sha: string, paths: string[]): Promise<Map<string, string>> {
  const dirs = [...new Set(paths.map((p) => p.slice(0, p.lastIndexOf("/") + 1)))];
  // One recursive read of the shallowest common folder keeps this at a few calls per PR.
  const common = dirs.reduce((a, b) => commonPrefix(a, b));
  const entries = await gateway.treeEntries(sha, common.replace(/\/$/, ""));
  return new Map(entries.map((e) => [e.path, e.mode]));
}

function commonPrefix(a: string, b: string): string {
  const as = a.split("/");
  const bs = b.split("/");
  const out: string[] = [];
  for (let i = 0; i < Math.min(as.length, bs.length) && as[i] === bs[i]; i++) out.push(as[i]);
  return out.length ? `${out.join("/")}/`.replace(/\/+$/, "/") : "";
}

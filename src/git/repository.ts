import { spawn } from "node:child_process";
import { tmpdir } from "node:os";

/** A failed `git` run: the exit code and the first line of what git said, never a shell string. */
export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args[0] ?? ""} failed${code === null ? "" : ` (exit ${code})`}: ${stderr.trim().split("\n")[0] ?? ""}`);
  }
}

/** User config that would change what `git log` prints (a root commit's files, signatures on stdout). */
const PINNED = ["core.quotePath=false", "color.ui=never", "log.showRoot=true", "log.showSignature=false", "diff.renames=false", "trailer.separators=:"];
/**
 * The checkout is hostile input: its `.git/config` can name programs that read-only commands would
 * run (`core.fsmonitor` on `ls-files`, hooks, filters on `hash-object`, diff drivers, a lazy fetch
 * from a partial clone's remote). Command-line configuration wins over the repository's, so each is
 * switched off here, for every git Timebox runs on a checkout (`timebox plan`, `timebox audit`).
 */
const NO_PROGRAMS = [
  "core.fsmonitor=false",
  "core.untrackedCache=false",
  "core.hooksPath=/dev/null",
  "core.pager=cat",
  "core.sshCommand=false",
  "gpg.program=false",
  "gpg.ssh.program=false",
  "gpg.x509.program=false",
  "protocol.allow=never",
  ...["file", "git", "ssh", "http", "https", "ext", "fd"].map((p) => `protocol.${p}.allow=never`),
];
const REPO_ENV = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_COMMON_DIR"];
/** Environment that adds configuration or names programs: dropped, so only the pinned settings apply. */
const PROGRAM_ENV = [
  "GIT_CONFIG",
  "GIT_CONFIG_PARAMETERS",
  "GIT_CONFIG_COUNT",
  "GIT_EXTERNAL_DIFF",
  "GIT_DIFF_OPTS",
  "GIT_PAGER",
  "PAGER",
  "GIT_SSH",
  "GIT_SSH_COMMAND",
  "GIT_ASKPASS",
  "SSH_ASKPASS",
  "GIT_PROXY_COMMAND",
  "GIT_EDITOR",
  "GIT_SEQUENCE_EDITOR",
  "GIT_TRACE",
  "GIT_TRACE2",
  "GIT_TRACE2_EVENT",
  "GIT_TRACE2_PERF",
];

/**
 * The directories the user declared safe in their own (global or system) configuration, which
 * Timebox's git runs otherwise ignore: passed on the command line (a protected scope), so a clone
 * owned by another account is read only when its user said so, as plain git would.
 */
let safeDirectories: Promise<string[]> | undefined;
function userSafeDirectories(): Promise<string[]> {
  safeDirectories ??= Promise.all(
    ["--system", "--global"].map(
      (scope) =>
        new Promise<string[]>((resolve) => {
          const env = scrubbedEnv(process.env);
          const child = spawn("git", ["config", scope, "--get-all", "safe.directory"], { cwd: tmpdir(), env, stdio: ["ignore", "pipe", "ignore"] });
          const out: Buffer[] = [];
          child.stdout.on("data", (b: Buffer) => out.push(b));
          child.on("error", () => resolve([]));
          child.on("close", () =>
            resolve(
              Buffer.concat(out)
                .toString("utf8")
                .split("\n")
                .filter((s) => s !== ""),
            ),
          );
        }),
    ),
  ).then((lists) => lists.flat());
  return safeDirectories;
}

function scrubbedEnv(from: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...from, GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0", GIT_NO_LAZY_FETCH: "1", LC_ALL: "C" };
  // `--repo` must mean what it says even when run from a hook or another tool that exported these.
  for (const name of REPO_ENV) delete env[name];
  for (const name of PROGRAM_ENV) delete env[name];
  for (const name of Object.keys(env)) if (/^GIT_CONFIG_(KEY|VALUE)_\d+$/.test(name)) delete env[name];
  return env;
}

/**
 * Runs the real `git` (no shell) in `repo` and returns its stdout as bytes. `input` is written to
 * its stdin. Config that could change output (pager, colour, quoting, replace refs) is pinned; no
 * system or global configuration is read, and nothing the repository's configuration names is run.
 */
export async function git(repo: string, args: readonly string[], input?: string, onData?: (chunk: Buffer) => void): Promise<Buffer> {
  const safe = (await userSafeDirectories()).flatMap((d) => ["-c", `safe.directory=${d}`]);
  const full = ["-C", repo, ...safe, ...[...PINNED, ...NO_PROGRAMS].flatMap((c) => ["-c", c]), "--no-pager", "--no-replace-objects", ...args];
  const env = { ...scrubbedEnv(process.env), GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
  return new Promise((resolve, reject) => {
    const child = spawn("git", full, {
      stdio: ["pipe", "pipe", "pipe"],
      env,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => {
      out.push(b);
      onData?.(b);
    });
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => reject(new GitError(args, null, e.message)));
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new GitError(args, code, Buffer.concat(err).toString("utf8")));
    });
    child.stdin.on("error", () => undefined); // git may exit before reading everything; the exit code says why
    child.stdin.end(input ?? "");
  });
}

/** One change to a path, as `git log --raw` reports it against the commit's first parent. */
export interface PathChange {
  status: string; // A, M, D, T
  oldMode: string;
  newMode: string;
  newBlob: string;
  path: string;
}

/** A commit on the default branch's first-parent chain, with what it changed against its first parent. */
export interface MainlineCommit {
  sha: string;
  parents: string[];
  /** Committer date: when this commit was made on (merged into) the default branch. */
  committedAt: Date;
  subject: string;
  /** Trailers as git parses them (`%(trailers:unfold,only)`), in order. */
  trailers: Array<[string, string]>;
  changes: PathChange[];
}

const META = /^:(\d{6}) (\d{6}) ([0-9a-f]{40,64}) ([0-9a-f]{40,64}) ([A-Z])\d*$/;
const RECORD = 0x1e;

/** How many commits the first-parent chain of `ref` has (for a progress bar). */
export async function countMainline(repo: string, ref: string): Promise<number> {
  return Number((await git(repo, ["rev-list", "--first-parent", "--count", ref, "--"])).toString("utf8").trim()) || 0;
}

/**
 * The default branch's first-parent chain, oldest first, in one `git log`. Each commit is diffed
 * against its first parent (`--diff-merges=first-parent`): for a merge commit that is exactly what
 * the merge brought to the default branch, whichever PR commit first wrote it. Renames are not
 * detected, so a moved grant is a removal and an addition. Subjects and trailers come along, so
 * Timebox's empty record commits (break-glass closed unmerged, outcomes) are seen too.
 * `onCommits(n)` is told how many commits have been read so far, as git writes them.
 */
export async function readMainline(repo: string, ref: string, onCommits?: (read: number) => void): Promise<MainlineCommit[]> {
  let read = 0;
  const onData = onCommits
    ? (chunk: Buffer) => {
        let n = 0;
        for (let i = chunk.indexOf(RECORD); i >= 0; i = chunk.indexOf(RECORD, i + 1)) n++;
        if (n > 0) onCommits((read += n));
      }
    : undefined;
  const out = await git(
    repo,
    [
      "log",
      "--first-parent",
      "--diff-merges=first-parent",
      "--no-renames",
      "--raw",
      "--no-ext-diff",
      "--no-textconv",
      "--no-abbrev",
      "-z",
      "--reverse",
      "--format=%x1e%H%x1f%P%x1f%ct%x1f%s%x1f%(trailers:unfold,only)",
      ref,
      "--",
    ],
    undefined,
    onData,
  );
  return parseMainline(out.toString("utf8"));
}

/** `Key: value` lines of a `%(trailers:unfold,only)` block. */
function parseTrailerLines(text: string): Array<[string, string]> {
  const trailers: Array<[string, string]> = [];
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z0-9-]+):[ \t]*(.*)$/.exec(line);
    if (m) trailers.push([m[1], m[2].trim()]);
  }
  return trailers;
}

function parseMainline(text: string): MainlineCommit[] {
  const commits: MainlineCommit[] = [];
  const tokens = text.split("\0");
  let pending: RegExpExecArray | undefined;
  for (const token of tokens) {
    if (pending) {
      // After a raw entry comes exactly one path (no renames), whatever characters it holds.
      const [, oldMode, newMode, , newBlob, status] = pending;
      commits.at(-1)?.changes.push({ status, oldMode, newMode, newBlob, path: token });
      pending = undefined;
      continue;
    }
    const t = token.replace(/^\n+/, "");
    if (t.startsWith("\x1e")) {
      // sha, parents and time cannot hold the separator; a subject that does only confuses its own commit.
      const [sha, parents, seconds, subject = "", ...rest] = t.slice(1).split("\x1f");
      commits.push({
        sha,
        parents: parents ? parents.split(" ") : [],
        committedAt: new Date(Number(seconds) * 1000),
        subject,
        trailers: parseTrailerLines(rest.join("\x1f")),
        changes: [],
      });
      continue;
    }
    const meta = META.exec(t);
    if (meta) pending = meta;
  }
  return commits;
}

/** Subject, trailers and parents of some commits, by sha. */
export interface CommitNote {
  sha: string;
  subject: string;
  trailers: Array<[string, string]>;
  parents: string[];
}

/** Reads subjects, parents and (unfolded) trailers, parsed by git itself, for the given revisions or (walk) a range. */
export async function readNotes(repo: string, revisions: readonly string[], walk = false): Promise<Map<string, CommitNote>> {
  const notes = new Map<string, CommitNote>();
  if (revisions.length === 0) return notes;
  const args = ["log", ...(walk ? [] : ["--no-walk=unsorted"]), "-z", "--format=%H%n%P%n%s%n%(trailers:unfold,only)", "--stdin", "--"];
  const out = (await git(repo, args, `${revisions.join("\n")}\n`)).toString("utf8");
  for (const record of out.split("\0")) {
    const [sha, parents = "", subject = "", ...lines] = record.replace(/^\n+/, "").split("\n");
    if (!/^[0-9a-f]{40,64}$/.test(sha)) continue;
    notes.set(sha, { sha, subject, parents: parents ? parents.split(" ") : [], trailers: parseTrailerLines(lines.join("\n")) });
  }
  return notes;
}

/** How deep into a merged branch the commits a merge brought are looked for. */
const MAX_MERGED_DEPTH = 100;

/**
 * For each merge, the notes of the commits it brought to the default branch: its parents other
 * than the first, and their ancestors, up to the first-parent chain. One `git log --no-walk` per
 * level of depth, for all merges at once (a PR branch is rarely more than a few commits deep).
 */
export async function notesMergedBy(repo: string, merges: readonly MainlineCommit[], mainline: ReadonlySet<string>): Promise<Map<string, CommitNote[]>> {
  const result = new Map<string, CommitNote[]>(merges.map((m) => [m.sha, []]));
  const owner = new Map<string, string>();
  const enqueue = (sha: string, merge: string, into: string[]) => {
    if (mainline.has(sha) || owner.has(sha)) return;
    owner.set(sha, merge);
    into.push(sha);
  };
  let frontier: string[] = [];
  for (const m of merges) for (const p of m.parents.slice(1)) enqueue(p, m.sha, frontier);
  for (let depth = 0; frontier.length > 0 && depth < MAX_MERGED_DEPTH; depth++) {
    const notes = await readNotes(repo, frontier);
    const next: string[] = [];
    for (const sha of frontier) {
      const note = notes.get(sha);
      if (!note) continue;
      const merge = owner.get(sha)!;
      result.get(merge)!.push(note);
      for (const p of note.parents) enqueue(p, merge, next);
    }
    frontier = next;
  }
  return result;
}

/** Blob contents by id, through one `git cat-file --batch`. */
export async function readBlobs(repo: string, ids: readonly string[]): Promise<Map<string, Buffer>> {
  const blobs = new Map<string, Buffer>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return blobs;
  const out = await git(repo, ["cat-file", "--batch"], `${unique.join("\n")}\n`);
  let at = 0;
  while (at < out.length) {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) break;
    const header = out.subarray(at, eol).toString("utf8");
    const m = /^([0-9a-f]{40,64}) (\w+) (\d+)$/.exec(header);
    if (!m) {
      at = eol + 1; // "<id> missing"
      continue;
    }
    const size = Number(m[3]);
    if (m[2] === "blob") blobs.set(m[1], out.subarray(eol + 1, eol + 1 + size));
    at = eol + 1 + size + 1;
  }
  return blobs;
}

/**
 * A plain `git clone` of a repository on the emulated GitHub. The emulator keeps real git objects
 * (blobs, trees, commits with real SHA-1s) but does not speak git's transfer protocol, so the
 * objects are written, byte for byte, into a bare repository as loose objects — every commit keeps
 * the SHA it has on the emulated GitHub — and that repository is cloned with the real `git`
 * (`--no-local`, so git transfers and verifies every object as it would from a server).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { commitText, type ObjectStore } from "./git.js";

/** git, ignoring the user's and the system's configuration (hooks, signing, templates). */
function git(args: string[], cwd?: string): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

type RawObject = { type: "blob" | "tree" | "commit"; body: Buffer };

function* objectsOf(store: ObjectStore): Generator<[string, RawObject]> {
  for (const [sha, body] of store.blobs) yield [sha, { type: "blob", body }];
  for (const [sha, entries] of store.trees) {
    const body = Buffer.concat(
      entries.map((e) => Buffer.concat([Buffer.from(`${e.mode === "040000" ? "40000" : e.mode} ${e.path}\0`), Buffer.from(e.sha, "hex")])),
    );
    yield [sha, { type: "tree", body }];
  }
  // Byte for byte, signature included: a clone verifies the commits GitHub signed.
  for (const [sha, c] of store.commits) yield [sha, { type: "commit", body: Buffer.from(commitText(c), "utf8") }];
}

/**
 * Writes `store` and `refs` ("refs/heads/main" → sha) into a new bare repository at `dir`, with
 * HEAD on `defaultBranch`. Throws if an object would not reproduce its SHA exactly.
 */
export function exportBareRepository(store: ObjectStore, refs: Map<string, string>, defaultBranch: string, dir: string): number {
  git(["init", "-q", "--bare", "-b", defaultBranch, dir]);
  let count = 0;
  for (const [sha, { type, body }] of objectsOf(store)) {
    const raw = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
    const actual = createHash("sha1").update(raw).digest("hex");
    if (actual !== sha) throw new Error(`the ${type} ${sha} would be exported as ${actual}`);
    mkdirSync(join(dir, "objects", sha.slice(0, 2)), { recursive: true });
    writeFileSync(join(dir, "objects", sha.slice(0, 2), sha.slice(2)), deflateSync(raw));
    count++;
  }
  for (const [ref, sha] of refs) git(["update-ref", ref, sha], dir);
  return count;
}

/** `git clone --no-local` of `bare` into `dir`; returns the commits on its default branch. */
export function cloneRepository(bare: string, dir: string): number {
  git(["clone", "-q", "--no-local", bare, dir]);
  return Number(git(["rev-list", "--count", "HEAD"], dir).trim());
}

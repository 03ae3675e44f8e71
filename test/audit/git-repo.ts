/** Real Git repositories in temp dirs, with exact commit times, for audit tests. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import type { Key } from "openpgp";
import { readTrustedKeys } from "../../src/audit/trust.js";
import { gpgsigHeader, signCommitPayload, webFlowPublicKey } from "../harness/github/web-flow.js";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const made: string[] = [];

export function removeGitRepos(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  keyFile = undefined;
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "timebox-audit-"));
  made.push(dir);
  return dir;
}

export class GitRepo {
  readonly root = tempDir();

  constructor(branch = "main") {
    this.git(["init", "-q", "-b", branch]);
  }

  git(args: string[], time?: string): string {
    const env = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" } as NodeJS.ProcessEnv;
    if (time) Object.assign(env, { GIT_AUTHOR_DATE: time, GIT_COMMITTER_DATE: time });
    return execFileSync("git", ["-c", "user.name=x", "-c", "user.email=x@example.com", "-c", "commit.gpgsign=false", ...args], {
      cwd: this.root,
      env,
      encoding: "utf8",
    });
  }

  write(files: Record<string, string>): this {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(this.root, path)), { recursive: true });
      writeFileSync(join(this.root, path), content);
    }
    this.git(["add", "-A"]);
    return this;
  }

  symlink(path: string, target: string): this {
    mkdirSync(dirname(join(this.root, path)), { recursive: true });
    symlinkSync(target, join(this.root, path));
    this.git(["add", "-A"]);
    return this;
  }

  rm(path: string): this {
    this.git(["rm", "-q", path]);
    return this;
  }

  /** Commits what is staged; `time` is ISO 8601 and becomes both author and committer date. */
  commit(message: string, time: string): string {
    this.git(["commit", "-q", "--allow-empty", "-m", message], time);
    return this.git(["rev-parse", "HEAD"]).trim();
  }

  /**
   * Commits what is staged as GitHub does for an App's API commit: authored by the app's bot,
   * committed by GitHub, signed with the (emulated) web-flow key — Timebox's own commit.
   * `as` changes who the commit names or how it is signed, to forge a look-alike.
   */
  commitAsTimebox(message: string, time: string, as: { author?: string; committer?: string; signature?: "web-flow" | "none" | "bogus" } = {}): string {
    const tree = this.git(["write-tree"]).trim();
    let parent: string | undefined;
    try {
      parent = this.git(["rev-parse", "--verify", "-q", "HEAD"]).trim() || undefined;
    } catch {
      parent = undefined;
    }
    const when = `${Math.floor(Date.parse(time) / 1000)} +0000`;
    const head = `tree ${tree}\n${parent ? `parent ${parent}\n` : ""}author ${as.author ?? TIMEBOX_BOT} ${when}\ncommitter ${as.committer ?? "GitHub <noreply@github.com>"} ${when}\n`;
    const body = `\n${message.endsWith("\n") ? message : `${message}\n`}`;
    const how = as.signature ?? "web-flow";
    const signature = how === "none" ? "" : gpgsigHeader(signCommitPayload(how === "bogus" ? `${head}${body}tampered` : `${head}${body}`, new Date(time)));
    const sha = execFileSync("git", ["hash-object", "-t", "commit", "-w", "--stdin"], {
      cwd: this.root,
      input: `${head}${signature}${body}`,
      encoding: "utf8",
    }).trim();
    this.git(["update-ref", "HEAD", sha]);
    return sha;
  }

  branch(name: string, from = "main"): this {
    this.git(["checkout", "-q", "-b", name, from]);
    return this;
  }

  checkout(name: string): this {
    this.git(["checkout", "-q", name]);
    return this;
  }

  /** A pull request merged with a merge commit (`--no-ff`) into the current branch. */
  merge(branch: string, message: string, time: string): string {
    this.git(["merge", "-q", "--no-ff", "-m", message, branch], time);
    return this.git(["rev-parse", "HEAD"]).trim();
  }
}

/** The app's bot as GitHub writes it into the commits the App makes (the emulator's app, id 4242). */
export const TIMEBOX_BOT = "timebox[bot] <4242+timebox[bot]@users.noreply.github.com>";

let keyFile: string | undefined;
/** A file holding the emulated web-flow public key: `timebox audit --trusted-key` reads it. */
function trustedKeyFile(): string {
  if (!keyFile) {
    keyFile = join(tempDir(), "web-flow.asc");
    writeFileSync(keyFile, webFlowPublicKey());
  }
  return keyFile;
}

let trust: Promise<{ keys: Key[] }> | undefined;
/** `auditRepository`'s trust that takes the emulated web-flow key's signatures as GitHub's. */
export function testTrust(): Promise<{ keys: Key[] }> {
  trust ??= readTrustedKeys([webFlowPublicKey()]).then((keys) => ({ keys }));
  return trust;
}

/** The audit's arguments that trust the emulated web-flow key. */
export const TRUST = () => ["--trusted-key", trustedKeyFile()];

export const grantYaml = (f: { requester: string; resource?: string; role?: string; duration: string; reason: string; ticket?: string; emergency?: boolean }) =>
  [
    `requester: ${f.requester}`,
    `resource: ${f.resource ?? "prod-db"}`,
    `role: ${f.role ?? "readonly"}`,
    `duration: ${f.duration}`,
    `reason: ${JSON.stringify(f.reason)}`,
    ...(f.ticket ? [`ticket: ${f.ticket}`] : []),
    ...(f.emergency !== undefined ? [`emergency: ${f.emergency}`] : []),
    "",
  ].join("\n");

/** Timebox's removal commit message, as `removalCommitMessage` writes it. */
export const removalMessage = (t: {
  path: string;
  requester: string;
  approvedBy: string;
  pr: number;
  grantedAt: string;
  expiresAt: string;
  revokedAt: string;
  reason: string;
}) =>
  [
    `Revoke ${t.reason === "expired" ? "expired" : "removed"} grant ${t.path}`,
    "",
    `${t.requester}'s access ended: ${t.reason}.`,
    "",
    `Timebox-Grant: ${t.path}`,
    `Requested-by: ${t.requester}`,
    `Approved-by: ${t.approvedBy}`,
    `Pull-Request: #${t.pr}`,
    `Granted-at: ${t.grantedAt}`,
    `Expires-at: ${t.expiresAt}`,
    `Revoked-at: ${t.revokedAt}`,
    `Revoke-Reason: ${t.reason}`,
    "Timebox-Run: run-1",
  ].join("\n");

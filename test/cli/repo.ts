/** Temporary access repositories for CLI tests. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createHash } from "node:crypto";
import { runCli } from "../../src/cli/program.js";
import { GRANT_TEXT, POLICY_TEXT } from "../grants/helpers.js";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const made: string[] = [];

/** A temp dir holding `.github/timebox.yml` (the fixture policy unless given) and the given files. */
export function tempRepo(files: Record<string, string | Uint8Array> = {}, policy: string | null = POLICY_TEXT): string {
  const root = mkdtempSync(join(tmpdir(), "timebox-cli-"));
  made.push(root);
  const all: Record<string, string | Uint8Array> = { ...(policy === null ? {} : { ".github/timebox.yml": policy }), ...files };
  for (const [path, content] of Object.entries(all)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

export function removeTempRepos(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export async function cli(args: string[], cwd: string): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd });
  return { code, stdout, stderr };
}

/** A fingerprint of every file under `root`, to prove a run changed nothing. */
export function fingerprint(root: string): string {
  const h = createHash("sha256");
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      h.update(full.slice(root.length));
      if (statSync(full).isDirectory()) walk(full);
      else h.update(readFileSync(full));
    }
  };
  walk(root);
  return h.digest("hex");
}

export const VALID_GRANT = GRANT_TEXT;
export const grantWith = (from: string, to: string) => {
  if (!GRANT_TEXT.includes(from)) throw new Error(`${from} not in the fixture grant`);
  return GRANT_TEXT.replace(from, to);
};

/** Which commits are Timebox's: the bot's identity and a signature that verifies, over real Git objects. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GITHUB_WEB_FLOW_FINGERPRINTS, GITHUB_WEB_FLOW_KEYS } from "../../src/audit/keys/github-web-flow.js";
import { DEFAULT_APP_LOGIN, isBotIdentity, judgeCommits, readTrustedKeys, TrustedKeyError } from "../../src/audit/trust.js";
import { webFlowFingerprint, webFlowPublicKey } from "../harness/github/web-flow.js";
import { GitRepo, removeGitRepos } from "./git-repo.js";

afterAll(removeGitRepos);

test("the shipped keys are GitHub's two web-flow keys", async () => {
  const keys = await readTrustedKeys([GITHUB_WEB_FLOW_KEYS]);
  expect(keys.map((k) => k.getFingerprint().toUpperCase())).toEqual([...GITHUB_WEB_FLOW_FINGERPRINTS]);
});

test("a file that is not a public key is refused", async () => {
  await expect(readTrustedKeys(["hello"])).rejects.toBeInstanceOf(TrustedKeyError);
  await expect(readTrustedKeys(["-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n"])).rejects.toBeInstanceOf(TrustedKeyError);
});

test("the bot's identity is its login and its noreply address, nothing else", () => {
  expect(isBotIdentity("timebox[bot] <4242+timebox[bot]@users.noreply.github.com> 1 +0000", DEFAULT_APP_LOGIN)).toBe(true);
  expect(isBotIdentity("timebox[bot] <timebox[bot]@users.noreply.ghe.example.com> 1 +0000", DEFAULT_APP_LOGIN)).toBe(true);
  expect(isBotIdentity("timebox[bot] <dev5@example.com> 1 +0000", DEFAULT_APP_LOGIN)).toBe(false);
  expect(isBotIdentity("dev5 <4242+timebox[bot]@users.noreply.github.com> 1 +0000", DEFAULT_APP_LOGIN)).toBe(false);
  expect(isBotIdentity("timeboxxbot] <4242+timeboxxbot]@users.noreply.github.com> 1 +0000", DEFAULT_APP_LOGIN)).toBe(false);
});

describe("judging commits", () => {
  const repo = new GitRepo();
  const t = "2026-03-02T10:00:00Z";
  repo.write({ "a.txt": "a\n" }).commit("person", t);
  const genuine = repo.commitAsTimebox("Revoke\n\nTimebox-Grant: grants/a.yaml", t);
  const unsigned = repo.commitAsTimebox("Revoke\n\nTimebox-Grant: grants/a.yaml", t, { signature: "none" });
  const bogus = repo.commitAsTimebox("Revoke\n\nTimebox-Grant: grants/a.yaml", t, { signature: "bogus" });
  const person = repo.commitAsTimebox("Revoke\n\nTimebox-Grant: grants/a.yaml", t, { author: "dev5 <dev5@example.com>" });
  const plain = repo.commit("Revoke\n\nTimebox-Grant: grants/a.yaml", t);

  test("only the bot's commit signed by a trusted key is Timebox's", async () => {
    const keys = await readTrustedKeys([webFlowPublicKey()]);
    const v = await judgeCommits(repo.root, [genuine, unsigned, bogus, person, plain], { keys, appLogin: DEFAULT_APP_LOGIN });
    expect(Object.fromEntries([...v].map(([sha, x]) => [sha, [x.timebox, x.reason]]))).toEqual({
      [genuine]: [true, ""],
      [unsigned]: [false, "not signed"],
      [bogus]: [false, "its signature does not verify with a trusted key"],
      [person]: [false, "authored by dev5 <dev5@example.com>, not timebox[bot]"],
      [plain]: [false, "authored by x <x@example.com>, not timebox[bot]"],
    });
  });

  test("GitHub's real keys do not vouch for the emulator's signature; another app login is not this one", async () => {
    const real = await readTrustedKeys([GITHUB_WEB_FLOW_KEYS]);
    expect((await judgeCommits(repo.root, [genuine], { keys: real, appLogin: DEFAULT_APP_LOGIN })).get(genuine)?.timebox).toBe(false);
    const keys = await readTrustedKeys([webFlowPublicKey()]);
    expect((await judgeCommits(repo.root, [genuine], { keys, appLogin: "other[bot]" })).get(genuine)?.timebox).toBe(false);
  });

  test("the signature is a standard OpenPGP signature: GnuPG verifies it too", () => {
    let gpg = true;
    try {
      execFileSync("gpg", ["--version"], { stdio: "ignore" });
    } catch {
      gpg = false;
    }
    if (!gpg) return; // GnuPG is only a second opinion
    const home = mkdtempSync(join(tmpdir(), "timebox-gnupg-"));
    try {
      const env = { ...process.env, GNUPGHOME: home };
      execFileSync("gpg", ["--batch", "--import"], { input: webFlowPublicKey(), env, stdio: ["pipe", "ignore", "ignore"] });
      const out = execFileSync("git", ["verify-commit", "--raw", genuine], { cwd: repo.root, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      void out;
    } catch (e) {
      const stderr = String((e as { stderr?: string }).stderr ?? "");
      // VALIDSIG with an unknown owner trust still exits 0; any failure lands here.
      throw new Error(`gpg refused the emulator's signature: ${stderr}`, { cause: e });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
    expect(webFlowFingerprint()).toMatch(/^[0-9A-F]{40}$/);
  });
});

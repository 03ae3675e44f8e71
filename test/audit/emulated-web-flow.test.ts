/**
 * The emulated GitHub makes and signs commits as GitHub does for an App (checked in GitHub's docs:
 * "signature verification for bots" applies to API commits with no custom author, committer or
 * signature): authored by the app's bot, committed by GitHub (`web-flow`), signed with the
 * web-flow key, reported `verified` — and a real clone of it verifies them with the audit's check.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_APP_LOGIN, judgeCommits, readTrustedKeys } from "../../src/audit/trust.js";
import { FakeClock } from "../harness/clock.js";
import { GitHubEmulator } from "../harness/github/emulator.js";
import { cloneRepository, exportBareRepository } from "../harness/github/git-export.js";
import { emulatorSigningKey } from "../harness/github/git.js";
import { check, loadSpec, responseSchema } from "../harness/github/openapi-check.js";
import { restClient } from "../harness/github/testing.js";

let emu: GitHubEmulator;
let api: ReturnType<typeof restClient>;
beforeAll(async () => {
  loadSpec();
  emu = new GitHubEmulator({ clock: new FakeClock("2026-03-02T10:00:00Z") });
  await emu.start();
  emu.createRepo({ owner: "acme", name: "access", files: { "grants/a.yaml": "requester: dev1\n" } });
  api = restClient(emu, emu.installationToken(1));
});
afterAll(() => emu.stop());

async function commit(extra: Record<string, unknown> = {}): Promise<string> {
  const head = emu.commit(emu.branchHead()!)!;
  const tree = await api("POST", "/repos/acme/access/git/trees", {
    base_tree: head.tree,
    tree: [{ path: "grants/a.yaml", mode: "100644", type: "blob", sha: null }],
  });
  const c = await api("POST", "/repos/acme/access/git/commits", {
    message: "Revoke\n\nTimebox-Grant: grants/a.yaml\n",
    tree: tree.body.sha,
    parents: [head.sha],
    ...extra,
  });
  expect(c.status).toBe(201);
  return c.body.sha as string;
}

/** The response, checked against GitHub's OpenAPI description of that route. */
async function get(path: string, route: string): Promise<any> {
  const res = await api("GET", path);
  expect(res.status).toBe(200);
  expect(check(responseSchema("GET", route, 200)!, res.body)).toEqual([]);
  return res.body;
}

test("an App's commit through the API: author the bot, committer GitHub, signed and verified", async () => {
  const sha = await commit();
  const bot = emu.state.user(emu.state.botLogin);
  const git = await get(`/repos/acme/access/git/commits/${sha}`, "/repos/{owner}/{repo}/git/commits/{commit_sha}");
  expect(git.author).toMatchObject({ name: "timebox[bot]", email: `${bot.id}+timebox[bot]@users.noreply.github.com` });
  expect(git.committer).toMatchObject({ name: "GitHub", email: "noreply@github.com" });
  expect(git.verification).toMatchObject({ verified: true, reason: "valid", verified_at: "2026-03-02T10:00:00Z" });
  expect(git.verification.signature).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
  expect(git.verification.payload).toMatch(/^tree [0-9a-f]{40}\nparent [0-9a-f]{40}\nauthor timebox\[bot\] </);
  const rest = await get(`/repos/acme/access/commits/${sha}`, "/repos/{owner}/{repo}/commits/{ref}");
  expect(rest.commit.verification).toEqual(git.verification);
  expect([rest.author.login, rest.committer.login]).toEqual(["timebox[bot]", "web-flow"]);
});

test("a custom author or committer is not signed; a caller's own signature is kept but not verified", async () => {
  const custom = await commit({ author: { name: "timebox[bot]", email: "4242+timebox[bot]@users.noreply.github.com" } });
  expect((await get(`/repos/acme/access/git/commits/${custom}`, "/repos/{owner}/{repo}/git/commits/{commit_sha}")).verification).toEqual({
    verified: false,
    reason: "unsigned",
    signature: null,
    payload: null,
    verified_at: null,
  });
  const signed = await commit({ signature: "-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----" });
  const v = (await get(`/repos/acme/access/commits/${signed}`, "/repos/{owner}/{repo}/commits/{ref}")).commit.verification;
  expect(v).toMatchObject({ verified: false, reason: "unknown_key" });
});

test("a real clone keeps the signatures: the audit's check verifies the App's commit with the emulator's key", async () => {
  const genuine = await commit();
  expect((await api("PATCH", "/repos/acme/access/git/refs/heads/main", { sha: genuine, force: true })).status).toBe(200);
  const custom = await commit({ author: { name: "timebox[bot]", email: "4242+timebox[bot]@users.noreply.github.com" } });
  expect((await api("PATCH", "/repos/acme/access/git/refs/heads/main", { sha: custom, force: true })).status).toBe(200);
  const dir = mkdtempSync(join(tmpdir(), "timebox-webflow-"));
  try {
    const r = emu.repo("acme/access").repo;
    exportBareRepository(r.git, r.refs, r.defaultBranch, join(dir, "bare.git"));
    cloneRepository(join(dir, "bare.git"), join(dir, "clone"));
    const keys = await readTrustedKeys([emulatorSigningKey()]);
    const verdicts = await judgeCommits(join(dir, "clone"), [genuine, custom], { keys, appLogin: DEFAULT_APP_LOGIN });
    expect([verdicts.get(genuine)?.timebox, verdicts.get(custom)?.reason]).toEqual([true, "not signed"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import { createServer } from "node:http";
import { generateKeyPairSync } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createNodeMiddleware, Probot, ProbotOctokit } from "probot";
import { FakeClock } from "./clock.js";
import { GitHubEmulator } from "./github/emulator.js";

test("signed deliveries reach a Probot HTTP endpoint, which calls back into the emulator", async () => {
  const emu = new GitHubEmulator({ clock: new FakeClock("2024-05-01T10:00:00Z"), webhookSecret: "s3cret" });
  await emu.start();
  emu.createRepo({ owner: "acme", name: "access", files: { "README.md": "hi\n" } });
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  const probot = new Probot({
    appId: emu.state.app.id,
    privateKey,
    secret: "s3cret",
    baseUrl: emu.baseUrl,
    logLevel: "fatal",
    Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }),
  });
  const middleware = await createNodeMiddleware(
    (app) => {
      app.on("issue_comment.created", async (context) => {
        await context.octokit.rest.issues.createComment(context.issue({ body: `echo: ${context.payload.comment.body}` }));
      });
    },
    { probot },
  );
  const server = createServer((req, res) => void middleware(req, res, () => res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const pr = emu.openPullRequest({ author: "dev1", files: { "grants/a.yaml": "x\n" } });
    const said = emu.comment(pr.number!, { author: "dev1", body: "hello" });
    const ok = await emu.deliver(url, said);
    expect(ok.map((r) => r.status)).toEqual([200]);
    expect(emu.comments(pr.number!).map((c) => `${c.user}: ${c.body}`)).toEqual(["dev1: hello", "timebox[bot]: echo: hello"]);
    const bad = await emu.deliver(url, said, { secret: "wrong" });
    expect(bad[0].status).toBe(400);
    expect(emu.comments(pr.number!)).toHaveLength(2);
  } finally {
    server.close();
    await emu.stop();
  }
});

import nock from "nock";
import { GitHubEmulator } from "./github/emulator.js";
import { restClient } from "./github/testing.js";

test("nock with disableNetConnect still lets requests reach the emulator once 127.0.0.1 is enabled", async () => {
  const emu = new GitHubEmulator();
  await emu.start();
  emu.createRepo({ owner: "acme", name: "access" });
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
  try {
    const scope = nock("https://provider.example").get("/ping").reply(200, { ok: true });
    const res = await restClient(emu, emu.installationToken())("GET", "/repos/acme/access");
    expect(res.status).toBe(200);
    expect(await (await fetch("https://provider.example/ping")).json()).toEqual({ ok: true });
    expect(scope.pendingMocks()).toEqual([]);
  } finally {
    nock.cleanAll();
    nock.enableNetConnect();
    await emu.stop();
  }
});

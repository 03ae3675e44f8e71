#!/usr/bin/env node
/**
 * Apply and revoke latency of the webhook provider (issue #12's provider bench) against the
 * example receiver of docs/providers/webhook.md, run as printed there, on 127.0.0.1: 200 grants,
 * then their 200 revokes, one at a time, through the built provider (`npm run build` first).
 * "apply" and "revoke" are what the lifecycle does: the call, then the read-back (`check`); the
 * calls alone are shown too. Prints median and p99 per operation as JSON; figures only.
 *
 *   node bench/webhook-latency.js [count]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { webhookProviderFactory } from "../lib/providers/webhook/index.js";

const N = Number(process.argv[2] ?? 200);
const doc = readFileSync(new URL("../docs/providers/webhook.md", import.meta.url), "utf8");
const source = /```js\n([\s\S]*?)\n```/.exec(doc.slice(doc.indexOf("<!-- example-receiver:")))[1];
const file = join(mkdtempSync(join(tmpdir(), "timebox-webhook-bench-")), "receiver.mjs");
writeFileSync(file, `${source}\n`);
const { receiver, memorySystem } = await import(pathToFileURL(file).href);

const secret = randomBytes(32).toString("hex");
const principals = Array.from({ length: N }, (_, i) => `bench${i}@acme.example`);
const system = memorySystem({ "bench-target": [] }, principals);
const server = createServer(receiver(secret, system));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${server.address().port}/timebox`;

const provider = webhookProviderFactory.create({ resource: "bench", settings: { url_env: "U", secret_env: "S" }, env: { U: url, S: secret }, timeoutMs: 30_000 });
const grants = principals.map((principal, i) => {
  const now = new Date();
  return { id: `grants/bench-${i}.yaml`, shortId: randomBytes(6).toString("hex"), repo: "acme/bench", requester: `dev${i}`, principal, resource: "bench", role: "r", target: "bench-target", roleSettings: {}, pullRequest: i, grantedAt: now, expiresAt: new Date(now.getTime() + 7_200_000) };
});

const time = async (fn) => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  return { n: s.length, median_ms: +at(50).toFixed(2), p99_ms: +at(99).toFixed(2), max_ms: +s[s.length - 1].toFixed(2) };
};

try {
  await provider.checkTarget("bench-target"); // the first connection, outside the figures
  const apply = [];
  const grantOnly = [];
  for (const g of grants) {
    apply.push(
      await time(async () => {
        grantOnly.push(await time(() => provider.grant(g)));
        if (!(await provider.isGranted(g))) throw new Error("not granted");
      }),
    );
  }
  const revoke = [];
  const revokeOnly = [];
  for (const g of grants) {
    revoke.push(
      await time(async () => {
        revokeOnly.push(await time(() => provider.revoke(g, [])));
        if (await provider.isGranted(g)) throw new Error("still granted");
      }),
    );
  }
  if (system.members.get("bench-target").size !== 0) throw new Error("access left behind");
  console.log(JSON.stringify({ provider: "webhook", receiver: "docs example, 127.0.0.1", grants: N, apply: stats(apply), revoke: stats(revoke), grant_call: stats(grantOnly), revoke_call: stats(revokeOnly) }, null, 2));
} finally {
  server.closeAllConnections();
  server.close();
}

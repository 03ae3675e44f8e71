#!/usr/bin/env node
/**
 * Apply and revoke latency of the mysql provider against a real server (issue #12's provider
 * bench): 200 grants, each to its own account, then their 200 revokes, one at a time, through the
 * built provider (`npm run build` first) exactly as the lifecycle calls it (`grant` resolves only
 * after the read-back). Prints median and p99 per operation as JSON; figures only.
 *
 *   TIMEBOX_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/ node bench/mysql-latency.js [count]
 */
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { mysqlProviderFactory } from "../lib/providers/mysql/index.js";
import { accountRoleOf } from "../lib/providers/mysql/provider.js";

const url = process.env.TIMEBOX_TEST_MYSQL_URL;
if (!url) {
  console.error("set TIMEBOX_TEST_MYSQL_URL (e.g. mysql://root@127.0.0.1:3306/)");
  process.exit(2);
}
const N = Number(process.argv[2] ?? 200);
const suffix = randomBytes(4).toString("hex");
const q = (s) => "`" + s.replace(/`/g, "``") + "`";
const u = new URL(url);
const admin = await mysql.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) });
const [[{ s: scheduler }]] = await admin.query("SELECT @@global.event_scheduler AS s");

const target = `tbbench_target_${suffix}`;
const users = Array.from({ length: N }, (_, i) => `tbbench_${suffix}_${i}`);
await admin.query(`CREATE ROLE ${q(target)}`);
for (const user of users) await admin.query(`CREATE USER ${q(user)}@'%'`);

const provider = mysqlProviderFactory.create({ resource: "bench", settings: { url_env: "U" }, env: { U: url }, timeoutMs: 30_000 });
const grants = users.map((user, i) => {
  const shortId = randomBytes(6).toString("hex");
  const now = new Date();
  return { id: `grants/bench-${i}.yaml`, shortId, repo: "acme/bench", requester: user, principal: `${user}@%`, resource: "bench", role: "r", target, roleSettings: {}, pullRequest: i, grantedAt: now, expiresAt: new Date(now.getTime() + 7_200_000) };
});

const time = async (fn) => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  return { n: s.length, median_ms: +at(50).toFixed(1), p99_ms: +at(99).toFixed(1), max_ms: +s[s.length - 1].toFixed(1) };
};

try {
  await provider.checkTarget(target); // connect and read the server once, outside the figures
  const apply = [];
  for (const g of grants) apply.push(await time(() => provider.grant(g)));
  const revoke = [];
  for (const g of grants) revoke.push(await time(() => provider.revoke(g, [])));
  const [[{ v }]] = await admin.query("SELECT VERSION() AS v");
  console.log(JSON.stringify({ provider: "mysql", server: v, event_scheduler: scheduler, grants: N, apply: stats(apply), revoke: stats(revoke) }, null, 2));
} finally {
  await provider.close();
  for (const user of users) {
    await admin.query(`DROP ROLE IF EXISTS ${q(accountRoleOf({ user, host: "%" }))}`).catch(() => undefined);
    await admin.query(`DROP USER IF EXISTS ${q(user)}@'%'`).catch(() => undefined);
  }
  for (const g of grants) await admin.query(`DROP ROLE IF EXISTS ${q(`timebox_${g.shortId}`)}`).catch(() => undefined);
  await admin.query(`DROP ROLE IF EXISTS ${q(target)}`);
  await admin.end();
}

#!/usr/bin/env node
/**
 * Apply and revoke latency of the ldap provider against a real slapd (issue #12's provider bench):
 * starts a throw-away slapd (Debian's package; mdb, a generated slapd.conf with the least-privilege
 * ACL of docs/providers/ldap.md) on a free loopback port, adds 200 people and one groupOfNames, then
 * runs 200 grants (recordPriorAccess + grant, as the lifecycle does for a first apply; grant resolves
 * only after the read-back) and their 200 revokes, one at a time, through the built provider
 * (`npm run build` first). Each call opens, binds and closes its own connection. Prints median and
 * p99 per operation as JSON; figures only.
 *
 *   node bench/ldap-latency.js [count] [member|memberUid]
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "ldapts";
import { ldapProviderFactory } from "../lib/providers/ldap/index.js";

const N = Number(process.argv[2] ?? 200);
const attribute = process.argv[3] ?? "member";
const SUFFIX = "dc=example,dc=org";
const TIMEBOX = `cn=timebox,ou=services,${SUFFIX}`;
const ROOT_PW = randomBytes(9).toString("hex");
const TB_PW = randomBytes(9).toString("hex");

const dir = mkdtempSync(join(tmpdir(), "timebox-bench-slapd-"));
mkdirSync(join(dir, "db"));
writeFileSync(
  join(dir, "slapd.conf"),
  `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile ${dir}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 268435456
suffix "${SUFFIX}"
rootdn "cn=admin,${SUFFIX}"
rootpw ${ROOT_PW}
directory ${dir}/db
access to attrs=userPassword by self write by anonymous auth by * none
access to dn.subtree="ou=groups,${SUFFIX}" attrs=member,memberUid by dn.exact="${TIMEBOX}" write by users read
access to * by users read by * none
`,
);
const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, "127.0.0.1", () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const slapd = spawn("/usr/sbin/slapd", ["-f", join(dir, "slapd.conf"), "-h", `ldap://127.0.0.1:${port}/`, "-d", "0"], { stdio: "ignore" });
const url = `ldap://127.0.0.1:${port}`;
const admin = new Client({ url, timeout: 10_000 });
for (let i = 0; ; i++) {
  try {
    await admin.bind(`cn=admin,${SUFFIX}`, ROOT_PW);
    break;
  } catch (err) {
    if (i > 200) throw err;
    await new Promise((r) => setTimeout(r, 25));
  }
}

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
  for (const [dn, attrs] of [
    [SUFFIX, { objectClass: ["dcObject", "organization"], o: "Example", dc: "example" }],
    [`ou=people,${SUFFIX}`, { objectClass: "organizationalUnit", ou: "people" }],
    [`ou=groups,${SUFFIX}`, { objectClass: "organizationalUnit", ou: "groups" }],
    [`ou=services,${SUFFIX}`, { objectClass: "organizationalUnit", ou: "services" }],
    [TIMEBOX, { objectClass: ["organizationalRole", "simpleSecurityObject"], cn: "timebox", userPassword: TB_PW }],
  ]) {
    await admin.add(dn, attrs);
  }
  const target = attribute === "member" ? `cn=ops,ou=groups,${SUFFIX}` : `cn=shell,ou=groups,${SUFFIX}`;
  if (attribute === "member") await admin.add(target, { objectClass: "groupOfNames", cn: "ops", member: [""] });
  else await admin.add(target, { objectClass: "posixGroup", cn: "shell", gidNumber: "5000" });
  const people = [];
  for (let i = 0; i < N; i++) {
    const uid = `person${i}`;
    await admin.add(`uid=${uid},ou=people,${SUFFIX}`, { objectClass: ["inetOrgPerson", "posixAccount"], uid, cn: uid, sn: uid, uidNumber: String(10_000 + i), gidNumber: "10000", homeDirectory: `/home/${uid}` });
    people.push(uid);
  }
  const provider = ldapProviderFactory.create({
    resource: "bench",
    settings: { url_env: "U", bind_dn_env: "D", bind_password_env: "P", base_dn: `ou=people,${SUFFIX}` },
    env: { U: url, D: TIMEBOX, P: TB_PW },
    timeoutMs: 30_000,
  });
  // Principals by login name (resolved under base_dn on every call), the common case.
  const grants = people.map((uid, i) => {
    const now = new Date();
    return { id: `grants/bench-${i}.yaml`, shortId: randomBytes(6).toString("hex"), repo: "acme/bench", requester: uid, principal: uid, resource: "bench", role: "r", target, roleSettings: { member_attribute: attribute }, pullRequest: i, grantedAt: now, expiresAt: new Date(now.getTime() + 7_200_000) };
  });
  await provider.checkTarget(target); // first connection outside the figures
  const apply = [];
  const applied = [];
  for (const g of grants) {
    apply.push(
      await time(async () => {
        const withPrior = { ...g, priorAccess: await provider.recordPriorAccess(g, []) };
        await provider.grant(withPrior);
        applied.push(withPrior);
      }),
    );
  }
  const revoke = [];
  for (const g of applied) revoke.push(await time(() => provider.revoke(g, [])));
  console.log(JSON.stringify({ provider: "ldap", server: "slapd (OpenLDAP, mdb) on 127.0.0.1", member_attribute: attribute, grants: N, apply: stats(apply), revoke: stats(revoke) }, null, 2));
} finally {
  await admin.unbind().catch(() => undefined);
  slapd.kill("SIGTERM");
  await new Promise((resolve) => slapd.once("exit", resolve));
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A throw-away OpenLDAP server (Debian's `slapd`) for the LDAP provider's tests: a generated
 * slapd.conf in a temporary directory (mdb backend, suffix dc=example,dc=org, schemas core,
 * cosine, nis and inetorgperson), on a free loopback port, seeded with the tree the tests use,
 * stopped and deleted afterwards.
 *
 * The ACL is the least-privilege one docs/providers/ldap.md gives: Timebox's account
 * (cn=timebox,ou=services) may read people and groups and write only `member` and `memberUid` of
 * entries under ou=groups — the tests run the provider as that account, never as the rootdn.
 *
 * Without slapd installed the tests that need it are skipped with a printed reason; with
 * TIMEBOX_REQUIRE_SLAPD=1 (CI installs slapd) they fail instead.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Attribute, Change, Client } from "ldapts";

const SUFFIX = "dc=example,dc=org";
export const PEOPLE = `ou=people,${SUFFIX}`;
export const GROUPS = `ou=groups,${SUFFIX}`;
export const TIMEBOX_DN = `cn=timebox,ou=services,${SUFFIX}`;
const ROOT_DN = `cn=admin,${SUFFIX}`;

/** Where slapd is, if installed (Debian puts it in /usr/sbin, often not on a user's PATH). */
function slapdPath(): string | undefined {
  for (const p of ["/usr/sbin/slapd", "/usr/local/sbin/slapd", "/usr/local/libexec/slapd"]) if (existsSync(p)) return p;
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir && existsSync(join(dir, "slapd"))) return join(dir, "slapd");
  return undefined;
}

const slapdRequired = (): boolean => Boolean(process.env.TIMEBOX_REQUIRE_SLAPD);

/** `describe` when slapd can run here (or is required), else `describe.skip` with the reason printed once. */
export function describeWithSlapd(name: string, fn: () => void): void {
  if (slapdPath() || slapdRequired()) {
    describe(name, () => {
      if (slapdRequired()) test("slapd is installed (TIMEBOX_REQUIRE_SLAPD asks for it)", () => expect(slapdPath()).toBeDefined());
      fn();
    });
  } else {
    console.log(`skipping "${name}": slapd is not installed (apt-get install slapd ldap-utils; set TIMEBOX_REQUIRE_SLAPD=1 to fail instead)`);
    describe.skip(name, fn);
  }
}

export interface TestSlapd {
  url: string;
  port: number;
  /** The password of Timebox's least-privilege account (`TIMEBOX_DN`). */
  timeboxPassword: string;
  /** The environment a provider resource reads (`LDAP_URL`, `LDAP_BIND_DN`, `LDAP_BIND_PASSWORD`). */
  env: Record<string, string>;
  /** Resource settings naming that environment. */
  settings: { url_env: string; bind_dn_env: string; bind_password_env: string; base_dn: string };
  /** A client bound as the rootdn: the "administrator" of the tests, never the provider. */
  admin: Client;
  /** A unique suffix for names (several tests share one server). */
  unique(prefix: string): string;
  /** Adds a person (inetOrgPerson + posixAccount) under `ou` (default ou=people); returns their DN. */
  addUser(uid: string, options?: { rdn?: string; ou?: string }): Promise<string>;
  /** Adds a groupOfNames (`member`, starting with `members` or the empty-DN placeholder) or a posixGroup (`memberUid`). */
  addGroup(cn: string, kind: "groupOfNames" | "posixGroup", members?: string[], rdn?: string): Promise<string>;
  /** The values of `attribute` on `dn`, as stored. */
  values(dn: string, attribute: string): Promise<string[]>;
  /** Does `dn` hold `attribute: value`? (LDAP compare as the rootdn.) */
  holds(dn: string, attribute: string, value: string): Promise<boolean>;
  addValue(dn: string, attribute: string, value: string): Promise<void>;
  deleteValue(dn: string, attribute: string, value: string): Promise<void>;
  stop(): Promise<void>;
}

const ROOT_PASSWORD = "root-Secret-0f-the-tests";

function slapdConf(dir: string): string {
  return `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
sizelimit 500

database mdb
maxsize 67108864
suffix "${SUFFIX}"
rootdn "${ROOT_DN}"
rootpw ${ROOT_PASSWORD}
directory ${dir}/db

# Timebox's account: write member/memberUid of groups, read everything else it needs (see docs/providers/ldap.md).
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to dn.subtree="${GROUPS}" attrs=member,memberUid
  by dn.exact="${TIMEBOX_DN}" write
  by users read
access to *
  by users read
  by * none
`;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Starts slapd; retries on another port if the one picked was taken in between. */
export async function startTestSlapd(): Promise<TestSlapd> {
  const binary = slapdPath();
  if (!binary) throw new Error("slapd is not installed (apt-get install slapd ldap-utils)");
  const dir = mkdtempSync(join(tmpdir(), "timebox-slapd-"));
  mkdirSync(join(dir, "db"));
  writeFileSync(join(dir, "slapd.conf"), slapdConf(dir));
  let child: ChildProcess | undefined;
  let port = 0;
  let log = "";
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    // -d 0: stay in the foreground (so the test owns the process) and log nothing but errors.
    const c = spawn(binary, ["-f", join(dir, "slapd.conf"), "-h", `ldap://127.0.0.1:${port}/`, "-d", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    c.stdout.on("data", (d: Buffer) => (log += d.toString()));
    c.stderr.on("data", (d: Buffer) => (log += d.toString()));
    let exited = false;
    c.once("exit", () => (exited = true));
    const until = Date.now() + 10_000;
    while (!exited && Date.now() < until && !(await accepts(port))) await new Promise((r) => setTimeout(r, 25));
    if (!exited && (await accepts(port))) child = c;
    else c.kill("SIGKILL");
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`slapd did not start: ${log.slice(-2000)}`);
  }
  const proc = child;
  const url = `ldap://127.0.0.1:${port}`;
  const admin = new Client({ url, timeout: 10_000, connectTimeout: 5_000 });
  await admin.bind(ROOT_DN, ROOT_PASSWORD);
  const timeboxPassword = "tb-Bind-Pa55-" + Math.random().toString(36).slice(2);
  const seed: Array<[string, Record<string, string | string[]>]> = [
    [SUFFIX, { objectClass: ["dcObject", "organization"], o: "Example", dc: "example" }],
    [PEOPLE, { objectClass: "organizationalUnit", ou: "people" }],
    [GROUPS, { objectClass: "organizationalUnit", ou: "groups" }],
    [`ou=services,${SUFFIX}`, { objectClass: "organizationalUnit", ou: "services" }],
    [`ou=contractors,${SUFFIX}`, { objectClass: "organizationalUnit", ou: "contractors" }],
    [TIMEBOX_DN, { objectClass: ["organizationalRole", "simpleSecurityObject"], cn: "timebox", userPassword: timeboxPassword }],
  ];
  for (const [dn, attrs] of seed) await admin.add(dn, attrs);

  let n = 0;
  let uidNumber = 10_000;
  const values = async (dn: string, attribute: string): Promise<string[]> => {
    const { searchEntries } = await admin.search(dn, { scope: "base", attributes: [attribute] });
    const key = Object.keys(searchEntries[0] ?? {}).find((k) => k.toLowerCase() === attribute.toLowerCase());
    const v = key === undefined ? [] : searchEntries[0]![key];
    return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String);
  };
  const change = (operation: "add" | "delete", dn: string, attribute: string, value: string) =>
    admin.modify(dn, new Change({ operation, modification: new Attribute({ type: attribute, values: [value] }) }));
  return {
    url,
    port,
    timeboxPassword,
    env: { LDAP_URL: url, LDAP_BIND_DN: TIMEBOX_DN, LDAP_BIND_PASSWORD: timeboxPassword },
    settings: { url_env: "LDAP_URL", bind_dn_env: "LDAP_BIND_DN", bind_password_env: "LDAP_BIND_PASSWORD", base_dn: PEOPLE },
    admin,
    unique: (prefix) => `${prefix}${++n}${Math.random().toString(36).slice(2, 6)}`,
    addUser: async (uid, options = {}) => {
      const dn = `${options.rdn ?? `uid=${uid}`},${options.ou ?? PEOPLE}`;
      await admin.add(dn, {
        objectClass: ["inetOrgPerson", "posixAccount"],
        uid,
        cn: uid,
        sn: uid,
        uidNumber: String(++uidNumber),
        gidNumber: "10000",
        homeDirectory: `/home/${uid.replace(/[^A-Za-z0-9]/g, "_")}`,
      });
      return dn;
    },
    addGroup: async (cn, kind, members, rdn) => {
      const dn = `${rdn ?? `cn=${cn}`},${GROUPS}`;
      if (kind === "groupOfNames") await admin.add(dn, { objectClass: "groupOfNames", cn, member: members?.length ? members : [""] });
      else await admin.add(dn, { objectClass: "posixGroup", cn, gidNumber: String(++uidNumber), ...(members?.length ? { memberUid: members } : {}) });
      return dn;
    },
    values,
    // slapd answers "no such attribute" (16) when the entry has no value of it at all.
    holds: (dn, attribute, value) =>
      admin.compare(dn, attribute, value).catch((err: { code?: unknown }) => (err.code === 16 ? false : Promise.reject(err as Error))),
    addValue: (dn, attribute, value) => change("add", dn, attribute, value),
    deleteValue: (dn, attribute, value) => change("delete", dn, attribute, value),
    stop: async () => {
      await admin.unbind().catch(() => undefined);
      if (proc.exitCode === null) {
        const exited = new Promise((resolve) => proc.once("exit", resolve));
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

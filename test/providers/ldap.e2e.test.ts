/**
 * What is particular to the LDAP provider, on a real slapd: both member attributes, prior
 * membership and overlaps (also across a DN and a login name for the same person), login-name
 * resolution under base_dn, hostile names (RFC 4514 / 4515), the least-privilege ACL, the last
 * member of a groupOfNames, credentials scrubbed from errors, and a server that hangs.
 */
import net from "node:net";
import { withDeadline } from "../../src/providers/deadline.js";
import { escapeFilterValue, formatDn, parseDn } from "../../src/providers/ldap/dn.js";
import { ldapProviderFactory } from "../../src/providers/ldap/index.js";
import { ProviderError, type ActiveGrant, type Provider } from "../../src/providers/types.js";
import { errorTexts, makeActiveGrant } from "./contract.js";
import { startBlackHole } from "./hang-servers.js";
import { describeWithSlapd, GROUPS, PEOPLE, startTestSlapd, TIMEBOX_DN, type TestSlapd } from "./ldap-server.js";

describe("DNs and filter values (RFC 4514 / 4515)", () => {
  test("parse, unescape and write back canonically", () => {
    const p = parseDn("CN=Ops\\2C Admins \\2B\\3D , OU=groups , dc=example,dc=org");
    expect(p).toEqual({
      ok: true,
      rdns: [[{ type: "CN", value: "Ops, Admins +=" }], [{ type: "OU", value: "groups" }], [{ type: "dc", value: "example" }], [{ type: "dc", value: "org" }]],
    });
    expect(p.ok && formatDn(p.rdns)).toBe("CN=Ops\\, Admins \\+\\=,OU=groups,dc=example,dc=org");
    const multi = parseDn("cn=Pat+uid=pat,ou=people,dc=example,dc=org");
    expect(multi.ok && multi.rdns[0]).toEqual([
      { type: "cn", value: "Pat" },
      { type: "uid", value: "pat" },
    ]);
    const spaced = parseDn("cn=\\ lead\\#x\\ ,dc=org");
    expect(spaced.ok && formatDn(spaced.rdns)).toBe("cn=\\ lead#x\\ ,dc=org");
    expect(parseDn("cn=caf\\C3\\A9,dc=org")).toEqual({ ok: true, rdns: [[{ type: "cn", value: "café" }], [{ type: "dc", value: "org" }]] });
  });

  test("malformed DNs are refused with a reason", () => {
    for (const bad of ["", "  ", "ops", "cn=", "cn=a,", "cn=a,,dc=org", 'cn="x"', "cn=a\\", "cn=a\\zz", "1cn=a", "cn=a\nb", "cn=\\FF\\FE"]) {
      const p = parseDn(bad);
      expect({ bad, ok: p.ok }).toEqual({ bad, ok: false });
    }
  });

  test("filter values: the five special characters escaped", () => {
    expect(escapeFilterValue("a*b(c)d\\e\u0000f")).toBe("a\\2ab\\28c\\29d\\5ce\\00f");
    expect(escapeFilterValue("*)(uid=*")).toBe("\\2a\\29\\28uid=\\2a");
  });
});

describe("factory settings", () => {
  const settings = { url_env: "L_URL", bind_dn_env: "L_DN", bind_password_env: "L_PW", base_dn: PEOPLE };
  const create = (s: Record<string, string | number | boolean>) => () => ldapProviderFactory.create({ resource: "dir", settings: s, env: {} });
  test("valid settings build a provider; unknown keys and bad values are refused", () => {
    expect(create(settings)().id).toBe("ldap");
    expect(create({ ...settings, uid_attribute: "sAMAccountName" })().id).toBe("ldap");
    expect(create({ ...settings, password: "x" })).toThrow("unknown setting `password`");
    expect(create({ ...settings, url_env: "ldap://x" })).toThrow("`url_env` must name the environment variable");
    expect(create({ ...settings, base_dn: "people" })).toThrow("`base_dn` is not a valid DN");
    expect(create({ ...settings, uid_attribute: "uid)(x" })).toThrow("`uid_attribute` must be an attribute name");
    expect(ldapProviderFactory.settingsKeys).toEqual(["url_env", "bind_dn_env", "bind_password_env", "base_dn", "uid_attribute"]);
  });

  test("a missing environment variable is named, with nothing else", async () => {
    const p = create(settings)();
    await expect(p.isGranted(makeActiveGrant("dev1", `cn=ops,${GROUPS}`))).rejects.toThrow(
      "ldap: environment variable L_URL (the server URL for dir) is not set",
    );
  });
});

describeWithSlapd("ldap provider on slapd", () => {
  let ldap: TestSlapd;
  let provider: Provider;
  const build = (env: Record<string, string>, settings: Record<string, string> = {}, timeoutMs = 10_000) =>
    ldapProviderFactory.create({ resource: "corp-directory", settings: { ...ldap.settings, ...settings }, env, timeoutMs });

  beforeAll(async () => {
    ldap = await startTestSlapd();
    provider = build(ldap.env);
  }, 30_000);
  afterAll(async () => ldap?.stop());

  const grantOf = (principal: string, target: string, member_attribute: "member" | "memberUid" = "member", extra: Partial<ActiveGrant> = {}) =>
    makeActiveGrant(principal, target, { resource: "corp-directory", roleSettings: { member_attribute }, ...extra });

  /** The lifecycle's order: record prior access, then grant. */
  async function apply(g: ActiveGrant, stillActive: ActiveGrant[] = []): Promise<ActiveGrant> {
    const withPrior = { ...g, priorAccess: await provider.recordPriorAccess!(g, stillActive) };
    await provider.grant(withPrior);
    return withPrior;
  }

  test("member: the person's DN is added and removed, nothing else in the group changes", async () => {
    const other = await ldap.addUser(ldap.unique("other"));
    const uid = ldap.unique("dev");
    const dn = await ldap.addUser(uid);
    const group = await ldap.addGroup(ldap.unique("ops"), "groupOfNames", [other]);
    const g = await apply(grantOf(dn, group));
    expect(g.priorAccess).toEqual({ kind: "ldap-group", member: "false" });
    expect((await ldap.values(group, "member")).sort()).toEqual([dn, other].sort());
    await provider.revoke(g, []);
    expect(await ldap.values(group, "member")).toEqual([other]);
  });

  test("memberUid: the login name (the directory's spelling) is added and removed", async () => {
    const uid = ldap.unique("dev");
    await ldap.addUser(uid);
    const group = await ldap.addGroup(ldap.unique("posix"), "posixGroup", ["someone-else"]);
    // Looked up case-insensitively; the value written is the entry's own uid.
    const g = await apply(grantOf(uid.toUpperCase(), group, "memberUid"));
    expect((await ldap.values(group, "memberUid")).sort()).toEqual(["someone-else", uid].sort());
    expect(await provider.isGranted(g)).toBe(true);
    await provider.revoke(g, []);
    expect(await ldap.values(group, "memberUid")).toEqual(["someone-else"]);
    // A DN principal with memberUid: its uid is what goes in.
    const dn = `uid=${uid},${PEOPLE}`;
    const byDn = await apply(grantOf(dn, group, "memberUid"));
    expect(await ldap.holds(group, "memberUid", uid)).toBe(true);
    await provider.revoke(byDn, []);
    expect(await ldap.holds(group, "memberUid", uid)).toBe(false);
  });

  test("a group of the wrong kind for member_attribute is refused before any change", async () => {
    const uid = ldap.unique("dev");
    await ldap.addUser(uid);
    const posix = await ldap.addGroup(ldap.unique("posix"), "posixGroup");
    const err = await provider.grant(grantOf(uid, posix, "member")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).retryable).toBe(false);
    expect((err as Error).message).toContain("use member_attribute: memberUid for a posixGroup");
    await expect(provider.grant(grantOf(uid, posix, "uniqueMember" as "member"))).rejects.toThrow("`member_attribute` must be member");
  });

  test("prior membership is recorded and kept, also when a grant overlapped it", async () => {
    const dn = await ldap.addUser(ldap.unique("dev"));
    const group = await ldap.addGroup(ldap.unique("ops"), "groupOfNames", [dn]);
    const g1 = await apply(grantOf(dn, group));
    expect(g1.priorAccess).toEqual({ kind: "ldap-group", member: "true" });
    const g2 = await apply(grantOf(dn, group), [g1]);
    expect(g2.priorAccess).toEqual({ kind: "ldap-group", member: "true" });
    await provider.revoke(g1, [g2]);
    await provider.revoke(g2, []);
    expect(await ldap.holds(group, "member", dn)).toBe(true);
  });

  test("overlap across a DN and a login name for the same person: the membership stays until the last grant ends", async () => {
    const uid = ldap.unique("dev");
    const dn = await ldap.addUser(uid);
    const group = await ldap.addGroup(ldap.unique("ops"), "groupOfNames");
    const byDn = await apply(grantOf(dn, group));
    const byUid = await apply(grantOf(uid, group), [byDn]);
    // Timebox's own first grant is not prior access for the second.
    expect(byUid.priorAccess).toEqual({ kind: "ldap-group", member: "false" });
    await provider.revoke(byDn, [byUid]);
    expect(await ldap.holds(group, "member", dn)).toBe(true);
    await provider.revoke(byUid, []);
    expect(await ldap.holds(group, "member", dn)).toBe(false);
  });

  test("the last member of a groupOfNames is swapped for the empty-DN placeholder: the revoke is never blocked by the schema", async () => {
    const keeper = await ldap.addUser(ldap.unique("keeper"));
    const dn = await ldap.addUser(ldap.unique("dev"));
    const group = await ldap.addGroup(ldap.unique("ops"), "groupOfNames", [keeper]);
    const g = await apply(grantOf(dn, group));
    await ldap.deleteValue(group, "member", keeper); // an administrator empties the group meanwhile
    await provider.revoke(g, []);
    expect(await ldap.values(group, "member")).toEqual([""]);
    expect(await provider.isGranted(g)).toBe(false);
  });

  test("login names resolve under base_dn only, and must name exactly one entry", async () => {
    const outside = ldap.unique("contractor");
    await ldap.addUser(outside, { ou: `ou=contractors,dc=example,dc=org` });
    const group = await ldap.addGroup(ldap.unique("ops"), "groupOfNames");
    const diags = await provider.checkTarget(group, outside);
    expect(diags).toEqual([
      expect.objectContaining({ rule: "provider.principal", message: expect.stringContaining(`matches no entry with uid=${outside} under \`${PEOPLE}\``) }),
    ]);
    // With base_dn at the top, the same name is found.
    const wide = build(ldap.env, { base_dn: "dc=example,dc=org" });
    expect(await wide.checkTarget(group, outside)).toEqual([]);
    // Two entries with one uid: ambiguous, refused (never "the first one").
    const twice = ldap.unique("twin");
    await ldap.addUser(twice);
    await ldap.addUser(twice, { rdn: `cn=${twice}-2` });
    const err = await provider.grant(grantOf(twice, group)).catch((e: unknown) => e);
    expect((err as Error).message).toContain(`matches more than one entry with uid=${twice}`);
    expect((err as ProviderError).retryable).toBe(false);
    expect(await ldap.values(group, "member")).toEqual([""]);
  });

  test("hostile login names are literal values, never filter syntax", async () => {
    const victim = await ldap.addUser(ldap.unique("victim"));
    const group = await ldap.addGroup(ldap.unique("ops"), "groupOfNames");
    // Without `=`: a login name, searched for as a literal value (a BER-encoded equality filter).
    for (const hostile of ["*", "v*", "victim*", "*)(cn", "x)(|(objectClass", "\\2a", "a\\00b"]) {
      const diags = await provider.checkTarget(group, hostile);
      expect({ hostile, diags: diags.map((d) => d.rule) }).toEqual({ hostile, diags: ["provider.principal"] });
      await expect(provider.grant(grantOf(hostile, group))).rejects.toThrow("matches no entry");
    }
    // With `=`: read as a DN, and refused as one.
    for (const hostile of ["*)(uid=*", "x)(|(uid=*", "uid=*,ou=people,dc=example,dc=org"]) {
      const err = await provider.grant(grantOf(hostile, group)).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/is not a valid DN|does not exist in the directory/);
      expect((err as ProviderError).retryable).toBe(false);
    }
    expect(await ldap.values(group, "member")).toEqual([""]);
    expect(await ldap.holds(group, "member", victim)).toBe(false);
  });

  test("hostile DNs: special characters in people's and groups' names round-trip, however they are escaped", async () => {
    const uid = ldap.unique("obrien");
    // A person named `O'Brien, Pat + co` with uid in a multi-valued RDN, and a group `ops, admins +=#`.
    const personRdn = `cn=O'Brien\\, Pat \\+ co+uid=${uid}`;
    const person = await ldap.addUser(uid, { rdn: personRdn });
    const group = await ldap.addGroup("ops, admins +=#", "groupOfNames", undefined, "cn=ops\\, admins \\+\\=#");
    // The same DNs written differently (hex escapes, spaces, upper-case types).
    const personAlt = `UID=${uid} + CN=O'Brien\\2C Pat \\2B co, OU=people, DC=example, DC=org`;
    const groupAlt = "CN=ops\\2c admins \\2b\\3d#,ou=groups,dc=example,dc=org";
    expect(await provider.checkTarget(groupAlt, personAlt)).toEqual([]);
    const g = await apply(grantOf(personAlt, groupAlt));
    expect(await ldap.holds(group, "member", person)).toBe(true);
    expect(await provider.isGranted(grantOf(person, group))).toBe(true);
    // The other spelling is the same grant for overlap purposes.
    const g2 = await apply(grantOf(person, group), [g]);
    await provider.revoke(g, [g2]);
    expect(await ldap.holds(group, "member", person)).toBe(true);
    await provider.revoke(g2, []);
    expect(await ldap.holds(group, "member", person)).toBe(false);
    // A DN that only looks like it continues the group's name names a different (missing) entry.
    const smuggled = "cn=ops,cn=admins,ou=groups,dc=example,dc=org";
    expect((await provider.checkTarget(smuggled)).map((d) => d.rule)).toEqual(["provider.target"]);
    // Unescaped quotes or angle brackets are refused before anything is sent.
    await expect(provider.grant(grantOf(person, 'cn="ops",ou=groups,dc=example,dc=org'))).rejects.toThrow("is not a group DN");
  });

  test("a group, the target itself or Timebox's own account is never a principal", async () => {
    const group = await ldap.addGroup(ldap.unique("ops"), "groupOfNames");
    const admins = await ldap.addGroup(ldap.unique("admins"), "groupOfNames");
    const cases: Array<[string, string]> = [
      [admins, "is a group"],
      [group, "is a group"],
      [TIMEBOX_DN.toUpperCase(), "is the account Timebox binds as"],
    ];
    for (const [principal, why] of cases) {
      const diags = await provider.checkTarget(group, principal);
      expect(diags).toEqual([expect.objectContaining({ rule: "provider.principal", message: expect.stringContaining(why) })]);
      const err = await provider.grant(grantOf(principal, group)).catch((e: unknown) => e);
      expect((err as Error).message).toContain(why);
      expect((err as ProviderError).retryable).toBe(false);
    }
    expect(await ldap.values(group, "member")).toEqual([""]);
  });

  test("least privilege: Timebox's account can change memberships and nothing else (the ACL of docs/providers/ldap.md)", async () => {
    const dn = await ldap.addUser(ldap.unique("dev"));
    const group = await ldap.addGroup(ldap.unique("ops"), "groupOfNames");
    const { Client, Change, Attribute } = await import("ldapts");
    const asTimebox = new Client({ url: ldap.url, timeout: 5_000 });
    await asTimebox.bind(TIMEBOX_DN, ldap.timeboxPassword);
    try {
      await asTimebox.modify(group, new Change({ operation: "add", modification: new Attribute({ type: "member", values: [dn] }) }));
      for (const [target, attr, value] of [
        [group, "description", "pwned"],
        [group, "cn", "other"],
        [dn, "mail", "x@example.org"],
        [dn, "userPassword", "x"],
      ]) {
        const err = await asTimebox
          .modify(target!, new Change({ operation: "add", modification: new Attribute({ type: attr!, values: [value!] }) }))
          .catch((e: unknown) => e);
        expect({ attr, code: (err as { code?: number }).code }).toEqual({ attr, code: 50 });
      }
    } finally {
      await asTimebox.unbind();
    }
    // A group outside ou=groups is out of reach: the provider says so without leaking anything.
    const elsewhere = `cn=${ldap.unique("elsewhere")},ou=services,dc=example,dc=org`;
    await ldap.admin.add(elsewhere, { objectClass: "groupOfNames", cn: elsewhere.slice(3, elsewhere.indexOf(",")), member: [""] });
    const err = await provider.grant(grantOf(dn, elsewhere)).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/insufficient access rights, LDAP result 50\): see docs\/providers\/ldap.md/);
  });

  test("bad credentials and an unreachable server: a summary, never the password, bind DN or URL", async () => {
    const wrong = "Wr0ng-Passw0rd-in-the-env!";
    const bad = build({ ...ldap.env, LDAP_BIND_PASSWORD: wrong });
    const group = await ldap.addGroup(ldap.unique("ops"), "groupOfNames");
    const err = await bad.grant(grantOf("anyone", group)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toBe(
      "ldap: bind on corp-directory failed (invalid credentials, LDAP result 49): check the bind DN and password the resource's settings name",
    );
    for (const secret of [wrong, ldap.timeboxPassword, TIMEBOX_DN, ldap.url]) expect(errorTexts(err).includes(secret)).toBe(false);

    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const url = `ldap://127.0.0.1:${closed}`;
    const unreachable = build({ ...ldap.env, LDAP_URL: url });
    const err2 = await unreachable.checkTarget(group).catch((e: unknown) => e);
    expect((err2 as Error).message).toBe("ldap: bind on corp-directory failed (ECONNREFUSED)");
    expect((err2 as ProviderError).retryable).toBe(true);
    expect(errorTexts(err2).includes(url)).toBe(false);

    const withCreds = build({ ...ldap.env, LDAP_URL: `ldap://user:${wrong}@127.0.0.1:${closed}` });
    const err3 = await withCreds.checkTarget(group).catch((e: unknown) => e);
    expect((err3 as Error).message).toContain("must be ldap://host[:port] or ldaps://host[:port]");
    expect(errorTexts(err3).includes(wrong)).toBe(false);
  });

  test("a server that accepts connections and never answers: the call ends at the deadline and its socket is closed", async () => {
    const hole = await startBlackHole();
    try {
      const url = `ldap://127.0.0.1:${hole.port}`;
      // The provider's own timeouts alone (no wrapper): bounded by the call deadline it was built with.
      const own = build({ ...ldap.env, LDAP_URL: url }, {}, 400);
      const t0 = Date.now();
      const err = await own.grant(grantOf("anyone", `cn=ops,${GROUPS}`)).catch((e: unknown) => e);
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect((err as Error).message).toBe("ldap: bind on corp-directory failed (no answer within 0.4 s)");
      expect((err as ProviderError).retryable).toBe(true);

      // Under the pool's deadline: the wrapper rejects at it and the provider's socket goes too.
      const slow = withDeadline(build({ ...ldap.env, LDAP_URL: url }, {}, 60_000), "corp-directory", 300);
      const t1 = Date.now();
      await expect(slow.revoke(grantOf("anyone", `cn=ops,${GROUPS}`), [])).rejects.toThrow("corp-directory: the ldap provider did not answer within 0.3 s");
      expect(Date.now() - t1).toBeLessThan(2_000);
      expect(hole.accepted).toBe(2);
    } finally {
      await hole.close();
    }
  });

  test("a server that stops answering mid-call: the change not sent by the deadline is never sent", async () => {
    const dn = await ldap.addUser(ldap.unique("dev"));
    const group = await ldap.addGroup(ldap.unique("ops"), "groupOfNames");
    // An LDAP-aware proxy that forwards the first N requests of each connection and swallows the rest.
    let forwardFirst = Infinity;
    let swallowed = 0;
    let open = 0;
    const proxy = net.createServer((client) => {
      open++;
      const upstream = net.connect(ldap.port, "127.0.0.1");
      let buffer = Buffer.alloc(0);
      let seen = 0;
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.once("close", () => {
        open--;
        end();
      });
      client.on("error", end);
      upstream.on("error", end);
      upstream.on("data", (d: Buffer) => client.write(d));
      client.on("data", (d: Buffer) => {
        buffer = Buffer.concat([buffer, d]);
        for (;;) {
          const len = berLength(buffer);
          if (len === undefined || buffer.length < len) return;
          const message = buffer.subarray(0, len);
          buffer = buffer.subarray(len);
          if (seen++ < forwardFirst) upstream.write(message);
          else swallowed++;
        }
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const url = `ldap://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
      const p = withDeadline(build({ ...ldap.env, LDAP_URL: url }, {}, 60_000), "corp-directory", 500);
      // grant: bind, read group, read person, compare — then the modify is swallowed.
      forwardFirst = 4;
      await expect(p.grant(grantOf(dn, group))).rejects.toThrow("did not answer within 0.5 s");
      expect(swallowed).toBe(1);
      await new Promise((r) => setTimeout(r, 300));
      expect(open).toBe(0); // the provider closed its connection at the deadline
      expect(await ldap.holds(group, "member", dn)).toBe(false);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});

/** Total length of the BER element at the start of `b` (tag, length, content), if its header is complete. */
function berLength(b: Buffer): number | undefined {
  if (b.length < 2) return undefined;
  const first = b[1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (b.length < 2 + n) return undefined;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[2 + i]!;
  return 2 + n + len;
}

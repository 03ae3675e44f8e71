/**
 * The LDAP provider: temporary membership of a directory group (OpenLDAP groupOfNames or
 * posixGroup, Active Directory groups), acting with its own bind DN.
 *
 * Grant adds the person's member value to the group; revoke removes it — unless the person was a
 * member before Timebox's first grant (recorded by `recordPriorAccess`, persisted by the
 * lifecycle) or another still-active grant gives the same membership (design rule 7). Both read
 * the membership back (LDAP compare, decided by the directory's own matching rule) before they
 * resolve.
 *
 * No `listManaged`: a membership is one value of a multi-valued attribute, and LDAP keeps no
 * label, description or creator on a value, so nothing in the directory can tell a membership
 * Timebox added from one an administrator added. Drift detection for this provider is
 * `isGranted` against the grants Git says are active; reporting "memberships Timebox made" would
 * be a guess, and a wrong guess there would invite removing someone's legitimate access.
 */
import type { Entry } from "ldapts";
import type { Diagnostic } from "../../diagnostics.js";
import { ProviderError, type ActiveGrant, type GrantResult, type Provider } from "../types.js";
import {
  ANY_GROUP_CLASSES,
  candidates,
  GROUP_CLASSES,
  parseGroup,
  parsePrincipal,
  priorRecord,
  readPrior,
  wantedAccess,
  type MemberAttribute,
  type PrincipalName,
  type Wanted,
} from "./access.js";
import { withSession, type LdapConnection, type LdapOps, type LdapTimeouts } from "./client.js";
import { dnKey, parseDn } from "./dn.js";
import { Redactor, resultCode } from "./errors.js";

export interface LdapProviderConfig extends LdapConnection {
  /** Where login names (principals without `=`) are looked up. */
  baseDn: string;
  /** The attribute holding login names: `uid` (OpenLDAP, RFC 2307) or `sAMAccountName` (AD). */
  uidAttribute: string;
  timeouts: LdapTimeouts;
}

/** A principal found in the directory. */
interface Resolved {
  dn: string;
  /** The login name stored on the entry (`uid_attribute`), when it has exactly one. */
  uid: string | undefined;
  objectClasses: string[];
}

type Resolution = { ok: true; entry: Resolved } | { ok: false; problem: string };

/** The value that makes someone a member through `attribute`, or why there is none. */
type MemberValue = { ok: true; value: string; entry: Resolved } | { ok: false; problem: string };

export class LdapProvider implements Provider {
  readonly id = "ldap";
  private readonly redact: Redactor;

  constructor(private readonly config: LdapProviderConfig) {
    this.redact = new Redactor([config.password, config.bindDn, config.url]);
  }

  async checkTarget(target: string, principal?: string): Promise<Diagnostic[]> {
    const out: Diagnostic[] = [];
    const resource = this.config.resource;
    const group = parseGroup(target);
    if (!group.ok) out.push(diag("provider.target", `resource "${resource}": ${group.error}`));
    const name = principal === undefined ? undefined : parsePrincipal(principal);
    if (name && !name.ok) out.push(diag("provider.principal", `resource "${resource}": ${name.error}`));
    if (!group.ok && !name?.ok) return out;
    return this.session(`check target ${target}`, async (ops) => {
      if (group.ok) {
        const entry = await ops.read(group.dn, ["objectClass"]);
        if (!entry) {
          out.push(
            diag(
              "provider.target",
              `resource "${resource}": LDAP group \`${target}\` does not exist, or Timebox's bind DN cannot read it; create it or fix the role's target`,
            ),
          );
        } else if (!classesOf(entry).some((c) => ANY_GROUP_CLASSES.includes(c))) {
          out.push(
            diag(
              "provider.target",
              `resource "${resource}": \`${target}\` is not a group (object classes: ${classesOf(entry).join(", ") || "none readable"}); a target must be a groupOfNames, posixGroup or Active Directory group`,
            ),
          );
        }
      }
      if (name?.ok) {
        const found = await this.resolve(ops, name.value);
        const problem = found.ok ? this.principalProblem(found.entry, group.ok ? group.key : undefined) : found.problem;
        if (problem !== undefined) out.push(diag("provider.principal", `resource "${resource}": principal ${name.value.display} ${problem}. ${howToFix()}`));
      }
      return out;
    });
  }

  async recordPriorAccess(g: ActiveGrant, stillActive: readonly ActiveGrant[] = []): Promise<Record<string, string>> {
    const w = wantedAccess(g);
    return this.session(`read prior membership for ${g.id}`, async (ops) => {
      const mv = await this.memberValue(ops, w);
      if (!mv.ok) return priorRecord(false); // grant will refuse it with the reason
      const member = await this.isMember(ops, w, mv.value);
      if (!member) return priorRecord(false);
      // A membership another live Timebox grant gives is not prior access, or the last of the
      // overlapping grants would never remove it: carry forward what those grants recorded.
      const others = await this.overlapping(ops, g, w, mv.value, stillActive);
      if (others.length > 0) return priorRecord(others.some((o) => readPrior(o.priorAccess).member));
      return priorRecord(true);
    });
  }

  async grant(g: ActiveGrant): Promise<GrantResult> {
    const w = wantedAccess(g);
    const prior = readPrior(g.priorAccess);
    return this.session(`grant ${g.id}`, async (ops) => {
      const group = await ops.read(w.groupDn, ["objectClass"]);
      if (!group) throw this.fatal(g, `LDAP group \`${g.target}\` does not exist, or Timebox's bind DN cannot read it`);
      if (!classesOf(group).some((c) => GROUP_CLASSES[w.attribute].includes(c))) {
        throw this.fatal(
          g,
          `\`${g.target}\` is not a group that lists members in \`${w.attribute}\` (object classes: ${classesOf(group).join(", ")}); ${w.attribute === "member" ? "use member_attribute: memberUid for a posixGroup" : "use member_attribute: member for a groupOfNames or Active Directory group"}`,
        );
      }
      const mv = await this.memberValue(ops, w);
      if (!mv.ok) throw this.fatal(g, `principal ${w.principal.display} ${mv.problem}. ${howToFix(g.requester)}`);
      const problem = this.principalProblem(mv.entry, w.groupKey);
      if (problem !== undefined) throw this.fatal(g, `principal ${w.principal.display} ${problem}. ${howToFix(g.requester)}`);
      const summary = `${display(mv.value, w.attribute)} is a member of LDAP group \`${w.groupDn}\` on ${this.config.resource}`;
      if (await this.isMember(ops, w, mv.value)) return { summary: summary + (prior.member ? " (already before this grant; kept after it ends)" : "") };
      try {
        await ops.add(w.groupDn, w.attribute, mv.value);
      } catch (err) {
        // Already there (added meanwhile): 20 on OpenLDAP, 68 on Active Directory.
        const code = resultCode(err);
        if (code !== 20 && code !== 68) throw err;
      }
      if (!(await this.isMember(ops, w, mv.value))) {
        throw new ProviderError(
          `ldap: grant ${g.id} on ${this.config.resource} did not take effect (${display(mv.value, w.attribute)} is not a member of \`${w.groupDn}\` after the change)`,
          true,
        );
      }
      return { summary };
    });
  }

  async revoke(g: ActiveGrant, stillActive: readonly ActiveGrant[] = []): Promise<void> {
    const w = wantedAccess(g);
    if (readPrior(g.priorAccess).member) return; // a member before Timebox: not Timebox's to remove
    await this.session(`revoke ${g.id}`, async (ops) => {
      if (!(await ops.read(w.groupDn, ["objectClass"]))) return; // the group is gone, and the access with it
      const value = await this.valueToRemove(ops, w);
      if (value === undefined) return;
      if (!(await this.isMember(ops, w, value))) return; // already gone
      if ((await this.overlapping(ops, g, w, value, stillActive)).length > 0) return; // another grant still gives it
      try {
        await ops.delete(w.groupDn, w.attribute, value);
      } catch (err) {
        const code = resultCode(err);
        if (code === 16) {
          // no such value: removed meanwhile
        } else if (code === 65 && w.attribute === "member") {
          // groupOfNames requires at least one member: the person was the last. Swap them for the
          // empty DN in one atomic modify (the usual placeholder: it names nobody), so the
          // revocation is never blocked by the schema.
          await ops.replaceValue(w.groupDn, w.attribute, "", value);
        } else {
          throw err;
        }
      }
      if (await this.isMember(ops, w, value)) {
        throw new ProviderError(
          `ldap: revoke ${g.id} on ${this.config.resource} did not take effect (${display(value, w.attribute)} is still a member of \`${w.groupDn}\`)`,
          true,
        );
      }
    });
  }

  async isGranted(g: ActiveGrant): Promise<boolean> {
    const w = wantedAccess(g);
    return this.session(`check grant ${g.id}`, async (ops) => {
      const mv = await this.memberValue(ops, w);
      return mv.ok && (await this.isMember(ops, w, mv.value));
    });
  }

  async close(): Promise<void> {}

  /** Looks the principal up: a DN is read, a login name searched for under `base_dn`. */
  private async resolve(ops: LdapOps, p: PrincipalName): Promise<Resolution> {
    const attributes = ["objectClass", this.config.uidAttribute];
    if (p.kind === "dn") {
      const entry = await ops.read(p.dn, attributes);
      return entry ? { ok: true, entry: this.resolved(entry) } : { ok: false, problem: "does not exist in the directory, or Timebox's bind DN cannot read it" };
    }
    const found = await ops.findEqual(this.config.baseDn, this.config.uidAttribute, p.uid, attributes, 2);
    if (found.length === 0) return { ok: false, problem: `matches no entry with ${this.config.uidAttribute}=${p.uid} under \`${this.config.baseDn}\`` };
    if (found.length > 1)
      return {
        ok: false,
        problem: `matches more than one entry with ${this.config.uidAttribute}=${p.uid} under \`${this.config.baseDn}\`; name the person by DN instead`,
      };
    return { ok: true, entry: this.resolved(found[0]!) };
  }

  private resolved(entry: Entry): Resolved {
    const uids = values(entry, this.config.uidAttribute);
    return { dn: entry.dn, uid: uids.length === 1 ? uids[0] : undefined, objectClasses: classesOf(entry) };
  }

  /** The member value for this grant's attribute: the entry's DN, or its login name. */
  private async memberValue(ops: LdapOps, w: Wanted): Promise<MemberValue> {
    const found = await this.resolve(ops, w.principal);
    if (!found.ok) return found;
    if (w.attribute === "member") return { ok: true, value: found.entry.dn, entry: found.entry };
    // The directory's own spelling of the login name (the search matched it case-insensitively).
    const uid = w.principal.kind === "uid" ? (found.entry.uid ?? w.principal.uid) : found.entry.uid;
    if (uid === undefined) return { ok: false, problem: `has no single ${this.config.uidAttribute} value, which a posixGroup's memberUid needs` };
    return { ok: true, value: uid, entry: found.entry };
  }

  /**
   * The value a revoke removes. Also when the person's entry is gone since: a DN principal's DN
   * and a login name's memberUid are known without it. (A login name whose entry was deleted
   * cannot be turned back into the DN `member` held; nobody can bind as it any more.)
   */
  private async valueToRemove(ops: LdapOps, w: Wanted): Promise<string | undefined> {
    const mv = await this.memberValue(ops, w);
    if (mv.ok) return mv.value;
    if (w.principal.kind === "dn" && w.attribute === "member") return w.principal.dn;
    if (w.principal.kind === "uid" && w.attribute === "memberUid") return w.principal.uid;
    return undefined;
  }

  private async isMember(ops: LdapOps, w: Wanted, value: string): Promise<boolean> {
    try {
      return await ops.compare(w.groupDn, w.attribute, value);
    } catch (err) {
      // 32: the group does not exist; 16: it has no value of the attribute at all (an empty posixGroup).
      const code = resultCode(err);
      if (code === 32 || code === 16) return false;
      throw err;
    }
  }

  /** The other still-active grants that give the same member value in the same group. */
  private async overlapping(ops: LdapOps, g: ActiveGrant, w: Wanted, value: string, stillActive: readonly ActiveGrant[]): Promise<ActiveGrant[]> {
    const out: ActiveGrant[] = [];
    const mine = valueKey(value, w.attribute);
    for (const o of candidates(g, w, stillActive)) {
      if (o.wanted.principal.key === w.principal.key) {
        out.push(o.grant);
        continue;
      }
      const mv = await this.memberValue(ops, o.wanted);
      if (mv.ok && valueKey(mv.value, w.attribute) === mine) out.push(o.grant);
    }
    return out;
  }

  /** Why this entry must not be a principal; undefined when it may. */
  private principalProblem(entry: Resolved, groupKey: string | undefined): string | undefined {
    const key = keyOf(entry.dn);
    if (entry.objectClasses.some((c) => ANY_GROUP_CLASSES.includes(c))) {
      return `is a group (\`${entry.dn}\`): adding a group as a member gives the access to everyone in it`;
    }
    if (groupKey !== undefined && key === groupKey) return "is the target group itself";
    const bind = this.config.bindDn === undefined ? undefined : parseDn(this.config.bindDn);
    if (bind?.ok && dnKey(bind.rdns) === key) return "is the account Timebox binds as; Timebox never grants access to itself";
    return undefined;
  }

  private fatal(g: ActiveGrant, what: string): ProviderError {
    return new ProviderError(this.redact.scrub(`ldap: cannot grant ${g.id} on ${this.config.resource}: ${what}`), false);
  }

  private session<T>(action: string, fn: (ops: LdapOps) => Promise<T>): Promise<T> {
    return withSession(this.config, this.config.timeouts, this.redact, action, fn);
  }
}

function classesOf(entry: Entry): string[] {
  return values(entry, "objectClass").map((c) => c.toLowerCase());
}

/** An attribute's string values (attribute names are case-insensitive; ldapts keeps the server's case). */
function values(entry: Entry, attribute: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const v = key === undefined ? undefined : entry[key];
  const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
  return list.map((x) => (Buffer.isBuffer(x) ? x.toString("utf8") : String(x)));
}

function keyOf(dn: string): string {
  const p = parseDn(dn);
  return p.ok ? dnKey(p.rdns) : dn.toLowerCase();
}

function valueKey(value: string, attribute: MemberAttribute): string {
  // memberUid matches exactly (caseExactIA5Match in the nis schema); DNs by distinguishedNameMatch.
  return attribute === "member" ? keyOf(value) : value;
}

function display(value: string, attribute: MemberAttribute): string {
  return attribute === "member" ? `\`${value}\`` : `${attribute} \`${value}\``;
}

function howToFix(requester?: string): string {
  if (requester !== undefined) {
    const login = requester.toLowerCase();
    return `Map the requester to their own directory entry: \`identities: { ${login}: { ldap: <their DN or login name> } }\` in the policy.`;
  }
  return "Map each person to their own directory entry with an `identities` entry in the policy (`identities: { <github login>: { ldap: <DN or login name> } }`).";
}

function diag(rule: string, message: string): Diagnostic {
  return { path: "", line: 1, column: 1, rule, severity: "error", message };
}

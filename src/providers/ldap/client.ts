/**
 * One LDAP session per provider call: connect, bind as Timebox's own account, run the call's few
 * operations, unbind. Every wait is bounded (design rule 13):
 * - `connectMs`: TCP connect and (for ldaps://) the TLS handshake;
 * - `operationMs`: each request (bind, search, compare, modify) — the client destroys the
 *   connection when one is not answered in time;
 * - inside a call bounded by the provider pool's deadline (`currentDeadline`), no request is sent
 *   after the deadline, each timeout is cut to the time left, and when the deadline passes the
 *   socket is destroyed at once: a modify that was not sent by then never is, so nothing this call
 *   started changes a group after the lifecycle was told it failed.
 */
import net from "node:net";
import tls from "node:tls";
import { Attribute, Change, Client, EqualityFilter, type Entry, type Filter } from "ldapts";
import { currentDeadline, remainingMs, throwIfPastDeadline } from "../deadline.js";
import { ProviderError } from "../types.js";
import type { Redactor } from "./errors.js";

export interface LdapTimeouts {
  connectMs: number;
  operationMs: number;
}

const DEFAULT_TIMEOUTS: LdapTimeouts = { connectMs: 5_000, operationMs: 10_000 };

/** The timeouts for a call deadline of `callMs` (each request fits inside one call). */
export function timeoutsWithin(callMs: number | undefined): LdapTimeouts {
  if (callMs === undefined) return DEFAULT_TIMEOUTS;
  const cap = (ms: number) => Math.max(1, Math.min(ms, callMs));
  return { connectMs: cap(DEFAULT_TIMEOUTS.connectMs), operationMs: cap(DEFAULT_TIMEOUTS.operationMs) };
}

export interface LdapConnection {
  /** Policy resource name, used in messages instead of the URL. */
  resource: string;
  /** Names of the env vars, for messages; their values (may be missing). */
  urlEnv: string;
  bindDnEnv: string;
  passwordEnv: string;
  url: string | undefined;
  bindDn: string | undefined;
  password: string | undefined;
}

/** What a provider call may do in its session. */
export interface LdapOps {
  /** Base-scope read of one entry; undefined when it does not exist. */
  read(dn: string, attributes: string[]): Promise<Entry | undefined>;
  /** Subtree search under `base` for entries whose `attribute` equals `value` (a literal, never a pattern). */
  findEqual(base: string, attribute: string, value: string, attributes: string[], sizeLimit: number): Promise<Entry[]>;
  /** Does `dn` hold `attribute: value`? Decided by the directory's own matching rule. */
  compare(dn: string, attribute: string, value: string): Promise<boolean>;
  add(dn: string, attribute: string, value: string): Promise<void>;
  delete(dn: string, attribute: string, value: string): Promise<void>;
  /** One atomic modify: add `add`, then delete `remove` (both values of `attribute`). */
  replaceValue(dn: string, attribute: string, add: string, remove: string): Promise<void>;
}

export async function withSession<T>(
  conn: LdapConnection,
  timeouts: LdapTimeouts,
  redact: Redactor,
  action: string,
  fn: (ops: LdapOps) => Promise<T>,
): Promise<T> {
  const { resource } = conn;
  const missing = (env: string, what: string) => new ProviderError(`ldap: environment variable ${env} (${what} for ${resource}) is not set`, false);
  if (!conn.url) throw missing(conn.urlEnv, "the server URL");
  if (!conn.bindDn) throw missing(conn.bindDnEnv, "the bind DN");
  if (conn.password === undefined || conn.password === "") throw missing(conn.passwordEnv, "the bind password");
  if (!/^ldaps?:\/\/[^/?#\s@]+\/?$/i.test(conn.url)) {
    throw new ProviderError(`ldap: ${conn.urlEnv} for ${resource} must be ldap://host[:port] or ldaps://host[:port] (no path, filter or credentials)`, false);
  }
  throwIfPastDeadline();
  const sockets: net.Socket[] = [];
  const client = new Client({
    url: conn.url,
    timeout: remainingMs(timeouts.operationMs),
    connectTimeout: remainingMs(timeouts.connectMs),
    createConnection: ((port: number, host: string) => {
      const s = net.connect(port, host);
      sockets.push(s);
      return s;
    }) as typeof net.connect,
    createSecureConnection: ((port: number, host: string, options?: tls.ConnectionOptions) => {
      const s = tls.connect(port, host, { ...options, servername: net.isIP(host) ? undefined : host });
      sockets.push(s);
      return s;
    }) as typeof tls.connect,
  });
  const deadline = currentDeadline();
  const abort = () => {
    for (const s of sockets) s.destroy(new Error("deadline passed"));
  };
  deadline?.signal.addEventListener("abort", abort, { once: true });
  const step = async <R>(run: () => Promise<R>): Promise<R> => {
    throwIfPastDeadline();
    return run();
  };
  const ops: LdapOps = {
    read: (dn, attributes) =>
      step(async () => {
        try {
          const { searchEntries } = await client.search(dn, { scope: "base", attributes, sizeLimit: 1, timeLimit: seconds(timeouts.operationMs) });
          return searchEntries[0];
        } catch (err) {
          if ((err as { code?: unknown }).code === 32) return undefined; // no such object
          throw err;
        }
      }),
    findEqual: (base, attribute, value, attributes, sizeLimit) =>
      step(async () => {
        // A filter object, BER-encoded as is: the value cannot become a wildcard or a second term.
        const filter: Filter = new EqualityFilter({ attribute, value });
        // Past `sizeLimit` the client returns what it got (no error): the caller treats `sizeLimit`
        // entries as "at least that many".
        const { searchEntries } = await client.search(base, { scope: "sub", filter, attributes, sizeLimit, timeLimit: seconds(timeouts.operationMs) });
        return searchEntries;
      }),
    compare: (dn, attribute, value) => step(() => client.compare(dn, attribute, value)),
    add: (dn, attribute, value) =>
      step(() => client.modify(dn, new Change({ operation: "add", modification: new Attribute({ type: attribute, values: [value] }) }))),
    delete: (dn, attribute, value) =>
      step(() => client.modify(dn, new Change({ operation: "delete", modification: new Attribute({ type: attribute, values: [value] }) }))),
    replaceValue: (dn, attribute, add, remove) =>
      step(() =>
        client.modify(dn, [
          new Change({ operation: "add", modification: new Attribute({ type: attribute, values: [add] }) }),
          new Change({ operation: "delete", modification: new Attribute({ type: attribute, values: [remove] }) }),
        ]),
      ),
  };
  try {
    try {
      await step(() => client.bind(conn.bindDn!, conn.password));
    } catch (err) {
      throw redact.error(resource, "bind", err, timeouts.operationMs);
    }
    try {
      return await fn(ops);
    } catch (err) {
      throw redact.error(resource, action, err, timeouts.operationMs);
    }
  } finally {
    deadline?.signal.removeEventListener("abort", abort);
    // Unbind politely, but never wait on a server that stopped answering.
    const unbound = client.unbind().catch(() => undefined);
    const timer = setTimeout(abort, Math.min(1_000, timeouts.operationMs));
    await unbound;
    clearTimeout(timer);
    for (const s of sockets) s.destroy();
  }
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(remainingMs(ms) / 1000));
}

/**
 * Servers that hang, for the deadline tests (issue #10 item 12, design rule 13): real TCP servers
 * on 127.0.0.1, so the code under test meets them exactly as it would a hung database or API.
 *
 * - `startBlackHole()`: accepts connections and never sends a byte.
 * - `startStallingProxy(target)`: a PostgreSQL wire-protocol proxy in front of a real server (or
 *   PGlite over pglite-socket) that passes everything through until told to stall: after the
 *   client's Nth query (the server never sees the next one, so it never answers and the
 *   connection stays open), or after N bytes from the server (a reply cut off mid-message).
 */
import net from "node:net";

export interface BlackHole {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startBlackHole(): Promise<BlackHole> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
    // Read and ignore everything; never answer.
    socket.on("data", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get accepted() {
      return accepted;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface StallOptions {
  /** Pass this many client queries through, then swallow every later message of the connection. */
  afterQueries?: number;
  /** Pass this many bytes from the server, then swallow the rest (a reply cut off mid-message). */
  afterServerBytes?: number;
  /** Hold the connection to the server back this long (a slow startup). */
  connectDelayMs?: number;
}

export interface StallingProxy {
  port: number;
  /** Stall new connections as described (undefined: pass everything). */
  stall(options: StallOptions | undefined): void;
  /** Queries (simple `Q`, or extended `Parse`) the server received through the proxy. */
  readonly queriesForwarded: number;
  /** Queries the proxy swallowed. */
  readonly queriesSwallowed: number;
  /** Client connections currently open. */
  readonly open: number;
  close(): Promise<void>;
}

/** A proxy to `target` (host:port) that understands just enough of the wire protocol to count queries. */
export async function startStallingProxy(target: { host: string; port: number }): Promise<StallingProxy> {
  let stallOptions: StallOptions | undefined;
  let forwarded = 0;
  let swallowed = 0;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const opts = stallOptions;
    sockets.add(client);
    let upstream: net.Socket | undefined;
    let pending: Buffer[] = [];
    let buffer = Buffer.alloc(0);
    let startupDone = false;
    let queries = 0;
    let stalled = false;
    let serverBytes = 0;
    const end = () => {
      client.destroy();
      upstream?.destroy();
      sockets.delete(client);
    };
    client.on("error", end);
    client.on("close", end);

    const send = (chunk: Buffer) => {
      if (upstream) upstream.write(chunk);
      else pending.push(chunk);
    };

    const connect = () => {
      if (client.destroyed) return;
      const up = net.connect(target.port, target.host);
      up.on("error", end);
      up.on("close", end);
      up.on("connect", () => {
        upstream = up;
        for (const p of pending) up.write(p);
        pending = [];
      });
      up.on("data", (chunk: Buffer) => {
        if (opts?.afterServerBytes !== undefined) {
          const room = opts.afterServerBytes - serverBytes;
          serverBytes += chunk.length;
          if (room <= 0) return;
          if (chunk.length > room) chunk = chunk.subarray(0, room);
        }
        client.write(chunk);
      });
    };
    if (opts?.connectDelayMs) setTimeout(connect, opts.connectDelayMs);
    else connect();

    client.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!startupDone) {
          // Startup (or SSLRequest): Int32 length, then the body; no type byte.
          if (buffer.length < 4) return;
          const len = buffer.readInt32BE(0);
          if (buffer.length < len) return;
          const code = len >= 8 ? buffer.readInt32BE(4) : 0;
          if (code === 80877103) {
            // SSLRequest: refuse TLS ourselves; the client then sends the startup in the clear.
            buffer = buffer.subarray(len);
            client.write("N");
            continue;
          }
          send(buffer.subarray(0, len));
          buffer = buffer.subarray(len);
          startupDone = true;
          continue;
        }
        if (buffer.length < 5) return;
        const len = buffer.readInt32BE(1) + 1;
        if (buffer.length < len) return;
        const message = buffer.subarray(0, len);
        buffer = buffer.subarray(len);
        const type = String.fromCharCode(message[0]!);
        if (type === "Q" || type === "P") {
          if (!stalled && opts?.afterQueries !== undefined && queries >= opts.afterQueries) stalled = true;
          queries++;
          if (stalled) swallowed++;
          else forwarded++;
        }
        // Terminate ('X') always passes, so a clean close still closes.
        if (!stalled || type === "X") send(message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stall: (o) => {
      stallOptions = o;
    },
    get queriesForwarded() {
      return forwarded;
    },
    get queriesSwallowed() {
      return swallowed;
    },
    get open() {
      return sockets.size;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** `url` with its host and port replaced (and a password set), e.g. to point it at a proxy. */
export function viaPort(url: string, port: number, password?: string): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  if (password !== undefined) u.password = encodeURIComponent(password);
  return u.toString();
}

/** The host and port of a connection URL. */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432) };
}

/** Waits until `check` holds (polling), or fails after `ms`. */
export async function eventually(check: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

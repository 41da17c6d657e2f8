/**
 * A TCP proxy between an endpoint and a broker that fails the way networks fail, for the fault
 * tests (`network_faults_test.ts`). It works on bytes, below TLS, so the endpoint's TLS session and
 * client certificate go through it unchanged.
 *
 * - **pass**: forwards both ways (optionally with `latency` ms added to every chunk).
 * - **black-hole** ({@linkcode FaultProxy.blackhole}): the network path dies without a reset (NAT
 *   timeout, cellular hand-over): both sockets stay open, nothing is forwarded either way, and a
 *   close or reset from either side is swallowed, so neither side hears of the other's end. (One
 *   difference from a real dead path: the proxy's kernel still acknowledges the endpoint's
 *   segments, so the endpoint's writes succeed instead of being retransmitted; only an
 *   application-level deadline, the MQTT keep-alive, can notice either way.)
 * - **one-way** ({@linkcode FaultProxy.dropReturn}): what the endpoint sends still arrives, what
 *   the broker sends (PUBACKs, PINGRESPs) is lost on the way back.
 * - **reset** ({@linkcode FaultProxy.reset}): both sides get a TCP RST at once.
 * - **silent** (`accept = "silent"`): new connections are accepted and never answered, and no
 *   upstream connection is made: a broker that takes the TCP connection and then says nothing
 *   (no TLS handshake, no CONNACK).
 *
 * @example Drop the path under a live endpoint
 * ```ts ignore
 * import { startFaultProxy } from "./_fault_proxy.ts";
 *
 * await using proxy = await startFaultProxy(broker.tlsUrl);
 * // … connect an endpoint to proxy.url …
 * proxy.blackhole(); // the current connection is now half-open; new ones pass
 * ```
 *
 * @module
 */

import net from "node:net";

/** How the proxy treats a new connection. */
export type AcceptMode = "pass" | "silent";

/** One connection through the proxy. */
export interface ProxiedConnection {
  /** The endpoint's (client's) source port: its socket is 127.0.0.1:clientPort → proxy. */
  readonly clientPort: number;
  /** What the proxy does with it now. */
  readonly mode: "pass" | "blackhole" | "one-way" | "silent" | "reset" | "closed";
  /** `performance.now()` when it was accepted. */
  readonly acceptedAt: number;
  /** `performance.now()` when the client side ended or closed its socket, if it did. */
  readonly clientGoneAt: number | undefined;
  /** `performance.now()` when the broker side ended or closed, if it did. */
  readonly upstreamGoneAt: number | undefined;
  /** Bytes received from the client (forwarded or not). */
  readonly fromClient: number;
  /** Bytes received from the broker (forwarded or not). */
  readonly fromUpstream: number;
  /** `performance.now()` when the last chunk came from the broker, if one did. */
  readonly lastFromUpstreamAt: number | undefined;
}

/** A running fault proxy. */
export interface FaultProxy extends AsyncDisposable {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** The broker URL with the proxy's port in place of the broker's. */
  readonly url: string;
  /**
   * How new connections are treated: forwarded, or accepted and never answered.
   *
   * @default {"pass"}
   */
  accept: AcceptMode;
  /**
   * Milliseconds added to every chunk in both directions (for current and new connections).
   *
   * @default {0}
   */
  latency: number;
  /** Every connection accepted so far, in order. */
  readonly connections: readonly ProxiedConnection[];
  /**
   * Black-holes every connection that is open now: nothing is forwarded any more, both sockets
   * stay open, and closes from either side are swallowed. New connections are not affected.
   *
   * @returns How many connections were black-holed.
   */
  blackhole(): number;
  /**
   * Drops everything the broker sends on every connection that is open now (acknowledgements lost
   * on the way back), while what the endpoint sends still arrives; the broker's close is swallowed.
   *
   * @returns How many connections were changed.
   */
  dropReturn(): number;
  /**
   * Resets (TCP RST) both sides of every connection that is open now.
   *
   * @returns How many connections were reset.
   */
  reset(): number;
  /** Closes the listener and destroys every connection. */
  close(): Promise<void>;
}

/**
 * Starts a proxy on a free loopback port in front of `target`.
 *
 * @param target The broker URL (`mqtt://` or `mqtts://host:port`); only host and port are used.
 * @returns The proxy.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const url = new URL(target);
  const proxy = new Proxy(url);
  await proxy.listen();
  return proxy;
}

class Connection implements ProxiedConnection {
  readonly clientPort: number;
  readonly acceptedAt = performance.now();
  mode: ProxiedConnection["mode"];
  clientGoneAt: number | undefined;
  upstreamGoneAt: number | undefined;
  fromClient = 0;
  fromUpstream = 0;
  lastFromUpstreamAt: number | undefined;
  readonly client: net.Socket;
  upstream: net.Socket | undefined;
  readonly timers = new Set<ReturnType<typeof setTimeout>>();
  toClient: Promise<void> = Promise.resolve();
  toUpstream: Promise<void> = Promise.resolve();

  constructor(client: net.Socket, mode: "pass" | "silent") {
    this.client = client;
    this.clientPort = client.remotePort ?? 0;
    this.mode = mode;
  }

  get live(): boolean {
    return this.mode !== "reset" && this.mode !== "closed";
  }

  /** Whether what the endpoint sends is forwarded. */
  get upward(): boolean {
    return this.mode === "pass" || this.mode === "one-way";
  }

  destroy(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.client.destroy();
    this.upstream?.destroy();
    if (this.live) this.mode = "closed";
  }
}

class Proxy implements FaultProxy {
  accept: AcceptMode = "pass";
  latency = 0;
  readonly #target: URL;
  readonly #server: net.Server;
  readonly #connections: Connection[] = [];
  #port = 0;
  #closing: Promise<void> | undefined;

  constructor(target: URL) {
    this.#target = target;
    // Half-open allowed on both sides: the proxy decides what a FIN does, not Node.
    this.#server = net.createServer({ allowHalfOpen: true }, (socket) => this.#onClient(socket));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(0, "127.0.0.1", () => {
        this.#server.off("error", reject);
        this.#port = (this.#server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `${this.#target.protocol}//127.0.0.1:${this.#port}`;
  }

  get connections(): readonly ProxiedConnection[] {
    return this.#connections;
  }

  blackhole(): number {
    let count = 0;
    for (const c of this.#connections) {
      if (c.mode !== "pass") continue;
      c.mode = "blackhole";
      for (const timer of c.timers) clearTimeout(timer); // what was on its way is lost too
      c.timers.clear();
      count++;
    }
    return count;
  }

  dropReturn(): number {
    let count = 0;
    for (const c of this.#connections) {
      if (c.mode !== "pass") continue;
      c.mode = "one-way";
      count++;
    }
    return count;
  }

  reset(): number {
    let count = 0;
    for (const c of this.#connections) {
      if (!c.live) continue;
      c.mode = "reset";
      for (const timer of c.timers) clearTimeout(timer);
      c.timers.clear();
      c.client.resetAndDestroy();
      c.upstream?.resetAndDestroy();
      count++;
    }
    return count;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      const sockets = this.#connections.flatMap((c) => [c.client, c.upstream]).filter((s) =>
        s !== undefined && !s.closed
      ) as net.Socket[];
      const gone = sockets.map((s) => new Promise<void>((resolve) => s.once("close", resolve)));
      for (const c of this.#connections) c.destroy();
      await Promise.all([closed, ...gone]);
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #onClient(client: net.Socket): void {
    const c = new Connection(client, this.accept);
    this.#connections.push(c);
    client.setNoDelay(true);
    client.on("error", () => {}); // a reset from the endpoint is one of the things under test
    client.on("data", (chunk: Uint8Array) => {
      c.fromClient += chunk.length;
      if (c.upward && c.upstream) this.#forward(c, "toUpstream", c.upstream, chunk);
    });
    const clientGone = () => {
      c.clientGoneAt ??= performance.now();
      if (c.upward) c.upstream?.end();
    };
    client.on("end", clientGone);
    client.on("close", () => {
      clientGone();
      if (c.upward) c.upstream?.destroy();
      if (c.upward || c.mode === "silent") c.mode = "closed";
    });
    if (c.mode === "silent") return;

    const upstream = net.connect({
      host: this.#target.hostname,
      port: Number(this.#target.port),
      allowHalfOpen: true,
    });
    c.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on("error", () => {});
    upstream.on("data", (chunk: Uint8Array) => {
      c.fromUpstream += chunk.length;
      c.lastFromUpstreamAt = performance.now();
      if (c.mode === "pass") this.#forward(c, "toClient", client, chunk);
    });
    const upstreamGone = () => {
      c.upstreamGoneAt ??= performance.now();
      // In black-hole mode the broker's close is swallowed: the endpoint must not hear of it.
      if (c.mode === "pass") client.end();
    };
    upstream.on("end", upstreamGone);
    upstream.on("close", () => {
      upstreamGone();
      if (c.mode === "pass") {
        client.destroy();
        c.mode = "closed";
      }
    });
  }

  // Order is kept per direction: each chunk waits for the one before it.
  #forward(
    c: Connection,
    direction: "toClient" | "toUpstream",
    to: net.Socket,
    chunk: Uint8Array,
  ): void {
    const latency = this.latency;
    if (latency <= 0 && c.timers.size === 0) {
      if (!to.destroyed) to.write(chunk);
      return;
    }
    const due = performance.now() + latency;
    c[direction] = c[direction].then(() =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          c.timers.delete(timer);
          const open = direction === "toClient" ? c.mode === "pass" : c.upward;
          if (open && !to.destroyed) to.write(chunk);
          resolve();
        }, Math.max(0, due - performance.now()));
        c.timers.add(timer);
      })
    );
  }
}

/**
 * Tells whether a process still holds the TCP socket `127.0.0.1:localPort → 127.0.0.1:remotePort`
 * (Linux: a socket in `/proc/net/tcp` with a non-zero inode; one that its process closed is either
 * gone or an orphan, inode 0, that the kernel finishes alone).
 *
 * @param localPort The socket's own port.
 * @param remotePort The port it is connected to.
 * @returns The TCP state (e.g. `ESTABLISHED`, `FIN_WAIT2`) while held, else `undefined`.
 */
export function heldSocket(localPort: number, remotePort: number): string | undefined {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, "0");
  const local = `0100007F:${hex(localPort)}`;
  const remote = `0100007F:${hex(remotePort)}`;
  for (const line of Deno.readTextFileSync("/proc/net/tcp").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== local || fields[2] !== remote) continue;
    if (fields[9] === "0") continue; // orphaned: no process holds it
    return TCP_STATES[parseInt(fields[3], 16)] ?? fields[3];
  }
  return undefined;
}

const TCP_STATES: Record<number, string> = {
  1: "ESTABLISHED",
  2: "SYN_SENT",
  3: "SYN_RECV",
  4: "FIN_WAIT1",
  5: "FIN_WAIT2",
  6: "TIME_WAIT",
  7: "CLOSE",
  8: "CLOSE_WAIT",
  9: "LAST_ACK",
  10: "LISTEN",
  11: "CLOSING",
};

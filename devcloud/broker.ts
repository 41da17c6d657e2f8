/**
 * A local MQTT broker in the same process (aedes), on loopback, for demos and the devcloud.
 * It is not cloud.iO's broker: no TLS and no ACL; use mosquitto or RabbitMQ for those.
 *
 * @module
 */

import net from "node:net";
import { Aedes } from "npm:aedes@1.2.0";

/** Options of {@linkcode startLocalBroker}. */
export interface LocalBrokerOptions {
  /**
   * The TCP port; 0 picks a free one.
   *
   * @default {0}
   */
  port?: number;
  /**
   * The address to listen on.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Also listen for MQTT over WebSocket (on its own port; 0 picks a free one), for endpoints in
   * browsers. `undefined`: no WebSocket listener.
   */
  websocketPort?: number;
}

/** A running local broker. */
export interface LocalBroker extends AsyncDisposable {
  /** Its address, e.g. `mqtt://127.0.0.1:41234`. */
  readonly url: string;
  /** Its TCP port. */
  readonly port: number;
  /** Its WebSocket address, e.g. `ws://127.0.0.1:41235/mqtt`, when asked for. */
  readonly wsUrl?: string;
  /** Stops accepting connections, closes every client and the broker. */
  close(): Promise<void>;
}

/**
 * Starts an in-process MQTT 3.1.1 broker.
 *
 * @param options Port and address.
 * @returns The running broker.
 *
 * @example
 * ```ts
 * import { startLocalBroker } from "./broker.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startLocalBroker();
 * assert.match(broker.url, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
 * ```
 */
export async function startLocalBroker(options: LocalBrokerOptions = {}): Promise<LocalBroker> {
  const { port = 0, hostname = "127.0.0.1" } = options;
  const aedes = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    aedes.handle(socket);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, hostname, () => resolve());
    });
  } catch (error) {
    // A port in use must not leave the broker (and its timers) behind.
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw error;
  }
  const bound = (server.address() as net.AddressInfo).port;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const web = options.websocketPort === undefined
    ? undefined
    : serveWebSocket(hostname, options.websocketPort, bound);
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      await web?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    })();
  return {
    url: `mqtt://${host}:${bound}`,
    port: bound,
    ...(web ? { wsUrl: `ws://${host}:${web.port}/mqtt` } : {}),
    close,
    [Symbol.asyncDispose]: close,
  };
}

// MQTT over WebSocket (MQTT 3.1.1 §6): each WebSocket is piped to the broker's own TCP listener,
// so aedes sees an ordinary socket. (Handing aedes a Duplex fed from WebSocket messages stalls
// under Deno's stream compatibility: aedes reads once per 'readable', and the event does not
// come again for data that arrived in the meantime.)
function serveWebSocket(hostname: string, port: number, tcpPort: number) {
  const open = new Set<{ socket: WebSocket; tcp: Deno.Conn }>();
  const server = Deno.serve({ hostname, port, onListen() {} }, (request) => {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("MQTT over WebSocket only", { status: 426 });
    }
    const asked = request.headers.get("sec-websocket-protocol")?.split(",").map((p) => p.trim()) ??
      [];
    const { socket, response } = Deno.upgradeWebSocket(
      request,
      asked.includes("mqtt") ? { protocol: "mqtt" } : {},
    );
    socket.binaryType = "arraybuffer";
    const early: Uint8Array[] = [];
    socket.onmessage = (event) => early.push(new Uint8Array(event.data as ArrayBuffer));
    Deno.connect({ hostname: "127.0.0.1", port: tcpPort }).then((tcp) => {
      tcp.setNoDelay(true);
      const pair = { socket, tcp };
      open.add(pair);
      const writer = tcp.writable.getWriter();
      let writing = Promise.resolve();
      const forward = (bytes: Uint8Array) => {
        writing = writing.then(() => writer.write(bytes)).catch(() => socket.close());
      };
      for (const bytes of early.splice(0)) forward(bytes);
      socket.onmessage = (event) => forward(new Uint8Array(event.data as ArrayBuffer));
      const done = () => {
        open.delete(pair);
        try {
          tcp.close();
        } catch {
          // Closed already.
        }
        if (socket.readyState === WebSocket.OPEN) socket.close();
      };
      socket.onclose = done;
      socket.onerror = done;
      (async () => {
        try {
          for await (const chunk of tcp.readable) {
            if (socket.readyState !== WebSocket.OPEN) break;
            socket.send(chunk);
          }
        } catch {
          // The broker or the client went away.
        }
        done();
      })();
    }, () => socket.close());
    return response;
  });
  return {
    port: server.addr.port,
    async close() {
      for (const { socket, tcp } of open) {
        try {
          tcp.close();
        } catch {
          // Closed already.
        }
        socket.close();
      }
      await server.shutdown();
    },
  };
}

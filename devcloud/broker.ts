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
}

/** A running local broker. */
export interface LocalBroker extends AsyncDisposable {
  /** Its address, e.g. `mqtt://127.0.0.1:41234`. */
  readonly url: string;
  /** Its TCP port. */
  readonly port: number;
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
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => resolve());
  });
  const bound = (server.address() as net.AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    })();
  return {
    url: `mqtt://${hostname.includes(":") ? `[${hostname}]` : hostname}:${bound}`,
    port: bound,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * The browser transport: MQTT 3.1.1 over WebSocket with MQTT.js's browser build (a bundler
 * targeting browsers picks it through MQTT.js's `browser` export condition). No TLS options: the
 * browser's TLS and certificate store apply to `wss://`.
 *
 * This module is browser compatible.
 *
 * @module
 */

import mqtt from "npm:mqtt@5.16.0";
import type { BrokerAddress } from "../config/broker_uri.ts";
import { ConfigError, ConnectionError } from "../errors.ts";
import type { Connection, ConnectParams, Transport } from "../transport.ts";
import { clientOptions, openClient } from "./mqtt_client.ts";

const same = (bytes: Uint8Array) => bytes;

/**
 * Creates a transport that reaches the broker over WebSocket.
 *
 * @param broker A `ws://` or `wss://` address.
 * @returns The transport.
 * @throws {ConfigError} When the address is not a WebSocket one.
 *
 * @example
 * ```ts ignore
 * import { createWebSocketTransport } from "./mqtt_ws.ts";
 *
 * const transport = createWebSocketTransport({
 *   url: "wss://broker.example/mqtt", protocol: "wss", host: "broker.example", port: 443, path: "/mqtt",
 * });
 * ```
 */
export function createWebSocketTransport(broker: BrokerAddress): Transport {
  if (broker.protocol !== "ws" && broker.protocol !== "wss") {
    throw new ConfigError(
      `Cannot reach ${broker.url} from a browser: use a ws:// or wss:// hostUri`,
      {
        key: "hostUri",
      },
    );
  }
  return {
    url: broker.url,
    async connect(params: ConnectParams, onMessage): Promise<Connection> {
      if (params.signal?.aborted) {
        throw new ConnectionError("Connection attempt aborted", { url: broker.url });
      }
      const client = mqtt.connect(broker.url, clientOptions(params, same));
      return await openClient(client, broker.url, params, onMessage, same);
    },
  };
}

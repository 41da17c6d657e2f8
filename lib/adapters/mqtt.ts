/**
 * The Deno transport on top of MQTT.js: MQTT 3.1.1 over TCP or TLS (with client certificates)
 * with TCP no-delay, or over WebSocket. MQTT.js's own reconnect and offline queue are off: the
 * endpoint's session and outbox own those.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import net from "node:net";
import mqtt from "npm:mqtt@5.16.0";
import type { BrokerAddress } from "../config/broker_uri.ts";
import { ConnectionError } from "../errors.ts";
import type { CredentialsProvider } from "../platform.ts";
import type { Connection, ConnectParams, Transport } from "../transport.ts";
import { type Client, clientOptions, openClient } from "./mqtt_client.ts";
import { PubackFilter } from "./puback_filter.ts";

/** Options of {@linkcode createMqttTransport}. */
export interface MqttTransportOptions {
  /** Where the broker is. */
  broker: BrokerAddress;
  /** TLS material, asked on every attempt (so renewed certificates are used on reconnect). */
  credentials?: CredentialsProvider;
  /**
   * Whether the broker's certificate must name its host.
   *
   * @default {true}
   */
  verifyHostname?: boolean;
}

function toBuffer(bytes: Uint8Array): Uint8Array {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Creates a transport that reaches the broker with MQTT.js.
 *
 * @param options The broker address, credentials and host name verification.
 * @returns The transport.
 *
 * @example
 * ```ts ignore
 * import { createMqttTransport } from "./mqtt.ts";
 *
 * const transport = createMqttTransport({
 *   broker: { url: "mqtt://127.0.0.1:1883", protocol: "mqtt", host: "127.0.0.1", port: 1883 },
 * });
 * ```
 */
export function createMqttTransport(options: MqttTransportOptions): Transport {
  const { broker, credentials, verifyHostname = true } = options;
  return {
    url: broker.url,
    async connect(params: ConnectParams, onMessage): Promise<Connection> {
      const secure = broker.protocol === "mqtts" || broker.protocol === "wss";
      const material = secure && credentials ? await credentials() : {};
      if (params.signal?.aborted) {
        throw new ConnectionError("Connection attempt aborted", { url: broker.url });
      }
      const base = clientOptions(params, toBuffer);
      const tlsOptions = {
        ca: material.ca,
        cert: material.cert,
        key: material.key,
        rejectUnauthorized: true,
        ...(verifyHostname ? {} : { checkServerIdentity: () => undefined }),
      };
      let client: Client;
      // Over TCP and TLS, the endpoint writes its PUBLISH frames to the socket and takes their
      // PUBACKs off it before MQTT.js's parser (publish_frames.ts, puback_filter.ts).
      let filter: PubackFilter | undefined;
      let onPuback: ((id: number) => void) | undefined;
      if (broker.protocol === "mqtt" || broker.protocol === "mqtts") {
        // node:tls only for TLS: loading it cost a plain-TCP start-up 5 ms.
        const tls = broker.protocol === "mqtts" ? (await import("node:tls")).default : undefined;
        const build = () => {
          const socket = tls
            ? tls.connect({
              host: broker.host,
              port: broker.port,
              servername: net.isIP(broker.host) ? undefined : broker.host,
              ...tlsOptions,
            })
            : net.connect({ host: broker.host, port: broker.port });
          socket.setNoDelay(true);
          return filter = new PubackFilter(socket, (id) => onPuback?.(id));
        };
        // deno-lint-ignore no-explicit-any
        client = new mqtt.MqttClient(build as any, base);
      } else {
        client = mqtt.connect(broker.url, {
          ...base,
          ...(broker.protocol === "wss" ? tlsOptions : {}),
        });
      }
      const frames = filter && {
        write: (bytes: Uint8Array) => filter!.socket.write(toBuffer(bytes)),
        acks: (listener: (id: number) => void) => onPuback = listener,
      };
      return await openClient(client, broker.url, params, onMessage, toBuffer, { frames });
    },
  };
}

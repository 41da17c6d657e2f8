/**
 * A transport in memory, for tests that drive the endpoint's real receive path without a broker:
 * `deliver()` hands a message to the endpoint exactly as MQTT.js would, and every publish is
 * recorded and acknowledged at once.
 *
 * @module
 */

import type { Connection, ConnectParams, Transport } from "../lib/transport.ts";

/** A published message. */
export interface Published {
  topic: string;
  payload: Uint8Array;
  retain: boolean;
}

/** The memory transport and what it saw. */
export interface MemoryTransport extends Transport {
  /** Every message the endpoint published, in order. */
  readonly published: Published[];
  /** The filters the endpoint subscribed to. */
  readonly subscribed: string[];
  /** Hands a message to the endpoint, as the broker would. */
  deliver(topic: string, payload: Uint8Array): void;
}

/**
 * Creates a transport in memory.
 *
 * @returns The transport.
 */
export function memoryTransport(): MemoryTransport {
  const published: Published[] = [];
  const subscribed: string[] = [];
  let receive: ((topic: string, payload: Uint8Array) => void) | undefined;
  return {
    url: "memory://",
    published,
    subscribed,
    deliver(topic, payload) {
      if (!receive) throw new Error("Not connected");
      receive(topic, payload);
    },
    connect(_params: ConnectParams, onMessage): Promise<Connection> {
      receive = onMessage;
      let settle!: (error: Error | undefined) => void;
      const closed = new Promise<Error | undefined>((resolve) => settle = resolve);
      return Promise.resolve({
        closed,
        publish(topic, payload, { retain }) {
          published.push({ topic, payload, retain });
          return Promise.resolve();
        },
        subscribe(filters) {
          subscribed.push(...filters);
          return Promise.resolve(filters.map(() => 1));
        },
        close() {
          receive = undefined;
          settle(undefined);
          return Promise.resolve();
        },
        destroy() {
          receive = undefined;
          settle(new Error("destroyed"));
        },
      });
    },
  };
}

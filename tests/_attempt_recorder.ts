/**
 * What an endpoint went through on each broker, for the failover runs: a {@linkcode Platform}
 * whose transports record every connection attempt's outcome. The endpoint keeps its own broker
 * list, rotation, backoff, re-birth and replay; this only watches.
 *
 * A node "serves" once the endpoint's `@online` was acknowledged there: RabbitMQ can accept a
 * CONNECT and then close the connection at the SUBSCRIBE (a classic queue whose node is down),
 * which is recorded as a `dropped` attempt, not an `online` one.
 *
 * @module
 */

import type { Connection, Platform, Transport } from "../extend.ts";

/** How one attempt on one broker ended. */
export type AttemptOutcome =
  /** No connection: refused, unreachable, TLS or CONNACK failure, timeout. */
  | "failed"
  /** Accepted (CONNACK), then closed before `@online` was acknowledged. */
  | "dropped"
  /** `@online` acknowledged: the endpoint is online on this broker. */
  | "online"
  /** Online, then lost. */
  | "lost";

/** One attempt's outcome, stamped with `performance.now()`. */
export interface AttemptEvent {
  /** When, in `performance.now()` ms. */
  at: number;
  /** The broker's URL. */
  url: string;
  /** What happened. */
  outcome: AttemptOutcome;
  /** The error, for `failed`, `dropped` and `lost`. */
  error?: string;
}

/**
 * Wraps a platform so that every transport it builds records its attempts in `events`.
 *
 * @param platform The platform to wrap.
 * @param events Where the outcomes go, in order.
 * @returns The wrapping platform.
 */
export function recordAttempts(platform: Platform, events: AttemptEvent[]): Platform {
  return {
    ...platform,
    createTransport: (settings, credentials) =>
      recording(platform.createTransport(settings, credentials), events),
  };
}

function recording(transport: Transport, events: AttemptEvent[]): Transport {
  const { url } = transport;
  const record = (outcome: AttemptOutcome, error?: unknown) =>
    events.push({
      at: performance.now(),
      url,
      outcome,
      ...(error === undefined ? {} : { error: (error as Error)?.message ?? String(error) }),
    });
  return {
    url,
    async connect(params, onMessage): Promise<Connection> {
      let connection: Connection;
      try {
        connection = await transport.connect(params, onMessage);
      } catch (error) {
        record("failed", error);
        throw error;
      }
      let online = false;
      const onlineTopic = `@online/${params.clientId}`;
      connection.closed.then((error) => {
        if (!params.signal?.aborted) record(online ? "lost" : "dropped", error);
      });
      return {
        closed: connection.closed,
        async publish(topic, payload, options) {
          await connection.publish(topic, payload, options);
          if (!online && topic === onlineTopic) {
            online = true;
            record("online");
          }
        },
        subscribe: (filters) => connection.subscribe(filters),
        close: () => connection.close(),
        destroy: () => connection.destroy(),
      };
    },
  };
}

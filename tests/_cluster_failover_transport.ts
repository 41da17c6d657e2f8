/**
 * Scaffolding for `deno task cluster` until the endpoint fails over by itself (issue #16): a
 * {@linkcode Transport} that knows every node of a cluster and tries them in turn, by delegating
 * each attempt to `createMqttTransport` for one node's URL. Give it to an endpoint as its
 * `transport` option. Delete this file once the configuration can name several brokers.
 *
 * The rule, MQTT.js's `servers` rule: stay on a node while it serves; after a failed attempt or a
 * lost connection, the next attempt goes to the next node. A node "serves" once the endpoint's
 * `@online` was acknowledged there: RabbitMQ can accept a CONNECT and then close the connection
 * at the SUBSCRIBE (a classic queue whose node is down), which counts as a refusal. The endpoint
 * keeps its own backoff, re-birth and replay between attempts; `url` is the node in use (or tried
 * next), so the endpoint's `connecting` and `online` status events name the node.
 *
 * @module
 */

import {
  type Connection,
  type ConnectParams,
  createMqttTransport,
  type CredentialsProvider,
  parseBrokerUri,
  type Transport,
} from "../extend.ts";

/** How one attempt on one node ended. */
export type AttemptOutcome =
  /** No connection: refused, unreachable, TLS or CONNACK failure, timeout. */
  | "failed"
  /** Accepted (CONNACK), then closed before `@online` was acknowledged. */
  | "dropped"
  /** `@online` acknowledged: the endpoint is online on this node. */
  | "online"
  /** Online, then lost. */
  | "lost";

/** One event of a {@linkcode FailoverTransport}, stamped with `performance.now()`. */
export interface AttemptEvent {
  /** When, in `performance.now()` ms. */
  at: number;
  /** The node's URL. */
  url: string;
  /** What happened. */
  outcome: AttemptOutcome;
  /** The error, for `failed`, `dropped` and `lost`. */
  error?: string;
}

/** A transport over every node of a cluster. */
export interface FailoverTransport extends Transport {
  /** The node in use, or the one the next attempt goes to. */
  readonly url: string;
  /** Every node, in the order they are tried. */
  readonly urls: readonly string[];
  /** Every attempt's outcome so far, in order. */
  readonly events: readonly AttemptEvent[];
}

/**
 * Creates a transport that tries the nodes in turn, starting with the first.
 *
 * @param urls The nodes' `mqtts://` URLs.
 * @param credentials The CA, client certificate and key, asked on every attempt.
 * @returns The transport.
 * @throws {TypeError} When `urls` is empty.
 */
export function failoverTransport(
  urls: readonly string[],
  credentials: CredentialsProvider,
): FailoverTransport {
  if (urls.length === 0) throw new TypeError("Cannot fail over between no brokers: urls is empty");
  const transports = urls.map((url) =>
    createMqttTransport({ broker: parseBrokerUri(url), credentials })
  );
  const events: AttemptEvent[] = [];
  let index = 0;
  const record = (url: string, outcome: AttemptOutcome, error?: unknown) =>
    events.push({
      at: performance.now(),
      url,
      outcome,
      ...(error === undefined ? {} : { error: (error as Error)?.message ?? String(error) }),
    });
  const next = () => index = (index + 1) % urls.length;
  return {
    get url() {
      return urls[index];
    },
    urls,
    events,
    async connect(params: ConnectParams, onMessage): Promise<Connection> {
      const url = urls[index];
      let connection: Connection;
      try {
        connection = await transports[index].connect(params, onMessage);
      } catch (error) {
        record(url, "failed", error);
        next();
        throw error;
      }
      let online = false;
      const onlineTopic = `@online/${params.clientId}`;
      connection.closed.then((error) => {
        if (params.signal?.aborted) return; // closed on purpose
        record(url, online ? "lost" : "dropped", error);
        if (urls[index] === url) next();
      });
      return {
        closed: connection.closed,
        async publish(topic, payload, options) {
          await connection.publish(topic, payload, options);
          if (!online && topic === onlineTopic) {
            online = true;
            record(url, "online");
          }
        },
        subscribe: (filters) => connection.subscribe(filters),
        close: () => connection.close(),
        destroy: () => connection.destroy(),
      };
    },
  };
}

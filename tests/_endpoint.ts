/**
 * Helpers for tests that run a real endpoint against the test mosquitto.
 *
 * @module
 */

import { Endpoint, type EndpointOptions } from "../mod.ts";
import { denoPlatform } from "../lib/adapters/deno.ts";
import type { CloudioError } from "../lib/errors.ts";
import type { MessageFormat } from "../lib/model/types.ts";
import type { Connection, Transport } from "../lib/transport.ts";
import type { TestPki } from "./_certs.ts";

/** A fixed UUID for tests that need only one endpoint. */
export const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";

/** Returns a fresh random UUID. */
export function randomUuid(): string {
  return crypto.randomUUID();
}

/** What a test endpoint collects, beside the endpoint itself. */
export interface TestEndpoint {
  endpoint: Endpoint;
  errors: CloudioError[];
  /** What the endpoint did on its connections, in order: "connect", "subscribe …", "publish …". */
  ops: string[];
  /** The live connection, to drop it as a network failure would. */
  connection(): Connection | undefined;
}

/** Options of {@linkcode tlsEndpoint}. */
export interface TestEndpointOptions extends EndpointOptions {
  format?: MessageFormat;
  /** Extra configuration keys. */
  extra?: Record<string, string | number | boolean>;
  /** Connect over the plain listener instead of TLS. */
  plain?: boolean;
  /** The endpoint's name, when it is not its UUID as written (the UUID in capitals, say). */
  name?: string;
}

/** A broker with a TLS listener that takes client certificates of its PKI: mosquitto, RabbitMQ. */
export interface TlsBroker {
  /** The TLS listener for endpoints. */
  readonly tlsUrl: string;
  /** A plain listener for endpoints, keyed on the client id, if there is one. */
  readonly tcpUrl?: string;
  /** The PKI the listener trusts. */
  readonly pki: TestPki;
}

/**
 * Creates (not connects) an endpoint that collects its errors and records what it does on the
 * wire, on the real Deno platform, reconnecting quickly.
 *
 * @param name The endpoint's name.
 * @param options The endpoint's options; `config` is required.
 * @returns The endpoint and what it collects.
 */
export function recordedEndpoint(name: string, options: EndpointOptions): TestEndpoint {
  const errors: CloudioError[] = [];
  const ops: string[] = [];
  let current: Connection | undefined;
  const endpoint = new Endpoint(name, {
    onError: (error) => errors.push(error),
    reconnect: { initialDelay: 50, maxDelay: 500 },
    // The real Deno platform, with a recorder on the transport it builds.
    platform: {
      ...denoPlatform,
      createTransport: (settings, provider) =>
        recordingTransport(
          denoPlatform.createTransport(settings, provider),
          ops,
          (c) => current = c,
        ),
    },
    ...options,
  });
  return { endpoint, errors, ops, connection: () => current };
}

/**
 * Creates (not connects) an endpoint for a broker's TLS listener with a client certificate for
 * its UUID, persistence in memory unless told otherwise, and errors collected.
 *
 * @param broker The test broker.
 * @param uuid The endpoint's UUID (the certificate's CN).
 * @param options Format, extra configuration, endpoint options.
 * @returns The endpoint and what it collects.
 */
export async function tlsEndpoint(
  broker: TlsBroker,
  uuid: string = UUID,
  options: TestEndpointOptions = {},
): Promise<TestEndpoint> {
  const credentials = await broker.pki.client(uuid);
  const { format = "JSON", extra = {}, plain = false, name = uuid, ...rest } = options;
  if (plain && broker.tcpUrl === undefined) throw new Error("The broker has no plain listener");
  return recordedEndpoint(name, {
    config: {
      hostUri: plain ? broker.tcpUrl : broker.tlsUrl,
      "ssl.authorityCert": broker.pki.caCert,
      "ssl.clientCert": credentials.cert,
      "ssl.clientKey": credentials.key,
      messageFormat: format,
      persistence: "memory",
      ...extra,
    },
    ...rest,
  });
}

/**
 * Wraps a transport so that each connection it opens is reported, and what is done on it
 * recorded.
 *
 * @param transport The transport.
 * @param ops Receives "connect", "subscribe <filters>" and "publish <topic>", in order.
 * @param seen Called with each new connection.
 * @returns The wrapped transport.
 */
export function recordingTransport(
  transport: Transport,
  ops: string[],
  seen: (connection: Connection) => void,
): Transport {
  return {
    url: transport.url,
    async connect(params, onMessage) {
      const connection = await transport.connect(params, onMessage);
      ops.push("connect");
      const wrapped: Connection = {
        ...connection,
        closed: connection.closed,
        publish(topic, payload, options) {
          ops.push(`publish ${topic}`);
          return connection.publish(topic, payload, options);
        },
        send: connection.send && ((topic, payload, retain, settled) => {
          ops.push(`publish ${topic}`);
          connection.send!(topic, payload, retain, settled);
        }),
        subscribe(filters) {
          ops.push(`subscribe ${filters.join(" ")}`);
          return connection.subscribe(filters);
        },
        close: () => connection.close(),
        destroy: () => connection.destroy(),
      };
      seen(wrapped);
      return wrapped;
    },
  };
}

/**
 * Decodes a JSON payload.
 *
 * @param payload The bytes.
 * @returns The value.
 */
export function json(payload: Uint8Array): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(payload));
}

/**
 * Waits until a condition holds, polling.
 *
 * @param condition The condition.
 * @param timeout How long to wait, in ms.
 * @param what What is awaited, for the error.
 */
export async function until(
  condition: () => boolean,
  timeout = 5000,
  what = "condition",
): Promise<void> {
  const end = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

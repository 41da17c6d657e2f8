/**
 * The MQTT.js connection wrapper shared by the Deno and browser transports: one MQTT.js client
 * per connection attempt, its events turned into our {@linkcode Connection}, its failures into
 * `ConnectionError`s with hints. No Node-only API here: the payload conversion is given.
 *
 * This module is browser compatible.
 *
 * @module
 */

import mqtt from "npm:mqtt@5.16.0";
import { CloudioError, ConnectionError } from "../errors.ts";
import type { Connection, ConnectParams } from "../transport.ts";
import { PublishFrames } from "./publish_frames.ts";

/** An MQTT.js client. */
export type Client = InstanceType<typeof mqtt.MqttClient>;
type Packet = Parameters<InstanceType<typeof mqtt.Store>["del"]>[0];
type Callback = Parameters<InstanceType<typeof mqtt.Store>["del"]>[1];

// MQTT.js handles packets it has already parsed on later ticks, so a PUBACK can reach a store
// that end() has closed, and MQTT.js's own store then throws a TypeError from inside the client
// (an uncaught error that would take the device's process down). This store answers "closed".
export class ClosableStore extends mqtt.Store {
  #closed = false;
  override close(cb: () => void): void {
    this.#closed = true;
    super.close(cb);
  }
  override put(
    packet: Parameters<InstanceType<typeof mqtt.Store>["put"]>[0],
    cb: () => void,
  ): this {
    if (this.#closed) return this.#refuse(cb);
    return super.put(packet, cb);
  }
  override get(packet: Packet, cb: Callback): this {
    if (this.#closed) return this.#refuse(cb);
    return super.get(packet, cb);
  }
  override del(packet: Packet, cb: Callback): this {
    if (this.#closed) return this.#refuse(cb);
    return super.del(packet, cb);
  }
  #refuse(cb?: (error?: Error) => void): this {
    cb?.(new Error("the connection is closed"));
    return this;
  }
}

export const TLS_HINT =
  "check ssl.authorityCert, ssl.clientCert, ssl.clientKey and ssl.verifyHostname";

export function describeFailure(
  error: unknown,
  url: string,
  during: "connect" | "handshake",
): ConnectionError {
  const e = error as { code?: string | number; message?: string };
  const message = e?.message ?? String(error);
  const code = typeof e?.code === "string" ? e.code : undefined;
  let text: string;
  if (code === "ECONNREFUSED") text = `Connection to ${url} refused: is the broker running there?`;
  else if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    text = `Cannot resolve the broker's host in ${url}`;
  } else if (typeof e?.code === "number") {
    text = `The broker at ${url} refused the endpoint: ${message}` +
      (e.code === 5 || e.code === 4
        ? " (is the certificate's CN the endpoint UUID, and the endpoint known to the cloud?)"
        : "");
  } else if (/certificate|CERT|SSL|TLS|self.signed|altname|handshake/i.test(`${code} ${message}`)) {
    text = `TLS handshake with ${url} failed: ${message} (${TLS_HINT})`;
  } else if (during === "handshake" && (code === "ECONNRESET" || /hang up|closed/i.test(message))) {
    text =
      `The broker at ${url} closed the connection before accepting it: ${message} (client certificate refused? ${TLS_HINT})`;
  } else text = `Cannot connect to ${url}: ${message}`;
  return new ConnectionError(text, { url, cause: error });
}

/**
 * The MQTT.js options of one attempt: MQTT 3.1.1, MQTT.js's reconnect and offline queue off,
 * closable stores, the will.
 *
 * @param params The attempt.
 * @param payload Converts our bytes to what MQTT.js wants.
 * @returns The options.
 */
export function clientOptions(params: ConnectParams, payload: (bytes: Uint8Array) => Uint8Array) {
  return {
    clientId: params.clientId,
    protocolVersion: 4 as const,
    clean: params.cleanSession,
    keepalive: Math.max(1, Math.round(params.keepAlive / 1000)),
    connectTimeout: params.connectTimeout,
    reconnectPeriod: 0,
    resubscribe: false,
    queueQoSZero: false,
    // Measured (bench/run.ts, --cpu-prof): MQTT.js's debug logging costs 6-9% of the publisher's
    // CPU even when switched off, and rescheduling the keepalive timer on every packet ~5%.
    // Without rescheduling, a PINGREQ goes out every keepalive interval, busy or not.
    log: () => {},
    reschedulePings: false,
    // MQTT.js's own option: without it, its packet writer (mqtt-packet) builds a cache of 65,536
    // two-byte buffers on its first packet, 6.5 MB of heap that survived V8's young collections
    // and made V8 grow the young generation to 16 MB semi-spaces for the rest of the run. The
    // endpoint writes its PUBLISH frames itself; MQTT.js writes a few packets a minute.
    writeCache: false,
    // On shared timers (a gateway's wheel) when given: one wake-up for many keep-alives.
    ...(params.timers
      ? {
        timerVariant: {
          set: (fn: () => void, ms: number) => params.timers!.every(ms, fn),
          clear: (id: number) => params.timers!.cancel(id),
        },
      }
      : {}),
    incomingStore: new ClosableStore(),
    outgoingStore: new ClosableStore(),
    will: {
      topic: params.will.topic,
      payload: payload(params.will.payload) as never,
      qos: params.will.qos,
      retain: params.will.retain,
    },
  };
}

/**
 * Waits for a client's CONNACK and wraps it as a {@linkcode Connection}.
 *
 * @param client The MQTT.js client, connecting.
 * @param url The broker, for messages.
 * @param params The attempt.
 * @param onMessage Receives every message.
 * @param convert Converts our bytes to what MQTT.js wants.
 * @param options `frames`: QoS 1 publishes are written as frames of our own
 *   ({@linkcode PublishFrames}) instead of through MQTT.js's `publish()`: to the given `write`,
 *   with their PUBACKs given to the listener `acks` registers (a socket whose PUBACKs never reach
 *   MQTT.js's parser).
 * @returns The connection.
 */
export function openClient(
  client: Client,
  url: string,
  params: ConnectParams,
  onMessage: (topic: string, payload: Uint8Array) => void,
  convert: (bytes: Uint8Array) => Uint8Array,
  options: {
    frames?: { write(bytes: Uint8Array): void; acks(listener: (id: number) => void): void };
  } = {},
): Promise<Connection> {
  return new Promise((resolve, reject) => {
    let connected = false;
    let lastError: unknown;
    let closed = false;
    let settleClosed!: (error: Error | undefined) => void;
    const closedPromise = new Promise<Error | undefined>((r) => settleClosed = r);
    const pending = new Set<(error: Error) => void>();
    let cleanClose = false;
    let frames: PublishFrames | undefined;

    const timer = setTimeout(() => {
      if (!connected) fail(new Error(`no CONNACK within ${params.connectTimeout} ms`));
    }, params.connectTimeout + 250);
    const abort = () => fail(new Error("aborted"));
    params.signal?.addEventListener("abort", abort, { once: true });

    function fail(error: unknown) {
      if (connected) return;
      clearTimeout(timer);
      params.signal?.removeEventListener("abort", abort);
      closed = true;
      client.end(true);
      reject(error instanceof CloudioError ? error : describeFailure(error, url, "handshake"));
    }

    client.on("message", (topic: string, payload: Uint8Array) => {
      onMessage(topic, new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength));
    });
    client.on("error", (error: unknown) => {
      lastError = error;
      if (!connected) fail(error);
    });
    client.on("close", () => {
      if (!connected) return fail(lastError ?? new Error("the connection closed"));
      if (cleanClose) return;
      finish(
        new ConnectionError(
          `Lost the connection to ${url}${
            lastError ? `: ${(lastError as Error).message ?? lastError}` : ""
          }`,
          { url, cause: lastError },
        ),
      );
    });

    // The one way a live connection ends, whatever ended it; later calls do nothing.
    let finished = false;
    function finish(reason: Error | undefined) {
      if (finished) return;
      finished = closed = true;
      const error = reason ?? new ConnectionError(`The connection to ${url} was closed`, { url });
      for (const rejectPublish of pending) rejectPublish(error);
      pending.clear();
      frames?.fail(error);
      client.removeAllListeners("message");
      client.end(true);
      // While a DISCONNECT is under way (close() above), MQTT.js ignores end(true) and keeps the
      // socket until the peer answers, which a dead peer never does: the socket and the
      // keep-alive timer would outlive close(). Destroying the stream ends both.
      client.stream?.destroy();
      settleClosed(reason);
    }

    client.once("connect", () => {
      connected = true;
      clearTimeout(timer);
      params.signal?.removeEventListener("abort", abort);
      if (options.frames) {
        const writer = frames = new PublishFrames({
          write: options.frames.write,
          allocate: () => client.messageIdProvider.allocate()!,
        });
        options.frames.acks((id) => writer.acked(id));
      }
      resolve({
        closed: closedPromise,
        publish(topic, payload, { qos, retain }) {
          if (closed) {
            return Promise.reject(
              new ConnectionError(`Cannot publish on ${topic}: not connected`, { url }),
            );
          }
          if (frames && qos === 1) return frames.publish(topic, payload, retain);
          return new Promise<void>((done, failed) => {
            pending.add(failed);
            client.publish(topic, convert(payload) as never, { qos, retain }, (error?: Error) => {
              if (!pending.delete(failed)) return;
              if (error) {
                failed(
                  new ConnectionError(`Cannot publish on ${topic}: ${error.message}`, {
                    url,
                    cause: error,
                  }),
                );
              } else done();
            });
          });
        },
        send: frames && ((topic, payload, retain, settled) => {
          if (closed) {
            settled(new ConnectionError(`Cannot publish on ${topic}: not connected`, { url }));
          } else frames!.send(topic, payload, retain, settled);
        }),
        subscribe(filters) {
          if (closed) {
            return Promise.reject(new ConnectionError("Cannot subscribe: not connected", { url }));
          }
          return new Promise((done, failed) => {
            pending.add(failed);
            const map = Object.fromEntries(filters.map((f) => [f, { qos: 1 as const }]));
            client.subscribe(
              map,
              (error: Error | null, granted?: { topic: string; qos: number }[]) => {
                if (!pending.delete(failed)) return;
                if (error) {
                  failed(
                    new ConnectionError(`Cannot subscribe: ${error.message}`, {
                      url,
                      cause: error,
                    }),
                  );
                } else done(filters.map((f) => granted?.find((g) => g.topic === f)?.qos ?? 0x80));
              },
            );
          });
        },
        close() {
          if (closed) return closedPromise.then(() => {});
          cleanClose = closed = true;
          return new Promise<void>((done) => {
            // DISCONNECT, then close; a broker that never lets it complete is dropped after 2 s
            // (MQTT.js ignores a second end() while disconnecting, so finish() must settle).
            const end = () => {
              clearTimeout(force);
              finish(undefined);
              done();
            };
            const force = setTimeout(end, 2000);
            client.end(false, {}, end);
          });
        },
        destroy() {
          if (closed) return;
          finish(new ConnectionError(`The connection to ${url} was dropped`, { url }));
        },
      });
    });
  });
}

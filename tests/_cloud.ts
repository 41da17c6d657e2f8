/**
 * A test "cloud": an MQTT client on the broker's unrestricted listener that
 * records everything it receives and can wait for particular messages.
 *
 * @example Watch an endpoint come online
 * ```ts ignore
 * import { startMosquitto } from "./_broker.ts";
 * import { connectCloud } from "./_cloud.ts";
 *
 * await using broker = await startMosquitto();
 * await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "@online/#" });
 * // … start an endpoint …
 * const online = await cloud.waitFor((m) => m.topic.startsWith("@online/"));
 * ```
 *
 * @module
 */

import { Buffer } from "node:buffer";
import * as net from "node:net";
import { type IClientOptions, MqttClient } from "npm:mqtt@5.16.0";

/** A message received by the {@linkcode Cloud}. */
export interface Received {
  /** The topic it was published on. */
  topic: string;
  /** The payload as a plain `Uint8Array` (not a `Buffer`). */
  payload: Uint8Array;
  /** The retain flag as delivered (true for retained messages sent on subscribe). */
  retain: boolean;
  /** The QoS it was delivered with. */
  qos: number;
}

/** Options of {@linkcode Cloud.waitFor} and {@linkcode Cloud.waitForCount}. */
export interface WaitOptions {
  /**
   * How long to wait, in milliseconds.
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * Index in {@linkcode Cloud.messages} where scanning starts; messages before
   * it are ignored.
   *
   * @default {0}
   */
  from?: number;
}

/** Options of {@linkcode Cloud.publish}. */
export interface CloudPublishOptions {
  /**
   * QoS of the publish.
   *
   * @default {1}
   */
  qos?: 0 | 1;
  /**
   * Retain flag of the publish.
   *
   * @default {false}
   */
  retain?: boolean;
}

/** The test cloud returned by {@linkcode connectCloud}. */
export interface Cloud extends AsyncDisposable {
  /** Every message received so far, in arrival order. */
  readonly messages: Received[];
  /**
   * Subscribe with QoS 1.
   *
   * @param filter One or more topic filters.
   * @throws {Error} When the broker refuses a subscription.
   */
  subscribe(filter: string | string[]): Promise<void>;
  /**
   * Publish a message; resolves on PUBACK for QoS 1.
   *
   * @param topic The topic.
   * @param payload The payload (strings are sent as UTF-8).
   * @param options QoS and retain flag.
   */
  publish(
    topic: string,
    payload: Uint8Array | string,
    options?: CloudPublishOptions,
  ): Promise<void>;
  /**
   * Wait for the first message (already received or still to come) matching
   * `predicate`.
   *
   * @param predicate Selects the message.
   * @param options Timeout and first index to scan.
   * @returns The matching message.
   * @throws {Error} On timeout, listing the topics seen.
   */
  waitFor(predicate: (m: Received) => boolean, options?: WaitOptions): Promise<Received>;
  /**
   * Wait until `count` messages match `predicate`.
   *
   * @param predicate Selects the messages.
   * @param count How many are needed.
   * @param options Timeout and first index to scan.
   * @returns The first `count` matching messages, in arrival order.
   * @throws {Error} On timeout, with how many matched and the topics seen.
   */
  waitForCount(
    predicate: (m: Received) => boolean,
    count: number,
    options?: WaitOptions,
  ): Promise<Received[]>;
  /** Disconnect cleanly and release the socket. Safe to call twice. */
  close(): Promise<void>;
}

/** Options of {@linkcode connectCloud}. */
export interface ConnectCloudOptions {
  /**
   * MQTT client id.
   *
   * @default {"cloud-" + a random suffix}
   */
  clientId?: string;
  /** Topic filters to subscribe to (QoS 1) before the promise resolves. */
  subscribe?: string | string[];
  /**
   * Start with a clean session; `false` (with a fixed `clientId` and a broker with persistence)
   * keeps the subscription and the queued messages across restarts of the broker.
   *
   * @default {true}
   */
  clean?: boolean;
  /** Called for every message; with `record: false` the only way to see them. */
  onMessage?: (message: Received) => void;
  /**
   * Keep every message in `messages`.
   *
   * @default {true}
   */
  record?: boolean;
}

const CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_WAIT_MS = 5000;

/**
 * Connect the test cloud (MQTT 3.1.1, TCP no-delay) to `url`.
 *
 * It reconnects (and resubscribes) by itself when the broker restarts.
 *
 * @param url An `mqtt://host:port` URL, normally `Mosquitto.cloudUrl`.
 * @param options Client id and initial subscriptions.
 * @returns The connected cloud.
 * @throws {Error} When it cannot connect within 5 s.
 */
export async function connectCloud(url: string, options: ConnectCloudOptions = {}): Promise<Cloud> {
  const { hostname, port, protocol } = new URL(url);
  if (protocol !== "mqtt:") {
    throw new TypeError(`Cannot connect the cloud to "${url}": only mqtt:// is supported`);
  }
  const cloud = new TestCloud(
    hostname,
    Number(port || 1883),
    options.clientId ?? `cloud-${randomSuffix()}`,
    options,
  );
  try {
    await cloud.connected();
    if (options.subscribe !== undefined) await cloud.subscribe(options.subscribe);
  } catch (error) {
    await cloud.close();
    throw error;
  }
  return cloud;
}

interface Waiter {
  check(): void;
}

class TestCloud implements Cloud {
  readonly messages: Received[] = [];
  readonly #client: MqttClient;
  readonly #waiters = new Set<Waiter>();
  #closing: Promise<void> | undefined;
  #lastError: Error | undefined;

  readonly #record: boolean;
  readonly #onMessage?: (message: Received) => void;

  constructor(host: string, port: number, clientId: string, more: ConnectCloudOptions = {}) {
    this.#record = more.record ?? true;
    this.#onMessage = more.onMessage;
    const options: IClientOptions = {
      protocolVersion: 4,
      clientId,
      clean: more.clean ?? true,
      reconnectPeriod: 200,
      connectTimeout: CONNECT_TIMEOUT_MS,
    };
    this.#client = new MqttClient(() => {
      const socket = net.connect({ host, port });
      socket.setNoDelay(true);
      return socket;
    }, options);
    // Without a listener, an "error" event (e.g. ECONNREFUSED while the broker is stopped and
    // MQTT.js retries) would be thrown as an uncaught exception.
    this.#client.on("error", (error) => {
      this.#lastError = error;
    });
    this.#client.on("message", (topic, payload, packet) => {
      const message = {
        topic,
        payload: new Uint8Array(payload),
        retain: packet.retain,
        qos: packet.qos,
      };
      this.#onMessage?.(message);
      if (!this.#record) return;
      this.messages.push(message);
      for (const waiter of this.#waiters) waiter.check();
    });
  }

  connected(): Promise<void> {
    const client = this.#client;
    if (client.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onConnect = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        client.off("connect", onConnect);
        const error = new Error(`Cannot connect the cloud within ${CONNECT_TIMEOUT_MS} ms`, {
          cause: this.#lastError,
        });
        reject(error);
      }, CONNECT_TIMEOUT_MS);
      client.once("connect", onConnect);
    });
  }

  async subscribe(filter: string | string[]): Promise<void> {
    const granted = await this.#client.subscribeAsync(filter, { qos: 1 });
    const refused = granted.filter((g) => g.qos === 128);
    if (refused.length > 0) {
      throw new Error(
        `Cannot subscribe the cloud to ${refused.map((g) => `"${g.topic}"`).join(", ")}`,
      );
    }
  }

  async publish(
    topic: string,
    payload: Uint8Array | string,
    options: CloudPublishOptions = {},
  ): Promise<void> {
    const body = typeof payload === "string"
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    await this.#client.publishAsync(topic, body, {
      qos: options.qos ?? 1,
      retain: options.retain ?? false,
    });
  }

  async waitFor(predicate: (m: Received) => boolean, options: WaitOptions = {}): Promise<Received> {
    const [message] = await this.waitForCount(predicate, 1, options);
    return message;
  }

  waitForCount(
    predicate: (m: Received) => boolean,
    count: number,
    options: WaitOptions = {},
  ): Promise<Received[]> {
    const timeout = options.timeout ?? DEFAULT_WAIT_MS;
    let next = options.from ?? 0;
    const found: Received[] = [];
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          try {
            for (; next < this.messages.length && found.length < count; next++) {
              if (predicate(this.messages[next])) found.push(this.messages[next]);
            }
          } catch (error) {
            done();
            reject(error);
            return;
          }
          if (found.length >= count) {
            done();
            resolve(found);
          }
        },
      };
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      const timer = setTimeout(() => {
        done();
        const from = options.from ?? 0;
        const topics = this.messages.slice(from).map((m) => m.topic);
        reject(
          new Error(
            `Cannot find ${count} matching message(s) within ${timeout} ms: ${found.length} matched; ` +
              `${topics.length} topic(s) seen since index ${from}: ${summarize(topics)}`,
          ),
        );
      }, timeout);
      this.#waiters.add(waiter);
      waiter.check();
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    const client = this.#client;
    // A forced end does not wait for in-flight acks, which never come if the broker is gone.
    await client.endAsync(!client.connected);
    const stream = client.stream as net.Socket | undefined;
    if (stream && !stream.destroyed) {
      await new Promise<void>((resolve) => {
        stream.once("close", () => resolve());
        stream.destroy();
      });
    }
  }
}

function randomSuffix(): string {
  return crypto.randomUUID().slice(0, 8);
}

function summarize(topics: string[]): string {
  if (topics.length === 0) return "(none)";
  const shown = topics.slice(0, 50).join(", ");
  return topics.length > 50 ? `${shown}, … (${topics.length - 50} more)` : shown;
}

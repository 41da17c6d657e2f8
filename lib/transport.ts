/**
 * The transport contract: what the endpoint needs from an MQTT 3.1.1 client. The MQTT.js adapter
 * (`lib/adapters/mqtt.ts`) implements it; tests can implement it in memory. Nothing of MQTT.js
 * appears here.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { Timers } from "./timers.ts";

/** The last will: published by the broker when the connection is lost without a DISCONNECT. */
export interface Will {
  /** Its topic. */
  topic: string;
  /** Its payload. */
  payload: Uint8Array;
  /** Its QoS. */
  qos: 0 | 1;
  /** Whether it is retained. */
  retain: boolean;
}

/** Parameters of one connection attempt. */
export interface ConnectParams {
  /** The MQTT client id: the endpoint's UUID. */
  clientId: string;
  /** The last will. */
  will: Will;
  /** Keep-alive interval in ms. */
  keepAlive: number;
  /** How long the attempt may take in ms, TLS and CONNACK included. */
  connectTimeout: number;
  /** Whether the broker should forget the session. */
  cleanSession: boolean;
  /** Aborts the attempt. */
  signal?: AbortSignal;
  /** The timers the connection's keep-alive runs on; the runtime's own when absent. */
  timers?: Timers;
}

/** One live connection to the broker. */
export interface Connection {
  /**
   * Publishes a message; resolves on PUBACK for QoS 1 (once written for QoS 0) and rejects when
   * the connection is lost first. Once it has resolved, the connection keeps nothing of the
   * payload: the caller may reuse or release its buffer.
   */
  publish(
    topic: string,
    payload: Uint8Array,
    options: { qos: 0 | 1; retain: boolean },
  ): Promise<void>;
  /**
   * Publishes at QoS 1 and calls `settled` once: without an argument on PUBACK, with the error
   * when the connection is lost first. Optional: where a connection has it, the outbox sends with
   * it, without the promise and callbacks that `publish()` costs per message. After the PUBACK, as
   * with `publish()`, the payload is the caller's again.
   */
  send?(
    topic: string,
    payload: Uint8Array,
    retain: boolean,
    settled: (error?: Error) => void,
  ): void;
  /** Subscribes at QoS 1; resolves with the granted QoS per filter (128 means refused). */
  subscribe(filters: readonly string[]): Promise<readonly number[]>;
  /** Resolves when the connection has ended, with the reason when it was not a clean close. */
  readonly closed: Promise<Error | undefined>;
  /** Sends DISCONNECT (no will) and closes. */
  close(): Promise<void>;
  /** Drops the connection without DISCONNECT, as a network failure would (the will fires). */
  destroy(): void;
}

/** A way to reach the broker. */
export interface Transport {
  /** The broker address, for messages (no credentials in it). */
  readonly url: string;
  /**
   * Opens a connection.
   *
   * @param params The CONNECT parameters.
   * @param onMessage Called for every message that arrives on the connection.
   * @returns The connection once the broker accepted it.
   * @throws {ConnectionError} When the broker cannot be reached or refuses.
   * @throws {ConfigError} When the credentials cannot be read.
   */
  connect(
    params: ConnectParams,
    onMessage: (topic: string, payload: Uint8Array) => void,
  ): Promise<Connection>;
}

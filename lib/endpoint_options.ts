/**
 * The options of an endpoint, of `connect()` and of `close()`.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { EndpointConfig } from "./config/keys.ts";
import type { CloudioError } from "./errors.ts";
import type { LogLevel } from "./logs/levels.ts";
import type { LogRateOptions } from "./logs/logger.ts";
import type { EndpointModel } from "./model/types.ts";
import type { DropPolicy, ReplayMode } from "./outbox/outbox.ts";
import type { OutboxStore } from "./outbox/store.ts";
import type { Credentials, CredentialsProvider, Platform } from "./platform.ts";
import type { BackoffOptions } from "./session/backoff.ts";
import type { Transport } from "./transport.ts";

/**
 * Options of `Endpoint`. Durations are in milliseconds. `M` is the type of the model, inferred
 * from `model`: a model written as a constant types the endpoint's tree.
 */
export interface EndpointOptions<M extends EndpointModel = EndpointModel> {
  /** Directories searched for `<name>.properties` before `~/.config/cloud.io/` and `/etc/cloud.io/`. */
  locations?: readonly string[];
  /**
   * The configuration as an object instead of a properties file: the same keys without the
   * `ch.hevs.cloudio.endpoint.` prefix, e.g. `{ hostUri: "mqtts://broker:8883", "ssl.clientCert": "…" }`.
   * A key that is not read is reported when the endpoint connects.
   */
  config?: Readonly<EndpointConfig>;
  /**
   * TLS material as PEM text, or a function asked on every connection attempt; overrides the
   * certificate files of the configuration.
   */
  credentials?: Credentials | CredentialsProvider;
  /**
   * The model: plain data (a constant in the program, or read from a file by a connector), whose
   * nodes, objects and attributes may also be class-style ones. Written as a constant, it types
   * `endpoint.nodes`.
   */
  model?: M;
  /** The runtime; defaults to the one `mod.ts` registers (Deno). */
  platform?: Platform;
  /** A transport to use instead of the platform's. */
  transport?: Transport;
  /** An outbox store to use instead of the one the `persistence` property selects. */
  store?: OutboxStore;
  /**
   * How the backlog is sent after a reconnect: as `@delayed` batches, or re-published one by one.
   *
   * @default {"delayed"}
   */
  replay?: ReplayMode;
  /**
   * What the outbox drops when it is full.
   *
   * @default {"oldest"}
   */
  dropPolicy?: DropPolicy;
  /** The outbox's limits per class; defaults depend on the store (see the README). */
  limits?: {
    updates?: { messages?: number; bytes?: number };
    logs?: { messages?: number; bytes?: number };
    lifecycle?: { messages?: number; bytes?: number };
  };
  /** The reconnect policy; `maxDelay` defaults to the `connectRetryInterval` property. */
  reconnect?: BackoffOptions;
  /**
   * Whether `connect()` keeps trying until the first connection succeeds, instead of rejecting
   * when the first attempt on every broker of `hostUri` (one round) failed.
   *
   * @default {false}
   */
  waitOnFirstConnect?: boolean;
  /**
   * The largest inbound payload accepted, in bytes.
   *
   * @default {65536}
   */
  maxPayload?: number;
  /**
   * Told of everything refused or failed that does not stop the endpoint (also in `status()`).
   *
   * @default {(error) => console.warn(`cloudio: ${error.message}`)}
   */
  onError?: (error: CloudioError) => void;
  /**
   * The clock, in milliseconds since the epoch.
   *
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * The remote log level until the cloud sets one with `@logsLevel` (which is then kept in the
   * outbox store across restarts).
   *
   * @default {"ERROR"}
   */
  logLevel?: LogLevel;
  /** The rate limit of remote logs (default 20 records/s, bursts of 100). */
  logRate?: LogRateOptions;
  /**
   * How long before the client certificate expires a warning is given, in ms; the certificate's
   * expiry is also in every `certificate` status event.
   *
   * @default {2592000000}
   */
  certificateWarning?: number;
  /** Remote jobs: the folder `file://` jobs may run from (none by default) and the default timeout. */
  jobs?: { folder?: string; timeout?: number; concurrency?: number };
}

/** Options of `Endpoint.prototype.connect`. */
export interface ConnectOptions {
  /** Aborts waiting (the endpoint keeps trying in the background until closed). */
  signal?: AbortSignal;
}

/** Options of `Endpoint.prototype.close`. */
export interface CloseOptions {
  /**
   * How long to wait for the outbox to be delivered before going offline, in ms; what is not
   * delivered stays in a durable store for the next run.
   *
   * @default {5000}
   */
  timeout?: number;
}

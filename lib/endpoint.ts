/**
 * The endpoint: the model's root and the live cloud.iO v0.2 session.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { PushQueue } from "./_queue.ts";
import { decodePayload, DEFAULT_MAX_PAYLOAD } from "./codec/decode.ts";
import {
  encodeAttribute,
  encodeExecOutput,
  encodeLog,
  encodeState,
  encodeTransaction,
} from "./codec/encode.ts";
import { type JobHandler, type JobOptions, Jobs, parseJobCommand } from "./jobs/jobs.ts";
import { Logger, LogRateLimit, type LogRateOptions } from "./logs/logger.ts";
import { isLogLevel, type LogLevel, type LogRecord } from "./logs/levels.ts";
import { inspectCredentials } from "./tls/inspect.ts";
import { type EndpointSettings, settingsFromProperties } from "./config/settings.ts";
import type { EndpointConfig } from "./config/keys.ts";
import {
  ClosedError,
  CloudioError,
  ConfigError,
  ConnectionError,
  DroppedError,
  ProtocolError,
  StoreError,
} from "./errors.ts";
import { type Attribute, writeAttribute } from "./model/attribute.ts";
import { applySet, type SetTarget } from "./inbound/set.ts";
import { SetOrder } from "./inbound/set_order.ts";
import { safeClock } from "./time.ts";
import type { ModelHost } from "./model/host.ts";
import { assertFreeName } from "./model/object.ts";
import { encodeLiveEndpoint, encodeLiveNode } from "./model/wire.ts";
import { detachNode, Node, type NodeOptions } from "./model/node.ts";
import type {
  AttributeModel,
  AttributeType,
  AttributeValue,
  EndpointModel,
  MessageFormat,
} from "./model/types.ts";
import { MemoryStore } from "./outbox/memory_store.ts";
import { type DropPolicy, Outbox, type OutboxStats, type ReplayMode } from "./outbox/outbox.ts";
import type { OutboxMessage, OutboxStore } from "./outbox/store.ts";
import {
  type Credentials,
  type CredentialsProvider,
  defaultPlatform,
  type Platform,
} from "./platform.ts";
import { backoffDelay, type BackoffOptions } from "./session/backoff.ts";
import type { EndpointState, EndpointStatus } from "./session/status.ts";
import type { Connection, Transport } from "./session/transport.ts";

/** Options of {@linkcode Endpoint}. Durations are in milliseconds. */
export interface EndpointOptions {
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
  /** The model as plain data, for example from a connector. */
  model?: EndpointModel;
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
   * when the first attempt fails.
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

/** Options of {@linkcode Endpoint.prototype.connect}. */
export interface ConnectOptions {
  /** Aborts waiting (the endpoint keeps trying in the background until closed). */
  signal?: AbortSignal;
}

/** Options of {@linkcode Endpoint.prototype.close}. */
export interface CloseOptions {
  /**
   * How long to wait for the outbox to be delivered before going offline, in ms; what is not
   * delivered stays in a durable store for the next run.
   *
   * @default {5000}
   */
  timeout?: number;
}

/** An open transaction; see {@linkcode Endpoint.prototype.beginTransaction}. */
export interface Transaction extends Disposable {
  /** Sends every attribute changed since the transaction began as one `@transaction`. */
  commit(): void;
  /** Restores every attribute changed since the transaction began and sends nothing. */
  rollback(): void;
}

const STOP = Symbol("stop");

function definedOnly<T extends object>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<
    T
  >;
}

/** An attribute's value and timestamp at one moment. */
type Snapshot = { value?: AttributeValue; timestamp?: number };

// @set first: a refusal of it is fatal; @exec and @logsLevel are exact topics (a wildcard there
// is an invalid topic that RabbitMQ disconnects on).
const SUBSCRIPTIONS = (uuid: string) => [`@set/${uuid}/#`, `@exec/${uuid}`, `@logsLevel/${uuid}`];
const LOGS_LEVEL_STATE = "logsLevel";
const DEFAULT_LIMITS = {
  memory: {
    updates: { messages: 100_000, bytes: 32 << 20 },
    logs: { messages: 10_000, bytes: 4 << 20 },
    lifecycle: { messages: 10_000, bytes: 16 << 20 },
  },
  durable: {
    updates: { messages: 1_000_000, bytes: 256 << 20 },
    logs: { messages: 10_000, bytes: 4 << 20 },
    lifecycle: { messages: 10_000, bytes: 16 << 20 },
  },
};

function defaultOnError(error: CloudioError): void {
  console.warn(`cloudio: ${error.message}`);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise,
    new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), ms)),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A cloud.iO endpoint: declare its nodes, objects and attributes, connect, and from then on every
 * value the device sets reaches the cloud, and every value the cloud sets reaches the device.
 *
 * The endpoint is found by name: `connect()` reads `<name>.properties` (protocol §8) unless the
 * configuration is given as an object. Values set while offline wait in the outbox and are sent
 * after the next `@online`; `close()` delivers what it can, publishes `@offline` and disconnects.
 *
 * @example A device in a dozen lines
 * ```ts ignore
 * import { Endpoint } from "@cloudio/endpoint";
 *
 * await using endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
 * const node = endpoint.addNode("VacuumCleaner", { implements: ["NodeInterface"] });
 * const throughput = node.addObject("Status")
 *   .addAttribute("throughput", { type: "Number", constraint: "Measure" });
 * const power = node.addObject("Parameters")
 *   .addAttribute("set_power_on", { type: "Boolean", constraint: "Parameter", value: false });
 * await endpoint.connect();
 * throughput.value = 3.5; // → @update
 * for await (const change of power.changes()) console.log("power", change.value); // @set → @didSet
 * ```
 */
export class Endpoint implements AsyncDisposable {
  /** The name the endpoint was created with: its UUID or the name of its properties file. */
  readonly name: string;
  #options: EndpointOptions;
  #nodes = new Map<string, Node>();
  #host: ModelHost;
  #now: () => number;
  #onError: (error: CloudioError) => void;
  #state: EndpointState = "idle";
  #settings?: EndpointSettings;
  #format: MessageFormat = "CBOR";
  #outbox?: Outbox;
  #transport?: Transport;
  #connection?: Connection;
  #online = false;
  #connecting?: Promise<void>;
  #loop?: Promise<void>;
  #preparing?: Promise<{ transport: Transport; settings: EndpointSettings }>;
  #early: (() => OutboxMessage)[] = [];
  #updateTopics = new WeakMap<Attribute, string>();
  #logLevel: LogLevel;
  #logLimit: LogRateLimit;
  #loggers = new Map<string, Logger>();
  #jobs: Jobs;
  #reporting = false;
  #dropReport?: {
    count: number;
    reason: "full" | "offline";
    topic: string;
    timer: ReturnType<typeof setTimeout> | undefined;
  };
  #stop = new AbortController();
  #closing?: Promise<void>;
  #closed = false;
  #closedResolve!: (error: Error | undefined) => void;
  #closedPromise = new Promise<Error | undefined>((resolve) => this.#closedResolve = resolve);
  #statusQueues = new Set<PushQueue<EndpointStatus>>();
  #pendingAnnounce = new Set<Node>();
  #announceScheduled = false;
  #transaction?: Map<Attribute, Snapshot>;
  #order: SetOrder;
  #setTarget?: SetTarget;

  /**
   * Creates an endpoint. Nothing is read or connected until `connect()`.
   *
   * @param name The endpoint's UUID, or the name of its properties file (which then gives the
   * UUID in `ch.hevs.cloudio.endpoint.uuid`).
   * @param options Configuration, model, runtime and policies.
   * @throws {TypeError} When the model is invalid.
   */
  constructor(name: string, options: EndpointOptions = {}) {
    if (typeof name !== "string" || name.length === 0) {
      throw new TypeError("Cannot create an endpoint: the name must be a non-empty string");
    }
    this.name = name;
    this.#options = options;
    // Whatever the device's clock says, what the endpoint stamps is a plausible time.
    this.#now = safeClock(options.now ?? Date.now);
    this.#order = new SetOrder(this.#now);
    this.#onError = options.onError ?? defaultOnError;
    if (options.logLevel !== undefined && !isLogLevel(options.logLevel)) {
      throw new TypeError(`Cannot use log level ${JSON.stringify(options.logLevel)}`);
    }
    this.#logLevel = options.logLevel ?? "ERROR";
    this.#logLimit = new LogRateLimit(options.logRate ?? {}, this.#now());
    this.#jobs = new Jobs({
      output: (correlationID, line) => this.#jobOutput(correlationID, line),
      refused: (error) => this.#report(error),
      folder: () => options.jobs?.folder ?? this.#settings?.jobsFolder,
      timeout: options.jobs?.timeout,
      concurrency: options.jobs?.concurrency,
      runFile: (options.platform ?? defaultPlatform())?.runFile,
    });
    this.#host = {
      live: () => this.#state !== "idle",
      now: () => this.#now(),
      changed: (attribute, value, timestamp) => this.#changed(attribute, value, timestamp),
      restructured: (node) => this.#restructured(node),
      assertOpen: () => this.#assertOpen(),
    };
    for (const [nodeName, node] of Object.entries(options.model?.nodes ?? {})) {
      this.addNode(nodeName, node);
    }
  }

  /**
   * Creates an endpoint and connects it.
   *
   * @param name The UUID or the name of the properties file.
   * @param options As for the constructor and `connect()`.
   * @returns The endpoint, online.
   * @throws {ConfigError} When the configuration is missing or wrong.
   * @throws {ConnectionError} When the first attempt fails (unless `waitOnFirstConnect`).
   */
  static async connect(
    name: string,
    options: EndpointOptions & ConnectOptions = {},
  ): Promise<Endpoint> {
    const endpoint = new Endpoint(name, options);
    try {
      await endpoint.connect({ signal: options.signal });
    } catch (error) {
      await endpoint.close({ timeout: 0 });
      throw error;
    }
    return endpoint;
  }

  /** The endpoint's UUID: known once `connect()` has read the configuration. */
  get uuid(): string | undefined {
    return this.#settings?.uuid;
  }

  /** Where the endpoint is in its life. */
  get state(): EndpointState {
    return this.#state;
  }

  /** The settings in use, once `connect()` has read them. */
  get settings(): EndpointSettings | undefined {
    return this.#settings;
  }

  /** Nodes by name. */
  get nodes(): ReadonlyMap<string, Node> {
    return this.#nodes;
  }

  /**
   * Adds a node. Once the endpoint has started, the node is announced with `@nodeAdded` as soon
   * as the code that builds it has run, before any value of it; while offline the announcement
   * waits in the outbox (and the next `@online` carries the node too).
   *
   * @param name Its name (protocol §2; not `nodes`).
   * @param options Its interfaces and, optionally, its objects as plain data.
   * @returns The node.
   * @throws {TypeError} When the name is invalid or taken, or the content is invalid.
   *
   * @example
   * ```ts
   * import { Endpoint } from "../mod.ts";
   * import assert from "node:assert/strict";
   *
   * const endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
   * const node = endpoint.addNode("Lamp", {
   *   implements: ["Switchable"],
   *   objects: {
   *     Parameters: { attributes: { on: { type: "Boolean", constraint: "Parameter", value: false } } },
   *   },
   * });
   * assert.equal(endpoint.attribute("Lamp/Parameters/on", "Boolean")?.value, false);
   * assert.equal(node.object("Parameters")?.attribute("on")?.constraint, "Parameter");
   * ```
   */
  addNode(name: string, options: NodeOptions = {}): Node {
    this.#assertOpen();
    assertFreeName("node", name, this.#nodes, "");
    const node = new Node(name, options, this.#host);
    this.#nodes.set(name, node);
    this.#restructured(node);
    return node;
  }

  /**
   * Removes a node. Once the endpoint has started, the cloud is told with `@nodeRemoved`, which
   * waits in the outbox like every other message while the endpoint is offline.
   *
   * @param name The node's name.
   * @returns Whether there was such a node.
   */
  removeNode(name: string): boolean {
    const node = this.#nodes.get(name);
    if (!node) return false;
    this.#nodes.delete(name);
    this.#pendingAnnounce.delete(node);
    detachNode(node);
    // Once started, the cloud hears of it in order with the values around it, whenever the
    // endpoint is next online (and after a restart, with a durable store).
    if (this.#state !== "idle" && !this.#closed) {
      this.#enqueue(() => ({
        kind: "nodeRemoved",
        topic: `@nodeRemoved/${this.uuid}/${name}`,
        payload: new Uint8Array(),
        retain: false,
      }));
    }
    return true;
  }

  /**
   * Returns a node by name.
   *
   * @param name The name.
   * @returns The node, or `undefined`.
   */
  node(name: string): Node | undefined {
    return this.#nodes.get(name);
  }

  /**
   * Finds an attribute by its path, and checks its type when one is given.
   *
   * @param path `node/object/…/attribute`.
   * @param type The expected type; the result is then typed accordingly.
   * @returns The attribute, or `undefined` when there is none at that path.
   * @throws {TypeError} When the attribute exists with another type.
   */
  attribute<T extends AttributeType = AttributeType>(
    path: string,
    type?: T,
  ): Attribute<T> | undefined {
    const levels = path.split("/");
    const attribute = this.#resolve(levels);
    if (attribute && type !== undefined && attribute.type !== type) {
      throw new TypeError(`Cannot use attribute "${path}" as ${type}: it is ${attribute.type}`);
    }
    return attribute as Attribute<T> | undefined;
  }

  #resolve(levels: readonly string[], from = 0): Attribute | undefined {
    if (levels.length - from < 3) return undefined;
    let object = this.#nodes.get(levels[from])?.object(levels[from + 1]);
    for (let i = from + 2; object && i < levels.length - 1; i++) object = object.object(levels[i]);
    return object?.attribute(levels[levels.length - 1]);
  }

  /**
   * Returns the whole model as plain data, with current values.
   *
   * @returns The model.
   */
  toModel(): EndpointModel {
    const nodes: EndpointModel["nodes"] = {};
    for (const [name, node] of this.#nodes) nodes[name] = node.toModel();
    return { nodes };
  }

  /**
   * Reads the configuration, opens the outbox and connects. Resolves once the endpoint is online:
   * subscribed to `@set/<uuid>/#` and its `@online` acknowledged. From then on it reconnects by
   * itself after every loss, with exponential backoff, until `close()`.
   *
   * @param options A signal that stops waiting.
   * @returns A promise that resolves when online.
   * @throws {ConfigError} When the configuration is missing or wrong.
   * @throws {ConnectionError} When the first attempt fails (unless `waitOnFirstConnect`).
   * @throws {ClosedError} When the endpoint is closed.
   */
  async connect(options: ConnectOptions = {}): Promise<void> {
    this.#assertOpen();
    if (!this.#connecting) {
      // Live from now on: Static values are fixed and every change is kept for the cloud.
      this.#state = "connecting";
      const attempt = this.#connecting = this.#start();
      // After a failure, connect() may be called again.
      attempt.catch(() => {
        if (this.#connecting === attempt) this.#connecting = undefined;
      });
    }
    const signal = options.signal;
    if (!signal) return await this.#connecting;
    signal.throwIfAborted();
    let abort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      abort = () => reject(signal.reason);
      signal.addEventListener("abort", abort, { once: true });
    });
    try {
      await Promise.race([this.#connecting, aborted]);
    } finally {
      signal.removeEventListener("abort", abort);
    }
  }

  async #start(): Promise<void> {
    // Settings, transport and store are prepared once; a failure there (a ConfigError) returns
    // the endpoint to where it was before connect().
    const preparing = this.#preparing ??= this.#prepare();
    let prepared: { transport: Transport; settings: EndpointSettings };
    try {
      prepared = await preparing;
    } catch (error) {
      if (this.#preparing === preparing) this.#preparing = undefined;
      if (!this.#closed) this.#state = "idle";
      this.#early = [];
      throw error;
    }
    if (this.#closed) throw new ClosedError();
    await this.#launch(prepared.transport, prepared.settings);
  }

  // Starts the connection loop; resolves when first online, rejects when the first attempt fails
  // (unless waitOnFirstConnect) or the endpoint is closed first.
  #launch(transport: Transport, settings: EndpointSettings): Promise<void> {
    this.#state = "connecting";
    return new Promise<void>((resolve, reject) => {
      this.#loop = this.#run(transport, settings, resolve, reject);
    });
  }

  // Reads the settings, builds the transport and opens the store and the outbox.
  async #prepare(): Promise<{ transport: Transport; settings: EndpointSettings }> {
    const settings = await this.#loadSettings();
    this.#settings = settings;
    for (const { key, message } of settings.warnings) {
      this.#report(
        new ConfigError(`${message} (${settings.source ?? "the config option"})`, {
          key,
          path: settings.source,
        }),
      );
    }
    this.#format = settings.messageFormat;
    const platform = this.#options.platform ?? defaultPlatform();
    const credentials = this.#options.credentials;
    const given: CredentialsProvider | undefined = typeof credentials === "function"
      ? credentials
      : credentials
      ? () => Promise.resolve(credentials)
      : platform?.credentials?.(settings);
    const provider = given
      ? inspectCredentials(given, {
        settings,
        now: this.#now,
        warnAhead: this.#options.certificateWarning,
        report: (error) => this.#report(error),
        emit: (event) => this.#emit(event),
      })
      : undefined;
    const transport = this.#options.transport ??
      this.#requirePlatform(platform).createTransport(settings, provider);
    this.#transport = transport;
    if (this.#closed) throw new ClosedError();
    const store = this.#options.store ?? await this.#openStore(platform, settings);
    const defaults = store.durable ? DEFAULT_LIMITS.durable : DEFAULT_LIMITS.memory;
    const limits = this.#options.limits ?? {};
    this.#outbox = new Outbox({
      store,
      limits: {
        updates: {
          ...defaults.updates,
          ...definedOnly({ messages: settings.updateLimit, bytes: settings.updateBytesLimit }),
          ...limits.updates,
        },
        logs: {
          ...defaults.logs,
          ...definedOnly({ messages: settings.logLimit, bytes: settings.logBytesLimit }),
          ...limits.logs,
        },
        lifecycle: {
          ...defaults.lifecycle,
          ...definedOnly({ messages: settings.lifecycleLimit }),
          ...limits.lifecycle,
        },
      },
      dropPolicy: this.#options.dropPolicy ?? settings.dropPolicy,
      keepOffline: settings.persistence !== "none",
      onDrop: (entry, reason) => this.#dropped(entry.topic, reason),
      onError: (error) => this.#report(error),
    });
    const persisted = store.getState(LOGS_LEVEL_STATE);
    if (isLogLevel(persisted)) this.#logLevel = persisted;
    for (const build of this.#early.splice(0)) this.#outbox.add(build());
    if (this.#closed) {
      await this.#outbox.close();
      throw new ClosedError();
    }
    return { transport, settings };
  }

  // A store that cannot be opened (unwritable directory, corrupt file) must not keep a device
  // from running: report it and buffer in memory for this run.
  async #openStore(
    platform: Platform | undefined,
    settings: EndpointSettings,
  ): Promise<OutboxStore> {
    if (settings.persistence === "none") return new MemoryStore();
    try {
      return await this.#requirePlatform(platform).openStore(settings);
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      this.#report(
        new StoreError(`${error.message}; buffering in memory for this run instead`, {
          path: error.path,
          cause: error,
        }),
      );
      return new MemoryStore();
    }
  }

  #requirePlatform(platform: Platform | undefined): Platform {
    if (platform) return platform;
    throw new ConfigError(
      "No platform to read files or reach the broker: import mod.ts, or pass transport and store",
    );
  }

  async #loadSettings(): Promise<EndpointSettings> {
    const { config } = this.#options;
    if (config) {
      const properties = new Map<string, string>();
      for (const [key, value] of Object.entries(config)) properties.set(key, String(value));
      return settingsFromProperties(properties, { uuid: this.name, source: "the config option" });
    }
    const platform = this.#requirePlatform(this.#options.platform ?? defaultPlatform());
    return await platform.loadSettings(this.name, this.#options.locations);
  }

  async #run(
    transport: Transport,
    settings: EndpointSettings,
    firstResolve: () => void,
    firstReject: (error: unknown) => void,
  ): Promise<void> {
    const uuid = settings.uuid;
    const reconnect = { maxDelay: settings.connectRetryInterval, ...this.#options.reconnect };
    const resetAfter = reconnect.resetAfter ?? 30_000;
    const signal = this.#stop.signal;
    const stopped = new Promise<typeof STOP>((resolve) => {
      if (signal.aborted) resolve(STOP);
      else signal.addEventListener("abort", () => resolve(STOP), { once: true });
    });
    const untilStopped = <T>(promise: Promise<T>) => Promise.race([promise, stopped]);
    let attempt = 0;
    let first = true;
    while (!signal.aborted) {
      this.#state = "connecting";
      this.#emit({ type: "connecting", url: transport.url, attempt });
      let connection: Connection | undefined;
      let lost: Error | undefined;
      let since = 0;
      try {
        connection = await transport.connect({
          clientId: uuid,
          will: { topic: `@offline/${uuid}`, payload: new Uint8Array(), qos: 1, retain: false },
          keepAlive: settings.keepAlive,
          connectTimeout: settings.connectTimeout,
          cleanSession: settings.cleanSession,
          signal,
        }, (topic, payload) => this.#receive(topic, payload));
        const birth = await untilStopped(this.#birth(connection, settings));
        if (birth === STOP) {
          await this.#leave(connection, uuid);
          break;
        }
        const live = connection;
        this.#connection = live;
        this.#online = true;
        if (!signal.aborted) this.#state = "online";
        since = this.#now();
        this.#outbox!.attach({
          publish: (topic, payload, retain) => live.publish(topic, payload, { qos: 1, retain }),
          format: this.#format,
          delayedTopic: `@delayed/${uuid}`,
          replay: this.#options.replay ?? "delayed",
          maxInFlight: settings.maxInFlight,
          batchMessages: 1000,
          batchBytes: 256 * 1024,
          batchesInFlight: 4,
          now: this.#now,
          superseded: (entry) =>
            entry.seq <= birth.seq &&
            (entry.kind === "nodeAdded" || entry.kind === "nodeRemoved") &&
            birth.nodes.has(entry.topic.split("/")[2]),
        });
        this.#emit({ type: "online", url: transport.url });
        if (first) {
          first = false;
          firstResolve();
        }
        const outcome = await untilStopped(live.closed);
        if (outcome === STOP) {
          await this.#leave(live, uuid);
          break;
        }
        lost = outcome;
      } catch (error) {
        connection?.destroy();
        if (signal.aborted) break;
        lost = error instanceof Error ? error : new Error(String(error));
        if (first && !this.#options.waitOnFirstConnect) {
          first = false;
          firstReject(lost);
          this.#state = "offline";
          this.#emit({ type: "offline", error: lost });
          return;
        }
      } finally {
        this.#online = false;
        this.#connection = undefined;
        this.#outbox!.detach();
      }
      if (signal.aborted) break;
      attempt = since && this.#now() - since >= resetAfter ? 0 : attempt + 1;
      const retryIn = backoffDelay(Math.max(0, attempt - 1), reconnect);
      this.#state = "offline";
      this.#emit({ type: "offline", error: lost, retryIn });
      if (lost && !(lost instanceof ConnectionError) && lost instanceof CloudioError) {
        this.#report(lost);
      }
      await sleep(retryIn, signal);
    }
    if (first) firstReject(new ClosedError("The endpoint was closed before it came online"));
  }

  // Goes offline on purpose: @offline (the references never send it), then DISCONNECT, which
  // suppresses the will.
  async #leave(connection: Connection, uuid: string): Promise<void> {
    await withTimeout(
      connection.publish(`@offline/${uuid}`, new Uint8Array(), { qos: 1, retain: false }).catch(
        () => {},
      ),
      1000,
    );
    await withTimeout(connection.close().catch(() => {}), 3000);
    connection.destroy();
  }

  async #birth(
    connection: Connection,
    settings: EndpointSettings,
  ): Promise<{ seq: number; nodes: Set<string> }> {
    const uuid = settings.uuid;
    const filters = SUBSCRIPTIONS(uuid);
    let granted: readonly number[];
    try {
      granted = await connection.subscribe(filters);
    } catch (cause) {
      // RabbitMQ refuses a subscription by closing the connection, not with SUBACK 0x80.
      throw new ConnectionError(
        `The broker closed the connection when the endpoint subscribed to ${filters.join(", ")}: ` +
          `check its topic permissions for ${uuid}`,
        { url: this.#transport?.url, cause },
      );
    }
    if (granted[0] === undefined || granted[0] >= 0x80) {
      throw new ConnectionError(`The broker refused the subscription to ${filters[0]}`, {
        url: this.#transport?.url,
      });
    }
    filters.forEach((filter, i) => {
      if (i > 0 && (granted[i] ?? 0x80) >= 0x80) {
        this.#report(
          new ConnectionError(`The broker refused the subscription to ${filter}`, {
            url: this.#transport?.url,
          }),
        );
      }
    });
    // The @online carries every node as it is now: what the outbox holds about these nodes up
    // to this moment is moot (a node added or removed from now on is announced after it).
    const birth = { seq: this.#outbox!.store.lastSeq(), nodes: new Set(this.#nodes.keys()) };
    const payload = encodeLiveEndpoint(this.#format, this.#nodes, settings.supportedFormats);
    await connection.publish(`@online/${uuid}`, payload, { qos: 1, retain: true });
    return birth;
  }

  #receive(topic: string, payload: Uint8Array): void {
    try {
      const levels = topic.split("/");
      if (levels[0] === "@set") this.#handleSet(topic, payload);
      else if (levels[0] === "@logsLevel") this.#handleLogsLevel(topic, levels, payload);
      else if (levels[0] === "@exec") this.#handleExec(topic, levels, payload);
      else {
        throw new ProtocolError(
          `Cannot handle a message on ${topic}: the endpoint did not subscribe to it`,
          {
            code: "invalid-topic",
            topic,
          },
        );
      }
    } catch (error) {
      this.#report(error);
    }
  }

  #handleSet(topic: string, payload: Uint8Array): void {
    this.#setTarget ??= {
      uuid: this.uuid!,
      maxPayload: this.#options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      order: this.#order,
      find: (levels, from) => this.#resolve(levels, from),
      answer: (attribute) => this.#didSet(attribute),
    };
    applySet(this.#setTarget, topic, payload);
  }

  // Protocol §6.8: the cloud never sends the level again, so it is kept in the store.
  #handleLogsLevel(topic: string, levels: string[], payload: Uint8Array): void {
    if (levels.length !== 2 || levels[1] !== this.uuid) {
      throw new ProtocolError(`Cannot apply ${topic}: the topic is not @logsLevel/${this.uuid}`, {
        code: "invalid-topic",
        topic,
      });
    }
    const { value } = decodePayload(payload, {
      topic,
      maxBytes: this.#options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
    });
    if (!isLogLevel(value.level)) {
      throw new ProtocolError(
        `Cannot apply ${topic}: ${JSON.stringify(value.level ?? null)} is not a log level`,
        {
          code: "wrong-type",
          topic,
        },
      );
    }
    this.#logLevel = value.level;
    this.#outbox?.store.setState(LOGS_LEVEL_STATE, value.level);
    this.#outbox?.flush().catch((error) => this.#report(error));
  }

  #handleExec(topic: string, levels: string[], payload: Uint8Array): void {
    if (levels.length !== 2 || levels[1] !== this.uuid) {
      throw new ProtocolError(
        `Cannot run the job of ${topic}: the topic is not @exec/${this.uuid}`,
        {
          code: "invalid-topic",
          topic,
        },
      );
    }
    const { value } = decodePayload(payload, {
      topic,
      maxBytes: this.#options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
    });
    const command = parseJobCommand(value, topic);
    this.#jobs.run(command, topic).catch((error) => this.#report(error));
  }

  #jobOutput(correlationID: string, line: string): void {
    if (this.#state === "idle" || this.#closed) return;
    this.#enqueue(() => ({
      kind: "execOutput",
      topic: `@execOutput/${this.uuid}/${correlationID}`,
      payload: encodeExecOutput(this.#format, { correlationID, data: line }),
      retain: false,
    }));
  }

  #shipLog(record: LogRecord): void {
    // Logs ship once connect() was called; the library's own errors never become @logs.
    if (this.#state === "idle" || this.#closed || this.#reporting) return;
    this.#enqueue(() => ({
      kind: "logs",
      topic: `@logs/${this.uuid}`,
      payload: encodeLog(this.#format, record),
      retain: false,
    }));
  }

  /**
   * Returns a logger whose records reach the cloud as `@logs` when their level is at or above
   * the level the cloud set with `@logsLevel` (default `ERROR`, kept across restarts with
   * `persistence=file`). Records are rate-limited (20/s, bursts of 100, by default) and wait in
   * the outbox while offline.
   *
   * @param name The logger's name, shipped as `loggerName`.
   * @returns The logger (the same one for the same name).
   *
   * @example
   * ```ts ignore
   * const log = endpoint.logger("drive");
   * log.error("motor stalled");
   * if (log.enabled("DEBUG")) log.debug("state", state);
   * ```
   */
  logger(name = "app"): Logger {
    let logger = this.#loggers.get(name);
    if (!logger) {
      logger = new Logger(name, {
        level: () => this.#logLevel,
        ship: (record) => this.#shipLog(record),
        now: () => this.#now(),
      }, this.#logLimit);
      this.#loggers.set(name, logger);
    }
    return logger;
  }

  /** The remote log level in force: the cloud's last `@logsLevel`, or the default. */
  get logLevel(): LogLevel {
    return this.#logLevel;
  }

  /**
   * Sends what the program writes with `console.error`, `warn`, `info`, `log` and `debug` to a
   * logger too (ERROR, WARN, INFO, INFO, DEBUG), while still printing it. The library's own
   * reports are never forwarded.
   *
   * @param name The logger's name.
   * @returns A disposable that restores the console.
   *
   * @example
   * ```ts ignore
   * using _bridge = endpoint.bridgeConsole();
   * console.warn("filter almost full"); // printed, and shipped as WARN when enabled
   * ```
   */
  bridgeConsole(name = "console"): Disposable {
    const logger = this.logger(name);
    const methods = {
      error: "ERROR",
      warn: "WARN",
      info: "INFO",
      log: "INFO",
      debug: "DEBUG",
    } as const;
    const originals = new Map<string, (...parts: unknown[]) => void>();
    const target = console as unknown as Record<string, (...parts: unknown[]) => void>;
    for (const [method, level] of Object.entries(methods)) {
      const original = target[method];
      originals.set(method, original);
      target[method] = (...parts: unknown[]) => {
        original.apply(console, parts);
        logger.log(level, ...parts);
      };
    }
    return {
      [Symbol.dispose]() {
        for (const [method, original] of originals) target[method] = original;
      },
    };
  }

  /**
   * Registers a remote job the cloud can run with `@exec` as `cmd://<name>`. Its output lines
   * go back as `@execOutput` when asked for; a job that throws reports its error in one line; a
   * job that outlives its timeout sees its signal abort. `cmd://listJobs` is built in.
   *
   * @param name The job's name: letters, digits, `_` and `-`.
   * @param handler The job.
   * @param options Its timeout.
   * @throws {TypeError} When the name is invalid or taken.
   *
   * @example
   * ```ts ignore
   * endpoint.addJob("selfTest", async (job) => {
   *   job.output("motor ok");
   *   job.output(`battery ${await battery()} %`);
   * });
   * ```
   */
  addJob(name: string, handler: JobHandler, options: JobOptions = {}): void {
    this.#jobs.register(name, handler, options);
  }

  /**
   * Removes a remote job.
   *
   * @param name The job's name.
   * @returns Whether there was one.
   */
  removeJob(name: string): boolean {
    return this.#jobs.unregister(name);
  }

  // Answers a @set with the attribute's state. An attribute that holds only its initial value
  // has no timestamp yet: the answer is stamped now (the attribute keeps none).
  #didSet(attribute: Attribute): boolean {
    const model = attribute.toModel();
    if (model.value === undefined) return false;
    model.timestamp ??= this.#now();
    const path = attribute.path;
    this.#enqueue(() => ({
      kind: "didSet",
      topic: `@didSet/${this.uuid}/${path}`,
      payload: encodeAttribute(this.#format, model),
      retain: true,
      key: path,
    }));
    return true;
  }

  // Puts a message into the outbox; while connect() is still reading the settings and opening
  // the store, the message (a snapshot, encoded once the format and UUID are known) waits here.
  #enqueue(build: () => OutboxMessage): void {
    if (this.#outbox) this.#outbox.add(build());
    else this.#early.push(build);
  }

  #changed(attribute: Attribute, previousValue?: AttributeValue, previousTimestamp?: number): void {
    if (this.#transaction) {
      // The state before the first change is what a rollback restores.
      if (!this.#transaction.has(attribute)) {
        this.#transaction.set(attribute, { value: previousValue, timestamp: previousTimestamp });
      }
      return;
    }
    if (this.#pendingAnnounce.size > 0 && this.#pendingAnnounce.has(attribute.node)) {
      this.#announce();
    }
    const outbox = this.#outbox;
    if (!outbox) {
      const model = attribute.toModel();
      const path = attribute.path;
      this.#early.push(() => ({
        kind: "update",
        topic: `@update/${this.uuid}/${path}`,
        payload: encodeAttribute(this.#format, model),
        retain: true,
        key: path,
      }));
      return;
    }
    // The hot path of every value the device sets: no intermediate objects.
    let topic = this.#updateTopics.get(attribute);
    if (topic === undefined) {
      topic = `@update/${this.uuid}/${attribute.path}`;
      this.#updateTopics.set(attribute, topic);
    }
    outbox.add({
      kind: "update",
      topic,
      payload: encodeState(
        this.#format,
        attribute.type,
        attribute.constraint,
        attribute.value,
        attribute.timestamp,
      ),
      retain: true,
      key: attribute.path,
    });
  }

  #restructured(node: Node): void {
    if (this.#state === "idle" || this.#state === "closed") return;
    this.#pendingAnnounce.add(node);
    if (this.#announceScheduled) return;
    this.#announceScheduled = true;
    queueMicrotask(() => this.#announce());
  }

  // Every node added or changed once started is announced through the outbox, at any moment: a
  // @nodeAdded queued before an @online that already carries the node is dropped then (see
  // #birth), one queued after it is sent.
  #announce(): void {
    this.#announceScheduled = false;
    const nodes = [...this.#pendingAnnounce];
    this.#pendingAnnounce.clear();
    for (const node of nodes) {
      if (this.#nodes.get(node.name) !== node) continue;
      this.#enqueue(() => ({
        kind: "nodeAdded",
        topic: `@nodeAdded/${this.uuid}/${node.name}`,
        payload: encodeLiveNode(this.#format, node),
        retain: false,
      }));
    }
  }

  /**
   * Begins a transaction: until `commit()`, the device's writes to Status and Measure attributes
   * are collected (from any code) and then sent as one `@transaction` that carries each changed
   * attribute once, with its value at commit time. `rollback()` restores the values instead.
   * `using` rolls back a transaction that was not committed.
   *
   * @returns The transaction.
   * @throws {Error} When a transaction is already open.
   *
   * @example
   * ```ts ignore
   * {
   *   using tx = endpoint.beginTransaction();
   *   voltage.value = 230.1;
   *   current.value = 1.2;
   *   tx.commit(); // one @transaction with both
   * }
   * ```
   */
  beginTransaction(): Transaction {
    this.#assertOpen();
    if (this.#transaction) throw new Error("Cannot begin a transaction: one is already open");
    const touched = new Map<Attribute, Snapshot>();
    this.#transaction = touched;
    let open = true;
    const finish = () => {
      open = false;
      if (this.#transaction === touched) this.#transaction = undefined;
    };
    return {
      commit: () => {
        if (!open) throw new Error("Cannot commit the transaction: it has ended");
        finish();
        if (touched.size === 0) return;
        const snapshot = [...touched.keys()].map((a) => [a.path, a.toModel()] as const);
        this.#enqueue(() => ({
          kind: "transaction",
          topic: `@transaction/${this.uuid}`,
          payload: encodeTransaction(
            this.#format,
            snapshot.map((
              [path, model],
            ): [string, AttributeModel] => [`${this.uuid}/${path}`, model]),
          ),
          retain: false,
        }));
      },
      rollback: () => {
        if (!open) return;
        finish();
        for (const [attribute, before] of touched) {
          if (before.value !== undefined) {
            writeAttribute(attribute, before.value, before.timestamp ?? this.#now(), "device");
          }
        }
      },
      [Symbol.dispose]() {
        this.rollback();
      },
    };
  }

  /**
   * Runs a function in a transaction: commits when it returns, rolls back when it throws.
   *
   * @param fn The function; it may be async.
   * @returns What the function returns.
   * @throws What the function throws, after rolling back.
   */
  async transaction<T>(fn: () => T | Promise<T>): Promise<T> {
    const tx = this.beginTransaction();
    try {
      const result = await fn();
      tx.commit();
      return result;
    } catch (error) {
      tx.rollback();
      throw error;
    }
  }

  /**
   * Makes every value set so far durable in the outbox store: after this resolves, a crash of
   * the process loses none of them (with `persistence=file`; a no-op in memory).
   *
   * @returns A promise that resolves once committed.
   */
  async flush(): Promise<void> {
    await this.#preparing?.catch(() => {});
    await this.#outbox?.flush();
  }

  /**
   * Resolves when every message produced so far has been acknowledged by the broker.
   *
   * @param options A signal that stops waiting.
   * @returns A promise.
   */
  async delivered(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#preparing?.catch(() => {});
    await this.#outbox?.settled(options.signal);
  }

  /** The outbox's counters: pending, dropped, delivered, in flight. */
  get outbox(): OutboxStats | undefined {
    return this.#outbox?.stats();
  }

  /**
   * Iterates over the endpoint's life from now on: connecting, online, offline (with the error
   * and the next retry), errors that did not stop it, drops, and closed.
   *
   * @param options A signal that ends the iteration.
   * @returns An async iterator of events.
   *
   * @example
   * ```ts ignore
   * for await (const event of endpoint.status()) {
   *   if (event.type === "offline") console.log(`offline, retrying in ${event.retryIn} ms`);
   * }
   * ```
   */
  status(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<EndpointStatus> {
    const queue: PushQueue<EndpointStatus> = new PushQueue<EndpointStatus>({
      signal: options.signal,
      onClose: () => this.#statusQueues.delete(queue),
    });
    if (this.#closed) queue.close();
    else if (!queue.closed) this.#statusQueues.add(queue);
    return queue;
  }

  /**
   * Resolves when the endpoint is closed, with the error that closed it if one did.
   *
   * @returns A promise that never rejects.
   */
  closed(): Promise<Error | undefined> {
    return this.#closedPromise;
  }

  /**
   * Goes offline cleanly: waits (up to `timeout`) for the outbox to be delivered, publishes
   * `@offline/<uuid>`, disconnects, and closes the outbox store. Undelivered messages stay in a
   * durable store for the next run.
   *
   * @param options How long to wait for delivery.
   * @returns A promise that resolves once closed.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#shutdown(options.timeout ?? 5000);
    return this.#closing;
  }

  async #shutdown(timeout: number): Promise<void> {
    // Let the setup (settings, store, loop) finish, so that nothing it opens is left behind.
    await this.#preparing?.catch(() => {});
    if (this.#online && this.#outbox && timeout > 0) {
      await withTimeout(this.#outbox.settled(), timeout);
    }
    this.#jobs.cancelAll();
    this.#state = "closed";
    this.#closed = true;
    this.#stop.abort(); // the loop publishes @offline and disconnects
    await this.#loop;
    this.#state = "closed"; // the loop may have moved on while the abort was on its way
    await this.#outbox?.close().catch((error) => this.#report(error));
    if (this.#dropReport?.timer !== undefined) clearTimeout(this.#dropReport.timer);
    if (this.#dropReport?.count) {
      this.#tell(
        new DroppedError(this.#dropReport.count, this.#dropReport.reason, this.#dropReport.topic),
      );
    }
    this.#dropReport = undefined;
    for (const node of this.#nodes.values()) {
      for (const object of node.objects.values()) disposeObject(object);
    }
    this.#emit({ type: "closed" });
    for (const queue of this.#statusQueues) queue.close();
    this.#closedResolve(undefined);
  }

  /** Closes the endpoint: `await using endpoint = …`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #assertOpen(): void {
    if (this.#closed || this.#closing) throw new ClosedError();
  }

  // Every drop is counted (outbox stats) and yielded by status(); onError hears of them at most
  // once a second, with the count since the last report.
  #dropped(topic: string, reason: "full" | "offline"): void {
    const total = this.#outbox?.stats().dropped[reason] ?? 0;
    this.#emit({ type: "dropped", reason, topic, total });
    const pending = this.#dropReport ??= { count: 0, reason, topic, timer: undefined };
    pending.count++;
    pending.reason = reason;
    pending.topic = topic;
    if (pending.timer !== undefined) return;
    const flush = () => {
      const report = this.#dropReport;
      if (!report || report.count === 0) {
        this.#dropReport = undefined;
        return;
      }
      this.#tell(new DroppedError(report.count, report.reason, report.topic));
      report.count = 0;
      report.timer = this.#closed ? undefined : setTimeout(flush, 1000);
      if (report.timer === undefined) this.#dropReport = undefined;
    };
    flush();
  }

  #emit(event: EndpointStatus): void {
    for (const queue of this.#statusQueues) queue.push(event);
  }

  #report(error: unknown): void {
    const typed = error instanceof CloudioError
      ? error
      : new CloudioError(`Unexpected failure: ${(error as Error)?.message ?? error}`, {
        cause: error,
      });
    this.#emit({ type: "error", error: typed });
    this.#tell(typed);
  }

  // Every call of onError goes through here: a failing handler must not take the endpoint down,
  // and what it prints (console bridged to @logs) must not come back as @logs.
  #tell(error: CloudioError): void {
    this.#reporting = true;
    try {
      this.#onError(error);
    } catch {
      // Ignored on purpose.
    } finally {
      this.#reporting = false;
    }
  }
}

function disposeObject(object: import("./model/object.ts").CloudioObject): void {
  for (const attribute of object.attributes.values()) attribute[Symbol.dispose]();
  for (const child of object.objects.values()) disposeObject(child);
}

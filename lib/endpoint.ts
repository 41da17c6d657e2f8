/**
 * The endpoint: the root of the model and the one object a device program holds. It is a facade:
 * a value the device writes goes from the attribute to the publisher (`outbound/publisher.ts`),
 * the outbox (`outbox/outbox.ts`) and the session's connection (`session/session.ts`); a message
 * from the cloud comes back through the dispatcher (`inbound/dispatch.ts`) to its handler
 * (`inbound/set.ts`, `logs_level.ts`, `exec.ts`). `connect()` prepares the settings, the transport
 * and the outbox once (`session/setup.ts`) and starts the session.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { encodeEndpoint } from "./codec/encode.ts";
import type { EndpointSettings } from "./config/settings.ts";
import type { CloseOptions, ConnectOptions, EndpointOptions } from "./endpoint_options.ts";
import { ClosedError } from "./errors.ts";
import { dispatcher, type InboundHandler } from "./inbound/dispatch.ts";
import { type ExecTarget, startJob } from "./inbound/exec.ts";
import { applyLogsLevel, type LogsLevelTarget } from "./inbound/logs_level.ts";
import { applySet, type SetTarget } from "./inbound/set.ts";
import { SetOrder } from "./inbound/set_order.ts";
import { type JobHandler, type JobOptions, Jobs } from "./jobs/jobs.ts";
import { bridgeConsole } from "./logs/console_bridge.ts";
import type { LogLevel } from "./logs/levels.ts";
import type { Logger } from "./logs/logger.ts";
import { RemoteLogs } from "./outbound/remote_logs.ts";
import type { CloudioAttribute } from "./model/attribute.ts";
import { assertFreeName, type CloudioObject } from "./model/object.ts";
import { CloudioNode, type NodeOptions } from "./model/node.ts";
import { attachNode, detachNode } from "./model/sink.ts";
import { adopt, attributeMap, Children, objectMap } from "./model/tree.ts";
import type { NodesOf } from "./model/typed.ts";
import type { AttributeType, EndpointModel, NodeModel } from "./model/types.ts";
import type { Outbox, OutboxStats } from "./outbox/outbox.ts";
import type { OutboxStore } from "./outbox/store.ts";
import { Publisher } from "./outbound/publisher.ts";
import type { Transaction } from "./outbound/transactions.ts";
import { defaultPlatform } from "./platform.ts";
import { Reporter } from "./reporter.ts";
import { Session, withTimeout } from "./session/session.ts";
import { loadSettings, openOutbox, transportsFor } from "./session/setup.ts";
import type { EndpointState, EndpointStatus } from "./status.ts";
import { safeClock } from "./time.ts";
import { type Action, topicsOf } from "./topics.ts";

export type { CloseOptions, ConnectOptions, EndpointOptions } from "./endpoint_options.ts";
export type { Transaction } from "./outbound/transactions.ts";

/** What `connect()` prepares once. */
interface Prepared {
  settings: EndpointSettings;
  outbox: Outbox;
  session: Session;
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
export class Endpoint<const M extends EndpointModel = EndpointModel> implements AsyncDisposable {
  /** The name the endpoint was created with: its UUID or the name of its properties file. */
  readonly name: string;
  #options: EndpointOptions<M>;
  #nodes = new Children<CloudioNode>();
  #now: () => number;
  #reporter: Reporter;
  #publisher: Publisher;
  #logs: RemoteLogs;
  #jobs: Jobs;
  #order: SetOrder;
  #settings?: EndpointSettings;
  #preparing?: Promise<Prepared>;
  #connecting?: Promise<void>;
  #session?: Session;
  #outbox?: Outbox;
  #closing?: Promise<void>;
  #closed = false;
  #closedResolve!: (error: Error | undefined) => void;
  #closedPromise = new Promise<Error | undefined>((resolve) => this.#closedResolve = resolve);

  /**
   * Creates an endpoint. Nothing is read or connected until `connect()`.
   *
   * @param name The endpoint's UUID, or the name of its properties file (which then gives the
   * UUID in `ch.hevs.cloudio.endpoint.uuid`).
   * @param options Configuration, model, runtime and policies.
   * @throws {TypeError} When the model is invalid.
   */
  constructor(name: string, options: EndpointOptions<M> = {}) {
    if (typeof name !== "string" || name.length === 0) {
      throw new TypeError("Cannot create an endpoint: the name must be a non-empty string");
    }
    this.name = name;
    this.#options = options;
    // Whatever the device's clock says, what the endpoint stamps is a plausible time.
    this.#now = safeClock(options.now ?? Date.now);
    this.#order = new SetOrder(this.#now);
    this.#reporter = new Reporter(options.onError);
    // A bound method, not an arrow function: an arrow made here would share this constructor's
    // context, which holds `this`. The publisher is the value of the model's WeakMap from node to
    // sink; a path from it back to the endpoint (and so to the nodes, the WeakMap's keys) made
    // every garbage collection trace the whole tree as an ephemeron: building 10,000 attributes
    // took 27 ms instead of 5 (median), 90% of it in the collector.
    this.#publisher = new Publisher(this.#now, this.#reporter.report.bind(this.#reporter));
    this.#logs = new RemoteLogs({
      level: options.logLevel,
      rate: options.logRate,
      now: this.#now,
      publisher: this.#publisher,
      reporter: this.#reporter,
    });
    this.#jobs = new Jobs({
      output: (correlationID, line) => this.#publisher.execOutput(correlationID, line),
      refused: (error) => this.#reporter.report(error),
      folder: () => options.jobs?.folder ?? this.#settings?.jobsFolder,
      timeout: options.jobs?.timeout,
      concurrency: options.jobs?.concurrency,
      runFile: (options.platform ?? defaultPlatform())?.runFile,
    });
    for (const [nodeName, node] of Object.entries(options.model?.nodes ?? {})) {
      this.addNode(nodeName, node as NodeOptions);
    }
  }

  /**
   * Creates an endpoint and connects it.
   *
   * @param name The UUID or the name of the properties file.
   * @param options As for the constructor and `connect()`.
   * @returns The endpoint, online.
   * @throws {ConfigError} When the configuration is missing or wrong.
   * @throws {ConnectionError} When the first attempt on every broker fails (unless
   *   `waitOnFirstConnect`).
   */
  static async connect<const M extends EndpointModel = EndpointModel>(
    name: string,
    options: EndpointOptions<M> & ConnectOptions = {},
  ): Promise<Endpoint<M>> {
    const endpoint = new Endpoint<M>(name, options);
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
    if (this.#closed) return "closed";
    if (this.#session) return this.#session.state;
    return this.#publisher.started() ? "connecting" : "idle";
  }

  /**
   * The broker the endpoint is on, or trying to reach, by URL: with several brokers in `hostUri`
   * (the nodes of a cluster), the one in use; `undefined` before `connect()`.
   */
  get broker(): string | undefined {
    return this.#session?.url;
  }

  /** The settings in use, once `connect()` has read them. */
  get settings(): EndpointSettings | undefined {
    return this.#settings;
  }

  /**
   * Nodes by name. With a model written as a constant, typed by name down to each attribute:
   * `endpoint.nodes.Pump.objects.Status.attributes.flow`. Nodes added later are here too (typed
   * as any node, or found with `node()`).
   */
  get nodes(): NodesOf<M> {
    return this.#nodes.record as NodesOf<M>;
  }

  /**
   * Adds a node. Once the endpoint has started, the node is announced with `@nodeAdded` as soon
   * as the code that builds it has run, before any value of it; while offline the announcement
   * waits in the outbox (and the next `@online` carries the node too).
   *
   * @param name Its name (protocol §2; not `nodes`).
   * @param options Its interfaces and, optionally, its objects as plain data; or a class-style
   * node.
   * @returns The node: the class-style node given, or a new one typed by the options.
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
  addNode<const N extends NodeOptions | CloudioNode = NodeOptions>(
    name: string,
    options?: N,
  ): N extends CloudioNode ? N : CloudioNode<N & NodeModel> {
    this.#publisher.assertOpen();
    assertFreeName("node", name, this.#nodes, "");
    const node = options instanceof CloudioNode ? options : new CloudioNode(options);
    node[adopt](name);
    this.#nodes.set(name, node);
    attachNode(node, this.#publisher);
    this.#publisher.restructured(node);
    return node as N extends CloudioNode ? N : CloudioNode<N & NodeModel>;
  }

  /**
   * Removes a node. Once the endpoint has started, the cloud is told with `@nodeRemoved`, which
   * waits in the outbox like every other message while the endpoint is offline.
   *
   * @param name The node's name.
   * @returns Whether there was such a node.
   */
  removeNode(name: string): boolean {
    const node = this.node(name);
    if (!node) return false;
    this.#nodes.delete(name);
    detachNode(node);
    this.#publisher.nodeRemoved(node);
    return true;
  }

  /**
   * Returns a node by name.
   *
   * @param name The name.
   * @returns The node, or `undefined`.
   */
  node(name: string): CloudioNode | undefined {
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
  ): CloudioAttribute<T> | undefined {
    const attribute = this.#find(path.split("/"));
    if (attribute && type !== undefined && attribute.type !== type) {
      throw new TypeError(`Cannot use attribute "${path}" as ${type}: it is ${attribute.type}`);
    }
    return attribute as CloudioAttribute<T> | undefined;
  }

  #find(levels: readonly string[]): CloudioAttribute | undefined {
    if (levels.length < 3) return undefined;
    let object = this.node(levels[0])?.object(levels[1]);
    for (let i = 2; object && i < levels.length - 1; i++) object = object.object(levels[i]);
    return object?.attribute(levels[levels.length - 1]);
  }

  /**
   * Returns the whole model as plain data, with current values.
   *
   * @returns The model.
   */
  toModel(): EndpointModel {
    const nodes: EndpointModel["nodes"] = {};
    for (const [name, node] of this.#nodes.map) nodes[name] = node.toModel();
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
   * @throws {ConnectionError} When the first attempt on every broker fails (unless
   *   `waitOnFirstConnect`).
   * @throws {ClosedError} When the endpoint is closed.
   */
  async connect(options: ConnectOptions = {}): Promise<void> {
    this.#publisher.assertOpen();
    if (!this.#connecting) {
      // Live from now on: Static values are fixed and every change is kept for the cloud.
      this.#publisher.start(this.#nodes.map.values());
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

  // Settings, transport and outbox are prepared once; a failure there (a ConfigError) returns the
  // endpoint to where it was before connect().
  async #start(): Promise<void> {
    const preparing = this.#preparing ??= this.#prepare();
    let prepared: Prepared;
    try {
      prepared = await preparing;
    } catch (error) {
      if (this.#preparing === preparing) this.#preparing = undefined;
      if (!this.#closed) this.#publisher.unstart();
      throw error;
    }
    if (this.#closed) throw new ClosedError();
    this.#session = prepared.session;
    await prepared.session.start();
  }

  async #prepare(): Promise<Prepared> {
    const options = this.#options;
    const platform = options.platform ?? defaultPlatform();
    const reporter = this.#reporter;
    const settings = this.#settings = await loadSettings(this.name, options, platform, reporter);
    const transports = transportsFor(settings, options, platform, { now: this.#now, reporter });
    if (this.#closed) throw new ClosedError();
    const outbox = this.#outbox = await openOutbox(settings, options, platform, reporter);
    this.#storeOpened(outbox.store);
    const topics = topicsOf(settings.uuid);
    this.#logs.useOutbox(outbox);
    this.#publisher.open(outbox, topics, settings.messageFormat);
    if (this.#closed) {
      await outbox.close();
      throw new ClosedError();
    }
    // Inbound: one handler per action the endpoint subscribes to.
    const own = { uuid: settings.uuid, maxPayload: options.maxPayload ?? 64 * 1024 };
    const setTarget: SetTarget = {
      ...own,
      order: this.#order,
      find: (path) => this.#find(path),
      answer: (attribute) => this.#publisher.didSet(attribute),
    };
    const levelTarget: LogsLevelTarget = { ...own, setLevel: (l) => this.#logs.setLevel(l) };
    const execTarget: ExecTarget = { ...own, jobs: this.#jobs, report: (e) => reporter.report(e) };
    const receive = dispatcher(
      new Map<Action, InboundHandler>([
        ["@set", (topic, payload) => applySet(setTarget, topic, payload)],
        ["@logsLevel", (topic, payload) => applyLogsLevel(levelTarget, topic, payload)],
        ["@exec", (topic, payload) => startJob(execTarget, topic, payload)],
      ]),
      (error) => reporter.report(error),
    );
    const session = new Session({
      transports,
      settings,
      topics,
      outbox,
      reporter,
      online: (format) => ({
        payload: encodeEndpoint(format, this.#nodes.map, settings.supportedFormats),
        nodes: new Set(this.#nodes.map.keys()),
      }),
      receive,
      reconnect: options.reconnect,
      waitOnFirstConnect: options.waitOnFirstConnect,
      replay: options.replay,
      now: this.#now,
      timers: platform?.timers,
    });
    return { settings, outbox, session };
  }

  /**
   * Publishes `@online` again, with the model as it is now (values included), as the Python
   * reference's `announce()` does: for a cloud that lost the endpoint's state, or after the
   * model changed. Online, it goes out at once; offline, with the next connection (whose own
   * `@online` would carry the same), and the promise waits for it.
   *
   * @param options A signal that stops waiting.
   * @returns A promise that resolves once the broker has acknowledged the `@online`.
   * @throws {TypeError} When `connect()` was not called.
   * @throws {ClosedError} When the endpoint is closed first.
   *
   * @example
   * ```ts ignore
   * await endpoint.announce(); // @online/<uuid>, retained, with every current value
   * ```
   */
  async announce(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#publisher.assertOpen();
    const preparing = this.#preparing;
    if (!this.#connecting || !preparing) {
      throw new TypeError("Cannot announce the endpoint: call connect() first");
    }
    const { settings, outbox } = await preparing;
    const topic = topicsOf(settings.uuid).online;
    const signal = options.signal;
    for (;;) {
      signal?.throwIfAborted();
      // Listen first: a connection that comes up between the check and the wait is not missed.
      const events = this.#reporter.status(signal);
      try {
        const payload = encodeEndpoint(
          settings.messageFormat,
          this.#nodes.map,
          settings.supportedFormats,
        );
        const sent = outbox.publishNow(topic, payload, true);
        if (sent) {
          try {
            return await sent;
          } catch {
            // The connection was lost on the way: the next one.
          }
        }
        for await (const event of events) {
          if (event.type === "online") break;
          if (event.type === "closed") throw new ClosedError();
        }
        signal?.throwIfAborted();
        if (this.#closed) throw new ClosedError();
      } finally {
        await events.return?.();
      }
    }
  }

  // Says where values wait while offline: an experiment should not leave a file behind
  // unknowingly. A durable store this endpoint never opened before has no "created" setting yet.
  #storeOpened(store: OutboxStore): void {
    const created = store.durable && store.getState("created") === undefined;
    if (created) store.setState("created", new Date(this.#now()).toISOString());
    this.#reporter.emit({
      type: "store",
      location: store.location,
      durable: store.durable,
      created,
    });
    if (created) {
      this.#reporter.notice(
        `values wait in ${store.location} while offline (persistence=file; persistence: ` +
          `"memory" keeps nothing on disk)`,
      );
    }
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
    return this.#logs.logger(name);
  }

  /** The remote log level in force: the cloud's last `@logsLevel`, or the default. */
  get logLevel(): LogLevel {
    return this.#logs.level();
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
    return bridgeConsole(this.logger(name));
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
    this.#publisher.assertOpen();
    return this.#publisher.beginTransaction();
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
    return this.#reporter.status(options.signal);
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
    if (!this.#closing) {
      this.#publisher.closing();
      // What the publish policies hold back goes out with the rest of the outbox.
      this.#publisher.flushPolicies();
      this.#closing = this.#shutdown(options.timeout ?? 5000);
    }
    return this.#closing;
  }

  async #shutdown(timeout: number): Promise<void> {
    // Let the setup (settings, store) finish, so that nothing it opens is left behind.
    await this.#preparing?.catch(() => {});
    if (this.#session?.state === "online" && this.#outbox && timeout > 0) {
      await withTimeout(this.#outbox.settled(), timeout);
    }
    this.#jobs.cancelAll();
    this.#closed = true;
    this.#publisher.close();
    await this.#session?.stop(); // @offline and DISCONNECT when online
    await this.#outbox?.close().catch((error) => this.#reporter.report(error));
    for (const node of this.#nodes.map.values()) {
      for (const object of node[objectMap].values()) endIterations(object);
    }
    this.#reporter.close();
    this.#closedResolve(undefined);
  }

  /** Closes the endpoint: `await using endpoint = …`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function endIterations(object: CloudioObject): void {
  for (const attribute of object[attributeMap].values()) attribute[Symbol.dispose]();
  for (const child of object[objectMap].values()) endIterations(child);
}

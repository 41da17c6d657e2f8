/**
 * A gateway: many endpoints in one process, as cloud.iO's Modbus and KNX gateways run one per
 * field device, each with its own UUID, certificate and connection. They share what can be shared
 * (one outbox file, one timer wheel for keep-alives and reconnect delays, the certificate files
 * read once until they change) and connect at a paced, jittered rate, at start as after a broker
 * restart; each endpoint still fails, reconnects and replays on its own.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { Endpoint } from "../endpoint.ts";
import type { EndpointOptions } from "../endpoint_options.ts";
import type { EndpointModel } from "../model/types.ts";
import { ClosedError, type CloudioError } from "../errors.ts";
import { defaultPlatform, type Platform } from "../platform.ts";
import { TimerWheel } from "../timers.ts";
import type { Transport } from "../transport.ts";
import { Pacer } from "./pacer.ts";

/** Options of {@linkcode Gateway}. */
export interface GatewayOptions {
  /**
   * The one SQLite file that keeps the outboxes of the endpoints whose `persistence` is `file`,
   * each a table of it. By default `gateway.outbox.sqlite` where each endpoint's settings would
   * keep its own file (one file for all when they share `persistenceLocation`, as they usually
   * do). The file's `persistenceSync` is that of the endpoint that opened it first.
   */
  outboxFile?: string;
  /**
   * Connection attempts per second across the gateway, at start and after a broker restart.
   *
   * @default {20}
   */
  connectRate?: number;
  /** The runtime the endpoints run on; the one `mod.ts` registers by default. */
  platform?: Platform;
  /**
   * Told of what every endpoint reports, with the endpoint.
   *
   * @default {(error, endpoint) => console.warn(`cloudio ${endpoint.name}: ${error.message}`)}
   */
  onError?: (error: CloudioError, endpoint: Endpoint) => void;
}

/** What {@linkcode Gateway.prototype.connect} found. */
export interface GatewayReport {
  /** The names of the endpoints online. */
  online: string[];
  /** The endpoints not online (yet: they keep trying), with what they last reported. */
  offline: { name: string; error?: Error }[];
}

/**
 * Many endpoints in one process, sharing their resources.
 *
 * @example Three pumps behind one gateway
 * ```ts ignore
 * import { Gateway } from "@cloudio/endpoint";
 *
 * await using gateway = new Gateway();
 * for (const uuid of pumpUuids) {
 *   const pump = gateway.add(uuid, { model }); // each finds <uuid>.properties
 *   pump.node("Pump")!.object("Status")!.attribute("rate")!.value = 0;
 * }
 * const report = await gateway.connect({ timeout: 60_000 });
 * console.log(`${report.online.length} online, ${report.offline.length} still trying`);
 * ```
 */
export class Gateway implements AsyncDisposable {
  #options: GatewayOptions;
  #endpoints = new Map<string, Endpoint>();
  #names = new Map<string, string>(); // lower-cased → as given
  #wheel = new TimerWheel();
  #pacer: Pacer;
  #platform: Platform | undefined;
  #closing?: Promise<void>;

  /**
   * Creates an empty gateway.
   *
   * @param options The outbox file, the connection rate, the runtime and where errors go.
   * @throws {RangeError} When the connection rate is not positive.
   */
  constructor(options: GatewayOptions = {}) {
    this.#options = options;
    this.#pacer = new Pacer({ rate: options.connectRate });
    const base = options.platform ?? defaultPlatform();
    this.#platform = base && {
      ...base,
      timers: this.#wheel,
      createTransport: (settings, credentials) =>
        this.#paced(base.createTransport(settings, credentials)),
      openStore: (settings) =>
        settings.persistence === "file" && base.openSharedStore
          ? base.openSharedStore(settings, options.outboxFile)
          : base.openStore(settings),
    };
  }

  /** The endpoints, by name. */
  get endpoints(): ReadonlyMap<string, Endpoint> {
    return this.#endpoints;
  }

  /**
   * Adds an endpoint. It shares the gateway's resources, and keeps trying to connect when its first
   * attempt fails (`waitOnFirstConnect`).
   *
   * @param name Its UUID, or the name of its properties file.
   * @param options Its options, as for an endpoint of its own (`platform` is the gateway's); a
   *   `model` types the endpoint's tree, as it does for `new Endpoint()`.
   * @returns The endpoint, not connected.
   * @throws {TypeError} When the name is taken (whatever its case).
   * @throws {ClosedError} When the gateway is closed (or closing).
   */
  add<const M extends EndpointModel = EndpointModel>(
    name: string,
    options: EndpointOptions<M> = {},
  ): Endpoint<M> {
    if (this.#closing) {
      throw new ClosedError(`Cannot add endpoint "${name}": the gateway is closed`);
    }
    // UUIDs are lower-cased (the cloud's form): "0B3C…" and "0b3c…" would be one client id, and
    // two connections of one client id take each other over, forever.
    const taken = this.#names.get(name.toLowerCase());
    if (taken !== undefined) {
      throw new TypeError(`Cannot add endpoint "${name}" to the gateway: "${taken}" is there`);
    }
    this.#names.set(name.toLowerCase(), name);
    const report = this.#options.onError ??
      ((error: CloudioError, endpoint: Endpoint) =>
        console.warn(`cloudio ${endpoint.name}: ${error.message}`));
    const endpoint: Endpoint<M> = new Endpoint<M>(name, {
      waitOnFirstConnect: true,
      ...options,
      platform: this.#platform,
      onError: (error) => (options.onError ?? ((e) => report(e, untyped)))(error),
    });
    // The gateway keeps its endpoints whatever their models (Endpoint<M> is invariant in M).
    const untyped = endpoint as unknown as Endpoint;
    this.#endpoints.set(name, untyped);
    return endpoint;
  }

  /**
   * Connects every endpoint, paced, and waits until all are online or the time is up. Endpoints
   * that are not online by then keep trying by themselves; none holds up the others.
   *
   * @param options How long to wait, in ms (default 60 s), and a signal that stops waiting.
   * @returns Which endpoints are online, and which not yet.
   */
  async connect(options: { timeout?: number; signal?: AbortSignal } = {}): Promise<GatewayReport> {
    const { timeout = 60_000 } = options;
    const deadline = AbortSignal.timeout(timeout);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    // Why each endpoint is not online: its last failed attempt, or why connect() refused.
    const why = new Map<string, Error>();
    const watching = new AbortController();
    for (const [name, endpoint] of this.#endpoints) {
      (async () => {
        for await (const event of endpoint.status({ signal: watching.signal })) {
          if (event.type === "offline" && event.error) why.set(name, event.error);
        }
      })();
    }
    const names = [...this.#endpoints.keys()];
    const settled = await Promise.allSettled(
      [...this.#endpoints.values()].map((endpoint) => endpoint.connect({ signal })),
    );
    watching.abort();
    const report: GatewayReport = { online: [], offline: [] };
    settled.forEach((outcome, i) => {
      const name = names[i];
      if (this.#endpoints.get(name)!.state === "online") return report.online.push(name);
      const refused = outcome.status === "rejected" && outcome.reason !== signal.reason
        ? outcome.reason as Error
        : undefined;
      report.offline.push({ name, error: refused ?? why.get(name) });
    });
    return report;
  }

  /**
   * Closes every endpoint (each delivers what it can, says `@offline` and disconnects), then the
   * shared resources.
   *
   * @param options How long each endpoint waits for its outbox to be delivered, in ms.
   * @returns A promise that resolves once all is closed.
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled(
        [...this.#endpoints.values()].map((endpoint) => endpoint.close(options)),
      );
      this.#pacer.close();
      this.#wheel.close();
    })();
    return this.#closing;
  }

  /** Closes the gateway: `await using gateway = …`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #paced(transport: Transport): Transport {
    return {
      url: transport.url,
      connect: async (params, onMessage) => {
        await this.#pacer.admit(params.signal);
        return transport.connect(params, onMessage);
      },
    };
  }
}

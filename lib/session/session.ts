/**
 * The session: the endpoint's life on the broker (protocol §7.1, §7.5). Each attempt connects with
 * the endpoint's will, subscribes (`@set` first), publishes the model as a retained `@online`, and
 * hands the connection to the outbox, which sends the backlog and everything after it. When the
 * connection is lost it tries again after a jittered, growing delay; `stop()` says `@offline` and
 * disconnects.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { EndpointSettings } from "../config/settings.ts";
import { ClosedError, CloudioError, ConnectionError } from "../errors.ts";
import type { MessageFormat } from "../model/types.ts";
import type { Outbox, ReplayMode } from "../outbox/outbox.ts";
import type { Reporter } from "../reporter.ts";
import type { Timers } from "../timers.ts";
import type { EndpointTopics } from "../topics.ts";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import type { EndpointState } from "../status.ts";
import type { Connection, Transport } from "../transport.ts";

/** What the `@online` of one connection carries. */
export interface Birth {
  /** The payload: the model as it is now. */
  payload: Uint8Array;
  /** The names of the nodes it carries. */
  nodes: ReadonlySet<string>;
}

/** Options of {@linkcode Session}. */
export interface SessionOptions {
  /**
   * How to reach the broker: one transport per node of a cluster, tried in turn. The session stays
   * on a node while it serves, and moves to the next after a failed attempt or a lost connection.
   */
  transports: readonly Transport[];
  /** The endpoint's settings. */
  settings: EndpointSettings;
  /** The endpoint's topics. */
  topics: EndpointTopics;
  /** The outbox the connection is handed to. */
  outbox: Outbox;
  /** Where events and failures go. */
  reporter: Reporter;
  /**
   * Encodes the `@online` of a new connection.
   *
   * @param format The endpoint's format.
   * @returns The payload and the nodes it carries.
   */
  online(format: MessageFormat): Birth;
  /**
   * Receives every inbound message.
   *
   * @param topic Its topic.
   * @param payload Its payload.
   */
  receive(topic: string, payload: Uint8Array): void;
  /** The reconnect policy; `maxDelay` defaults to the `connectRetryInterval` setting. */
  reconnect?: BackoffOptions;
  /** Whether the first `start()` keeps trying instead of failing with the first attempt. */
  waitOnFirstConnect?: boolean;
  /**
   * How the backlog is sent after a reconnect.
   *
   * @default {"delayed"}
   */
  replay?: ReplayMode;
  /** The clock, in ms. */
  now(): number;
  /** The timers of reconnect delays and keep-alives; the runtime's own when absent. */
  timers?: Timers;
}

const STOP = Symbol("stop");

/** The endpoint's connection, kept up until stopped. */
export class Session {
  #options: SessionOptions;
  #state: Exclude<EndpointState, "idle" | "closed"> = "connecting";
  #stop = new AbortController();
  #loop?: Promise<void>;
  #first?: Promise<void>;
  #node = 0;

  /**
   * Creates a session; nothing happens before `start()`.
   *
   * @param options The transport, settings, outbox and what the session tells and asks.
   */
  constructor(options: SessionOptions) {
    this.#options = options;
  }

  /** The broker the session is on or trying, or (waiting to retry) the one that failed. */
  get url(): string {
    return this.#options.transports[this.#node].url;
  }

  /** Where the session is: connecting, online or offline. */
  get state(): "connecting" | "online" | "offline" {
    return this.#state;
  }

  /**
   * Starts the connection loop, unless it runs.
   *
   * @returns A promise that resolves when first online, and rejects when the first attempt fails
   * (unless `waitOnFirstConnect`) or the session is stopped first.
   */
  start(): Promise<void> {
    if (this.#loop && this.#first) return this.#first;
    this.#first = new Promise<void>((resolve, reject) => {
      this.#loop = this.#run(resolve, reject)
        .catch((error) => {
          // The loop itself failed (not an attempt: those are retried). Say so, loudly: the
          // endpoint no longer tries to connect.
          this.#state = "offline";
          this.#options.reporter.report(error);
          this.#options.reporter.emit({ type: "offline", error });
          reject(error);
        })
        .finally(() => this.#loop = undefined);
    });
    return this.#first;
  }

  /**
   * Stops: says `@offline` and disconnects when online, stops trying otherwise.
   *
   * @returns A promise that resolves once the loop has ended.
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(firstResolve: () => void, firstReject: (error: unknown) => void): Promise<void> {
    const { transports, settings, topics, outbox, reporter, now } = this.#options;
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
    let failed = false;
    while (!signal.aborted) {
      // After a failure the next attempt goes to the next node; until then, `url` names the one
      // that failed.
      if (failed) this.#node = (this.#node + 1) % transports.length;
      failed = false;
      const transport = transports[this.#node];
      this.#state = "connecting";
      reporter.emit({ type: "connecting", url: transport.url, attempt });
      let connection: Connection | undefined;
      let lost: Error | undefined;
      let since = 0;
      try {
        connection = await transport.connect({
          clientId: settings.uuid,
          will: { topic: topics.offline, payload: new Uint8Array(), qos: 1, retain: false },
          keepAlive: settings.keepAlive,
          connectTimeout: settings.connectTimeout,
          cleanSession: settings.cleanSession,
          signal,
          timers: this.#options.timers,
        }, this.#options.receive);
        const birth = await untilStopped(this.#birth(connection, transport));
        if (birth === STOP) {
          await this.#leave(connection);
          break;
        }
        const live = connection;
        if (!signal.aborted) this.#state = "online";
        since = now();
        outbox.attach({
          send: live.send?.bind(live) ??
            ((topic, payload, retain, settled) =>
              live.publish(topic, payload, { qos: 1, retain }).then(() => settled(), settled)),
          format: settings.messageFormat,
          delayedTopic: topics.delayed,
          replay: this.#options.replay ?? "delayed",
          maxInFlight: settings.maxInFlight,
          batchMessages: 1000,
          batchBytes: 256 * 1024,
          batchesInFlight: 4,
          now,
          superseded: (entry) =>
            entry.seq <= birth.seq &&
            (entry.kind === "nodeAdded" || entry.kind === "nodeRemoved") &&
            birth.nodes.has(entry.topic.split("/")[2]),
        });
        reporter.emit({ type: "online", url: transport.url });
        if (first) {
          first = false;
          firstResolve();
        }
        const outcome = await untilStopped(live.closed);
        if (outcome === STOP) {
          await this.#leave(live);
          break;
        }
        lost = outcome;
      } catch (error) {
        connection?.destroy();
        if (signal.aborted) break;
        lost = error instanceof Error ? error : new Error(String(error));
        // Without waitOnFirstConnect, the first connect() fails once every broker was tried.
        if (first && !this.#options.waitOnFirstConnect && attempt + 1 >= transports.length) {
          first = false;
          firstReject(lost);
          this.#state = "offline";
          reporter.emit({ type: "offline", url: transport.url, error: lost });
          return;
        }
      } finally {
        if (this.#state === "online") this.#state = "offline";
        outbox.detach();
      }
      if (signal.aborted) break;
      // This node failed, refused, or lost the connection: the next attempt goes to the next one.
      failed = true;
      attempt = since && now() - since >= resetAfter ? 0 : attempt + 1;
      const retryIn = backoffDelay(Math.max(0, attempt - 1), reconnect);
      this.#state = "offline";
      reporter.emit({ type: "offline", url: transport.url, error: lost, retryIn });
      if (lost && !(lost instanceof ConnectionError) && lost instanceof CloudioError) {
        reporter.report(lost);
      }
      await sleep(retryIn, signal, this.#options.timers);
    }
    if (first) firstReject(new ClosedError("The endpoint was closed before it came online"));
  }

  // Subscribes (@set first: its refusal is fatal), then publishes the model as a retained
  // @online. What the outbox holds up to that moment about the nodes the @online carries is moot
  // (a node added or removed from then on is announced after it).
  async #birth(connection: Connection, transport: Transport): Promise<Birth & { seq: number }> {
    const { topics, reporter, outbox, settings } = this.#options;
    const filters = topics.subscriptions;
    let granted: readonly number[];
    try {
      granted = await connection.subscribe(filters);
    } catch (cause) {
      // RabbitMQ refuses a subscription by closing the connection, not with SUBACK 0x80; in a
      // cluster with classic queues it does so too while the node that holds the endpoint's
      // session queue is down (the endpoint then gets in as soon as that node is back).
      throw new ConnectionError(
        `The broker closed the connection when the endpoint subscribed to ${filters.join(", ")}: ` +
          `check its topic permissions for ${topics.uuid} (in a RabbitMQ cluster with classic ` +
          `queues: the node that holds this endpoint's session queue may be down)`,
        { url: transport.url, cause },
      );
    }
    if (granted[0] === undefined || granted[0] >= 0x80) {
      throw new ConnectionError(`The broker refused the subscription to ${filters[0]}`, {
        url: transport.url,
      });
    }
    filters.forEach((filter, i) => {
      if (i > 0 && (granted[i] ?? 0x80) >= 0x80) {
        reporter.report(
          new ConnectionError(`The broker refused the subscription to ${filter}`, {
            url: transport.url,
          }),
        );
      }
    });
    const seq = outbox.store.lastSeq();
    const birth = this.#options.online(settings.messageFormat);
    await connection.publish(topics.online, birth.payload, { qos: 1, retain: true });
    return { ...birth, seq };
  }

  // Goes offline on purpose: @offline (the references never send it), then DISCONNECT, which
  // suppresses the will.
  async #leave(connection: Connection): Promise<void> {
    await withTimeout(
      connection.publish(this.#options.topics.offline, new Uint8Array(), { qos: 1, retain: false })
        .catch(() => {}),
      1000,
    );
    await withTimeout(connection.close().catch(() => {}), 3000);
    connection.destroy();
  }
}

function sleep(ms: number, signal: AbortSignal, timers?: Timers): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    let cancel: () => void;
    const done = () => {
      cancel();
      signal.removeEventListener("abort", done);
      resolve();
    };
    if (timers) {
      const id = timers.after(ms, done);
      cancel = () => timers.cancel(id);
    } else {
      const timer = setTimeout(done, ms);
      cancel = () => clearTimeout(timer);
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Waits for a promise, or for a time, whichever comes first.
 *
 * @param promise The promise.
 * @param ms The longest wait.
 * @returns What the promise resolved to, or `undefined` after the wait.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise,
    new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), ms)),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The outbox: every QoS 1 message the endpoint produces is stored here first and leaves only
 * when the broker has acknowledged it (or the `@delayed` that carried it). While online it is
 * pumped in order with a bounded window of unacknowledged publishes; after a reconnect the
 * backlog goes out as `@delayed` batches (or re-published one by one) before anything newer.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { detectFormat } from "../codec/decode.ts";
import { encodeDelayed, encodeDelayedRun } from "../codec/encode.ts";
import type { MessageFormat } from "../model/types.ts";
import {
  classOf,
  DELAYED_KINDS,
  type EncodedRun,
  OUTBOX_CLASSES,
  type OutboxClass,
  type OutboxEntry,
  type OutboxMessage,
  type OutboxStore,
  type OutboxUsage,
} from "./store.ts";

/** How the backlog is sent after a reconnect. */
export type ReplayMode = "delayed" | "direct";

/** What to drop when a class is full. */
export type DropPolicy = "oldest" | "latest-per-attribute";

/** Limits of one class. */
export interface OutboxLimits {
  /** Messages kept at most. */
  messages: number;
  /** Payload bytes kept at most. */
  bytes: number;
}

/** Options of {@linkcode Outbox}. */
export interface OutboxOptions {
  /** Where messages are kept. */
  store: OutboxStore;
  /** Limits per class; a class without limits is kept whole. */
  limits: Partial<Record<OutboxClass, OutboxLimits>>;
  /**
   * What to drop when a class is full.
   *
   * @default {"oldest"}
   */
  dropPolicy?: DropPolicy;
  /**
   * Whether messages are kept while offline; without, they are dropped (and counted).
   *
   * @default {true}
   */
  keepOffline?: boolean;
  /**
   * How long appended messages may wait before a durable store commits them, in ms.
   *
   * @default {20}
   */
  commitInterval?: number;
  /** Told of every message dropped for lack of room or of a connection. */
  onDrop?: (entry: OutboxEntry, reason: "full" | "offline") => void;
  /** Told when a durable store fails to commit. */
  onError?: (error: unknown) => void;
}

/** The connection side, given to {@linkcode Outbox.prototype.attach} when online. */
export interface OutboxLink {
  /**
   * Publishes at QoS 1 and calls `settled` once: without an argument on PUBACK, with the error
   * when the connection is lost first. After the PUBACK the link keeps nothing of the payload:
   * the outbox releases a replayed batch's buffer then.
   */
  send(
    topic: string,
    payload: Uint8Array,
    retain: boolean,
    settled: (error?: Error) => void,
  ): void;
  /** The endpoint's message format, the format `@delayed` batches are written in. */
  format: MessageFormat;
  /** The `@delayed/<uuid>` topic. */
  delayedTopic: string;
  /** How the backlog is sent. */
  replay: ReplayMode;
  /** Unacknowledged publishes allowed at once. */
  maxInFlight: number;
  /** Messages per `@delayed` batch at most. */
  batchMessages: number;
  /** Payload bytes per `@delayed` batch at most. */
  batchBytes: number;
  /** `@delayed` batches unacknowledged at once. */
  batchesInFlight: number;
  /** The clock, in ms. */
  now(): number;
  /**
   * Tells whether a message of the backlog is superseded by what the link already carried (a
   * node's `@nodeAdded` or `@nodeRemoved` that the `@online` of this connection made moot); such
   * a message is deleted without being sent. Asked of the messages that go one by one: values,
   * transactions and logs travel in `@delayed` batches unasked.
   */
  superseded?(entry: OutboxEntry): boolean;
}

/** Counters of an outbox. */
export interface OutboxStats {
  /** What is stored and not yet acknowledged, per class. */
  pending: Record<OutboxClass, OutboxUsage>;
  /** Messages dropped for lack of room (`full`) or of a connection with persistence off (`offline`). */
  dropped: { full: number; offline: number };
  /** Messages acknowledged by the broker since start. */
  delivered: number;
  /** Publishes awaiting their PUBACK. */
  inFlight: number;
  /** `@delayed` batches acknowledged since start. */
  batches: number;
  /**
   * Values replaced while offline by a newer value of the same attribute
   * (`latestOnlyWhileOffline`).
   */
  superseded: number;
}

const PAGE = 512;

/**
 * Gives a buffer's memory back now rather than when V8 next collects: a replayed batch is tens of
 * kilobytes outside the heap, and the replay makes so little garbage in the heap that V8 collected
 * rarely, while those buffers added up to 70 MB (`bench/_offline.ts`, 1,000,000 values). Only for
 * a buffer the caller owns, which nothing reads any more.
 */
function release(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength !== bytes.byteLength) return;
  try {
    buffer.transfer(0);
  } catch {
    // Not detachable (a runtime's own buffer): the collector frees it.
  }
}

// @delayed may carry @update, @transaction and @logs (and @didSet, which the cloud ignores
// there): @didSet and @execOutput are re-published one by one instead.
function delayable(entry: OutboxEntry): boolean {
  return DELAYED_KINDS.includes(entry.kind);
}

/**
 * The outbox. See the module documentation.
 *
 * @example
 * ```ts
 * import { Outbox } from "./outbox.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import assert from "node:assert/strict";
 *
 * const outbox = new Outbox({
 *   store: new MemoryStore(),
 *   limits: { updates: { messages: 2, bytes: 1e6 }, logs: { messages: 2, bytes: 1e6 } },
 * });
 * for (let i = 0; i < 3; i++) {
 *   outbox.add({ kind: "update", topic: "t", payload: new Uint8Array([i]), retain: false });
 * }
 * assert.equal(outbox.stats().pending.updates.messages, 2);
 * assert.equal(outbox.stats().dropped.full, 1);
 * ```
 */
export class Outbox {
  #store: OutboxStore;
  #limits: Partial<Record<OutboxClass, OutboxLimits>>;
  #latest: boolean;
  #keepOffline: boolean;
  #commitInterval: number;
  #onDrop?: OutboxOptions["onDrop"];
  #onError?: OutboxOptions["onError"];
  #link?: OutboxLink;
  #generation = 0;
  #cursor = 0; // highest seq published on the current link
  #backlogEnd = 0; // seqs up to here were stored before the link came up
  #inFlight = 0;
  #batchesInFlight = 0;
  #pumping = false;
  #commitTimer?: ReturnType<typeof setTimeout>;
  #commitRunning?: Promise<void>;
  #settledWaiters: (() => void)[] = [];
  #dropped = { full: 0, offline: 0 };
  #delivered = 0;
  #batches = 0;
  #closed = false;
  #ackedSeqs: number[] = [];
  #ackTimer?: ReturnType<typeof setTimeout>;
  #freed = 0; // window slots freed by PUBACKs not yet handled
  #freedBatches = 0;
  // latestOnlyWhileOffline: the seq of the value of each such attribute stored while offline.
  #latestOnly = new Map<string, number>();
  #superseded = 0;

  /**
   * Creates an outbox over a store.
   *
   * @param options The store, limits and policies.
   */
  constructor(options: OutboxOptions) {
    this.#store = options.store;
    this.#limits = options.limits;
    this.#latest = options.dropPolicy === "latest-per-attribute";
    this.#keepOffline = options.keepOffline ?? true;
    this.#commitInterval = options.commitInterval ?? 20;
    this.#onDrop = options.onDrop;
    this.#onError = options.onError;
  }

  /** The store behind the outbox. */
  get store(): OutboxStore {
    return this.#store;
  }

  /** Whether a link is attached: the endpoint is online. */
  get online(): boolean {
    return this.#link !== undefined;
  }

  /**
   * Adds a message; it is published as soon as the link and the window allow.
   *
   * @param message The message.
   * @param latestOnly While offline, this message replaces the one of the same `key` that waits
   * (an attribute's `latestOnlyWhileOffline` policy).
   * @returns Its sequence number, or `undefined` when it was dropped at once.
   */
  add(message: OutboxMessage, latestOnly = false): number | undefined {
    if (!this.#link && !this.#keepOffline) {
      this.#dropped.offline++;
      this.#onDrop?.({ ...message, seq: 0 }, "offline");
      return undefined;
    }
    const key = message.key;
    const seq = this.#store.append(message);
    if (latestOnly && !this.#link && key !== undefined) {
      const older = this.#latestOnly.get(key);
      if (older !== undefined) {
        this.#store.delete([older]);
        this.#superseded++;
      }
      this.#latestOnly.set(key, seq);
    }
    this.#enforce(classOf(message.kind));
    this.#scheduleCommit();
    const link = this.#link;
    if (!link || this.#pumping) return seq;
    if (this.#cursor === seq - 1 && this.#inFlight < link.maxInFlight) {
      // Caught up: everything before it went out already. Send it as it is, without reading it
      // back from the store (for SQLite, a SELECT a message saved).
      this.#cursor = seq;
      const entry = message as OutboxEntry;
      entry.seq = seq;
      this.#sendOne(link, entry);
    } else this.#pump();
    return seq;
  }

  #enforce(cls: OutboxClass): void {
    const limit = this.#limits[cls];
    if (limit === undefined) return;
    for (;;) {
      const usage = this.#store.usage(cls);
      if (usage.messages <= limit.messages && usage.bytes <= limit.bytes) return;
      const victim = this.#store.evict(cls, this.#latest);
      if (!victim) return;
      this.#dropped.full++;
      this.#onDrop?.(victim, "full");
    }
  }

  #scheduleCommit(): void {
    if (!this.#store.durable || this.#commitTimer !== undefined || this.#closed) return;
    this.#commitTimer = setTimeout(() => {
      this.#commitTimer = undefined;
      this.flush().catch((error) => this.#onError?.(error));
    }, this.#commitInterval);
  }

  /**
   * Makes every message added so far durable (a no-op for the memory store).
   *
   * @returns A promise that resolves once committed.
   */
  async flush(): Promise<void> {
    if (this.#commitTimer !== undefined) {
      clearTimeout(this.#commitTimer);
      this.#commitTimer = undefined;
    }
    while (this.#commitRunning) await this.#commitRunning;
    this.#commitRunning = this.#store.commit();
    try {
      await this.#commitRunning;
    } finally {
      this.#commitRunning = undefined;
    }
  }

  /**
   * Resolves when nothing is pending any more: every message added so far was acknowledged
   * (or dropped).
   *
   * @param signal Rejects with its reason when aborted.
   * @returns A promise.
   */
  settled(signal?: AbortSignal): Promise<void> {
    if (this.#isEmpty()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        signal?.removeEventListener("abort", abort);
        resolve();
      };
      const abort = () => {
        this.#settledWaiters = this.#settledWaiters.filter((w) => w !== done);
        reject(signal!.reason);
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener("abort", abort, { once: true });
      this.#settledWaiters.push(done);
    });
  }

  #isEmpty(): boolean {
    return OUTBOX_CLASSES.every((cls) => this.#store.usage(cls).messages === 0);
  }

  #checkSettled(): void {
    if (this.#settledWaiters.length === 0 || !this.#isEmpty()) return;
    const waiters = this.#settledWaiters;
    this.#settledWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Starts publishing over a link; everything stored so far is the backlog.
   *
   * @param link The connection side.
   */
  attach(link: OutboxLink): void {
    this.#link = link;
    this.#latestOnly.clear(); // what waits is the backlog now: it is sent, not replaced
    this.#generation++;
    this.#cursor = 0;
    this.#inFlight = 0;
    this.#batchesInFlight = 0;
    this.#freed = this.#freedBatches = 0;
    this.#backlogEnd = this.#store.lastSeq();
    this.#pump();
  }

  /**
   * Publishes a message at once on the current link, outside the queue: the `@online` that
   * `Endpoint.prototype.announce` sends again. Nothing is stored.
   *
   * @param topic The topic.
   * @param payload The payload.
   * @param retain Whether it is retained.
   * @returns A promise that resolves on PUBACK (and rejects when the link is lost first), or
   * `undefined` when there is no link.
   */
  publishNow(topic: string, payload: Uint8Array, retain: boolean): Promise<void> | undefined {
    const link = this.#link;
    if (!link) return undefined;
    return new Promise((done, failed) =>
      link.send(topic, payload, retain, (error) => error ? failed(error) : done())
    );
  }

  /** Stops publishing; whatever was not acknowledged is sent again on the next link. */
  detach(): void {
    this.#link = undefined;
    this.#generation++;
    this.#inFlight = 0;
    this.#batchesInFlight = 0;
    this.#freed = this.#freedBatches = 0;
    this.#cursor = 0;
    if (!this.#keepOffline) {
      for (;;) {
        const entries = this.#store.read(0, PAGE);
        if (entries.length === 0) break;
        this.#store.delete(entries.map((e) => e.seq));
        for (const entry of entries) {
          this.#dropped.offline++;
          this.#onDrop?.(entry, "offline");
        }
      }
      this.#checkSettled();
    }
  }

  #pump(): void {
    const link = this.#link;
    if (!link || this.#pumping) return;
    this.#pumping = true;
    try {
      while (link === this.#link && this.#inFlight < link.maxInFlight) {
        const replaying = link.replay === "delayed" && this.#cursor < this.#backlogEnd;
        // A store that encodes a batch itself (SQLite) does: no object per message.
        const encodes = replaying && this.#store.encodeRun !== undefined;
        if (encodes) {
          if (this.#batchesInFlight >= link.batchesInFlight) break;
          const run = this.#store.encodeRun!(this.#cursor, {
            format: link.format,
            lastSeq: this.#backlogEnd,
            maxMessages: link.batchMessages,
            maxBytes: link.batchBytes,
          });
          if (run) {
            this.#sendRun(link, run);
            this.#cursor = run.lastSeq;
            continue;
          }
          // The next message goes by itself, as read below.
        }
        // Read no more than can go out now: a batch's worth while replaying, else the window.
        const room = link.maxInFlight - this.#inFlight;
        const entries = this.#store.read(
          this.#cursor,
          encodes ? 1 : replaying ? link.batchMessages : Math.min(PAGE, room),
        );
        if (entries.length === 0) break;
        let i = 0;
        while (i < entries.length && this.#inFlight < link.maxInFlight) {
          const first = entries[i];
          const inBacklog = first.seq <= this.#backlogEnd;
          if (inBacklog && link.superseded?.(first)) {
            this.#ackedSeqs.push(first.seq);
            this.#ackTimer ??= setTimeout(() => this.#flushAcks(), 0);
            i++;
          } else if (
            inBacklog && link.replay === "delayed" && delayable(first) &&
            detectFormat(first.payload) === link.format
          ) {
            if (this.#batchesInFlight >= link.batchesInFlight) break;
            const batch = [first];
            let bytes = first.payload.length;
            i++;
            while (i < entries.length && batch.length < link.batchMessages) {
              const next = entries[i];
              if (
                next.seq > this.#backlogEnd || !delayable(next) ||
                detectFormat(next.payload) !== link.format ||
                bytes + next.payload.length > link.batchBytes
              ) break;
              batch.push(next);
              bytes += next.payload.length;
              i++;
            }
            this.#sendBatch(link, batch);
          } else {
            this.#sendOne(link, first);
            i++;
          }
          this.#cursor = entries[i - 1].seq;
        }
        if (i < entries.length) break; // window or batch limit reached; an ack resumes
      }
    } finally {
      this.#pumping = false;
    }
  }

  // The closures keep only sequence numbers, so that entries die young while they wait.
  #sendOne(link: OutboxLink, entry: OutboxEntry): void {
    const generation = this.#generation;
    const seq = entry.seq;
    this.#inFlight++;
    link.send(entry.topic, entry.payload, entry.retain, (error) => {
      if (!error) this.#acked(generation, seq, false);
    });
  }

  #sendBatch(link: OutboxLink, batch: OutboxEntry[]): void {
    const generation = this.#generation;
    const seqs = batch.map((e) => e.seq);
    this.#inFlight++;
    this.#batchesInFlight++;
    const payload = encodeDelayed(link.format, link.now(), batch);
    link.send(link.delayedTopic, payload, false, (error) => {
      if (!error) this.#acked(generation, seqs, true);
    });
  }

  #sendRun(link: OutboxLink, run: EncodedRun): void {
    const generation = this.#generation;
    const { count, firstSeq, lastSeq } = run;
    this.#inFlight++;
    this.#batchesInFlight++;
    const payload = encodeDelayedRun(link.format, link.now(), count, run.items);
    release(run.items);
    link.send(link.delayedTopic, payload, false, (error) => {
      if (error) return;
      // Acknowledged: the link is done with the payload.
      release(payload);
      // Every stored message from the first to the last is in the run; the numbers between
      // them that are gone are ignored by delete().
      for (let seq = firstSeq; seq <= lastSeq; seq++) this.#ackedSeqs.push(seq);
      this.#settled(generation, count, true);
    });
  }

  // PUBACKs come in bursts (one per tick from MQTT.js): they are collected and handled once per
  // macrotask, so that the store deletes ranges and the window is refilled with one read, instead
  // of a delete and a read per message.
  #acked(generation: number, seqs: number | number[], batch: boolean): void {
    if (typeof seqs === "number") this.#ackedSeqs.push(seqs);
    else for (const seq of seqs) this.#ackedSeqs.push(seq);
    this.#settled(generation, typeof seqs === "number" ? 1 : seqs.length, batch);
  }

  // The bookkeeping of a PUBACK whose messages are in #ackedSeqs.
  #settled(generation: number, count: number, batch: boolean): void {
    // An acknowledged message was delivered whatever link it went out on.
    this.#delivered += count;
    if (batch) this.#batches++;
    if (generation === this.#generation) {
      this.#freed++;
      if (batch) this.#freedBatches++;
    }
    this.#ackTimer ??= setTimeout(() => this.#flushAcks(), 0);
  }

  #flushAcks(): void {
    this.#ackTimer = undefined;
    const seqs = this.#ackedSeqs;
    this.#ackedSeqs = [];
    this.#store.delete(seqs);
    this.#inFlight -= this.#freed;
    this.#batchesInFlight -= this.#freedBatches;
    this.#freed = this.#freedBatches = 0;
    this.#scheduleCommit();
    this.#pump();
    this.#checkSettled();
  }

  /**
   * Returns the counters.
   *
   * @returns Pending, dropped, delivered and in-flight counts.
   */
  stats(): OutboxStats {
    return {
      pending: {
        updates: { ...this.#store.usage("updates") },
        logs: { ...this.#store.usage("logs") },
        lifecycle: { ...this.#store.usage("lifecycle") },
      },
      dropped: { ...this.#dropped },
      delivered: this.#delivered,
      inFlight: this.#inFlight,
      batches: this.#batches,
      superseded: this.#superseded,
    };
  }

  /** Commits and closes the store; pending messages stay in a durable store for the next run. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#ackTimer !== undefined) {
      clearTimeout(this.#ackTimer);
      this.#flushAcks();
    }
    this.detach();
    try {
      await this.flush();
    } finally {
      // A store that cannot commit (its disk failed) is still released.
      this.#closed = true;
      await this.#store.close();
    }
  }
}

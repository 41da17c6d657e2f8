/**
 * The in-memory outbox store: fast, bounded by the outbox's limits, gone with the process.
 *
 * This module is browser compatible.
 *
 * @module
 */

import {
  classOf,
  type OutboxClass,
  type OutboxEntry,
  type OutboxMessage,
  type OutboxStore,
  type OutboxUsage,
} from "./store.ts";

let adoptEntry: (store: MemoryStore, entry: OutboxEntry) => void;
let setNextSeq: (store: MemoryStore, next: number) => void;

/**
 * A memory store holding `entries` (ascending `seq`, kept as they are) and giving out sequence
 * numbers after `lastSeq`: where a durable store moves when its disk fails. Not re-exported.
 *
 * @param entries The entries, ascending.
 * @param lastSeq The highest sequence number given out so far.
 * @param state The persisted settings.
 * @returns The store.
 */
export function memoryStoreOf(
  entries: Iterable<OutboxEntry>,
  lastSeq: number,
  state: Iterable<[string, string]> = [],
): MemoryStore {
  const store = new MemoryStore();
  for (const entry of entries) adoptEntry(store, entry);
  setNextSeq(store, lastSeq + 1);
  for (const [key, value] of state) store.setState(key, value);
  return store;
}

/**
 * Keeps outbox messages in memory.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "./memory_store.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore();
 * const seq = store.append({ kind: "update", topic: "t", payload: new Uint8Array(3), retain: false });
 * assert.deepEqual(store.read(0, 10).map((e) => e.seq), [seq]);
 * store.delete([seq]);
 * assert.equal(store.usage("updates").messages, 0);
 * ```
 */
export class MemoryStore implements OutboxStore {
  /** Memory does not survive the process. */
  readonly durable = false;
  /** Always `memory`. */
  readonly location = "memory";
  // A slot per sequence number from #first on: an entry, or undefined once deleted (or for a
  // number a durable store handed over without its entry), until compaction drops the front.
  // The slot is found by arithmetic: a Map from sequence numbers to slots, long-lived and so in
  // V8's old space, rebuilt its tables there as messages came and went (a third of the CPU time
  // of a busy memory outbox went to GC).
  #entries: (OutboxEntry | undefined)[] = [];
  #first = 1; // the sequence number of #entries[0]
  #head = 0; // the first slot that may hold an entry
  #live = 0;
  #next = 1;
  #usage: Record<OutboxClass, OutboxUsage> = {
    updates: { messages: 0, bytes: 0 },
    logs: { messages: 0, bytes: 0 },
    lifecycle: { messages: 0, bytes: 0 },
  };
  #keys = new Map<string, number>(); // attribute key → how many stored
  #state = new Map<string, string>();

  /** Adds a message. */
  append(message: OutboxMessage): number {
    // The message object is kept as it is (no copy): callers hand it over.
    const entry = message as OutboxEntry;
    entry.seq = this.#next++;
    if (this.#entries.length === 0) {
      this.#first = entry.seq;
      this.#head = 0;
    }
    while (this.#first + this.#entries.length < entry.seq) this.#entries.push(undefined);
    this.#entries.push(entry);
    this.#live++;
    const usage = this.#usage[classOf(entry.kind)];
    usage.messages++;
    usage.bytes += entry.payload.length;
    if (entry.key !== undefined) this.#keys.set(entry.key, (this.#keys.get(entry.key) ?? 0) + 1);
    return entry.seq;
  }

  /** The highest sequence number given out. */
  lastSeq(): number {
    return this.#next - 1;
  }

  /** Reads messages after a sequence number. */
  read(afterSeq: number, limit: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    const from = Math.max(this.#head, afterSeq + 1 - this.#first);
    for (let i = from; i < this.#entries.length && out.length < limit; i++) {
      const entry = this.#entries[i];
      if (entry) out.push(entry);
    }
    return out;
  }

  /** Deletes messages. */
  delete(seqs: readonly number[]): void {
    for (const seq of seqs) this.#remove(seq);
    this.#compact();
  }

  /** Removes one message of a class to make room. */
  evict(cls: OutboxClass, latestPerKey: boolean): OutboxEntry | undefined {
    let oldest: OutboxEntry | undefined;
    for (let i = this.#head; i < this.#entries.length; i++) {
      const entry = this.#entries[i];
      if (!entry || classOf(entry.kind) !== cls) continue;
      oldest ??= entry;
      if (!latestPerKey) break;
      if (entry.key !== undefined && (this.#keys.get(entry.key) ?? 0) > 1) {
        oldest = entry;
        break;
      }
    }
    if (oldest) {
      this.#remove(oldest.seq);
      this.#compact();
    }
    return oldest;
  }

  /** Tells how much a class holds. */
  usage(cls: OutboxClass): Readonly<OutboxUsage> {
    return this.#usage[cls];
  }

  /** Reads a setting. */
  getState(key: string): string | undefined {
    return this.#state.get(key);
  }

  /** Writes a setting. */
  setState(key: string, value: string): void {
    this.#state.set(key, value);
  }

  /** Nothing to make durable. */
  commit(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing to release. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  static {
    // Module-private: lets a durable store whose disk failed hand its entries over, numbers kept.
    adoptEntry = (store, entry) => {
      if (entry.seq < store.#next) {
        throw new RangeError(`Cannot adopt seq ${entry.seq}: not above ${store.#next - 1}`);
      }
      store.#next = entry.seq;
      store.append(entry);
    };
    setNextSeq = (store, next) => {
      store.#next = Math.max(store.#next, next);
    };
  }

  #remove(seq: number): void {
    const slot = seq - this.#first;
    const entry = slot >= this.#head ? this.#entries[slot] : undefined;
    if (entry === undefined) return;
    this.#entries[slot] = undefined;
    this.#live--;
    const usage = this.#usage[classOf(entry.kind)];
    usage.messages--;
    usage.bytes -= entry.payload.length;
    if (entry.key !== undefined) {
      const n = (this.#keys.get(entry.key) ?? 1) - 1;
      if (n === 0) this.#keys.delete(entry.key);
      else this.#keys.set(entry.key, n);
    }
  }

  #compact(): void {
    while (this.#head < this.#entries.length && this.#entries[this.#head] === undefined) {
      this.#head++;
    }
    if (this.#head > 4096 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#first += this.#head;
      this.#head = 0;
    }
    if (this.#live === 0 && this.#entries.length > 0) {
      this.#entries = [];
      this.#head = 0;
    }
  }
}

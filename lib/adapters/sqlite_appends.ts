/**
 * The appends of an SQLite store's open transaction, kept column by column until the commit:
 * kind, topic, key and retain flag in arrays, the payload bytes copied into one buffer. The
 * store needs them until the commit, to write them in batches and to rebuild the outbox in memory
 * should the disk fail (`sqlite_store.ts`).
 *
 * Kept as the messages themselves, each append held its message object and a payload view alive
 * through V8's young collections: about half of what survived each one while 1,000,000 values
 * were queued offline (`--trace-gc-nvp` on `bench/_offline.ts`), and what survives is what makes
 * V8 grow its young generation. Copied into columns, the message dies young; the buffers are
 * reused from one transaction to the next, up to `KEPT_APPENDS` appends and
 * `KEPT_BYTES` payload bytes (a gateway has a store per device: a larger transaction's
 * buffers are dropped at its end).
 *
 * @module
 */

import type { OutboxEntry, OutboxKind, OutboxMessage } from "../outbox/store.ts";

/** Appends whose columns are kept for the next transaction. */
const KEPT_APPENDS = 1024;
/** Payload bytes whose buffer is kept for the next transaction. */
const KEPT_BYTES = 64 * 1024;
const FIRST_APPENDS = 64;
const FIRST_BYTES = 2 * 1024;

/** The appends of one transaction, by position from the first one's sequence number. */
export class PendingAppends {
  /** The first append's sequence number; the rest follow it without gaps. */
  first = 0;
  /** How many were appended, deleted ones included. */
  length = 0;
  /** How many are not deleted. */
  held = 0;
  /** Their payload bytes. */
  bytes = 0;
  #kinds: OutboxKind[] = [];
  #topics: string[] = [];
  #keys: (string | undefined)[] = [];
  #retain = new Uint8Array(FIRST_APPENDS);
  #deleted = new Uint8Array(FIRST_APPENDS);
  #starts = new Uint32Array(FIRST_APPENDS);
  #ends = new Uint32Array(FIRST_APPENDS);
  #payloads = new Uint8Array(FIRST_BYTES);
  #used = 0;

  /**
   * Adds a message; its payload is copied, the object itself is not kept.
   *
   * @param seq Its sequence number: the last one's plus one.
   * @param message The message.
   */
  push(seq: number, message: OutboxMessage): void {
    const i = this.length;
    if (i === 0) this.first = seq;
    if (i === this.#starts.length) this.#grow();
    const payload = message.payload;
    if (this.#used + payload.length > this.#payloads.length) {
      const grown = new Uint8Array(
        Math.max(this.#payloads.length * 2, this.#used + payload.length),
      );
      grown.set(this.#payloads.subarray(0, this.#used));
      this.#payloads = grown;
    }
    this.#payloads.set(payload, this.#used);
    this.#starts[i] = this.#used;
    this.#used += payload.length;
    this.#ends[i] = this.#used;
    this.#kinds[i] = message.kind;
    this.#topics[i] = message.topic;
    this.#keys[i] = message.key;
    this.#retain[i] = message.retain ? 1 : 0;
    this.#deleted[i] = 0;
    this.length = i + 1;
    this.held++;
    this.bytes += payload.length;
  }

  #grow(): void {
    const size = this.#starts.length * 2;
    this.#retain = copied(this.#retain, new Uint8Array(size));
    this.#deleted = copied(this.#deleted, new Uint8Array(size));
    this.#starts = copied(this.#starts, new Uint32Array(size));
    this.#ends = copied(this.#ends, new Uint32Array(size));
  }

  /**
   * Whether the append at a position is there (appended and not deleted).
   *
   * @param i Its position: its sequence number minus `first`.
   * @returns Whether it is held.
   */
  has(i: number): boolean {
    return i >= 0 && i < this.length && this.#deleted[i] === 0;
  }

  /**
   * Forgets a held append.
   *
   * @param i Its position.
   * @returns Its payload's size, for the store's counts.
   */
  remove(i: number): number {
    this.#deleted[i] = 1;
    const bytes = this.#ends[i] - this.#starts[i];
    this.held--;
    this.bytes -= bytes;
    return bytes;
  }

  /** The kind at a position. */
  kind(i: number): OutboxKind {
    return this.#kinds[i];
  }
  /** The topic at a position. */
  topic(i: number): string {
    return this.#topics[i];
  }
  /** The key at a position. */
  key(i: number): string | undefined {
    return this.#keys[i];
  }
  /** The retain flag at a position. */
  retain(i: number): boolean {
    return this.#retain[i] === 1;
  }
  /** The payload at a position: a view, valid until `clear()`. */
  payload(i: number): Uint8Array {
    return this.#payloads.subarray(this.#starts[i], this.#ends[i]);
  }

  /**
   * The held appends as entries of their own (payloads copied): the rebuild after a failure.
   *
   * @returns The entries, in order.
   */
  entries(): OutboxEntry[] {
    const entries: OutboxEntry[] = [];
    for (let i = 0; i < this.length; i++) {
      if (this.#deleted[i] === 1) continue;
      const entry: OutboxEntry = {
        seq: this.first + i,
        kind: this.#kinds[i],
        topic: this.#topics[i],
        payload: this.payload(i).slice(),
        retain: this.#retain[i] === 1,
      };
      const key = this.#keys[i];
      if (key !== undefined) entry.key = key;
      entries.push(entry);
    }
    return entries;
  }

  /** Forgets every append (the transaction ended), keeping small buffers for the next one. */
  clear(): void {
    if (this.#starts.length > KEPT_APPENDS) {
      this.#kinds = [];
      this.#topics = [];
      this.#keys = [];
      this.#retain = new Uint8Array(FIRST_APPENDS);
      this.#deleted = new Uint8Array(FIRST_APPENDS);
      this.#starts = new Uint32Array(FIRST_APPENDS);
      this.#ends = new Uint32Array(FIRST_APPENDS);
    } else {
      // Topics and keys are an attribute's own strings; dropped all the same, with their node.
      this.#topics.fill("", 0, this.length);
      this.#keys.fill(undefined, 0, this.length);
    }
    if (this.#payloads.length > KEPT_BYTES) this.#payloads = new Uint8Array(FIRST_BYTES);
    this.length =
      this.held =
      this.bytes =
      this.#used =
        0;
  }
}

function copied<T extends Uint8Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

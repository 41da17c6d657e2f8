/**
 * A bounded push queue consumed with `for await`: producers `push()`, one consumer iterates.
 * When the consumer falls behind by more than `limit` items the oldest are dropped and counted,
 * so a forgotten iterator cannot grow without bound. Iteration ends on `close()`, on `break`
 * out of the loop, or when the signal aborts.
 *
 * This module is browser compatible.
 *
 * @module
 */

/** Options of {@linkcode PushQueue}. */
export interface PushQueueOptions {
  /**
   * How many unread items are kept; older ones are dropped.
   *
   * @default {1000}
   */
  limit?: number;
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
  /** Called once when the iteration ends, for whatever reason. */
  onClose?: () => void;
}

/**
 * A bounded, single-consumer async queue.
 *
 * @example
 * ```ts
 * import { PushQueue } from "./_queue.ts";
 * import assert from "node:assert/strict";
 *
 * const queue = new PushQueue<number>();
 * queue.push(1);
 * queue.push(2);
 * queue.close();
 * const seen: number[] = [];
 * for await (const n of queue) seen.push(n);
 * assert.deepEqual(seen, [1, 2]);
 * ```
 */
export class PushQueue<T> implements AsyncIterableIterator<T> {
  #items: T[] = [];
  #head = 0;
  #waiting?: (result: IteratorResult<T>) => void;
  #closed = false;
  #limit: number;
  #signal?: AbortSignal;
  #onClose?: () => void;
  #abort = () => this.close();
  /** How many items were dropped because the consumer fell behind. */
  dropped = 0;

  /**
   * Creates a queue.
   *
   * @param options Limit, signal and close callback.
   */
  constructor(options: PushQueueOptions = {}) {
    this.#limit = options.limit ?? 1000;
    this.#onClose = options.onClose;
    this.#signal = options.signal;
    if (this.#signal?.aborted) this.close();
    else this.#signal?.addEventListener("abort", this.#abort, { once: true });
  }

  /** Whether iteration has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Adds an item; ignored after close.
   *
   * @param item The item.
   */
  push(item: T): void {
    if (this.#closed) return;
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#waiting = undefined;
      resolve({ value: item, done: false });
      return;
    }
    this.#items.push(item);
    if (this.#items.length - this.#head > this.#limit) {
      this.#head++;
      this.dropped++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Ends the iteration once the items already queued have been read. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#signal?.removeEventListener("abort", this.#abort);
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#waiting = undefined;
      resolve({ value: undefined, done: true });
    }
    this.#onClose?.();
  }

  /** Reads the next item. */
  next(): Promise<IteratorResult<T>> {
    if (this.#head < this.#items.length) {
      const value = this.#items[this.#head];
      this.#items[this.#head++] = undefined as T;
      return Promise.resolve({ value, done: false });
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting = resolve);
  }

  /** Ends the iteration early (`break` in `for await`). */
  return(): Promise<IteratorResult<T>> {
    this.#items = [];
    this.#head = 0;
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Returns this queue. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/**
 * Pacing connection attempts: a gateway that starts, or whose broker restarts, does not open a
 * thousand connections at once. Attempts are admitted one at a time, at a steady rate with some
 * jitter, in the order they asked.
 *
 * This module is browser compatible.
 *
 * @module
 */

/** Options of {@linkcode Pacer}. */
export interface PacerOptions {
  /**
   * Attempts admitted per second.
   *
   * @default {20}
   */
  rate?: number;
  /**
   * The share of each interval that is random, from 0 to 1.
   *
   * @default {0.5}
   */
  jitter?: number;
}

/**
 * Admits connection attempts at a steady rate, with one timer however many wait.
 *
 * @example
 * ```ts
 * import { Pacer } from "./pacer.ts";
 * import assert from "node:assert/strict";
 *
 * const pacer = new Pacer({ rate: 100, jitter: 0 });
 * const started = performance.now();
 * await Promise.all([pacer.admit(), pacer.admit(), pacer.admit()]);
 * assert.ok(performance.now() - started >= 15); // the third one 20 ms after the first
 * pacer.close();
 * ```
 */
export class Pacer {
  #interval: number;
  #jitter: number;
  #waiting: { admit: () => void }[] = [];
  #timer?: ReturnType<typeof setTimeout>;
  #next = 0;

  /**
   * Creates a pacer.
   *
   * @param options The rate and the jitter.
   * @throws {RangeError} When the rate is not positive or the jitter not within [0, 1].
   */
  constructor(options: PacerOptions = {}) {
    const { rate = 20, jitter = 0.5 } = options;
    if (!(rate > 0)) throw new RangeError(`Cannot pace at ${rate} attempts per second`);
    if (!(jitter >= 0 && jitter <= 1)) {
      throw new RangeError(`Cannot pace with a jitter of ${jitter}: it is not within [0, 1]`);
    }
    this.#interval = 1000 / rate;
    this.#jitter = jitter;
  }

  /** How many attempts wait. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Waits for this attempt's turn.
   *
   * @param signal Stops waiting (the promise then resolves, and the attempt finds itself aborted).
   * @returns A promise that resolves when the attempt may go.
   */
  admit(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      // The signal outlives the attempt (a session's stop signal): the listener goes with it.
      const abort = () => {
        this.#waiting = this.#waiting.filter((e) => e !== entry);
        resolve();
      };
      const entry = {
        admit() {
          signal?.removeEventListener("abort", abort);
          resolve();
        },
      };
      signal?.addEventListener("abort", abort, { once: true });
      this.#waiting.push(entry);
      this.#schedule();
    });
  }

  /** Lets every waiting attempt go at once and stops the timer. */
  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const entry of this.#waiting.splice(0)) entry.admit();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#waiting.length === 0) return;
    const now = performance.now();
    const at = Math.max(now, this.#next);
    const delay = at - now + Math.random() * this.#jitter * this.#interval;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#next = performance.now() + this.#interval * (1 - this.#jitter / 2);
      this.#waiting.shift()?.admit();
      this.#schedule();
    }, delay);
  }
}

/**
 * Timers an endpoint can share with others: its keep-alive (MQTT.js's interval) and its reconnect
 * delays. Alone, an endpoint uses the runtime's timers; the endpoints of a gateway share one
 * {@linkcode TimerWheel}, so that a thousand connections wake the process a few times a second,
 * not a thousand times.
 *
 * This module is browser compatible.
 *
 * @module
 */

/** Timers: periodic and one-shot, cancelled by the id they return. */
export interface Timers {
  /**
   * Calls a function every `ms` milliseconds until cancelled.
   *
   * @param ms The period.
   * @param fn The function.
   * @returns The timer's id.
   */
  every(ms: number, fn: () => void): number;
  /**
   * Calls a function once, after `ms` milliseconds, unless cancelled.
   *
   * @param ms The delay.
   * @param fn The function.
   * @returns The timer's id.
   */
  after(ms: number, fn: () => void): number;
  /**
   * Cancels a timer; an unknown or spent id is ignored.
   *
   * @param id The timer's id.
   */
  cancel(id: number): void;
}

interface Entry {
  due: number;
  period: number | undefined;
  fn: () => void;
}

/**
 * Many timers on one: every due time is rounded up to the wheel's resolution, and one runtime
 * timer is armed for the earliest. A keep-alive of 60 s does not need millisecond precision; a
 * thousand of them then cost one wake-up per resolution step at most.
 *
 * @example
 * ```ts
 * import { TimerWheel } from "./timers.ts";
 * import assert from "node:assert/strict";
 *
 * const wheel = new TimerWheel({ resolution: 10 });
 * let ticks = 0;
 * const id = wheel.every(20, () => ticks++);
 * await new Promise((resolve) => wheel.after(75, () => resolve(undefined)));
 * wheel.cancel(id);
 * assert.ok(ticks >= 2 && ticks <= 4);
 * wheel.close();
 * ```
 */
export class TimerWheel implements Timers {
  #resolution: number;
  #now: () => number;
  #entries = new Map<number, Entry>();
  #next = 1;
  #armed?: { at: number; timer: ReturnType<typeof setTimeout> };
  #closed = false;

  /**
   * Creates an empty wheel.
   *
   * @param options The resolution in ms (default 250) and the clock (a monotonic one).
   */
  constructor(options: { resolution?: number; now?: () => number } = {}) {
    this.#resolution = options.resolution ?? 250;
    this.#now = options.now ?? (() => performance.now());
  }

  /** How many timers are set. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Calls a function every `ms` milliseconds until cancelled.
   *
   * @param ms The period.
   * @param fn The function.
   * @returns The timer's id.
   */
  every(ms: number, fn: () => void): number {
    return this.#add(ms, Math.max(1, ms), fn);
  }

  /**
   * Calls a function once, after `ms` milliseconds, unless cancelled.
   *
   * @param ms The delay.
   * @param fn The function.
   * @returns The timer's id.
   */
  after(ms: number, fn: () => void): number {
    return this.#add(ms, undefined, fn);
  }

  /**
   * Cancels a timer.
   *
   * @param id The timer's id.
   */
  cancel(id: number): void {
    this.#entries.delete(id);
  }

  /** Cancels every timer; the wheel takes no more. */
  close(): void {
    this.#closed = true;
    this.#entries.clear();
    if (this.#armed) clearTimeout(this.#armed.timer);
    this.#armed = undefined;
  }

  #add(ms: number, period: number | undefined, fn: () => void): number {
    if (this.#closed) throw new Error("Cannot set a timer: the wheel is closed");
    const id = this.#next++;
    const due = this.#slot(this.#now() + Math.max(0, ms));
    this.#entries.set(id, { due, period, fn });
    this.#arm(due);
    return id;
  }

  #slot(at: number): number {
    return Math.ceil(at / this.#resolution) * this.#resolution;
  }

  #arm(due: number): void {
    if (this.#armed && this.#armed.at <= due) return;
    if (this.#armed) clearTimeout(this.#armed.timer);
    const timer = setTimeout(() => this.#fire(), Math.max(0, due - this.#now()));
    this.#armed = { at: due, timer };
  }

  #fire(): void {
    this.#armed = undefined;
    const now = this.#now();
    let earliest = Infinity;
    const due: [number, Entry][] = [];
    for (const [id, entry] of this.#entries) {
      if (entry.due <= now) {
        due.push([id, entry]);
        if (entry.period === undefined) continue; // deleted when it runs
        entry.due = this.#slot(now + entry.period);
      }
      earliest = Math.min(earliest, entry.due);
    }
    if (earliest < Infinity && !this.#closed) this.#arm(earliest);
    for (const [id, entry] of due) {
      // As with clearTimeout: a callback of this step may cancel another one, or close the wheel.
      if (this.#closed) return;
      if (this.#entries.get(id) !== entry) continue;
      if (entry.period === undefined) this.#entries.delete(id);
      try {
        entry.fn();
      } catch (error) {
        // A timer's failure must not stop the others: report it as the runtime would.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

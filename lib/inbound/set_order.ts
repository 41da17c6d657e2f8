/**
 * The order of the cloud's writes: a `@set` is stale when it is not newer than the last `@set`
 * the attribute took. Only the cloud's own timestamps are compared, never the device's, so a
 * device whose clock is wrong still takes the cloud's current `@set`s, and a reordered or repeated
 * `@set` is still refused.
 *
 * One `@set` far ahead of the device's clock (a sender whose clock is wrong, a hostile message)
 * could otherwise hold back every current `@set` until its time comes: such a `@set` is applied,
 * but a later `@set` that the device's clock calls current is not stale because of it.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { SKEW_TOLERANCE } from "../time.ts";

interface Last {
  /** The cloud's timestamp of the last `@set` taken, in ms. */
  at: number;
  /** Whether it was ahead of the device's clock by more than the tolerance when taken. */
  ahead: boolean;
}

/**
 * Remembers, per attribute, the cloud's timestamp of the last `@set` it took during this run.
 *
 * @example
 * ```ts
 * import { SetOrder } from "./set_order.ts";
 * import assert from "node:assert/strict";
 *
 * const now = 1_700_000_000_000;
 * const order = new SetOrder(() => now);
 * const attribute = {};
 * order.record(attribute, now - 1000);
 * assert.equal(order.staleAgainst(attribute, now - 2000), now - 1000); // reordered: stale
 * assert.equal(order.staleAgainst(attribute, now), undefined);
 * order.record(attribute, now + 86_400_000); // a day ahead of the device's clock
 * assert.equal(order.staleAgainst(attribute, now + 1), undefined); // current: not held back
 * ```
 */
export class SetOrder {
  #last = new WeakMap<object, Last>();
  #now: () => number;
  #tolerance: number;

  /**
   * Creates an empty record.
   *
   * @param now The device's clock, in ms.
   * @param tolerance How far ahead of the device's clock a `@set` still counts as current, in ms.
   */
  constructor(now: () => number, tolerance: number = SKEW_TOLERANCE) {
    this.#now = now;
    this.#tolerance = tolerance;
  }

  /**
   * Tells whether a `@set` is stale.
   *
   * @param key The attribute.
   * @param timestamp The `@set`'s timestamp, in ms.
   * @returns The timestamp of the later `@set` it is not newer than, or `undefined` when it may
   * be applied.
   */
  staleAgainst(key: object, timestamp: number): number | undefined {
    const last = this.#last.get(key);
    if (last === undefined || timestamp > last.at) return undefined;
    if (last.ahead && timestamp <= this.#now() + this.#tolerance) return undefined;
    return last.at;
  }

  /**
   * Records a `@set` the attribute took (or that the device refused: a refused write is still
   * the cloud's latest word).
   *
   * @param key The attribute.
   * @param timestamp The `@set`'s timestamp, in ms.
   */
  record(key: object, timestamp: number): void {
    this.#last.set(key, { at: timestamp, ahead: timestamp > this.#now() + this.#tolerance });
  }
}

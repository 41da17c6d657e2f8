/**
 * Reconnect delays: exponential with jitter, reset after a stable connection.
 *
 * This module is browser compatible.
 *
 * @module
 */

/** The reconnect policy, as plain data. All durations are in milliseconds. */
export interface BackoffOptions {
  /**
   * The first delay.
   *
   * @default {250}
   */
  initialDelay?: number;
  /**
   * The longest delay (the `connectRetryInterval` property).
   *
   * @default {10000}
   */
  maxDelay?: number;
  /**
   * The factor between two delays.
   *
   * @default {2}
   */
  multiplier?: number;
  /**
   * The share of each delay that is random, from 0 to 1.
   *
   * @default {0.25}
   */
  jitter?: number;
  /**
   * How long a connection must last for the delays to start again from the first.
   *
   * @default {30000}
   */
  resetAfter?: number;
}

/**
 * Computes the delay before a reconnect attempt.
 *
 * @param attempt How many attempts failed in a row, from 0.
 * @param options The policy.
 * @param random A source of numbers in [0, 1).
 * @returns The delay in ms, within [(1 - jitter) × d, d] where d = min(max, initial × multiplier^attempt).
 * @throws {RangeError} When an option is out of range.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(backoffDelay(0, { jitter: 0 }), 250);
 * assert.equal(backoffDelay(3, { jitter: 0 }), 2000);
 * assert.equal(backoffDelay(30, { jitter: 0 }), 10000);
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { initialDelay = 250, maxDelay = 10_000, multiplier = 2, jitter = 0.25 } = options;
  if (!(initialDelay >= 0) || !(maxDelay >= initialDelay)) {
    throw new RangeError(
      `Cannot compute a reconnect delay: initialDelay ${initialDelay} and maxDelay ${maxDelay} must satisfy 0 <= initialDelay <= maxDelay`,
    );
  }
  if (!(multiplier >= 1)) {
    throw new RangeError(`Cannot compute a reconnect delay: multiplier ${multiplier} is below 1`);
  }
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(`Cannot compute a reconnect delay: jitter ${jitter} is not within [0, 1]`);
  }
  const base = Math.min(maxDelay, initialDelay * multiplier ** Math.min(attempt, 64));
  return Math.round(base * (1 - jitter * random()));
}

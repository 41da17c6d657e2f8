/**
 * Time as the endpoint handles it: which timestamps are plausible, the device clock made safe to
 * publish, and times written for people. Timestamps are milliseconds since the epoch everywhere
 * in the library; the codecs turn them into the seconds the wire carries.
 *
 * This module is browser compatible.
 *
 * @module
 */

/**
 * The latest plausible time: 2262-04-11T23:47:16.854Z, the last instant the cloud's history
 * (InfluxDB, nanoseconds in a signed 64-bit integer) can store. A later timestamp is a mistake
 * (microseconds or nanoseconds taken for milliseconds, or garbage) and is refused.
 */
export const MAX_TIME = 9_223_372_036_854;

/**
 * How far ahead of the device's clock a `@set` may be and still count as current, in ms: a
 * `@set` further ahead is applied, but it cannot hold back a later `@set` that the device's clock
 * calls current (see the README, "Timestamps").
 */
export const SKEW_TOLERANCE = 5 * 60_000;

/**
 * Tells what is wrong with a timestamp, if anything: it must be a finite number of milliseconds
 * after the epoch (0 excluded) and not after {@linkcode MAX_TIME}.
 *
 * @param ms The timestamp, in milliseconds since the epoch.
 * @returns The problem, or `undefined` for a plausible time.
 *
 * @example
 * ```ts
 * import { timeProblem } from "./time.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(timeProblem(1_700_000_000_000), undefined);
 * assert.match(timeProblem(0)!, /not after the epoch/);
 * assert.match(timeProblem(1e300)!, /after 2262/);
 * ```
 */
export function timeProblem(ms: unknown): string | undefined {
  if (typeof ms !== "number") return "it is not a number";
  if (!Number.isFinite(ms)) return "it is not a finite number";
  if (ms <= 0) return "it is not after the epoch";
  if (ms > MAX_TIME) return `it is after ${new Date(MAX_TIME).toISOString()}, the latest time`;
  return undefined;
}

/**
 * Writes a timestamp for a message: ISO 8601 when it is a date JavaScript can show, else the
 * number.
 *
 * @param ms Milliseconds since the epoch.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { formatTime } from "./time.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatTime(1_700_000_000_120), "2023-11-14T22:13:20.120Z");
 * assert.equal(formatTime(1e300), "1e+300 ms");
 * ```
 */
export function formatTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`;
}

/**
 * Makes a clock safe to stamp what the endpoint publishes: whatever the device's clock says (a
 * clock before 1970, one that returns garbage), the result is a plausible time. A device clock
 * that jumps (an NTP correction) is followed as it is, forwards or backwards.
 *
 * @param now The device's clock, in milliseconds since the epoch.
 * @returns A clock whose every reading passes {@linkcode timeProblem}.
 *
 * @example
 * ```ts
 * import { safeClock, timeProblem } from "./time.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(safeClock(() => 1_700_000_000_000)(), 1_700_000_000_000);
 * assert.equal(timeProblem(safeClock(() => -5)()), undefined);
 * assert.equal(timeProblem(safeClock(() => NaN)()), undefined);
 * ```
 */
export function safeClock(now: () => number): () => number {
  return () => {
    const ms = now();
    if (ms >= 1 && ms <= MAX_TIME) return ms; // false for NaN too
    return ms > MAX_TIME ? MAX_TIME : 1;
  };
}

/**
 * The `change` event of an attribute, and the guard that keeps a failing listener from taking the
 * endpoint down: `EventTarget` reports an exception thrown by a listener as uncaught (in Deno the
 * process exits), so every listener is called through a guard that hands what it throws, or the
 * promise it rejects, to the endpoint's `onError` instead.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { CloudioAttribute } from "./attribute.ts";
import type { AttributeConstraint, AttributeType, ValueOf } from "./types.ts";

/** Where a change came from. */
export type ChangeSource = "device" | "cloud";

/**
 * One change of an attribute's value: what `changes()` yields, and what `change` listeners get
 * (as an {@linkcode AttributeChangeEvent}).
 */
export interface AttributeChange<T extends AttributeType = AttributeType> {
  /** The attribute that changed. */
  readonly attribute: CloudioAttribute<T>;
  /** The new value. */
  readonly value: ValueOf<T>;
  /** The value before, if there was one. */
  readonly previous: ValueOf<T> | undefined;
  /** When the new value was taken, in milliseconds since the epoch. */
  readonly timestamp: number;
  /** `cloud` for a `@set`, `device` for the program's own writes. */
  readonly source: ChangeSource;
}

/**
 * The event a `change` listener of an attribute receives, synchronously, once the value has
 * changed (for a `@set`, once applied, just before its `@didSet` is queued).
 *
 * @example
 * ```ts
 * import { Endpoint } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const power = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55").addNode("Lamp")
 *   .addObject("Status").addAttribute("on", { type: "Boolean", constraint: "Status" });
 * const seen: string[] = [];
 * power.addEventListener("change", (event) => seen.push(`${event.value} (${event.source})`));
 * power.value = true;
 * assert.deepEqual(seen, ["true (device)"]);
 * ```
 */
export class AttributeChangeEvent<
  T extends AttributeType = AttributeType,
  C extends AttributeConstraint = AttributeConstraint,
> extends Event implements AttributeChange<T> {
  /** The attribute that changed. */
  readonly attribute: CloudioAttribute<T, C>;
  /** The new value. */
  readonly value: ValueOf<T>;
  /** The value before, if there was one. */
  readonly previous: ValueOf<T> | undefined;
  /** When the new value was taken, in milliseconds since the epoch. */
  readonly timestamp: number;
  /** `cloud` for a `@set`, `device` for the program's own writes. */
  readonly source: ChangeSource;

  /**
   * Creates a change event; the attribute dispatches it.
   *
   * @param attribute The attribute.
   * @param value The new value.
   * @param previous The value before.
   * @param timestamp When the new value was taken, in ms.
   * @param source Who wrote it.
   */
  constructor(
    attribute: CloudioAttribute<T, C>,
    value: ValueOf<T>,
    previous: ValueOf<T> | undefined,
    timestamp: number,
    source: ChangeSource,
  ) {
    super("change");
    this.attribute = attribute;
    this.value = value;
    this.previous = previous;
    this.timestamp = timestamp;
    this.source = source;
  }
}

/** A function or object that listens for an attribute's `change` events; it may be async. */
export type ChangeListener<
  T extends AttributeType = AttributeType,
  C extends AttributeConstraint = AttributeConstraint,
> =
  | ((event: AttributeChangeEvent<T, C>) => unknown)
  | { handleEvent(event: AttributeChangeEvent<T, C>): unknown };

/** A listener as `EventTarget` calls it. */
type Guard = (event: Event) => void;

const guards = new WeakMap<object, Guard>();

/**
 * Wraps a listener so that what it throws, or the promise it returns rejects with, goes to
 * `report` instead of the event loop. The same listener always gets the same guard, so that
 * `removeEventListener` and the once-per-listener rule of `EventTarget` work as without it.
 *
 * @param listener The listener: a function or an object with `handleEvent`.
 * @param report Told of the failure, with the event; the same function for every listener.
 * @returns The guard.
 */
export function guardListener(
  listener: object,
  report: (error: unknown, event: Event) => void,
): Guard {
  const known = guards.get(listener);
  if (known) return known;
  const guard: Guard = function (this: unknown, event: Event): void {
    let result: unknown;
    try {
      result = typeof listener === "function"
        ? listener.call(this, event)
        : (listener as { handleEvent(event: Event): unknown }).handleEvent(event);
    } catch (error) {
      report(error, event);
      return;
    }
    if (typeof (result as PromiseLike<unknown>)?.then === "function") {
      (result as PromiseLike<unknown>).then(undefined, (error) => report(error, event));
    }
  };
  guards.set(listener, guard);
  return guard;
}

/**
 * Finds the guard of a listener, for `removeEventListener`.
 *
 * @param listener The listener.
 * @returns Its guard, or the listener itself when it was never guarded.
 */
export function guardOf(listener: object): object {
  return guards.get(listener) ?? listener;
}

/**
 * An attribute: a typed value with a constraint and a timestamp, the leaf of the model.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { PushQueue } from "../_queue.ts";
import { CloudioError } from "../errors.ts";
import {
  type AttributeChange,
  AttributeChangeEvent,
  type ChangeListener,
  type ChangeSource,
  guardListener,
  guardOf,
} from "./change_event.ts";
import { type ModelSink, sinkOf } from "./sink.ts";
import { adopt, type ContainerRef, describePart, knownPath, type NodeRef } from "./tree.ts";
import {
  ATTRIBUTE_CONSTRAINTS,
  ATTRIBUTE_TYPES,
  type AttributeConstraint,
  type AttributeModel,
  type AttributeType,
  type AttributeValue,
  type PublishPolicy,
  type ValueOf,
} from "./types.ts";
import { policyProblems, valueProblem } from "./validate.ts";
import { timeProblem } from "../time.ts";

type Vet = (value: AttributeValue, attribute: CloudioAttribute) => boolean | void;

/**
 * The value type of an attribute: `ValueOf<T>` when it was given one at creation (`Known` is
 * `true`: values are never taken away), `ValueOf<T> | undefined` otherwise.
 */
export type CurrentValue<T extends AttributeType, Known extends boolean> = Known extends true
  ? ValueOf<T>
  : ValueOf<T> | undefined;

/**
 * Whether an initial value of type `V` makes the attribute's value known: `true` for a value,
 * `false` for none (or one that may be `undefined`).
 */
export type KnownFrom<V> = undefined extends V ? false : true;

/**
 * The publish policy an attribute may have: only Status and Measure attributes (the device's
 * writes) have one, and a deadband only for Integer and Number.
 */
export type PolicyOf<T extends AttributeType, C extends AttributeConstraint> = C extends
  "Status" | "Measure" ? T extends "Integer" | "Number" ? PublishPolicy
  : Omit<PublishPolicy, "deadband">
  : never;

/** How an attribute is declared. */
export interface AttributeOptions<
  T extends AttributeType = AttributeType,
  C extends AttributeConstraint = AttributeConstraint,
  V extends ValueOf<T> | undefined = ValueOf<T> | undefined,
> {
  /** The value's type; it also types `value` in TypeScript. */
  type: T;
  /** Who writes the attribute and how it travels (protocol §1). */
  constraint: C;
  /** The initial value; with one, the attribute's `value` is typed without `undefined`. */
  value?: V;
  /** When the initial value was taken, in milliseconds since the epoch. */
  timestamp?: number;
  /**
   * Asked before a value from the cloud is applied; return `false` (or throw) to refuse it. A
   * refused `@set` is answered with a `@didSet` that reports the unchanged value.
   */
  accept?: (value: ValueOf<T>, attribute: CloudioAttribute<T, C>) => boolean | void;
  /**
   * When the device's writes are worth sending (Status and Measure only): `onChange`,
   * `deadband`, `minInterval`, `maxInterval`, `latestOnlyWhileOffline`. Every write is sent
   * without one.
   */
  policy?: PolicyOf<T, C>;
}

/** Options of {@linkcode CloudioAttribute.prototype.set}. */
export interface SetOptions {
  /**
   * When the value was taken, in milliseconds since the epoch.
   *
   * @default {Date.now()}
   */
  timestamp?: number;
}

/** Options of {@linkcode CloudioAttribute.prototype.changes}. */
export interface ChangesOptions {
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
  /**
   * How many unread changes are kept before the oldest are dropped.
   *
   * @default {1000}
   */
  limit?: number;
}

/**
 * The library's own way to write an attribute as the cloud does, past the device-side checks: the
 * `@set` handler (`lib/inbound/set.ts`) calls `attribute[cloudWrite](value, timestamp)`, which asks
 * the attribute's `accept()` and applies the value when accepted. Not part of the public API.
 */
export const cloudWrite: unique symbol = Symbol("cloudio.cloudWrite");

/**
 * The library's own way to report what a change listener threw, through the endpoint the
 * attribute belongs to. Not part of the public API.
 */
export const reportFailure: unique symbol = Symbol("cloudio.reportFailure");

function listenerFailed(error: unknown, event: Event): void {
  // `target`, not `currentTarget`: an async listener fails after the dispatch has ended.
  (event.target as unknown as CloudioAttribute | null)?.[reportFailure](error);
}

/**
 * The library's own way to put back a value the device wrote earlier (rolling back a
 * transaction), past the device-side checks and without sending it. Not part of the public API.
 */
export const restore: unique symbol = Symbol("cloudio.restore");

/** Where an attribute is created, when its container creates it. */
let placing: { parent: ContainerRef; name: string } | undefined;

/**
 * Creates an attribute in its container, so that problems with its options name its path.
 * Internal to the model.
 *
 * @param parent The object that holds it.
 * @param name Its name.
 * @param options Its declaration.
 * @returns The attribute, placed.
 */
export function createAttribute<
  T extends AttributeType,
  C extends AttributeConstraint,
  V extends ValueOf<T> | undefined,
>(
  parent: ContainerRef,
  name: string,
  options: AttributeOptions<T, C, V>,
): CloudioAttribute<T, C, KnownFrom<V>> {
  placing = { parent, name };
  try {
    return new CloudioAttribute(options);
  } finally {
    placing = undefined;
  }
}

/**
 * A typed attribute. Its value type follows its `type`: `boolean` for Boolean, `number` for
 * Integer and Number, `string` for String; and `value` is never `undefined` when one was given at
 * creation (`Known`). Its constraint `C` is part of its type: a Measure is not a SetPoint.
 *
 * Attributes are created with {@linkcode CloudioObject.prototype.addAttribute}, from a model, or
 * as fields of a class-style object (`measure()`, `setPoint()`, …). Once the endpoint has started,
 * the device may write only Status and Measure attributes (each write becomes an `@update`),
 * Static attributes are fixed, and Parameter and SetPoint attributes change only by a `@set` from
 * the cloud, which `changes()` reports.
 *
 * @example Declaring and writing attributes
 * ```ts
 * import { Endpoint } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
 * const status = endpoint.addNode("Pump").addObject("Status");
 * const rate = status.addAttribute("rate", { type: "Number", constraint: "Measure" });
 * rate.value = 3.5;
 * assert.equal(rate.value, 3.5);
 * assert.equal(rate.path, "Pump/Status/rate");
 * ```
 */
export class CloudioAttribute<
  T extends AttributeType = AttributeType,
  C extends AttributeConstraint = AttributeConstraint,
  Known extends boolean = boolean,
> extends EventTarget {
  /** The value's type. */
  readonly type: T;
  /** The constraint. */
  readonly constraint: C;
  #name?: string;
  #parent?: ContainerRef;
  #value: ValueOf<T> | undefined;
  #timestamp: number | undefined;
  #path?: string;
  // Loosely typed so that CloudioAttribute<"Boolean"> stays assignable to CloudioAttribute.
  #accept?: Vet;
  #policy?: Readonly<PublishPolicy>;
  #listeners = new Set<PushQueue<AttributeChange>>();
  #listened = false; // a change listener was added once: events are built from then on

  /**
   * Creates an attribute that belongs to no object yet: a class-style object's field, placed
   * (and named after the field) when the object is added. `addAttribute()` and models create
   * attributes in place; `measure()`, `setPoint()` and the like read better for fields.
   *
   * @param options Type, constraint, initial value and `accept`.
   * @throws {TypeError} When the type, constraint or initial value is invalid.
   *
   * @example A field of a class-style object
   * ```ts
   * import { CloudioAttribute, CloudioObject } from "../../mod.ts";
   * import assert from "node:assert/strict";
   *
   * class Motor extends CloudioObject {
   *   rpm = new CloudioAttribute({ type: "Integer", constraint: "Measure", value: 0 });
   * }
   * assert.equal(new Motor().rpm.value, 0); // `measure("Integer", { value: 0 })` types it as known
   * ```
   */
  constructor(options: AttributeOptions<T, C>) {
    super();
    const at = placing;
    placing = undefined;
    if (at) {
      this.#parent = at.parent;
      this.#name = at.name;
    }
    if (!ATTRIBUTE_TYPES.includes(options.type)) {
      throw new TypeError(
        `Cannot add ${this.#describe()}: type ${show(options.type)} is not one of ${
          ATTRIBUTE_TYPES.join(", ")
        }`,
      );
    }
    if (!ATTRIBUTE_CONSTRAINTS.includes(options.constraint)) {
      throw new TypeError(
        `Cannot add ${this.#describe()}: constraint ${show(options.constraint)} is not one of ${
          ATTRIBUTE_CONSTRAINTS.join(", ")
        }`,
      );
    }
    this.type = options.type;
    this.constraint = options.constraint;
    this.#accept = options.accept as Vet | undefined;
    if (options.value !== undefined) {
      this.#check(options.value);
      this.#value = options.value;
    }
    if (options.timestamp !== undefined) {
      this.#checkTimestamp(options.timestamp);
      this.#timestamp = options.timestamp;
    }
    if (options.policy !== undefined) {
      const problems = policyProblems(options.type, options.constraint, options.policy);
      if (problems.length > 0) {
        throw new TypeError(
          `Cannot add ${this.#describe()}: ${
            problems.map((p) => `${p.key ? `policy.${p.key}` : "policy"}: ${p.message}`).join("; ")
          }`,
        );
      }
      this.#policy = Object.freeze({ ...options.policy as PublishPolicy });
    }
  }

  /**
   * Places an attribute created on its own in the object that holds it. Internal to the model.
   *
   * @param parent The object.
   * @param name Its name there: the field's name.
   * @throws {TypeError} When it was placed already.
   */
  [adopt](parent: ContainerRef, name: string): void {
    if (this.#parent === parent && this.#name === name) return;
    if (this.#parent) {
      throw new TypeError(
        `Cannot add attribute "${knownPath(parent)}/${name}": it is attribute "${
          knownPath(this)
        }" already`,
      );
    }
    this.#parent = parent;
    this.#name = name;
  }

  /**
   * The attribute's name within its object.
   *
   * @throws {TypeError} When it was not added to an object yet.
   */
  get name(): string {
    if (this.#name === undefined) throw notPlaced("name");
    return this.#name;
  }

  /**
   * The object that holds it.
   *
   * @throws {TypeError} When it was not added to an object yet.
   */
  get parent(): ContainerRef {
    if (!this.#parent) throw notPlaced("parent");
    return this.#parent;
  }

  /**
   * The node the attribute belongs to.
   *
   * @throws {TypeError} When it was not added to an object yet.
   */
  get node(): NodeRef {
    return this.parent.node;
  }

  /**
   * The path below the endpoint: `node/object/…/attribute`.
   *
   * @throws {TypeError} When it was not added to an object yet.
   */
  get path(): string {
    return this.#path ??= `${this.parent.path}/${this.name}`;
  }

  /** The current value; `undefined` only while none is known (never, if one was declared). */
  get value(): CurrentValue<T, Known> {
    return this.#value as CurrentValue<T, Known>;
  }

  /**
   * Writes a value now; the same as `set(value)`.
   *
   * @throws {TypeError} When the value does not fit the type, or the constraint forbids it.
   */
  set value(value: ValueOf<T>) {
    this.set(value);
  }

  /** When the current value was taken, in milliseconds since the epoch. */
  get timestamp(): number | undefined {
    return this.#timestamp;
  }

  /** When the device's writes are sent (`undefined`: every write), as declared. */
  get policy(): Readonly<PublishPolicy> | undefined {
    return this.#policy;
  }

  /**
   * Writes a value. Before the endpoint starts, any attribute may be given a value (its initial
   * value). Afterwards only Status and Measure attributes may be written by the device, and each
   * write is sent to the cloud as an `@update`, or kept for later while offline.
   *
   * @param value The value; a finite number for Number, a safe integer for Integer.
   * @param options The timestamp, when it is not now.
   * @throws {TypeError} When the value does not fit the type, or the constraint forbids it.
   * @throws {RangeError} When the timestamp is not a plausible time (after the epoch, not after
   * 2262-04-11).
   * @throws {ClosedError} When the endpoint is closed.
   *
   * @example
   * ```ts
   * import { Endpoint } from "../../mod.ts";
   * import assert from "node:assert/strict";
   *
   * const endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
   * const mode = endpoint.addNode("Pump").addObject("Status")
   *   .addAttribute("mode", { type: "Integer", constraint: "Status" });
   * mode.set(2, { timestamp: 1700000000000 });
   * assert.equal(mode.timestamp, 1700000000000);
   * assert.throws(() => mode.set(2.5), TypeError);
   * ```
   */
  set(value: ValueOf<T>, options?: SetOptions): void {
    const sink = this.#sink();
    sink?.assertOpen();
    this.#check(value);
    const live = sink?.started() ?? false;
    if (live) {
      if (this.constraint === "Static") {
        throw new TypeError(
          `Cannot set attribute "${this.path}": a Static attribute is fixed once the endpoint has started`,
        );
      }
      if (this.constraint === "Parameter" || this.constraint === "SetPoint") {
        throw new TypeError(
          `Cannot set attribute "${this.path}": a ${this.constraint} attribute is written by the cloud only`,
        );
      }
    }
    const timestamp = options?.timestamp ?? sink?.now() ?? Date.now();
    this.#checkTimestamp(timestamp);
    const previousValue = this.#value, previousTimestamp = this.#timestamp;
    this.#write(value, timestamp, "device");
    if (live) sink!.changed(this as CloudioAttribute, previousValue, previousTimestamp);
  }

  /**
   * Takes a value from the cloud (a `@set` already decoded, converted to the attribute's type and
   * checked for order): asks `accept()`, and applies the value when it is accepted. Internal to
   * the library.
   *
   * @param value The value, of the attribute's type.
   * @param timestamp The cloud's timestamp, in ms.
   * @returns Whether the value was applied; `false` when `accept()` returned `false`.
   * @throws What `accept()` throws: the value is then not applied.
   */
  [cloudWrite](value: ValueOf<T>, timestamp: number): boolean {
    if (this.#accept?.(value, this as CloudioAttribute) === false) return false;
    this.#write(value, timestamp, "cloud");
    return true;
  }

  /**
   * Puts back a value and timestamp the attribute had (a transaction's rollback), without
   * sending anything. Internal to the library.
   *
   * @param value The value.
   * @param timestamp Its timestamp, in ms.
   */
  [restore](value: ValueOf<T>, timestamp: number): void {
    this.#write(value, timestamp, "device");
  }

  /**
   * Iterates over the changes of this attribute from now on: `@set`s from the cloud once they
   * are applied (and answered with `@didSet`), and the device's own writes.
   *
   * @param options A signal that ends the iteration, and how many unread changes to keep.
   * @returns An async iterator of changes; `break` or the signal ends it.
   *
   * @example
   * ```ts ignore
   * for await (const change of power.changes({ signal })) {
   *   console.log(`${change.attribute.path} = ${change.value} (from the ${change.source})`);
   * }
   * ```
   */
  changes(options: ChangesOptions = {}): AsyncIterableIterator<AttributeChange<T>> {
    const queue: PushQueue<AttributeChange<T>> = new PushQueue<AttributeChange<T>>({
      signal: options.signal,
      limit: options.limit,
      onClose: () => this.#listeners.delete(queue as unknown as PushQueue<AttributeChange>),
    });
    if (!queue.closed) this.#listeners.add(queue as unknown as PushQueue<AttributeChange>);
    return queue;
  }

  /**
   * Listens for changes, synchronously: the device's writes and, once applied, the cloud's
   * `@set`s (`event.source` tells which). What a listener throws, or the promise it returns
   * rejects with, is reported to the endpoint's `onError` (and `status()`) and does not stop the
   * endpoint or the other listeners. `{ signal }` and `{ once: true }` work as for any
   * `EventTarget`.
   *
   * @param type `"change"`.
   * @param listener The listener.
   * @param options `signal`, `once`.
   *
   * @example
   * ```ts
   * import { Endpoint } from "../../mod.ts";
   * import assert from "node:assert/strict";
   *
   * const endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55", { onError: () => {} });
   * const level = endpoint.addNode("Tank").addObject("Status")
   *   .addAttribute("level", { type: "Number", constraint: "Measure", value: 0 });
   * const controller = new AbortController();
   * let last = 0;
   * level.addEventListener("change", (event) => last = event.value, { signal: controller.signal });
   * level.addEventListener("change", () => { throw new Error("reported, not fatal"); });
   * level.value = 0.5;
   * assert.equal(last, 0.5);
   * controller.abort();
   * level.value = 0.7;
   * assert.equal(last, 0.5);
   * ```
   */
  override addEventListener(
    type: "change",
    listener: ChangeListener<T, C> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Any other event type, as `EventTarget` has it.
   *
   * @param type The type.
   * @param listener The listener.
   * @param options The options.
   */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | ChangeListener<T, C> | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (listener === null) return;
    if (type === "change") this.#listened = true;
    super.addEventListener(
      type,
      guardListener(listener, listenerFailed) as EventListener,
      options,
    );
  }

  /**
   * Removes a listener added with `addEventListener`.
   *
   * @param type `"change"`.
   * @param listener The listener.
   * @param options `capture`, as when it was added.
   */
  override removeEventListener(
    type: "change",
    listener: ChangeListener<T, C> | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /**
   * Any other event type, as `EventTarget` has it.
   *
   * @param type The type.
   * @param listener The listener.
   * @param options The options.
   */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | ChangeListener<T, C> | null,
    options?: boolean | EventListenerOptions,
  ): void {
    if (listener === null) return;
    super.removeEventListener(type, guardOf(listener) as EventListener, options);
  }

  /**
   * Reports what a change listener threw. Internal to the model.
   *
   * @param error What it threw.
   */
  [reportFailure](error: unknown): void {
    const failure = new CloudioError(
      `A change listener of ${this.#describe()} failed: ${(error as Error)?.message ?? error}`,
      { cause: error },
    );
    const sink = this.#sink();
    if (sink) sink.report(failure);
    else console.error(`cloudio: ${failure.message}`);
  }

  /**
   * Returns the attribute as plain data.
   *
   * @returns Type, constraint, and value, timestamp and publish policy when there are.
   */
  toModel(): AttributeModel {
    const model: AttributeModel = { type: this.type, constraint: this.constraint };
    if (this.#value !== undefined) model.value = this.#value;
    if (this.#timestamp !== undefined) model.timestamp = this.#timestamp;
    if (this.#policy !== undefined) model.policy = { ...this.#policy };
    return model;
  }

  /** Ends every `changes()` iteration; used when the endpoint closes. */
  [Symbol.dispose](): void {
    for (const queue of [...this.#listeners]) queue.close();
  }

  // The endpoint's side, once the attribute belongs to a node of an endpoint.
  #sink(): ModelSink | undefined {
    if (!this.#parent) return undefined;
    try {
      return sinkOf(this.#parent.node);
    } catch {
      return undefined; // in a class-style object that was not added yet
    }
  }

  #describe(): string {
    return describePart("attribute", knownPath(this));
  }

  // The description is built only for an error: building it for every write cost 80 bytes of
  // garbage per value (V8's sampling heap profiler on bench/_offline.ts).
  #checkTimestamp(timestamp: number): void {
    const problem = timeProblem(timestamp);
    if (problem !== undefined) {
      throw new RangeError(
        `Cannot set ${this.#describe()}: timestamp ${timestamp} is not a plausible time in milliseconds since the epoch: ${problem}`,
      );
    }
  }

  #check(value: unknown): void {
    const problem = valueProblem(this.type, value);
    if (problem) {
      throw new TypeError(`Cannot set ${this.#describe()} to ${show(value)}: ${problem}`);
    }
  }

  #write(value: ValueOf<T>, timestamp: number, source: ChangeSource): void {
    const previous = this.#value;
    this.#value = value;
    this.#timestamp = timestamp;
    // Nothing is built for a value nobody watches: the hot path of every write.
    if (this.#listeners.size === 0 && !this.#listened) return;
    const change = new AttributeChangeEvent<T, C>(this, value, previous, timestamp, source);
    for (const queue of this.#listeners) queue.push(change as unknown as AttributeChange);
    if (this.#listened) this.dispatchEvent(change);
  }
}

function notPlaced(what: string): TypeError {
  return new TypeError(`Cannot tell the ${what} of an attribute not added to an object yet`);
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/**
 * Attributes as fields of class-style objects, one function per constraint: the Java reference's
 * `@Measure`, `@SetPoint`, … annotations, as TypeScript infers them. Each returns an attribute that
 * belongs to no object yet; the object it is a field of names and places it when it is added.
 *
 * ```ts ignore
 * class Thermostat extends CloudioObject {
 *   temperature = measure("Number", { value: 20 });        // CloudioAttribute<"Number", "Measure", true>
 *   target = setPoint("Number", { value: 21, accept: (c) => c <= 30 });
 *   heating = status("Boolean", { value: false });
 *   model = staticAttribute("String", { value: "TH-1" });
 *   hysteresis = parameter("Number");                      // value: number | undefined
 * }
 * ```
 *
 * This module is browser compatible.
 *
 * @module
 */

import { type AttributeOptions, CloudioAttribute, type KnownFrom } from "./attribute.ts";
import type { AttributeConstraint, AttributeType, ValueOf } from "./types.ts";

/** What a field declares besides its type and constraint: initial value, timestamp, `accept`. */
export type FieldOptions<
  T extends AttributeType,
  C extends AttributeConstraint,
  V extends ValueOf<T> | undefined = ValueOf<T> | undefined,
> = Omit<AttributeOptions<T, C, V>, "type" | "constraint">;

function field<T extends AttributeType, C extends AttributeConstraint, V>(
  type: T,
  constraint: C,
  options: object,
): CloudioAttribute<T, C, KnownFrom<V>> {
  return new CloudioAttribute({ ...options, type, constraint }) as unknown as CloudioAttribute<
    T,
    C,
    KnownFrom<V>
  >;
}

/**
 * Declares a Measure: a value the device measures and sends as `@update` on every write (or as its
 * publish policy says).
 *
 * @param type The value's type.
 * @param options The initial value (its `value` is then typed without `undefined`) and timestamp.
 * @returns The attribute, to be a field of a class-style object.
 * @throws {TypeError} When the type or the initial value is invalid.
 *
 * @example
 * ```ts
 * import { CloudioObject, measure } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * class Status extends CloudioObject {
 *   throughput = measure("Number", { value: 0 });
 * }
 * const throughput: number = new Status().throughput.value;
 * assert.equal(throughput, 0);
 * ```
 */
export function measure<T extends AttributeType, V extends ValueOf<T> | undefined = undefined>(
  type: T,
  options: FieldOptions<T, "Measure", V> = {},
): CloudioAttribute<T, "Measure", KnownFrom<V>> {
  return field<T, "Measure", V>(type, "Measure", options);
}

/**
 * Declares a Status: a state of the device, sent as `@update` on every write.
 *
 * @param type The value's type.
 * @param options The initial value and timestamp.
 * @returns The attribute, to be a field of a class-style object.
 * @throws {TypeError} When the type or the initial value is invalid.
 *
 * @example
 * ```ts
 * import { CloudioObject, status } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * class Drive extends CloudioObject {
 *   running = status("Boolean", { value: false });
 * }
 * assert.equal(new Drive().running.constraint, "Status");
 * ```
 */
export function status<T extends AttributeType, V extends ValueOf<T> | undefined = undefined>(
  type: T,
  options: FieldOptions<T, "Status", V> = {},
): CloudioAttribute<T, "Status", KnownFrom<V>> {
  return field<T, "Status", V>(type, "Status", options);
}

/**
 * Declares a Parameter: a configuration value the cloud writes (`@set`), answered with
 * `@didSet`; `accept` may refuse a value.
 *
 * @param type The value's type.
 * @param options The initial value, timestamp and `accept`.
 * @returns The attribute, to be a field of a class-style object.
 * @throws {TypeError} When the type or the initial value is invalid.
 *
 * @example
 * ```ts
 * import { CloudioObject, parameter } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * class Settings extends CloudioObject {
 *   interval = parameter("Integer", { value: 60, accept: (seconds) => seconds >= 1 });
 * }
 * assert.equal(new Settings().interval.value, 60);
 * ```
 */
export function parameter<T extends AttributeType, V extends ValueOf<T> | undefined = undefined>(
  type: T,
  options: FieldOptions<T, "Parameter", V> = {},
): CloudioAttribute<T, "Parameter", KnownFrom<V>> {
  return field<T, "Parameter", V>(type, "Parameter", options);
}

/**
 * Declares a SetPoint: a target the cloud writes (`@set`), answered with `@didSet`; `accept` may
 * refuse a value.
 *
 * @param type The value's type.
 * @param options The initial value, timestamp and `accept`.
 * @returns The attribute, to be a field of a class-style object.
 * @throws {TypeError} When the type or the initial value is invalid.
 *
 * @example
 * ```ts
 * import { CloudioObject, setPoint } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * class Thermostat extends CloudioObject {
 *   target = setPoint("Number", { value: 21, accept: (celsius) => celsius >= 5 && celsius <= 30 });
 * }
 * const target: number = new Thermostat().target.value;
 * assert.equal(target, 21);
 * ```
 */
export function setPoint<T extends AttributeType, V extends ValueOf<T> | undefined = undefined>(
  type: T,
  options: FieldOptions<T, "SetPoint", V> = {},
): CloudioAttribute<T, "SetPoint", KnownFrom<V>> {
  return field<T, "SetPoint", V>(type, "SetPoint", options);
}

/**
 * Declares a Static attribute: a fixed value (a model number, a serial), sent in `@online` only.
 *
 * @param type The value's type.
 * @param options The value.
 * @returns The attribute, to be a field of a class-style object.
 * @throws {TypeError} When the type or the value is invalid.
 *
 * @example
 * ```ts
 * import { CloudioObject, staticAttribute } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * class Identity extends CloudioObject {
 *   serial = staticAttribute("String", { value: "VC-0001" });
 * }
 * assert.equal(new Identity().serial.value, "VC-0001");
 * ```
 */
export function staticAttribute<
  T extends AttributeType,
  V extends ValueOf<T> | undefined = undefined,
>(
  type: T,
  options: FieldOptions<T, "Static", V> = {},
): CloudioAttribute<T, "Static", KnownFrom<V>> {
  return field<T, "Static", V>(type, "Static", options);
}

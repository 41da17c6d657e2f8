/**
 * Plain records: telling a decoded map from the other things JSON and CBOR decode to, telling a
 * plain object from the rest, and writing a key as an own property whatever its name.
 *
 * This module is browser compatible.
 *
 * @module
 */

/**
 * Tells whether a value is a plain map (not an array, not null, not bytes).
 *
 * @param value The value.
 * @returns `true` for a map.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

/**
 * Tells whether a value is a plain object, as `JSON.parse` makes them or as written literally:
 * its prototype is `Object.prototype` or `null` (not an array, a class instance or a `Map`).
 *
 * @param value The value.
 * @returns `true` for a plain object.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Sets an own, enumerable, writable property, even one named `__proto__` (which an assignment
 * would take for the prototype).
 *
 * @param target The object to write to.
 * @param key The key, as read from the document.
 * @param value The value.
 */
export function putOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * Telling a decoded map from the other things JSON and CBOR decode to.
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

/**
 * Converting a value received as text or in another JSON/CBOR type to an attribute's type, for
 * every reader of values: `@set` from the cloud, model files, the devcloud's page. Only lossless,
 * unambiguous conversions are made.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { AttributeType, AttributeValue } from "./types.ts";

const TRUE = new Set(["true", "1"]);
const FALSE = new Set(["false", "0"]);
const INTEGER = /^[+-]?[0-9]+$/;
const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/**
 * Converts a value to an attribute's type without loss, or tells that it cannot.
 *
 * | type | accepted |
 * |---|---|
 * | Boolean | `true`/`false`, the numbers 1/0, the texts `true`/`false`/`1`/`0` (any case, trimmed) |
 * | Integer | safe integers (also as `bigint`), integral floats (`3.0`), decimal integer texts |
 * | Number | finite numbers (also as `bigint`), decimal number texts (`2.5`, `-1e3`) |
 * | String | texts |
 *
 * @param type The attribute's type.
 * @param value The value as received.
 * @returns The converted value, or `undefined` when the value does not fit the type.
 *
 * @example
 * ```ts
 * import { coerceValue } from "./coerce.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(coerceValue("Boolean", "TRUE"), true);
 * assert.equal(coerceValue("Integer", 3.0), 3);
 * assert.equal(coerceValue("Number", " 2.5 "), 2.5);
 * assert.equal(coerceValue("Integer", 1.5), undefined);
 * assert.equal(coerceValue("Number", "0x10"), undefined);
 * ```
 */
export function coerceValue(type: AttributeType, value: unknown): AttributeValue | undefined {
  switch (type) {
    case "Boolean":
      if (typeof value === "boolean") return value;
      if (value === 1 || value === 0) return value === 1;
      if (typeof value === "string") {
        const text = value.trim().toLowerCase();
        if (TRUE.has(text)) return true;
        if (FALSE.has(text)) return false;
      }
      return undefined;
    case "Integer": {
      const n = typeof value === "bigint"
        ? Number(value)
        : typeof value === "string" && INTEGER.test(value.trim())
        ? Number(value.trim())
        : value;
      return typeof n === "number" && Number.isSafeInteger(n) ? n + 0 : undefined;
    }
    case "Number": {
      const n = typeof value === "bigint"
        ? Number(value)
        : typeof value === "string" && DECIMAL.test(value.trim())
        ? Number(value.trim())
        : value;
      return typeof n === "number" && Number.isFinite(n) ? n + 0 : undefined;
    }
    case "String":
      return typeof value === "string" ? value : undefined;
  }
}

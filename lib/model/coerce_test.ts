import assert from "node:assert/strict";
import { coerceValue } from "./coerce.ts";

// `Deno.test` without the Deno namespace types: this folder is also type-checked against the
// web-only libraries of web.json.
declare const Deno: { test(name: string, fn: () => void | Promise<void>): void };

Deno.test("coerceValue() converts without loss or refuses", () => {
  assert.equal(coerceValue("Boolean", "TRUE"), true);
  assert.equal(coerceValue("Boolean", " 0 "), false);
  assert.equal(coerceValue("Boolean", 1), true);
  assert.equal(coerceValue("Integer", "-42"), -42);
  assert.equal(coerceValue("Integer", 7n), 7);
  assert.equal(coerceValue("Integer", 3.0), 3);
  assert.ok(Object.is(coerceValue("Integer", -0), 0), "no negative zero");
  assert.equal(coerceValue("Number", "2.5"), 2.5);
  assert.equal(coerceValue("Number", "-1e3"), -1000);
  assert.equal(coerceValue("Number", 3), 3);
  assert.equal(coerceValue("String", ""), "");
  for (
    const [type, value] of [
      ["Boolean", 2],
      ["Boolean", "yes"],
      ["Integer", 1.5],
      ["Integer", 2 ** 53],
      ["Integer", 2n ** 64n],
      ["Integer", "1e3"],
      ["Number", NaN],
      ["Number", Infinity],
      ["Number", "Infinity"],
      ["Number", ""],
      ["Number", "0x10"],
      ["Number", [1]],
      ["String", 5],
      ["String", { a: 1 }],
    ] as const
  ) {
    assert.equal(coerceValue(type, value), undefined, `${type} ${String(value)}`);
  }
});

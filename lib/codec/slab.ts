/**
 * Where encoded payloads live: small ones are views into shared 16 KiB slabs rather than arrays
 * of their own. A `Uint8Array` of its own costs an `ArrayBuffer`, a backing store outside the
 * heap and V8's accounting of it; a view costs only the view. Measured with V8's sampling heap
 * profiler on `bench/_offline.ts` (CBOR): copying each payload out with `slice()` allocated 200 of
 * the 760 bytes that queueing one value cost. A slab lives as long as any view into it: at worst
 * 16 KiB for a payload kept alone for long.
 *
 * A view's `buffer` is the whole slab: read it with `byteOffset` and `byteLength`, never transfer it.
 *
 * This module is browser compatible.
 *
 * @module
 */

const SLAB = 16 * 1024;
/** Larger payloads (a model's `@online`) get an array of their own. */
const LARGEST = 2 * 1024;

let slab = new Uint8Array(SLAB);
let used = 0;

// A fresh slab when `bytes` more do not fit; the old one stays while its views do.
function room(bytes: number): void {
  if (used + bytes > SLAB) {
    slab = new Uint8Array(SLAB);
    used = 0;
  }
}

/**
 * Copies bytes out of a scratch buffer, into a slab when small.
 *
 * @param bytes The bytes (reused by the caller afterwards).
 * @param length How many of them, from the first.
 * @returns A copy that nothing else writes to.
 *
 * @example
 * ```ts
 * import { copyOut } from "./slab.ts";
 * import assert from "node:assert/strict";
 *
 * const scratch = new Uint8Array([1, 2, 3]);
 * const copy = copyOut(scratch);
 * scratch[0] = 9;
 * assert.deepEqual([...copy], [1, 2, 3]);
 * ```
 */
export function copyOut(bytes: Uint8Array, length: number = bytes.length): Uint8Array {
  if (length > LARGEST) return bytes.slice(0, length);
  room(length);
  // Byte by byte: a payload is tens of bytes, and a subarray to set() from is one more object.
  for (let i = 0; i < length; i++) slab[used + i] = bytes[i];
  const view = slab.subarray(used, used + length);
  used += length;
  return view;
}

const encoder = new TextEncoder();

/**
 * Encodes text as UTF-8, into a slab when small.
 *
 * @param text The text.
 * @returns Its UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { encodeText } from "./slab.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new TextDecoder().decode(encodeText('{"value":1}')), '{"value":1}');
 * ```
 */
export function encodeText(text: string): Uint8Array {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  const most = text.length * 3;
  if (most > LARGEST) return encoder.encode(text);
  room(most);
  const { written } = encoder.encodeInto(text, slab.subarray(used));
  const view = slab.subarray(used, used + written);
  used += written;
  return view;
}

/**
 * Streaming writers for the two wire formats. The message encoders drive a {@linkcode Writer};
 * the JSON and CBOR writers turn the calls into bytes. Floats are written as floats whatever their
 * value (`20.0`, CBOR `0xFB`), which no JSON or CBOR library does for an integral JavaScript
 * number, and `raw()` splices an already-encoded item, which lets `@delayed` carry stored payloads
 * byte for byte.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { MessageFormat } from "../model/types.ts";
import { copyOut, encodeText } from "./slab.ts";

/** The calls a message encoder makes; containers are definite-length. */
export interface Writer {
  /** Opens a map of `size` entries; each entry is a `key()` and one value. */
  map(size: number): void;
  /** Opens an array of `size` values. */
  array(size: number): void;
  /** Closes the innermost map or array. */
  end(): void;
  /** Writes a map key. */
  key(key: string): void;
  /** Writes a string value. */
  string(value: string): void;
  /** Writes a number as a floating-point value, even when it is integral. */
  float(value: number): void;
  /** Writes a safe integer as an integer value. */
  integer(value: number): void;
  /** Writes a boolean value. */
  boolean(value: boolean): void;
  /** Writes `null`. */
  null(): void;
  /** Writes one complete item that is already encoded in this writer's format. */
  raw(item: Uint8Array): void;
  /** Returns the bytes written so far. */
  finish(): Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

/**
 * Quotes a string as JSON; the same text as `JSON.stringify`, faster for plain strings.
 *
 * @param value The string.
 * @returns The JSON string token.
 */
export function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * Formats a finite number as a JSON floating-point token: always with a fraction or an exponent.
 *
 * @param value A finite number.
 * @returns The token, such as `20.0` or `1e+21`.
 * @throws {RangeError} When the number is NaN or infinite, which JSON cannot carry.
 *
 * @example
 * ```ts
 * import { jsonFloat } from "./writer.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(jsonFloat(20), "20.0");
 * assert.equal(jsonFloat(0.25), "0.25");
 * ```
 */
export function jsonFloat(value: number): string {
  if (!Number.isFinite(value)) {
    throw new RangeError(`Cannot write ${value} in JSON: only finite numbers are allowed`);
  }
  const text = String(value);
  if (Number.isInteger(value) && !text.includes("e")) {
    return Object.is(value, -0) ? "-0.0" : `${text}.0`;
  }
  return text;
}

/** Writes JSON text. */
export class JsonWriter implements Writer {
  #text = "";
  // Per open container: its closing character and how many items (keys or array values) it has.
  #closers: string[] = [];
  #counts: number[] = [];
  #afterKey = false;

  #separate(): void {
    if (this.#afterKey) {
      this.#afterKey = false; // a map value follows its key without a comma
      return;
    }
    const top = this.#counts.length - 1;
    if (top >= 0 && this.#counts[top]++ > 0) this.#text += ",";
  }

  /** Opens a map. */
  map(_size: number): void {
    this.#separate();
    this.#text += "{";
    this.#closers.push("}");
    this.#counts.push(0);
  }
  /** Opens an array. */
  array(_size: number): void {
    this.#separate();
    this.#text += "[";
    this.#closers.push("]");
    this.#counts.push(0);
  }
  /** Closes the innermost container. */
  end(): void {
    this.#counts.pop();
    this.#text += this.#closers.pop() ?? "";
  }
  /** Writes a key. */
  key(key: string): void {
    this.#separate();
    this.#text += jsonString(key) + ":";
    this.#afterKey = true;
  }
  /** Writes a string. */
  string(value: string): void {
    this.#separate();
    this.#text += jsonString(value);
  }
  /** Writes a float. */
  float(value: number): void {
    this.#separate();
    this.#text += jsonFloat(value);
  }
  /** Writes an integer. */
  integer(value: number): void {
    this.#separate();
    this.#text += String(value);
  }
  /** Writes a boolean. */
  boolean(value: boolean): void {
    this.#separate();
    this.#text += value ? "true" : "false";
  }
  /** Writes null. */
  null(): void {
    this.#separate();
    this.#text += "null";
  }
  /** Splices a JSON item. */
  raw(item: Uint8Array): void {
    this.#separate();
    this.#text += decoder.decode(item);
  }
  /**
   * Writes one complete value given as JSON text.
   *
   * @param text Valid JSON for one value.
   */
  literal(text: string): void {
    this.#separate();
    this.#text += text;
  }
  /** Returns the UTF-8 bytes (in a slab when small: `slab.ts`). */
  finish(): Uint8Array {
    return encodeText(this.#text);
  }
}

/** Writes CBOR (RFC 8949), definite lengths, floats as float64. */
export class CborWriter implements Writer {
  #buffer: Uint8Array;
  #view: DataView;
  #length = 0;

  /**
   * Creates a writer.
   *
   * @param capacity Initial buffer size in bytes; it grows as needed.
   */
  constructor(capacity = 256) {
    this.#buffer = new Uint8Array(capacity);
    this.#view = new DataView(this.#buffer.buffer);
  }

  #reserve(bytes: number): void {
    const needed = this.#length + bytes;
    if (needed <= this.#buffer.length) return;
    let size = this.#buffer.length * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
    this.#view = new DataView(next.buffer);
  }

  #head(major: number, value: number): void {
    this.#reserve(9);
    const m = major << 5;
    if (value < 24) {
      this.#buffer[this.#length++] = m | value;
    } else if (value < 0x100) {
      this.#buffer[this.#length++] = m | 24;
      this.#buffer[this.#length++] = value;
    } else if (value < 0x10000) {
      this.#buffer[this.#length++] = m | 25;
      this.#view.setUint16(this.#length, value);
      this.#length += 2;
    } else if (value < 0x100000000) {
      this.#buffer[this.#length++] = m | 26;
      this.#view.setUint32(this.#length, value);
      this.#length += 4;
    } else {
      this.#buffer[this.#length++] = m | 27;
      this.#view.setUint32(this.#length, Math.floor(value / 0x100000000));
      this.#view.setUint32(this.#length + 4, value >>> 0);
      this.#length += 8;
    }
  }

  /** Opens a map. */
  map(size: number): void {
    this.#head(5, size);
  }
  /** Opens an array. */
  array(size: number): void {
    this.#head(4, size);
  }
  /** Definite-length containers need no end marker. */
  end(): void {}
  /** Writes a key. */
  key(key: string): void {
    this.string(key);
  }
  /** Writes a text string. */
  string(value: string): void {
    // Worst case three bytes per UTF-16 code unit.
    const max = value.length * 3;
    this.#reserve(max + 9);
    if (isAscii(value)) {
      // Byte for byte, not through a new array from TextEncoder: topics and keys are ASCII, and
      // encoding them cost 160 bytes of garbage per value of a replayed @delayed batch (V8's
      // sampling heap profiler on bench/_offline.ts).
      this.#head(3, value.length);
      for (let i = 0; i < value.length; i++) this.#buffer[this.#length++] = value.charCodeAt(i);
      return;
    }
    const bytes = encoder.encode(value);
    this.#head(3, bytes.length);
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }
  /** Writes a float64. */
  float(value: number): void {
    this.#reserve(9);
    this.#buffer[this.#length++] = 0xfb;
    this.#view.setFloat64(this.#length, value);
    this.#length += 8;
  }
  /** Writes an integer (major type 0 or 1). */
  integer(value: number): void {
    if (value >= 0) this.#head(0, value);
    else this.#head(1, -1 - value);
  }
  /** Writes a boolean. */
  boolean(value: boolean): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = value ? 0xf5 : 0xf4;
  }
  /** Writes null. */
  null(): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = 0xf6;
  }
  /** Splices a CBOR item. */
  raw(item: Uint8Array): void {
    this.#reserve(item.length);
    this.#buffer.set(item, this.#length);
    this.#length += item.length;
  }
  /** Returns a copy of the bytes written (in a slab when small: `slab.ts`). */
  finish(): Uint8Array {
    return copyOut(this.#buffer, this.#length);
  }

  /** Empties the writer, keeping its buffer. */
  reset(): void {
    this.#length = 0;
  }
}

const scratch = new CborWriter(1024);

function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Creates a writer for a message format.
 *
 * @param format `JSON` or `CBOR`.
 * @returns A new, empty writer.
 *
 * @example
 * ```ts
 * import { createWriter } from "./writer.ts";
 * import assert from "node:assert/strict";
 *
 * const w = createWriter("JSON");
 * w.map(1);
 * w.key("value");
 * w.float(20);
 * w.end();
 * assert.equal(new TextDecoder().decode(w.finish()), '{"value":20.0}');
 * ```
 */
export function createWriter(format: MessageFormat): Writer {
  if (format === "JSON") return new JsonWriter();
  // Encoding is synchronous and never nested, so one CBOR scratch buffer serves every message
  // (finish() copies out); it grows to the largest message written and stays.
  scratch.reset();
  return scratch;
}

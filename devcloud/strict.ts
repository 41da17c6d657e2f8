/**
 * The cloud's strict reading of a message (protocol §5.2, §6), for checking what goes on the
 * wire: exact keys, enum spellings, Number values as floating-point tokens, Integer values as
 * integer tokens, timestamps as non-negative numbers, and the per-action rules (`@update` only
 * for Measure/Status, `@didSet` only for Parameter/SetPoint, `@delayed` only carrying `@update`,
 * `@didSet`, `@transaction` and `@logs`).
 *
 * JavaScript decoders cannot tell `20.0` from `20`; this module reads JSON with the source text
 * of each number and CBOR with its own small reader, so the difference is kept.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { uuidProblem } from "../lib/model/names.ts";
import { ATTRIBUTE_CONSTRAINTS, ATTRIBUTE_TYPES } from "../lib/model/types.ts";
import { detectFormat } from "../lib/codec/decode.ts";
import { LOG_LEVELS } from "../lib/logs/levels.ts";

/** A number as it was written: an integer token or a floating-point token. */
export class WireNumber {
  /**
   * Creates a number token.
   *
   * @param value Its value.
   * @param float Whether it was written as a floating-point token.
   */
  constructor(readonly value: number | bigint, readonly float: boolean) {}
}

/** A decoded value whose numbers remember how they were written. */
export type WireValue =
  | null
  | boolean
  | string
  | WireNumber
  | Uint8Array
  | WireValue[]
  | { [key: string]: WireValue };

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a payload keeping integer and float tokens apart.
 *
 * @param payload JSON or CBOR bytes.
 * @returns The value.
 * @throws {SyntaxError} When the payload is neither, or malformed, or nested deeper than 64 levels.
 *
 * @example
 * ```ts
 * import { readWire, WireNumber } from "./strict.ts";
 * import assert from "node:assert/strict";
 *
 * const value = readWire(new TextEncoder().encode('{"a":20.0,"b":20}')) as Record<string, WireNumber>;
 * assert.equal(value.a.float, true);
 * assert.equal(value.b.float, false);
 * ```
 */
export function readWire(payload: Uint8Array): WireValue {
  const format = detectFormat(payload);
  if (format === "JSON") {
    const text = utf8.decode(payload);
    return JSON.parse(text, function (_key, value, context?: { source?: string }) {
      if (typeof value !== "number") return value;
      const source = context?.source ?? String(value);
      return /[.eE]/.test(source) ? new WireNumber(value, true) : new WireNumber(value, false);
    });
  }
  if (format === "CBOR") {
    const reader = new CborReader(payload);
    const value = reader.item(0);
    if (reader.offset !== payload.length) {
      throw new SyntaxError("Trailing bytes after the CBOR item");
    }
    return value;
  }
  throw new SyntaxError("Neither JSON nor a CBOR map");
}

const BREAK = Symbol("break");

class CborReader {
  offset = 0;
  #view: DataView;
  constructor(private bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #need(n: number): void {
    if (this.offset + n > this.bytes.length) throw new SyntaxError("Truncated CBOR");
  }

  #argument(info: number): number | bigint {
    if (info < 24) return info;
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (!size) throw new SyntaxError(`Unsupported CBOR additional information ${info}`);
    this.#need(size);
    const at = this.offset;
    this.offset += size;
    if (size === 1) return this.#view.getUint8(at);
    if (size === 2) return this.#view.getUint16(at);
    if (size === 4) return this.#view.getUint32(at);
    const big = this.#view.getBigUint64(at);
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }

  item(depth: number): WireValue {
    const value = this.#item(depth);
    if (value === BREAK) throw new SyntaxError("Unexpected CBOR break");
    return value;
  }

  #item(depth: number): WireValue | typeof BREAK {
    if (depth > 64) throw new SyntaxError("CBOR nested deeper than 64 levels");
    this.#need(1);
    const initial = this.bytes[this.offset++];
    const major = initial >> 5;
    const info = initial & 0x1f;
    switch (major) {
      case 0:
        return new WireNumber(this.#argument(info), false);
      case 1: {
        const n = this.#argument(info);
        return new WireNumber(typeof n === "bigint" ? -1n - n : -1 - n, false);
      }
      case 2:
      case 3: {
        const chunks: Uint8Array[] = [];
        if (info === 31) {
          for (;;) {
            const chunk = this.#item(depth + 1);
            if (chunk === BREAK) break;
            if (major === 3 ? typeof chunk !== "string" : !(chunk instanceof Uint8Array)) {
              throw new SyntaxError("Bad chunk in an indefinite-length string");
            }
            chunks.push(
              typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk as Uint8Array,
            );
          }
        } else {
          const length = Number(this.#argument(info));
          this.#need(length);
          chunks.push(this.bytes.subarray(this.offset, this.offset + length));
          this.offset += length;
        }
        const bytes = chunks.length === 1 ? chunks[0] : concat(chunks);
        return major === 3 ? utf8.decode(bytes) : bytes.slice();
      }
      case 4: {
        const out: WireValue[] = [];
        if (info === 31) {
          for (;;) {
            const v = this.#item(depth + 1);
            if (v === BREAK) break;
            out.push(v);
          }
        } else {
          const length = Number(this.#argument(info));
          for (let i = 0; i < length; i++) out.push(this.item(depth + 1));
        }
        return out;
      }
      case 5: {
        const out: { [key: string]: WireValue } = {};
        const read = () => {
          const key = this.#item(depth + 1);
          if (key === BREAK) return false;
          if (typeof key !== "string") throw new SyntaxError("CBOR map key is not a text string");
          if (Object.hasOwn(out, key)) throw new SyntaxError(`Duplicate key "${key}"`);
          Object.defineProperty(out, key, {
            value: this.item(depth + 1),
            enumerable: true,
            writable: true,
            configurable: true,
          });
          return true;
        };
        if (info === 31) { while (read()); }
        else {
          const length = Number(this.#argument(info));
          for (let i = 0; i < length; i++) {
            if (!read()) throw new SyntaxError("Unexpected CBOR break");
          }
        }
        return out;
      }
      case 6:
        throw new SyntaxError("CBOR tags are not used by cloud.iO");
      default: {
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        if (info === 31) return BREAK;
        if (info === 25) {
          this.#need(2);
          const half = this.#view.getUint16(this.offset);
          this.offset += 2;
          return new WireNumber(halfToNumber(half), true);
        }
        if (info === 26) {
          this.#need(4);
          const v = this.#view.getFloat32(this.offset);
          this.offset += 4;
          return new WireNumber(v, true);
        }
        if (info === 27) {
          this.#need(8);
          const v = this.#view.getFloat64(this.offset);
          this.offset += 8;
          return new WireNumber(v, true);
        }
        throw new SyntaxError(`Unsupported CBOR simple value ${info}`);
      }
    }
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function halfToNumber(half: number): number {
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  const sign = half & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (mantissa / 1024);
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
}

type Problems = string[];

function isMap(value: WireValue): value is { [key: string]: WireValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof WireNumber) && !(value instanceof Uint8Array);
}

function keys(
  value: { [key: string]: WireValue },
  allowed: readonly string[],
  where: string,
  problems: Problems,
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) problems.push(`${where}: unknown key "${key}"`);
  }
}

function timestampProblem(
  value: WireValue | undefined,
  where: string,
  problems: Problems,
  required: boolean,
): void {
  if (value === undefined || value === null) {
    if (required) problems.push(`${where}.timestamp: missing`);
    return;
  }
  if (
    !(value instanceof WireNumber) || Number(value.value) < 0 ||
    !Number.isFinite(Number(value.value))
  ) {
    problems.push(`${where}.timestamp: not a non-negative number`);
  }
}

const INT64_MIN = -(2n ** 63n), INT64_MAX = 2n ** 63n - 1n;

/**
 * Checks an attribute as the cloud reads it (§6.1, §5.2).
 *
 * @param value The attribute.
 * @param where Its location, for messages.
 * @param problems Where problems are added.
 * @param needValue Whether `value` and `timestamp` are required (in `@update`, `@set`, `@didSet`).
 */
export function checkAttribute(
  value: WireValue,
  where: string,
  problems: Problems,
  needValue: boolean,
): void {
  if (!isMap(value)) {
    problems.push(`${where}: not a map`);
    return;
  }
  keys(value, ["type", "constraint", "timestamp", "value"], where, problems);
  const type = value.type, constraint = value.constraint;
  if (typeof type !== "string" || !ATTRIBUTE_TYPES.includes(type as never)) {
    problems.push(
      `${where}.type: ${JSON.stringify(type ?? null)} is not one of ${ATTRIBUTE_TYPES.join(", ")}`,
    );
  }
  if (typeof constraint !== "string" || !ATTRIBUTE_CONSTRAINTS.includes(constraint as never)) {
    problems.push(`${where}.constraint: ${JSON.stringify(constraint ?? null)} is not a constraint`);
  }
  timestampProblem(value.timestamp, where, problems, needValue);
  const v = value.value;
  if (v === undefined || v === null) {
    if (needValue) problems.push(`${where}.value: missing`);
    return;
  }
  switch (type) {
    case "Boolean":
      if (typeof v !== "boolean") problems.push(`${where}.value: not a boolean`);
      break;
    case "Integer":
      if (!(v instanceof WireNumber) || v.float) {
        problems.push(`${where}.value: not an integer token`);
      } else if (BigInt(v.value) < INT64_MIN || BigInt(v.value) > INT64_MAX) {
        problems.push(`${where}.value: beyond 64 bits`);
      }
      break;
    case "Number":
      if (!(v instanceof WireNumber) || !v.float) {
        problems.push(`${where}.value: not a floating-point token (write 20.0, not 20)`);
      }
      break;
    case "String":
      if (typeof v !== "string") problems.push(`${where}.value: not a string`);
      break;
  }
}

function checkObject(value: WireValue, where: string, problems: Problems): void {
  if (!isMap(value)) return void problems.push(`${where}: not a map`);
  keys(value, ["conforms", "objects", "attributes"], where, problems);
  if (
    value.conforms !== undefined && value.conforms !== null && typeof value.conforms !== "string"
  ) {
    problems.push(`${where}.conforms: not a string`);
  }
  for (const [name, child] of mapEntries(value.objects, `${where}.objects`, problems)) {
    checkObject(child, `${where}.objects.${name}`, problems);
  }
  for (const [name, attribute] of mapEntries(value.attributes, `${where}.attributes`, problems)) {
    checkAttribute(attribute, `${where}.attributes.${name}`, problems, false);
  }
}

function mapEntries(
  value: WireValue | undefined,
  where: string,
  problems: Problems,
): [string, WireValue][] {
  if (value === undefined) return [];
  if (!isMap(value)) {
    problems.push(`${where}: not a map`);
    return [];
  }
  return Object.entries(value);
}

/**
 * Checks a node (§6.3).
 *
 * @param value The node.
 * @param where Its location.
 * @param problems Where problems are added.
 */
export function checkNode(value: WireValue, where: string, problems: Problems): void {
  if (!isMap(value)) return void problems.push(`${where}: not a map`);
  keys(value, ["implements", "objects"], where, problems);
  const interfaces = value.implements;
  if (
    interfaces !== undefined &&
    (!Array.isArray(interfaces) || interfaces.some((i) => typeof i !== "string"))
  ) {
    problems.push(`${where}.implements: not an array of strings`);
  }
  for (const [name, object] of mapEntries(value.objects, `${where}.objects`, problems)) {
    checkObject(object, `${where}.objects.${name}`, problems);
  }
}

function checkLog(value: WireValue, where: string, problems: Problems): void {
  if (!isMap(value)) return void problems.push(`${where}: not a map`);
  keys(value, ["level", "timestamp", "message", "loggerName", "logSource"], where, problems);
  if (typeof value.level !== "string" || !LOG_LEVELS.includes(value.level as never)) {
    problems.push(`${where}.level: not a log level`);
  }
  timestampProblem(value.timestamp, where, problems, true);
  if (typeof value.message !== "string") problems.push(`${where}.message: not a string`);
  for (const key of ["loggerName", "logSource"]) {
    if (value[key] !== undefined && typeof value[key] !== "string") {
      problems.push(`${where}.${key}: not a string`);
    }
  }
}

function checkTransaction(value: WireValue, where: string, problems: Problems): void {
  if (!isMap(value)) return void problems.push(`${where}: not a map`);
  keys(value, ["attributes"], where, problems);
  for (const [path, attribute] of mapEntries(value.attributes, `${where}.attributes`, problems)) {
    checkAttribute(attribute, `${where}.attributes["${path}"]`, problems, true);
    if (path.split("/").length < 4) {
      problems.push(`${where}.attributes["${path}"]: key lacks <uuid>/<node>/<object>/<attribute>`);
    }
  }
}

const ACTIONS = [
  "@online",
  "@offline",
  "@nodeAdded",
  "@nodeRemoved",
  "@update",
  "@set",
  "@didSet",
  "@transaction",
  "@delayed",
  "@logs",
  "@logsLevel",
  "@exec",
  "@execOutput",
] as const;

/**
 * Tells everything the cloud would reject in a message, by its topic's action. An empty list
 * means the message is accepted.
 *
 * @param topic The full topic, such as `@update/<uuid>/node/object/attribute`.
 * @param payload The payload bytes.
 * @returns The problems, empty when the cloud would accept it.
 *
 * @example
 * ```ts
 * import { serverProblems } from "./strict.ts";
 * import assert from "node:assert/strict";
 *
 * const topic = "@update/0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55/n/o/a";
 * const good = '{"type":"Number","constraint":"Measure","timestamp":1.5,"value":20.0}';
 * const bad = '{"type":"Number","constraint":"Measure","timestamp":1.5,"value":20}';
 * assert.deepEqual(serverProblems(topic, new TextEncoder().encode(good)), []);
 * assert.equal(serverProblems(topic, new TextEncoder().encode(bad)).length, 1);
 * ```
 */
export function serverProblems(topic: string, payload: Uint8Array): string[] {
  const problems: Problems = [];
  const levels = topic.split("/");
  const action = levels[0] as typeof ACTIONS[number];
  if (!ACTIONS.includes(action)) return [`topic: unknown action ${JSON.stringify(levels[0])}`];
  if (levels.some((l) => l === "" || /[.#+*]/.test(l))) {
    problems.push("topic: empty level or one of . # + *");
  }
  const uuid = levels.length > 1 ? uuidProblem(levels[1]) : undefined;
  if (uuid) problems.push(`topic: ${JSON.stringify(levels[1])} is not an endpoint UUID: ${uuid}`);
  const counts: Partial<Record<typeof ACTIONS[number], [number, number]>> = {
    "@online": [2, 2],
    "@offline": [2, 2],
    "@nodeAdded": [3, 3],
    "@nodeRemoved": [3, 3],
    "@update": [5, Infinity],
    "@set": [5, Infinity],
    "@didSet": [5, Infinity],
    "@transaction": [2, 2],
    "@delayed": [2, 2],
    "@logs": [2, 2],
    "@logsLevel": [2, 2],
    "@exec": [2, 2],
    "@execOutput": [3, 3],
  };
  const [min, max] = counts[action]!;
  if (levels.length < min || levels.length > max) {
    problems.push(`topic: ${levels.length - 1} levels after ${action}`);
  }
  if (action === "@offline" || action === "@nodeRemoved") return problems; // payload ignored
  let value: WireValue;
  try {
    value = readWire(payload);
  } catch (error) {
    problems.push(`payload: ${(error as Error).message}`);
    return problems;
  }
  checkPayload(action, value, "$", problems);
  return problems;
}

function checkPayload(action: string, value: WireValue, where: string, problems: Problems): void {
  switch (action) {
    case "@online": {
      if (!isMap(value)) return void problems.push(`${where}: not a map`);
      keys(
        value,
        ["version", "messageFormatVersion", "supportedFormats", "nodes"],
        where,
        problems,
      );
      if (value.version !== undefined && typeof value.version !== "string") {
        problems.push(`${where}.version: not a string`);
      }
      const mfv = value.messageFormatVersion;
      if (mfv !== undefined && (!(mfv instanceof WireNumber) || mfv.float)) {
        problems.push(`${where}.messageFormatVersion: not an integer`);
      }
      const formats = value.supportedFormats;
      if (mfv instanceof WireNumber && Number(mfv.value) === 2 && formats === undefined) {
        problems.push(`${where}.supportedFormats: required for messageFormatVersion 2`);
      }
      if (
        formats !== undefined &&
        (!Array.isArray(formats) || formats.some((f) => f !== "JSON" && f !== "CBOR"))
      ) {
        problems.push(`${where}.supportedFormats: not an array of "JSON"/"CBOR"`);
      }
      if (value.nodes === undefined) problems.push(`${where}.nodes: missing`);
      for (const [name, node] of mapEntries(value.nodes, `${where}.nodes`, problems)) {
        checkNode(node, `${where}.nodes.${name}`, problems);
      }
      return;
    }
    case "@nodeAdded":
      return checkNode(value, where, problems);
    case "@update":
    case "@didSet":
    case "@set": {
      checkAttribute(value, where, problems, true);
      if (!isMap(value)) return;
      const c = value.constraint;
      if (action === "@update" && c !== "Measure" && c !== "Status") {
        problems.push(
          `${where}.constraint: @update is accepted only for Measure and Status, not ${c}`,
        );
      }
      if (action !== "@update" && c !== "Parameter" && c !== "SetPoint") {
        problems.push(
          `${where}.constraint: ${action} is accepted only for Parameter and SetPoint, not ${c}`,
        );
      }
      return;
    }
    case "@transaction":
      return checkTransaction(value, where, problems);
    case "@logs":
      return checkLog(value, where, problems);
    case "@logsLevel":
      if (
        !isMap(value) || typeof value.level !== "string" ||
        !LOG_LEVELS.includes(value.level as never)
      ) {
        problems.push(`${where}.level: not a log level`);
      }
      return;
    case "@exec":
      if (!isMap(value)) return void problems.push(`${where}: not a map`);
      keys(value, ["correlationID", "jobURI", "data", "sendOutput"], where, problems);
      return;
    case "@execOutput":
      if (!isMap(value)) return void problems.push(`${where}: not a map`);
      keys(value, ["correlationID", "data"], where, problems);
      if (typeof value.correlationID !== "string") {
        problems.push(`${where}.correlationID: not a string`);
      }
      if (typeof value.data !== "string") problems.push(`${where}.data: not a string`);
      return;
    case "@delayed": {
      if (!isMap(value)) return void problems.push(`${where}: not a map`);
      keys(value, ["timestamp", "messages"], where, problems);
      timestampProblem(value.timestamp, where, problems, true);
      if (!Array.isArray(value.messages)) {
        return void problems.push(`${where}.messages: not an array`);
      }
      value.messages.forEach((message, i) => {
        const at = `${where}.messages[${i}]`;
        if (!isMap(message)) return void problems.push(`${at}: not a map`);
        keys(message, ["topic", "data"], at, problems);
        if (typeof message.topic !== "string") {
          return void problems.push(`${at}.topic: not a string`);
        }
        const inner = message.topic.split("/")[0];
        if (!["@update", "@didSet", "@transaction", "@logs"].includes(inner)) {
          problems.push(`${at}.topic: ${inner} is not allowed in @delayed (the whole batch fails)`);
          return;
        }
        if (message.data === undefined) return void problems.push(`${at}.data: missing`);
        checkPayload(inner, message.data, `${at}.data`, problems);
      });
      return;
    }
  }
}

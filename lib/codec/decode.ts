/**
 * Decoding what arrives from the cloud: format detection by first byte (protocol §5.1), JSON and
 * CBOR (definite and indefinite-length maps), and the lenient reading of `@set` that §6.4 asks
 * for. Every refusal is a {@linkcode ProtocolError} with a reason code.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { decode as decodeCbor } from "npm:cborg@6.1.5";
import { ProtocolError } from "../errors.ts";
import type { MessageFormat } from "../model/types.ts";
import { isRecord } from "../_record.ts";
import { fromWireTime } from "./encode.ts";

/** The largest inbound payload accepted by default, in bytes. */
export const DEFAULT_MAX_PAYLOAD = 64 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Tells the format of a payload by its first byte, as the cloud does: `{` is JSON, a CBOR map
 * header (0xA0–0xBF, definite or indefinite length) is CBOR.
 *
 * @param payload The payload.
 * @returns The format, or `undefined` when neither.
 *
 * @example
 * ```ts
 * import { detectFormat } from "./decode.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(detectFormat(new TextEncoder().encode("{}")), "JSON");
 * assert.equal(detectFormat(new Uint8Array([0xbf, 0xff])), "CBOR");
 * assert.equal(detectFormat(new Uint8Array([0x20])), undefined);
 * ```
 */
export function detectFormat(payload: Uint8Array): MessageFormat | undefined {
  if (payload.length === 0) return undefined;
  const first = payload[0];
  if (first === 0x7b) return "JSON";
  if ((first & 0xe0) === 0xa0) return "CBOR";
  return undefined;
}

/** Options of {@linkcode decodePayload}. */
export interface DecodeOptions {
  /** The topic the payload came on, for error messages. */
  topic?: string;
  /**
   * The largest payload accepted, in bytes.
   *
   * @default {65536}
   */
  maxBytes?: number;
}

/**
 * Decodes a JSON or CBOR payload whose top level is a map.
 *
 * @param payload The bytes received.
 * @param options The topic (for messages) and the size limit.
 * @returns The format and the decoded map.
 * @throws {ProtocolError} `too-large`, `unsupported-format` or `malformed-payload`.
 *
 * @example
 * ```ts
 * import { decodePayload } from "./decode.ts";
 * import assert from "node:assert/strict";
 *
 * const { format, value } = decodePayload(new TextEncoder().encode('{"value":1}'));
 * assert.equal(format, "JSON");
 * assert.deepEqual(value, { value: 1 });
 * ```
 */
export function decodePayload(
  payload: Uint8Array,
  options: DecodeOptions = {},
): { format: MessageFormat; value: Record<string, unknown> } {
  const { topic, maxBytes = DEFAULT_MAX_PAYLOAD } = options;
  const where = topic ? ` on ${topic}` : "";
  if (payload.length > maxBytes) {
    throw new ProtocolError(
      `Cannot decode the payload${where}: ${payload.length} bytes exceed the limit of ${maxBytes}`,
      { code: "too-large", topic },
    );
  }
  const format = detectFormat(payload);
  if (!format) {
    const first = payload.length ? `0x${payload[0].toString(16).padStart(2, "0")}` : "empty";
    throw new ProtocolError(
      `Cannot decode the payload${where}: first byte ${first} is neither JSON "{" nor a CBOR map`,
      { code: "unsupported-format", topic },
    );
  }
  let value: unknown;
  try {
    value = format === "JSON" ? JSON.parse(utf8.decode(payload)) : decodeCbor(payload, {
      rejectDuplicateMapKeys: true,
      allowUndefined: false,
      allowBigInt: true,
    });
  } catch (cause) {
    const reason = cause instanceof RangeError ? "it is nested too deeply" : String(
      (cause as Error)?.message ?? cause,
    );
    throw new ProtocolError(`Cannot decode the ${format} payload${where}: ${reason}`, {
      code: "malformed-payload",
      topic,
      cause,
    });
  }
  if (!isRecord(value)) {
    throw new ProtocolError(`Cannot decode the ${format} payload${where}: it is not a map`, {
      code: "malformed-payload",
      topic,
    });
  }
  return { format, value };
}

/** What a `@set` asks for, read leniently. */
export interface SetCommand {
  /** The requested value, not yet converted to the attribute's type. */
  value: unknown;
  /**
   * When the cloud set it, in milliseconds (not yet checked for plausibility); absent when the
   * message carried none.
   */
  timestamp?: number;
  /** The correlation ID, when the sender gave one; kept internal (protocol §6.5). */
  correlationID?: string;
}

/** Timestamps above this many seconds (year 5138) are taken to be milliseconds. */
const MS_THRESHOLD = 1e11;

/**
 * Reads a `@set` payload leniently (protocol §6.4): unknown keys are ignored and `constraint` and
 * `type` are not required. A timestamp written in milliseconds (the public documentation's habit)
 * is recognised by its size and kept as such. Whether the timestamp is there and plausible is for
 * the caller to judge (see `lib/inbound/set.ts`).
 *
 * @param body The decoded payload.
 * @param topic The topic, for error messages.
 * @returns The command.
 * @throws {ProtocolError} `malformed-payload` when `value` is missing or null;
 * `invalid-timestamp` when the timestamp is not a number.
 *
 * @example
 * ```ts
 * import { parseSetCommand } from "./decode.ts";
 * import assert from "node:assert/strict";
 *
 * const set = parseSetCommand({ value: 20.5, timestamp: 1700000123.456, extra: true });
 * assert.deepEqual(set, { value: 20.5, timestamp: 1700000123456 });
 * ```
 */
export function parseSetCommand(body: Record<string, unknown>, topic?: string): SetCommand {
  const where = topic ? ` on ${topic}` : "";
  const { value, timestamp, correlationID } = body;
  if (value === undefined || value === null) {
    throw new ProtocolError(`Cannot apply the @set${where}: it has no value`, {
      code: "malformed-payload",
      topic,
    });
  }
  const command: SetCommand = { value };
  if (timestamp !== undefined && timestamp !== null) {
    const seconds = typeof timestamp === "bigint" ? Number(timestamp) : timestamp;
    if (typeof seconds !== "number") {
      throw new ProtocolError(
        `Cannot apply the @set${where}: its timestamp ${describe(timestamp)} is not a number`,
        { code: "invalid-timestamp", topic },
      );
    }
    command.timestamp = seconds >= MS_THRESHOLD ? Math.floor(seconds) : fromWireTime(seconds);
  }
  if (typeof correlationID === "string") command.correlationID = correlationID;
  return command;
}

/**
 * Describes a received value for a message, shortened.
 *
 * @param value The value as decoded.
 * @returns The text.
 */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  if (typeof value === "bigint") return `${value}`;
  if (value instanceof Uint8Array) return `a byte string`;
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "a map";
  return String(value);
}

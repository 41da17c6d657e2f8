/**
 * Encoders for every message the endpoint sends, in JSON or CBOR, written to pass the cloud's
 * strict decoder (protocol §5.2): no extra keys, Number values and timestamps always as floats,
 * Integer values as integers, timestamps in seconds, no timestamp on Static attributes.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type {
  AttributeModel,
  EndpointModel,
  MessageFormat,
  NodeModel,
  ObjectModel,
} from "../model/types.ts";
import { ATTRIBUTE_CONSTRAINTS, ATTRIBUTE_TYPES } from "../model/types.ts";
import { attributeMap, objectMap } from "../model/tree.ts";
import type { LogRecord } from "../logs/levels.ts";
import {
  CborWriter,
  createWriter,
  jsonFloat,
  jsonString,
  JsonWriter,
  type Writer,
} from "./writer.ts";

/** The protocol version announced in `@online`. */
export const PROTOCOL_VERSION = "v0.2";

/** Converts milliseconds to the seconds the wire uses. */
export function toWireTime(ms: number): number {
  return ms / 1000;
}

/**
 * Converts a wire timestamp (seconds, fraction allowed) to milliseconds, absorbing the rounding
 * error of `seconds * 1000` so that `1700000123.456` becomes `1700000123456`, not `…455`.
 *
 * @param seconds Seconds since the epoch.
 * @returns Whole milliseconds since the epoch.
 *
 * @example
 * ```ts
 * import { fromWireTime } from "./encode.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(fromWireTime(1700000123.456), 1700000123456);
 * ```
 */
export function fromWireTime(seconds: number): number {
  return Math.floor(seconds * 1000 + 0.001);
}

/**
 * Writes one attribute as the cloud expects it (protocol §6.1).
 *
 * @param w The writer.
 * @param attribute The attribute; `value` and `timestamp` are written when present.
 */
export function writeAttribute(w: Writer, attribute: AttributeModel): void {
  writeState(w, attribute.type, attribute.constraint, attribute.value, attribute.timestamp);
}

/**
 * Writes an attribute from its parts (no object needed).
 *
 * @param w The writer.
 * @param type Its type.
 * @param constraint Its constraint.
 * @param value Its value, if any.
 * @param timestamp Its timestamp in ms, if any.
 */
export function writeState(
  w: Writer,
  type: AttributeModel["type"],
  constraint: AttributeModel["constraint"],
  value: AttributeModel["value"],
  timestamp: number | undefined,
): void {
  const withTime = timestamp !== undefined && constraint !== "Static";
  const withValue = value !== undefined;
  const pieces = FIXED[type]?.[constraint];
  if (pieces && w instanceof JsonWriter) {
    // One string per attribute: the type and constraint are enum names, never escaped.
    let text = pieces.json;
    if (withTime) text += `,"timestamp":${jsonFloat(toWireTime(timestamp))}`;
    if (withValue) {
      text += `,"value":${
        type === "Number"
          ? jsonFloat(value as number)
          : type === "String"
          ? jsonString(value as string)
          : String(value)
      }`;
    }
    w.literal(text + "}");
    return;
  }
  w.map(2 + (withTime ? 1 : 0) + (withValue ? 1 : 0));
  if (pieces && w instanceof CborWriter) w.raw(pieces.cbor); // "type": T, "constraint": C
  else {
    w.key("type");
    w.string(type);
    w.key("constraint");
    w.string(constraint);
  }
  if (withTime) {
    w.key("timestamp");
    w.float(toWireTime(timestamp));
  }
  if (withValue) {
    w.key("value");
    if (type === "Boolean") w.boolean(value as boolean);
    else if (type === "Integer") w.integer(value as number);
    else if (type === "Number") w.float(value as number);
    else w.string(value as string);
  }
  w.end();
}

// The fixed head of every attribute, per type and constraint, ready to splice.
const FIXED: Record<string, Record<string, { json: string; cbor: Uint8Array }>> = {};
for (const type of ATTRIBUTE_TYPES) {
  FIXED[type] = {};
  for (const constraint of ATTRIBUTE_CONSTRAINTS) {
    const w = new CborWriter(64);
    w.key("type");
    w.string(type);
    w.key("constraint");
    w.string(constraint);
    FIXED[type][constraint] = {
      json: `{"type":"${type}","constraint":"${constraint}"`,
      cbor: w.finish(),
    };
  }
}

/**
 * An attribute as the tree encoder reads it: the live `CloudioAttribute` class and plain
 * {@linkcode AttributeModel} data both fit.
 */
export interface TreeAttribute {
  /** The value's type. */
  readonly type: AttributeModel["type"];
  /** The constraint. */
  readonly constraint: AttributeModel["constraint"];
  /** The value, if any. */
  readonly value?: AttributeModel["value"];
  /** The timestamp in ms, if any. */
  readonly timestamp?: number;
}

/** An object as the tree encoder reads it: the live `CloudioObject` class fits. */
export interface TreeObject {
  /** The class it conforms to, if any. */
  readonly conforms?: string;
  /** Child objects by name, in order. */
  readonly [objectMap]: ReadonlyMap<string, TreeObject>;
  /** Attributes by name, in order. */
  readonly [attributeMap]: ReadonlyMap<string, TreeAttribute>;
}

/** A node as the tree encoder reads it: the live `CloudioNode` class fits. */
export interface TreeNode {
  /** The interfaces it implements. */
  readonly implements: readonly string[];
  /** Objects by name, in order. */
  readonly [objectMap]: ReadonlyMap<string, TreeObject>;
}

function writeObject(w: Writer, object: TreeObject): void {
  const withConforms = object.conforms !== undefined;
  w.map(withConforms ? 3 : 2);
  if (withConforms) {
    w.key("conforms");
    w.string(object.conforms!);
  }
  w.key("objects");
  const objects = object[objectMap];
  w.map(objects.size);
  for (const [name, child] of objects) {
    w.key(name);
    writeObject(w, child);
  }
  w.end();
  w.key("attributes");
  const attributes = object[attributeMap];
  w.map(attributes.size);
  for (const [name, a] of attributes) {
    w.key(name);
    writeState(w, a.type, a.constraint, a.value, a.timestamp);
  }
  w.end();
  w.end();
}

/**
 * Writes one node (protocol §6.3), always with `implements` and `objects`.
 *
 * @param w The writer.
 * @param node The node: a live one, or plain data through {@linkcode nodeTree}.
 */
export function writeNode(w: Writer, node: TreeNode): void {
  w.map(2);
  w.key("implements");
  w.array(node.implements.length);
  for (const name of node.implements) w.string(name);
  w.end();
  w.key("objects");
  const objects = node[objectMap];
  w.map(objects.size);
  for (const [name, object] of objects) {
    w.key(name);
    writeObject(w, object);
  }
  w.end();
  w.end();
}

function mapOf<T, U>(record: Record<string, T> | undefined, to: (item: T) => U): Map<string, U> {
  const map = new Map<string, U>();
  for (const [name, item] of Object.entries(record ?? {})) map.set(name, to(item));
  return map;
}

function objectTree(object: ObjectModel): TreeObject {
  return {
    conforms: object.conforms,
    [objectMap]: mapOf(object.objects, objectTree),
    [attributeMap]: mapOf(object.attributes, (attribute) => attribute),
  };
}

/**
 * Reads a node given as plain data as a tree, for the encoders.
 *
 * @param node The node as plain data.
 * @returns The same node as a tree.
 */
export function nodeTree(node: NodeModel): TreeNode {
  return { implements: node.implements ?? [], [objectMap]: mapOf(node.objects, objectTree) };
}

/**
 * Reads a model given as plain data as the tree of its nodes, for {@linkcode encodeEndpoint}.
 *
 * @param model The model as plain data.
 * @returns Its nodes by name, as trees.
 */
export function modelTree(model: EndpointModel): ReadonlyMap<string, TreeNode> {
  return mapOf(model.nodes, nodeTree);
}

/**
 * Encodes an attribute's state for `@update` from its parts, without building an object: the
 * hot path of every value the device sets.
 *
 * @param format The message format.
 * @param type The attribute's type.
 * @param constraint Its constraint.
 * @param value Its value.
 * @param timestamp Its timestamp in ms.
 * @returns The payload.
 */
export function encodeState(
  format: MessageFormat,
  type: AttributeModel["type"],
  constraint: AttributeModel["constraint"],
  value: AttributeModel["value"],
  timestamp: number | undefined,
): Uint8Array {
  const w = createWriter(format);
  writeState(w, type, constraint, value, timestamp);
  return w.finish();
}

/**
 * Encodes an attribute for `@update`, `@didSet` or `@set`.
 *
 * @param format The message format.
 * @param attribute The attribute with its value and timestamp.
 * @returns The payload.
 *
 * @example
 * ```ts
 * import { encodeAttribute } from "./encode.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeAttribute("JSON", {
 *   type: "Number",
 *   constraint: "Measure",
 *   value: 3,
 *   timestamp: 1700000000250,
 * });
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   '{"type":"Number","constraint":"Measure","timestamp":1700000000.25,"value":3.0}',
 * );
 * ```
 */
export function encodeAttribute(format: MessageFormat, attribute: AttributeModel): Uint8Array {
  const w = createWriter(format);
  writeAttribute(w, attribute);
  return w.finish();
}

/**
 * Encodes the `@online` payload: the whole endpoint model (protocol §6.2), written straight from
 * the tree (the `@online` of an endpoint with thousands of attributes is sent on every reconnect).
 *
 * @param format The message format.
 * @param nodes The nodes by name: the live ones, or plain data through {@linkcode modelTree}.
 * @param supportedFormats The formats the endpoint accepts, announced to the cloud.
 * @returns The payload.
 *
 * @example
 * ```ts
 * import { encodeEndpoint, modelTree } from "./encode.ts";
 * import assert from "node:assert/strict";
 *
 * const json = new TextDecoder().decode(
 *   encodeEndpoint("JSON", modelTree({ nodes: {} }), ["JSON", "CBOR"]),
 * );
 * assert.equal(
 *   json,
 *   '{"version":"v0.2","messageFormatVersion":2,"supportedFormats":["JSON","CBOR"],"nodes":{}}',
 * );
 * ```
 */
export function encodeEndpoint(
  format: MessageFormat,
  nodes: ReadonlyMap<string, TreeNode>,
  supportedFormats: readonly MessageFormat[],
): Uint8Array {
  const w = createWriter(format);
  w.map(4);
  w.key("version");
  w.string(PROTOCOL_VERSION);
  w.key("messageFormatVersion");
  w.integer(2);
  w.key("supportedFormats");
  w.array(supportedFormats.length);
  for (const f of supportedFormats) w.string(f);
  w.end();
  w.key("nodes");
  w.map(nodes.size);
  for (const [name, node] of nodes) {
    w.key(name);
    writeNode(w, node);
  }
  w.end();
  w.end();
  return w.finish();
}

/**
 * Encodes the `@nodeAdded` payload: one node.
 *
 * @param format The message format.
 * @param node The node: a live one, or plain data through {@linkcode nodeTree}.
 * @returns The payload.
 *
 * @example
 * ```ts
 * import { encodeNode, nodeTree } from "./encode.ts";
 * import assert from "node:assert/strict";
 *
 * const json = new TextDecoder().decode(
 *   encodeNode("JSON", nodeTree({ implements: ["I"], objects: {} })),
 * );
 * assert.equal(json, '{"implements":["I"],"objects":{}}');
 * ```
 */
export function encodeNode(format: MessageFormat, node: TreeNode): Uint8Array {
  const w = createWriter(format);
  writeNode(w, node);
  return w.finish();
}

/**
 * Writes a `@transaction` body: attributes keyed by their full path with the endpoint UUID.
 *
 * @param w The writer.
 * @param attributes Pairs of `<uuid>/<node>/<object…>/<attribute>` and attribute.
 */
export function writeTransaction(
  w: Writer,
  attributes: readonly (readonly [string, AttributeModel])[],
): void {
  w.map(1);
  w.key("attributes");
  w.map(attributes.length);
  for (const [path, attribute] of attributes) {
    w.key(path);
    writeAttribute(w, attribute);
  }
  w.end();
  w.end();
}

/**
 * Encodes a `@transaction` payload (protocol §6.6).
 *
 * @param format The message format.
 * @param attributes Pairs of full path (with the endpoint UUID) and attribute.
 * @returns The payload.
 *
 * @example
 * ```ts
 * import { encodeTransaction } from "./encode.ts";
 * import assert from "node:assert/strict";
 *
 * const json = new TextDecoder().decode(encodeTransaction("JSON", [
 *   ["u/n/o/a", { type: "Integer", constraint: "Status", value: 1, timestamp: 1000 }],
 * ]));
 * assert.equal(
 *   json,
 *   '{"attributes":{"u/n/o/a":{"type":"Integer","constraint":"Status","timestamp":1.0,"value":1}}}',
 * );
 * ```
 */
export function encodeTransaction(
  format: MessageFormat,
  attributes: readonly (readonly [string, AttributeModel])[],
): Uint8Array {
  const w = createWriter(format);
  writeTransaction(w, attributes);
  return w.finish();
}

/**
 * Writes a `@logs` body (protocol §6.8).
 *
 * @param w The writer.
 * @param record The record.
 */
export function writeLog(w: Writer, record: LogRecord): void {
  w.map(5);
  w.key("level");
  w.string(record.level);
  w.key("timestamp");
  w.float(toWireTime(record.timestamp));
  w.key("message");
  w.string(record.message);
  w.key("loggerName");
  w.string(record.loggerName ?? "");
  w.key("logSource");
  w.string(record.logSource ?? "");
  w.end();
}

/**
 * Encodes a `@logs` payload.
 *
 * @param format The message format.
 * @param record The record.
 * @returns The payload.
 *
 * @example
 * ```ts
 * import { encodeLog } from "./encode.ts";
 * import assert from "node:assert/strict";
 *
 * const json = new TextDecoder().decode(
 *   encodeLog("JSON", { level: "WARN", timestamp: 1500, message: "hot" }),
 * );
 * assert.equal(
 *   json,
 *   '{"level":"WARN","timestamp":1.5,"message":"hot","loggerName":"","logSource":""}',
 * );
 * ```
 */
export function encodeLog(format: MessageFormat, record: LogRecord): Uint8Array {
  const w = createWriter(format);
  writeLog(w, record);
  return w.finish();
}

/**
 * Encodes an `@execOutput` payload (protocol §6.9): exactly `correlationID` and `data`.
 *
 * @param format The message format.
 * @param output The correlation ID of the job and one line of output.
 * @returns The payload.
 *
 * @example
 * ```ts
 * import { encodeExecOutput } from "./encode.ts";
 * import assert from "node:assert/strict";
 *
 * const json = new TextDecoder().decode(
 *   encodeExecOutput("JSON", { correlationID: "job-1", data: "ok" }),
 * );
 * assert.equal(json, '{"correlationID":"job-1","data":"ok"}');
 * ```
 */
export function encodeExecOutput(
  format: MessageFormat,
  output: { correlationID: string; data: string },
): Uint8Array {
  const w = createWriter(format);
  w.map(2);
  w.key("correlationID");
  w.string(output.correlationID);
  w.key("data");
  w.string(output.data);
  w.end();
  return w.finish();
}

/** One message carried inside `@delayed`: its full topic and its payload, already encoded. */
export interface DelayedEntry {
  /** The full topic with its action, `/`-separated: `@update/<uuid>/node/object/attribute`. */
  topic: string;
  /** The payload, encoded in the same format as the `@delayed` that carries it. */
  payload: Uint8Array;
}

/**
 * Encodes a `@delayed` payload (protocol §6.7). The stored payloads are spliced in whole, so a
 * replayed message is byte for byte what would have been sent live.
 *
 * @param format The message format; every entry's payload must be in it.
 * @param timestamp When the batch is sent, in milliseconds since the epoch.
 * @param messages The messages; only `@update`, `@transaction` and `@logs` belong here.
 * @returns The payload.
 *
 * @example
 * ```ts
 * import { encodeAttribute, encodeDelayed } from "./encode.ts";
 * import assert from "node:assert/strict";
 *
 * const payload = encodeAttribute("JSON", {
 *   type: "Boolean",
 *   constraint: "Status",
 *   value: true,
 *   timestamp: 1000,
 * });
 * const json = new TextDecoder().decode(
 *   encodeDelayed("JSON", 2000, [{ topic: "@update/u/n/o/a", payload }]),
 * );
 * assert.deepEqual(JSON.parse(json).messages[0].data.value, true);
 * assert.match(json, /^\{"timestamp":2\.0,"messages":\[\{"topic":"@update\/u\/n\/o\/a","data":\{/);
 * ```
 */
export function encodeDelayed(
  format: MessageFormat,
  timestamp: number,
  messages: readonly DelayedEntry[],
): Uint8Array {
  const w = delayedHead(format, timestamp, messages.length);
  for (const message of messages) {
    w.map(2);
    w.key("topic");
    w.string(message.topic);
    w.key("data");
    w.raw(message.payload);
    w.end();
  }
  w.end();
  w.end();
  return w.finish();
}

// A @delayed payload up to its messages: {"timestamp": …, "messages": [ — the array left open.
function delayedHead(format: MessageFormat, timestamp: number, count: number): Writer {
  const w = createWriter(format);
  w.map(2);
  w.key("timestamp");
  w.float(toWireTime(timestamp));
  w.key("messages");
  w.array(count);
  return w;
}

/**
 * Encodes a `@delayed` payload around messages encoded already (a store's run: see
 * `OutboxStore.encodeRun`): the same bytes as {@linkcode encodeDelayed} for those messages.
 *
 * @param format The message format.
 * @param timestamp When the batch is sent, in milliseconds since the epoch.
 * @param count How many messages `items` holds.
 * @param items The items of the `messages` array, one after the other (JSON: comma-separated).
 * @returns The payload, in a buffer of its own.
 *
 * @example
 * ```ts
 * import { encodeDelayed, encodeDelayedRun } from "./encode.ts";
 * import assert from "node:assert/strict";
 *
 * const item = new TextEncoder().encode('{"topic":"@update/u/n/o/a","data":{"value":1}}');
 * const payload = encodeDelayedRun("JSON", 2000, 1, item);
 * assert.deepEqual(
 *   payload,
 *   encodeDelayed("JSON", 2000, [
 *     { topic: "@update/u/n/o/a", payload: new TextEncoder().encode('{"value":1}') },
 *   ]),
 * );
 * ```
 */
export function encodeDelayedRun(
  format: MessageFormat,
  timestamp: number,
  count: number,
  items: Uint8Array,
): Uint8Array {
  // What is written so far (a writer's finish() closes nothing); JSON then closes both.
  const head = delayedHead(format, timestamp, count).finish();
  const tail = format === "JSON" ? 2 : 0;
  const payload = new Uint8Array(head.length + items.length + tail);
  payload.set(head);
  payload.set(items, head.length);
  if (tail) payload.set([0x5d, 0x7d], head.length + items.length); // ]}
  return payload;
}

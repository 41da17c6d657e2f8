/**
 * Reads an endpoint model from JSON: the `@online` payload (protocol §6.2), which is also our own
 * model file format (described by `model.schema.json`), or the Java reference's node-factory
 * document (protocol §10.2). The result is plain, validated data; nothing is connected.
 *
 * How the two formats are told apart: a document is a Java node-factory document when its top
 * level has a `properties` key, or when one of its nodes has a `type` or a `properties` key.
 * Every other document is read as the `@online` shape.
 *
 * Timestamps are seconds on the wire and in these files; the model keeps milliseconds
 * (`Math.floor(seconds * 1000 + 0.001)`).
 *
 * This module is browser compatible.
 *
 * @module
 */

import { isPlainObject, putOwn } from "../lib/_record.ts";
import { fromWireTime } from "../lib/codec/encode.ts";
import { timeProblem } from "../lib/time.ts";
import { ModelError, type ModelProblem } from "../lib/errors.ts";
import { childLocation, lineColumn, show, textLocation } from "../lib/model/_location.ts";
import type { EndpointModel, NodeModel } from "../lib/model/types.ts";
import { modelProblems, nodeProblems } from "../lib/model/validate.ts";

/** Options of the model connectors. */
export interface ConnectorOptions {
  /**
   * The name of the file the model comes from, used in error messages and text locations
   * (`model.xml:3:5`).
   *
   * @default {undefined}
   */
  source?: string;
}

/**
 * Reads a whole endpoint model from JSON.
 *
 * Two formats are accepted, told apart by shape:
 *
 * - The Java node-factory document, `{"properties": …, "nodes": {NAME: {"type": …,
 *   "properties": …, "objects": …}}}`, recognized by a top-level `properties` key or by a
 *   `type` or `properties` key on any node. As in the Java factory, unknown keys are ignored,
 *   nodes implement no interface, and an object `type` other than `"CloudioObject"` becomes the
 *   object's `conforms`. Attributes take only `type` and `constraint`.
 * - Otherwise, the `@online` shape (protocol §6.2), which is also our own model file format:
 *   optional `version`, `messageFormatVersion` and `supportedFormats` (checked, then dropped), an
 *   optional `$schema` (a string, ignored, for editors), and `nodes`. Attributes
 *   may carry a `value` and a `timestamp` in seconds. Unknown keys are problems, and `null` for an
 *   optional key means that the key is absent.
 *
 * The result always has every key: each node has `implements` and `objects`, each object has
 * `objects` and `attributes` (and `conforms` when given).
 *
 * @param input JSON text, or the already-parsed document. A string is always parsed as JSON.
 * @param options The file name for messages.
 * @returns The model, with timestamps in milliseconds.
 * @throws {ModelError} When the text is not JSON (the location is `line:column`, prefixed by
 * the source when given) or when the document has problems (each located by a JSON path such
 * as `$.nodes.Pump.objects.Status`); every problem is listed and no partial model is returned.
 *
 * @example Reading our JSON model format
 * ```ts
 * import { modelFromJson } from "./json.ts";
 * import assert from "node:assert/strict";
 *
 * const model = modelFromJson(`{
 *   "nodes": {
 *     "Pump": {
 *       "implements": ["PumpInterface"],
 *       "objects": {
 *         "Status": {
 *           "attributes": {
 *             "flow": {
 *               "type": "Number", "constraint": "Measure", "value": 1.5, "timestamp": 1700000000.25
 *             }
 *           }
 *         }
 *       }
 *     }
 *   }
 * }`);
 * assert.deepEqual(model.nodes.Pump.objects!.Status.attributes!.flow, {
 *   type: "Number",
 *   constraint: "Measure",
 *   value: 1.5,
 *   timestamp: 1700000000250,
 * });
 * ```
 *
 * @example Reading a Java node-factory document
 * ```ts
 * import { modelFromJson } from "./json.ts";
 * import assert from "node:assert/strict";
 *
 * const model = modelFromJson({
 *   properties: {},
 *   nodes: {
 *     Pump: {
 *       type: "CloudioNode",
 *       objects: {
 *         Status: {
 *           type: "PumpStatus",
 *           attributes: { flow: { type: "Number", constraint: "Measure" } },
 *         },
 *       },
 *     },
 *   },
 * });
 * assert.deepEqual(model.nodes.Pump, {
 *   implements: [],
 *   objects: {
 *     Status: {
 *       conforms: "PumpStatus",
 *       objects: {},
 *       attributes: { flow: { type: "Number", constraint: "Measure" } },
 *     },
 *   },
 * });
 * ```
 *
 * @example Every problem is reported
 * ```ts
 * import { modelFromJson } from "./json.ts";
 * import { ModelError } from "../lib/errors.ts";
 * import assert from "node:assert/strict";
 *
 * const text = `{"nodes": {"a.b": {"objects": {"o": {"attributes": {
 *   "x": {"type": "Float", "constraint": "Measure"}
 * }}}}}}`;
 * assert.throws(
 *   () => modelFromJson(text),
 *   (error) =>
 *     error instanceof ModelError &&
 *     error.problems.map((p) => p.location).join() ===
 *       '$.nodes["a.b"],$.nodes["a.b"].objects.o.attributes.x.type',
 * );
 * ```
 */
export function modelFromJson(
  input: string | unknown,
  options: ConnectorOptions = {},
): EndpointModel {
  const { source } = options;
  const { value: document, problems, offsets } = parseInput(input, source);
  const model = isFactory(document)
    ? factoryModel(document, problems)
    : wireModel(document, "$", problems);
  problems.push(...modelProblems(model));
  if (problems.length > 0) {
    throw new ModelError(inDocumentOrder(problems, offsets), { source });
  }
  return model as EndpointModel;
}

/**
 * Reads one node from JSON, in the shape of the `@nodeAdded` payload and of each entry of the
 * `@online` `nodes` (protocol §6.3): `implements` and `objects`; attributes may carry a `value`
 * and a `timestamp` in seconds. Unknown keys are problems and `null` for an optional key means
 * that the key is absent. The node's name is not part of it, so it is not checked.
 *
 * @param input JSON text, or the already-parsed node. A string is always parsed as JSON.
 * @param options The file name for messages.
 * @returns The node, with timestamps in milliseconds, every key present.
 * @throws {ModelError} When the text is not JSON or the node has problems; every problem is
 * listed, located by `line:column` for syntax errors and by a JSON path (`$.objects.o`) otherwise.
 *
 * @example
 * ```ts
 * import { nodeFromJson } from "./json.ts";
 * import assert from "node:assert/strict";
 *
 * const node = nodeFromJson(
 *   `{"implements": [], "objects": {"o": {"conforms": null, "objects": {}, "attributes": {
 *     "on": {"type": "Boolean", "constraint": "Status", "timestamp": 12345.678, "value": true}
 *   }}}}`,
 * );
 * assert.deepEqual(node.objects!.o.attributes!.on, {
 *   type: "Boolean",
 *   constraint: "Status",
 *   timestamp: 12345678,
 *   value: true,
 * });
 * ```
 */
export function nodeFromJson(input: string | unknown, options: ConnectorOptions = {}): NodeModel {
  const { source } = options;
  const { value: document, problems, offsets } = parseInput(input, source);
  const node = wireNode(document, "$", [], problems);
  problems.push(...nodeProblems(node, "$"));
  if (problems.length > 0) {
    throw new ModelError(inDocumentOrder(problems, offsets), { source });
  }
  return node as NodeModel;
}

// ---------------------------------------------------------------------------------------------
// Parsing

function parseInput(
  input: unknown,
  source: string | undefined,
): { value: unknown; problems: ModelProblem[]; offsets?: ReadonlyMap<string, number> } {
  if (typeof input !== "string") return { value: input, problems: [] };
  // A byte order mark is not JSON. Positions are counted without it, as editors do.
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const found = scanJson(text).error ?? fallbackError(text, cause);
    const { line, column } = lineColumn(text, found.offset);
    throw new ModelError(
      [{ location: textLocation(source, line, column), message: found.message }],
      { source, cause },
    );
  }
  const problems: ModelProblem[] = [];
  const scan = scanJson(text);
  for (const duplicate of scan.duplicates) {
    const at = lineColumn(text, duplicate.offset);
    const first = lineColumn(text, duplicate.first);
    problems.push({
      location: duplicate.location,
      message: `Duplicate key ${show(duplicate.key)} at ${at.line}:${at.column} ` +
        `(first at ${first.line}:${first.column}): ` +
        "the cloud refuses duplicate keys and JSON keeps only the last one",
    });
  }
  return { value, problems, offsets: scan.offsets };
}

/**
 * Puts problems in document order, by the offset of the key their location names (or of its
 * closest ancestor that is in the text, for a missing key). Stable for equal offsets.
 */
function inDocumentOrder(
  problems: ModelProblem[],
  offsets: ReadonlyMap<string, number> | undefined,
): ModelProblem[] {
  if (offsets === undefined || offsets.size === 0) return problems;
  const offsetOf = (location: string): number => {
    for (let at = location; at.length > 0;) {
      const offset = offsets.get(at);
      if (offset !== undefined) return offset;
      at = at.slice(0, Math.max(at.lastIndexOf("."), at.lastIndexOf("["), 0));
    }
    return 0;
  };
  return problems
    .map((problem, index) => ({ problem, index, offset: offsetOf(problem.location) }))
    .sort((a, b) => a.offset - b.offset || a.index - b.index)
    .map((entry) => entry.problem);
}

function fallbackError(text: string, cause: unknown): { offset: number; message: string } {
  const message = cause instanceof Error ? cause.message : String(cause);
  const position = /at position (\d+)/.exec(message);
  return { offset: position ? Number(position[1]) : text.length, message };
}

interface JsonScan {
  error?: { offset: number; message: string };
  duplicates: { location: string; key: string; offset: number; first: number }[];
  /** The offset of each key (or array item) by JSON path; the first one for duplicate keys. */
  offsets: Map<string, number>;
}

/**
 * Walks JSON text without building values: finds the first syntax error with its offset (V8's
 * `JSON.parse` messages do not always carry one) and every duplicate key with its JSON path.
 */
function scanJson(text: string): JsonScan {
  const duplicates: JsonScan["duplicates"] = [];
  const offsets = new Map<string, number>([["$", 0]]);
  let i = 0;
  const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

  class Stop {
    constructor(readonly offset: number, readonly message: string) {}
  }
  function describe(at: number): string {
    return at >= text.length ? "end of input" : `character ${JSON.stringify(text[at])}`;
  }
  function fail(expectation: string, at = i): never {
    throw new Stop(at, `Unexpected ${describe(at)}: expected ${expectation}`);
  }
  function space(): void {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  }
  function string(): void {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) fail("a closing '\"'");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            fail("four hexadecimal digits after \\u", i + 2);
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          fail('an escape: one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX', i + 1);
        }
      } else if (c < 0x20) {
        fail("no control character inside a string (use an escape)");
      } else {
        i++;
      }
    }
  }
  function value(path: string): void {
    space();
    const c = text[i];
    if (c === "{") {
      i++;
      space();
      if (text[i] === "}") {
        i++;
        return;
      }
      const seen = new Map<string, number>();
      for (;;) {
        space();
        if (text[i] !== '"') fail("a key in double quotes");
        const start = i;
        string();
        const key = JSON.parse(text.slice(start, i)) as string;
        const keyPath = childLocation(path, key);
        const first = seen.get(key);
        if (first === undefined) {
          seen.set(key, start);
          offsets.set(keyPath, start);
        } else {
          duplicates.push({ location: keyPath, key, offset: start, first });
        }
        space();
        if (text[i] !== ":") fail('":" after the key');
        i++;
        value(keyPath);
        space();
        if (text[i] === "}") break;
        if (text[i] !== ",") fail('"," or "}" after the value');
        i++;
      }
      i++;
      return;
    }
    if (c === "[") {
      i++;
      space();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (let index = 0;; index++) {
        space();
        offsets.set(childLocation(path, index), i);
        value(childLocation(path, index));
        space();
        if (text[i] === "]") break;
        if (text[i] !== ",") fail('"," or "]" after the value');
        i++;
      }
      i++;
      return;
    }
    if (c === '"') return string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (!match) fail("a digit", i + 1);
      i += match[0].length;
      return;
    }
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    fail("a value");
  }

  try {
    value("$");
    space();
    if (i < text.length) fail("nothing after the JSON value");
    return { duplicates, offsets };
  } catch (stop) {
    if (stop instanceof Stop) return { error: stop, duplicates, offsets };
    return { duplicates: [], offsets: new Map() }; // e.g. too deeply nested for this walker
  }
}

// ---------------------------------------------------------------------------------------------
// The @online shape (also our model format): a normalizing copy, seconds turned into ms. Unknown
// keys and values of the wrong kind are copied as they are, so that validate.ts reports them at
// the same JSON path as in the document.

function wireModel(document: unknown, location: string, problems: ModelProblem[]): unknown {
  if (!isPlainObject(document)) return document;
  const model: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(document)) {
    const at = childLocation(location, key);
    switch (key) {
      case "version":
        if (value !== null && typeof value !== "string") {
          problems.push({
            location: at,
            message: `Expected a string: current value is ${show(value)}`,
          });
        }
        break;
      case "messageFormatVersion":
        if (value !== null && !(Number.isSafeInteger(value) && (value as number) >= 1)) {
          problems.push({
            location: at,
            message: `Expected an integer ≥ 1: current value is ${show(value)}`,
          });
        }
        break;
      case "supportedFormats":
        formatsProblems(value, at, problems);
        break;
      case "$schema":
        if (typeof value !== "string") {
          problems.push({
            location: at,
            message: `Expected a string: current value is ${show(value)}`,
          });
        }
        break;
      case "nodes":
        if (isPlainObject(value)) {
          const nodes: Record<string, unknown> = {};
          for (const [name, node] of Object.entries(value)) {
            putOwn(nodes, name, wireNode(node, childLocation(at, name), [], problems));
          }
          model.nodes = nodes;
        } else {
          model.nodes = value;
        }
        break;
      default:
        putOwn(model, key, value);
    }
  }
  if (document.messageFormatVersion === 2 && document.supportedFormats == null) {
    problems.push({
      location: childLocation(location, "supportedFormats"),
      message:
        'Missing required key "supportedFormats": it is required when "messageFormatVersion" is 2',
    });
  }
  if (!("nodes" in document) && ("implements" in document || "objects" in document)) {
    problems.push({
      location: childLocation(location, "nodes"),
      message:
        'Missing required key "nodes": this looks like a single node, read it with nodeFromJson()',
    });
    delete model.implements;
    delete model.objects;
    model.nodes = {};
  }
  return model;
}

function formatsProblems(value: unknown, location: string, problems: ModelProblem[]): void {
  if (value === null) return;
  if (!Array.isArray(value)) {
    problems.push({
      location,
      message: `Expected an array of "JSON" and "CBOR": current value is ${show(value)}`,
    });
    return;
  }
  value.forEach((format, index) => {
    if (format !== "JSON" && format !== "CBOR") {
      problems.push({
        location: childLocation(location, index),
        message: `Unknown format ${show(format)}: expected "JSON" or "CBOR"`,
      });
    }
  });
}

function wireNode(
  node: unknown,
  location: string,
  ancestors: object[],
  problems: ModelProblem[],
): unknown {
  if (!isPlainObject(node)) return node;
  const out: Record<string, unknown> = { implements: [], objects: {} };
  for (const [key, value] of Object.entries(node)) {
    if (value === null && (key === "implements" || key === "objects")) continue;
    if (key === "implements") {
      out.implements = Array.isArray(value) ? [...value] : value;
    } else if (key === "objects") {
      out.objects = wireObjects(
        value,
        childLocation(location, key),
        [...ancestors, node],
        problems,
      );
    } else {
      putOwn(out, key, value);
    }
  }
  return out;
}

function wireObjects(
  objects: unknown,
  location: string,
  ancestors: object[],
  problems: ModelProblem[],
): unknown {
  if (!isPlainObject(objects)) return objects;
  const out: Record<string, unknown> = {};
  for (const [name, object] of Object.entries(objects)) {
    putOwn(out, name, wireObject(object, childLocation(location, name), ancestors, problems));
  }
  return out;
}

function wireObject(
  object: unknown,
  location: string,
  ancestors: object[],
  problems: ModelProblem[],
): unknown {
  if (!isPlainObject(object) || ancestors.includes(object)) return object;
  const inner = [...ancestors, object];
  const out: Record<string, unknown> = {};
  if (object.conforms != null) out.conforms = object.conforms;
  out.objects = {};
  out.attributes = {};
  for (const [key, value] of Object.entries(object)) {
    const at = childLocation(location, key);
    if (key === "conforms") continue;
    if (value === null && (key === "objects" || key === "attributes")) continue;
    if (key === "objects") {
      out.objects = wireObjects(value, at, inner, problems);
    } else if (key === "attributes") {
      out.attributes = isPlainObject(value) ? wireAttributes(value, at, problems) : value;
    } else if (key === "type" || key === "properties") {
      problems.push({
        location: at,
        message: `Unknown key "${key}": expected "conforms", "objects", "attributes" (a Java ` +
          'node-factory document is recognized by a top-level "properties" key or by a "type" or ' +
          '"properties" key on a node)',
      });
    } else {
      putOwn(out, key, value);
    }
  }
  return out;
}

function wireAttributes(
  attributes: Record<string, unknown>,
  location: string,
  problems: ModelProblem[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, attribute] of Object.entries(attributes)) {
    const at = childLocation(location, name);
    if (!isPlainObject(attribute)) {
      putOwn(out, name, attribute);
      continue;
    }
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(attribute)) {
      if (value === null && (key === "value" || key === "timestamp")) continue;
      if (key === "timestamp") {
        const ms = typeof value === "number" ? fromWireTime(value) : NaN;
        if (timeProblem(ms) === undefined) {
          copy.timestamp = ms;
        } else {
          problems.push({
            location: childLocation(at, key),
            message: `Expected a timestamp in seconds after the epoch, not after 2262-04-11: ` +
              `current value is ${show(value)}`,
          });
        }
      } else {
        putOwn(copy, key, value);
      }
    }
    putOwn(out, name, copy);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The Java node-factory document (protocol §10.2).

function isFactory(document: unknown): document is Record<string, unknown> {
  if (!isPlainObject(document)) return false;
  if ("properties" in document) return true;
  const nodes = document.nodes;
  if (!isPlainObject(nodes)) return false;
  return Object.values(nodes).some((node) =>
    isPlainObject(node) && ("type" in node || "properties" in node)
  );
}

function factoryModel(document: Record<string, unknown>, problems: ModelProblem[]): unknown {
  const nodes = document.nodes;
  if (!isPlainObject(nodes)) return { nodes };
  const out: Record<string, unknown> = {};
  for (const [name, node] of Object.entries(nodes)) {
    const at = childLocation("$.nodes", name);
    putOwn(
      out,
      name,
      isPlainObject(node)
        ? {
          implements: [],
          objects: factoryObjects(node.objects, childLocation(at, "objects"), [node], problems),
        }
        : node,
    );
  }
  return { nodes: out };
}

function factoryObjects(
  objects: unknown,
  location: string,
  ancestors: object[],
  problems: ModelProblem[],
): unknown {
  if (objects == null) return {};
  if (!isPlainObject(objects)) return objects;
  const out: Record<string, unknown> = {};
  for (const [name, object] of Object.entries(objects)) {
    const at = childLocation(location, name);
    if (!isPlainObject(object) || ancestors.includes(object)) {
      putOwn(out, name, object);
      continue;
    }
    const copy: Record<string, unknown> = {};
    const type = object.type;
    if (typeof type === "string") {
      if (type !== "CloudioObject") copy.conforms = type;
    } else if (type != null) {
      problems.push({
        location: childLocation(at, "type"),
        message: `Expected a string: current value is ${show(type)}`,
      });
    }
    const inner = [...ancestors, object];
    copy.objects = factoryObjects(object.objects, childLocation(at, "objects"), inner, problems);
    copy.attributes = factoryAttributes(object.attributes);
    putOwn(out, name, copy);
  }
  return out;
}

function factoryAttributes(attributes: unknown): unknown {
  if (attributes == null) return {};
  if (!isPlainObject(attributes)) return attributes;
  const out: Record<string, unknown> = {};
  for (const [name, attribute] of Object.entries(attributes)) {
    putOwn(
      out,
      name,
      isPlainObject(attribute)
        ? { type: attribute.type, constraint: attribute.constraint }
        : attribute,
    );
  }
  return out;
}

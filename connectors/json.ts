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
 * The three readers sit beside this file: `_json_text.ts` (JSON text with positions and
 * duplicate keys), `_online_shape.ts` (the `@online` shape) and `_java_factory.ts` (the Java
 * node-factory document). What they return is checked by `lib/model/validate.ts`.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { ModelError } from "../lib/errors.ts";
import type { EndpointModel, NodeModel } from "../lib/model/types.ts";
import { modelProblems, nodeProblems } from "../lib/model/validate.ts";
import { factoryModel, isFactory } from "./_java_factory.ts";
import { inDocumentOrder, parseInput } from "./_json_text.ts";
import { wireModel, wireNode } from "./_online_shape.ts";

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

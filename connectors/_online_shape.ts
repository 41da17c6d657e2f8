/**
 * Private to the JSON connector: the reader of the `@online` shape (protocol §6.2), which is also
 * our own model file format. It makes a normalizing copy, with seconds turned into ms. Unknown
 * keys and values of the wrong kind are copied as they are, so that `validate.ts` reports them at
 * the same JSON path as in the document.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { isPlainObject, putOwn } from "../lib/_record.ts";
import { fromWireTime } from "../lib/codec/encode.ts";
import type { ModelProblem } from "../lib/errors.ts";
import { childLocation, show } from "../lib/model/_location.ts";
import { timeProblem } from "../lib/time.ts";

/**
 * Copies a whole `@online` document: checks and drops `version`, `messageFormatVersion`,
 * `supportedFormats` and `$schema`, and copies `nodes` with {@linkcode wireNode}.
 */
export function wireModel(document: unknown, location: string, problems: ModelProblem[]): unknown {
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

/**
 * Copies one node: `implements` and `objects` always present, timestamps in ms, problems of the
 * timestamps and of Java node-factory keys added to `problems`.
 */
export function wireNode(
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
      if (value === null && (key === "value" || key === "timestamp" || key === "policy")) continue;
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

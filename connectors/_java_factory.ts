/**
 * Private to the JSON connector: the reader of the Java reference's node-factory document
 * (protocol §10.2). As in the Java factory, unknown keys are ignored, nodes implement no
 * interface, an object `type` other than `"CloudioObject"` becomes the object's `conforms`, and
 * attributes take only `type` and `constraint`.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { isPlainObject, putOwn } from "../lib/_record.ts";
import type { ModelProblem } from "../lib/errors.ts";
import { childLocation, show } from "../lib/model/_location.ts";

/**
 * Tells a Java node-factory document: it has a top-level `properties` key, or one of its nodes
 * has a `type` or a `properties` key.
 */
export function isFactory(document: unknown): document is Record<string, unknown> {
  if (!isPlainObject(document)) return false;
  if ("properties" in document) return true;
  const nodes = document.nodes;
  if (!isPlainObject(nodes)) return false;
  return Object.values(nodes).some((node) =>
    isPlainObject(node) && ("type" in node || "properties" in node)
  );
}

/** Copies a Java node-factory document into the shape of an endpoint model. */
export function factoryModel(document: Record<string, unknown>, problems: ModelProblem[]): unknown {
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

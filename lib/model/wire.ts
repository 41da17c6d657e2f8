/**
 * Writes the live model tree straight to the wire, without building the plain-data model first:
 * the `@online` of an endpoint with thousands of attributes is sent on every (re)connect.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { writeEndpointHead, writeState } from "../codec/encode.ts";
import { createWriter, type Writer } from "../codec/writer.ts";
import type { Node } from "./node.ts";
import type { CloudioObject } from "./object.ts";
import type { MessageFormat } from "./types.ts";

function writeObject(w: Writer, object: CloudioObject): void {
  const withConforms = object.conforms !== undefined;
  w.map(withConforms ? 3 : 2);
  if (withConforms) {
    w.key("conforms");
    w.string(object.conforms!);
  }
  w.key("objects");
  w.map(object.objects.size);
  for (const [name, child] of object.objects) {
    w.key(name);
    writeObject(w, child);
  }
  w.end();
  w.key("attributes");
  w.map(object.attributes.size);
  for (const [name, a] of object.attributes) {
    w.key(name);
    writeState(w, a.type, a.constraint, a.value, a.timestamp);
  }
  w.end();
  w.end();
}

/**
 * Writes a node as `@nodeAdded` carries it (and as each entry of `@online`'s `nodes`).
 *
 * @param w The writer.
 * @param node The node.
 */
export function writeLiveNode(w: Writer, node: Node): void {
  w.map(2);
  w.key("implements");
  w.array(node.implements.length);
  for (const name of node.implements) w.string(name);
  w.end();
  w.key("objects");
  w.map(node.objects.size);
  for (const [name, object] of node.objects) {
    w.key(name);
    writeObject(w, object);
  }
  w.end();
  w.end();
}

/**
 * Encodes the `@online` payload from the live nodes.
 *
 * @param format The message format.
 * @param nodes The endpoint's nodes.
 * @param supportedFormats The formats the endpoint accepts.
 * @returns The payload.
 */
export function encodeLiveEndpoint(
  format: MessageFormat,
  nodes: ReadonlyMap<string, Node>,
  supportedFormats: readonly MessageFormat[],
): Uint8Array {
  const w = createWriter(format);
  writeEndpointHead(w, nodes.size, supportedFormats);
  for (const [name, node] of nodes) {
    w.key(name);
    writeLiveNode(w, node);
  }
  w.end();
  w.end();
  return w.finish();
}

/**
 * Encodes the `@nodeAdded` payload from a live node.
 *
 * @param format The message format.
 * @param node The node.
 * @returns The payload.
 */
export function encodeLiveNode(format: MessageFormat, node: Node): Uint8Array {
  const w = createWriter(format);
  writeLiveNode(w, node);
  return w.finish();
}

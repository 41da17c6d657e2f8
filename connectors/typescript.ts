/**
 * Writes an endpoint model as a TypeScript constant, so that a model kept in an XML or JSON file
 * gets the same types as one written in code: `new Endpoint(uuid, { model: vacuumCleanerModel })`
 * types `endpoint.nodes.VacuumCleaner.objects.Status.attributes.throughput`. `deno task
 * model-types FILE` runs it on a file (`tools/model_types.ts`).
 *
 * The constant is plain data with `as const` and imports nothing, so it works wherever the
 * library is imported from; the endpoint checks it against `EndpointModel` where it is used.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { AttributeModel, EndpointModel, NodeModel, ObjectModel } from "../lib/model/types.ts";

/** Options of {@linkcode modelToTypeScript}. */
export interface TypeScriptOptions {
  /**
   * The name of the exported constant.
   *
   * @default {"model"}
   */
  name?: string;
  /** Where the model comes from, named in the header comment. */
  source?: string;
  /** The command that writes the file, named in the header comment so it can be run again. */
  command?: string;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const WIDTH = 100;

/**
 * Writes a model as the source of a TypeScript module that exports it as a constant.
 *
 * @param model The model, as a connector returns it.
 * @param options The constant's name and where the model comes from.
 * @returns The module's source text, formatted as `deno fmt` formats it.
 * @throws {TypeError} When the name is not an identifier.
 *
 * @example
 * ```ts
 * import { modelToTypeScript } from "./typescript.ts";
 * import { modelFromXml } from "./xml.ts";
 * import assert from "node:assert/strict";
 *
 * const model = await modelFromXml(`<configs><config><deviceType typeId="Pump">
 *   <object id="Status"><attribute id="flow" template="double" constraint="measure"/></object>
 * </deviceType></config></configs>`);
 * const source = modelToTypeScript(model, { name: "pumpModel" });
 * assert.match(source, /export const pumpModel = \{/);
 * assert.match(source, /flow: \{ type: "Number", constraint: "Measure" \}/);
 * assert.match(source, /\} as const;\n$/);
 * ```
 */
export function modelToTypeScript(model: EndpointModel, options: TypeScriptOptions = {}): string {
  const name = options.name ?? "model";
  if (!IDENTIFIER.test(name)) {
    throw new TypeError(`Cannot name the model ${JSON.stringify(name)}: it is not an identifier`);
  }
  const header = [
    "// Generated from " + (options.source ?? "a model") +
    (options.command ? ` by \`${options.command}\`` : "") + ": edit the model, then run it again.",
  ];
  const body = record(model.nodes, 1, writeNode);
  return `${header.join("\n")}\n\n/** The endpoint model${
    options.source ? ` of ${options.source}` : ""
  }, typed for \`new Endpoint(uuid, { model })\`. */\nexport const ${name} = {\n  nodes: ${body},\n} as const;\n`;
}

function key(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

function indent(depth: number): string {
  return "  ".repeat(depth);
}

// A record of children, one per line; `{}` when empty.
function record<T>(
  items: Readonly<Record<string, T>> | undefined,
  depth: number,
  write: (item: T, depth: number, prefix: string) => string,
): string {
  const entries = Object.entries(items ?? {});
  if (entries.length === 0) return "{}";
  const lines = entries.map(([name, item]) => {
    const prefix = `${indent(depth + 1)}${key(name)}: `;
    return `${prefix}${write(item, depth + 1, prefix)},`;
  });
  return `{\n${lines.join("\n")}\n${indent(depth)}}`;
}

function writeNode(node: NodeModel, depth: number): string {
  const parts: string[] = [];
  if (node.implements && node.implements.length > 0) {
    parts.push(
      `${indent(depth + 1)}implements: [${
        node.implements.map((i) => JSON.stringify(i)).join(", ")
      }],`,
    );
  }
  parts.push(`${indent(depth + 1)}objects: ${record(node.objects, depth + 1, writeObject)},`);
  return `{\n${parts.join("\n")}\n${indent(depth)}}`;
}

function writeObject(object: ObjectModel, depth: number): string {
  const parts: string[] = [];
  if (object.conforms !== undefined) {
    parts.push(`${indent(depth + 1)}conforms: ${JSON.stringify(object.conforms)},`);
  }
  if (object.objects && Object.keys(object.objects).length > 0) {
    parts.push(`${indent(depth + 1)}objects: ${record(object.objects, depth + 1, writeObject)},`);
  }
  parts.push(
    `${indent(depth + 1)}attributes: ${record(object.attributes, depth + 1, writeAttribute)},`,
  );
  return `{\n${parts.join("\n")}\n${indent(depth)}}`;
}

function writeAttribute(attribute: AttributeModel, depth: number, prefix: string): string {
  const fields: [string, string][] = [
    ["type", JSON.stringify(attribute.type)],
    ["constraint", JSON.stringify(attribute.constraint)],
  ];
  if (attribute.value !== undefined) fields.push(["value", JSON.stringify(attribute.value)]);
  if (attribute.timestamp !== undefined) fields.push(["timestamp", String(attribute.timestamp)]);
  for (const [name, value] of Object.entries(attribute)) {
    if (["type", "constraint", "value", "timestamp"].includes(name) || value === undefined) {
      continue;
    }
    fields.push([key(name), literal(value, depth + 1)]);
  }
  const single = `{ ${fields.map(([k, v]) => `${k}: ${v}`).join(", ")} }`;
  // The line is the prefix, the object and a comma; deno fmt breaks what does not fit.
  if (!single.includes("\n") && prefix.length + single.length + 1 <= WIDTH) return single;
  return `{\n${fields.map(([k, v]) => `${indent(depth + 1)}${k}: ${v},`).join("\n")}\n${
    indent(depth)
  }}`;
}

// A JSON-like value (a publish policy) as a TypeScript literal.
function literal(value: unknown, depth: number): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => literal(v, depth)).join(", ")}]`;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return `{ ${entries.map(([k, v]) => `${key(k)}: ${literal(v, depth)}`).join(", ")} }`;
}

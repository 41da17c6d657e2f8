/**
 * A node: the unit the cloud announces, adds and removes; it holds objects.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { addObjects, assertFreeName, CloudioObject, type ObjectOptions } from "./object.ts";
import { sinkOf } from "./sink.ts";
import type { NodeModel, ObjectModel } from "./types.ts";

/** How a node is declared: the interfaces it implements, and optionally its objects. */
export interface NodeOptions {
  /** Free interface names. */
  implements?: readonly string[];
  /** Objects, as plain data (for example from a connector). */
  objects?: Record<string, ObjectModel>;
}

/**
 * A cloud.iO node. Create one with {@linkcode Endpoint.prototype.addNode}.
 *
 * @example
 * ```ts
 * import { Endpoint } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
 * const node = endpoint.addNode("Heater", { implements: ["Thermostat"] });
 * node.addObject("Status").addAttribute("temperature", { type: "Number", constraint: "Measure" });
 * assert.deepEqual(node.toModel().implements, ["Thermostat"]);
 * ```
 */
export class CloudioNode {
  /** The node's name. */
  readonly name: string;
  /** The interfaces it implements. */
  readonly implements: readonly string[];
  #objects = new Map<string, CloudioObject>();

  /**
   * Creates a node that belongs to no endpoint yet; {@linkcode Endpoint.prototype.addNode}
   * creates and adds one.
   *
   * @param name Its name.
   * @param options Interfaces and objects.
   * @throws {TypeError} When a name or the content is invalid.
   */
  constructor(name: string, options: NodeOptions = {}) {
    this.name = name;
    const interfaces = options.implements ?? [];
    if (!Array.isArray(interfaces) || interfaces.some((i) => typeof i !== "string")) {
      throw new TypeError(`Cannot add node "${name}": implements must be an array of strings`);
    }
    this.implements = Object.freeze([...interfaces]);
    addObjects((n, o) => this.#add(n, o), options.objects);
  }

  /** The node itself: a node is the container of its objects as an object is of its own. */
  get node(): this {
    return this;
  }

  /** The path below the endpoint: the node's name. */
  get path(): string {
    return this.name;
  }

  /** Objects by name. */
  get objects(): ReadonlyMap<string, CloudioObject> {
    return this.#objects;
  }

  /**
   * Adds an object.
   *
   * @param name Its name (protocol §2).
   * @param options Its class and, optionally, its content as plain data.
   * @returns The new object.
   * @throws {TypeError} When the name is invalid or taken, or the content is invalid.
   */
  addObject(name: string, options: ObjectOptions = {}): CloudioObject {
    const object = this.#add(name, options);
    sinkOf(this)?.restructured(this);
    return object;
  }

  /**
   * Returns an object by name.
   *
   * @param name The name.
   * @returns The object, or `undefined`.
   */
  object(name: string): CloudioObject | undefined {
    return this.#objects.get(name);
  }

  /**
   * Returns the node as plain data, with current values.
   *
   * @returns The node model.
   */
  toModel(): NodeModel {
    const objects: Record<string, ObjectModel> = {};
    for (const [name, object] of this.#objects) objects[name] = object.toModel();
    return { implements: [...this.implements], objects };
  }

  #add(name: string, options: ObjectOptions): CloudioObject {
    assertFreeName("object", name, this.#objects, this.name);
    const object = new CloudioObject(this, name, options);
    this.#objects.set(name, object);
    return object;
  }
}

/**
 * A node: the unit the cloud announces, adds and removes; it holds objects.
 *
 * This module is browser compatible.
 *
 * @module
 */

import {
  addObjects,
  adoptFields,
  type CloudioObject,
  type ObjectOptions,
  placeObject,
} from "./object.ts";
import { sinkOf } from "./sink.ts";
import { adopt, Children, objectMap } from "./tree.ts";
import type { ObjectsOf } from "./typed.ts";
import type { NodeModel, ObjectModel } from "./types.ts";

/** How a node is declared: the interfaces it implements, and optionally its objects. */
export interface NodeOptions {
  /** Free interface names. */
  implements?: readonly string[];
  /** Objects, as plain data (for example from a connector) or class-style objects. */
  objects?: Readonly<Record<string, ObjectModel>>;
}

/**
 * A cloud.iO node. Create one with {@linkcode Endpoint.prototype.addNode}, from a model, or write
 * it as a class whose fields are its objects; `implements` may be a field too.
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
 *
 * @example A node written as a class
 * ```ts
 * import { CloudioNode, CloudioObject, Endpoint, measure } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * class Status extends CloudioObject {
 *   level = measure("Number", { value: 0.5 });
 * }
 * class Tank extends CloudioNode {
 *   override readonly implements = ["TankInterface"];
 *   Status = new Status();
 * }
 * const endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
 * const tank = endpoint.addNode("Tank", new Tank());
 * tank.Status.level.value = 0.75;
 * assert.equal(endpoint.attribute("Tank/Status/level", "Number")?.value, 0.75);
 * ```
 */
export class CloudioNode<M extends NodeModel = NodeModel> {
  /** The interfaces it implements. */
  readonly implements: readonly string[];
  #name?: string;
  #objects = new Children<CloudioObject>();

  /**
   * Creates a node that belongs to no endpoint yet; {@linkcode Endpoint.prototype.addNode}
   * names and adds it (or creates one from plain data).
   *
   * @param options Interfaces and objects.
   * @throws {TypeError} When the content is invalid.
   */
  constructor(options: NodeOptions = {}) {
    const interfaces = options.implements ?? [];
    if (!Array.isArray(interfaces) || interfaces.some((i) => typeof i !== "string")) {
      throw new TypeError("Cannot add a node: implements must be an array of strings");
    }
    this.implements = Object.freeze([...interfaces]);
    addObjects(this, this.#objects, options.objects);
  }

  /**
   * Names a node when it is added to an endpoint, and places its fields. Internal to the model.
   *
   * @param name The node's name.
   * @throws {TypeError} When it was added already, `implements` is not an array of strings, or a
   * field cannot be added.
   */
  [adopt](name: string): void {
    if (this.#name !== undefined) {
      throw new TypeError(`Cannot add node "${name}": it is node "${this.#name}" already`);
    }
    const interfaces: unknown = this.implements;
    if (!Array.isArray(interfaces) || interfaces.some((i) => typeof i !== "string")) {
      throw new TypeError(`Cannot add node "${name}": implements must be an array of strings`);
    }
    this.#name = name;
    for (const [child, object] of this.#objects.map) object[adopt](this, child);
    adoptFields(this, this.#objects);
  }

  /**
   * The node's name.
   *
   * @throws {TypeError} When it was not added to an endpoint yet.
   */
  get name(): string {
    if (this.#name === undefined) {
      throw new TypeError("Cannot tell the name of a node not added to an endpoint yet");
    }
    return this.#name;
  }

  /** The node itself: a node is the container of its objects as an object is of its own. */
  get node(): this {
    return this;
  }

  /**
   * The path below the endpoint: the node's name.
   *
   * @throws {TypeError} When it was not added to an endpoint yet.
   */
  get path(): string {
    return this.name;
  }

  /** Objects by name (typed by name for a model written as a constant). */
  get objects(): ObjectsOf<M> {
    return this.#objects.record as ObjectsOf<M>;
  }

  /** Objects in order, for the library's encoders. */
  get [objectMap](): ReadonlyMap<string, CloudioObject> {
    return this.#objects.map;
  }

  /**
   * Adds an object: plain data, or a class-style object.
   *
   * @param name Its name (protocol §2).
   * @param options Its class and, optionally, its content as plain data; or a class-style object.
   * @returns The new object, or the class-style object given.
   * @throws {TypeError} When the name is invalid or taken, or the content is invalid.
   */
  addObject<const O extends ObjectOptions | CloudioObject = ObjectOptions>(
    name: string,
    options?: O,
  ): O extends CloudioObject ? O : CloudioObject<O & ObjectModel> {
    const object = placeObject(this, this.#objects, name, options ?? {});
    sinkOf(this)?.restructured(this);
    return object as O extends CloudioObject ? O : CloudioObject<O & ObjectModel>;
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
    for (const [name, object] of this.#objects.map) objects[name] = object.toModel();
    return { implements: [...this.implements], objects };
  }
}

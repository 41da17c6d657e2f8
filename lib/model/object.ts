/**
 * An object: a named group of attributes and child objects, to any depth.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { type AttributeOptions, CloudioAttribute } from "./attribute.ts";
import { sinkOf } from "./sink.ts";
import type { ContainerRef, NodeRef } from "./tree.ts";
import { assertName } from "./names.ts";
import type { AttributeModel, AttributeType, ObjectModel } from "./types.ts";

/** How an object is declared: its class, and optionally its content as plain data. */
export interface ObjectOptions {
  /** A free class name the object conforms to. */
  conforms?: string;
  /** Child objects, as plain data. */
  objects?: Record<string, ObjectModel>;
  /** Attributes, as plain data. */
  attributes?: Record<string, AttributeModel>;
}

/**
 * Adds objects described as plain data to a container; shared by nodes and objects.
 *
 * @param add The container's `addObject`.
 * @param objects The objects by name.
 */
export function addObjects(
  add: (name: string, options: ObjectOptions) => CloudioObject,
  objects: Record<string, ObjectModel> | undefined,
): void {
  if (!objects) return;
  for (const [name, model] of Object.entries(objects)) add(name, model);
}

/**
 * Checks a child name is valid and free, for `addObject` and `addAttribute`.
 *
 * @param kind What is added.
 * @param name Its name.
 * @param taken The names already used in that container.
 * @param where The container's path, for the message.
 * @throws {TypeError} When the name is invalid or taken.
 */
export function assertFreeName(
  kind: "node" | "object" | "attribute",
  name: string,
  taken: ReadonlyMap<string, unknown>,
  where: string,
): void {
  assertName(kind, name);
  if (taken.has(name)) {
    throw new TypeError(
      `Cannot add ${kind} "${name}"${where ? ` to "${where}"` : ""}: the name is taken`,
    );
  }
}

/**
 * A cloud.iO object. Create one with `addObject` on a node or on another object.
 *
 * @example Nesting objects
 * ```ts
 * import { Endpoint } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
 * const motor = endpoint.addNode("Drive").addObject("Motor", { conforms: "Motor" });
 * const rpm = motor.addObject("Sensors").addAttribute("rpm", { type: "Integer", constraint: "Measure" });
 * assert.equal(rpm.path, "Drive/Motor/Sensors/rpm");
 * assert.equal(motor.conforms, "Motor");
 * ```
 */
export class CloudioObject {
  /** The object's name within its parent. */
  readonly name: string;
  /** The class it conforms to, if declared. */
  readonly conforms?: string;
  /** The node or object that holds it. */
  readonly parent: ContainerRef;
  #objects = new Map<string, CloudioObject>();
  #attributes = new Map<string, CloudioAttribute>();
  #path?: string;

  /**
   * Creates an object; use `addObject` instead.
   *
   * @param parent The node or object that holds it.
   * @param name Its name.
   * @param options Its class and content.
   */
  constructor(parent: ContainerRef, name: string, options: ObjectOptions = {}) {
    this.parent = parent;
    this.name = name;
    if (options.conforms !== undefined) {
      if (typeof options.conforms !== "string") {
        throw new TypeError(`Cannot add object "${name}": conforms must be a string`);
      }
      this.conforms = options.conforms;
    }
    addObjects((n, o) => this.#add(n, o), options.objects);
    for (const [n, model] of Object.entries(options.attributes ?? {})) this.#attribute(n, model);
  }

  /** The node the object belongs to. */
  get node(): NodeRef {
    return this.parent.node;
  }

  /** The path below the endpoint: `node/object/…`. */
  get path(): string {
    return this.#path ??= `${this.parent.path}/${this.name}`;
  }

  /** Child objects by name. */
  get objects(): ReadonlyMap<string, CloudioObject> {
    return this.#objects;
  }

  /** Attributes by name. */
  get attributes(): ReadonlyMap<string, CloudioAttribute> {
    return this.#attributes;
  }

  /**
   * Adds a child object.
   *
   * @param name Its name (protocol §2: no `/ . # + *`, not empty).
   * @param options Its class and, optionally, its content as plain data.
   * @returns The new object.
   * @throws {TypeError} When the name is invalid or taken, or the content is invalid.
   */
  addObject(name: string, options: ObjectOptions = {}): CloudioObject {
    const object = this.#add(name, options);
    sinkOf(this.node)?.restructured(this.node);
    return object;
  }

  /**
   * Adds an attribute. Its TypeScript value type follows `type`.
   *
   * @param name Its name (protocol §2).
   * @param options Type, constraint, and optionally an initial value.
   * @returns The new attribute.
   * @throws {TypeError} When the name is invalid or taken, or the options are invalid.
   *
   * @example
   * ```ts
   * import { Endpoint } from "../../mod.ts";
   * import assert from "node:assert/strict";
   *
   * const endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
   * const on = endpoint.addNode("Lamp").addObject("Parameters")
   *   .addAttribute("on", { type: "Boolean", constraint: "Parameter", value: false });
   * const value: boolean | undefined = on.value;
   * assert.equal(value, false);
   * ```
   */
  addAttribute<T extends AttributeType>(
    name: string,
    options: AttributeOptions<T>,
  ): CloudioAttribute<T> {
    const attribute = this.#attribute(name, options);
    sinkOf(this.node)?.restructured(this.node);
    return attribute;
  }

  /**
   * Returns a child object by name.
   *
   * @param name The name.
   * @returns The object, or `undefined`.
   */
  object(name: string): CloudioObject | undefined {
    return this.#objects.get(name);
  }

  /**
   * Returns an attribute by name.
   *
   * @param name The name.
   * @returns The attribute, or `undefined`.
   */
  attribute(name: string): CloudioAttribute | undefined {
    return this.#attributes.get(name);
  }

  /**
   * Returns the object as plain data, with current values.
   *
   * @returns The object model.
   */
  toModel(): ObjectModel {
    const objects: Record<string, ObjectModel> = {};
    for (const [name, object] of this.#objects) objects[name] = object.toModel();
    const attributes: Record<string, AttributeModel> = {};
    for (const [name, attribute] of this.#attributes) attributes[name] = attribute.toModel();
    const model: ObjectModel = { objects, attributes };
    if (this.conforms !== undefined) model.conforms = this.conforms;
    return model;
  }

  #add(name: string, options: ObjectOptions): CloudioObject {
    assertFreeName("object", name, this.#objects, this.path);
    const object = new CloudioObject(this, name, options);
    this.#objects.set(name, object);
    return object;
  }

  #attribute<T extends AttributeType>(
    name: string,
    options: AttributeOptions<T>,
  ): CloudioAttribute<T> {
    assertFreeName("attribute", name, this.#attributes, this.path);
    const attribute = new CloudioAttribute(this, name, options);
    this.#attributes.set(name, attribute as unknown as CloudioAttribute);
    return attribute;
  }
}

/**
 * An object: a named group of attributes and child objects, to any depth. Objects are created by
 * their container (`addObject()`, a model), or written as classes whose fields are their
 * attributes and child objects.
 *
 * This module is browser compatible.
 *
 * @module
 */

import {
  type AttributeOptions,
  CloudioAttribute,
  createAttribute,
  type KnownFrom,
} from "./attribute.ts";
import { sinkOf } from "./sink.ts";
import {
  adopt,
  attributeMap,
  Children,
  type ContainerRef,
  describePart,
  knownPath,
  type NodeRef,
  objectMap,
} from "./tree.ts";
import type { AttributesOf, ObjectsOf } from "./typed.ts";
import { assertName } from "./names.ts";
import type {
  AttributeConstraint,
  AttributeModel,
  AttributeType,
  ObjectModel,
  ValueOf,
} from "./types.ts";

/** How an object is declared: its class, and optionally its content as plain data. */
export interface ObjectOptions {
  /** A free class name the object conforms to. */
  conforms?: string;
  /** Child objects, as plain data (or class-style objects). */
  objects?: Readonly<Record<string, ObjectModel>>;
  /** Attributes, as plain data (or attributes created on their own). */
  attributes?: Readonly<Record<string, AttributeModel>>;
}

/**
 * Adds objects described as plain data, or class-style objects, to a container; shared by nodes
 * and objects.
 *
 * @param container The node or object.
 * @param children Its children by name, to add to.
 * @param objects The objects by name.
 */
export function addObjects(
  container: ContainerRef,
  children: Children<CloudioObject>,
  objects: Readonly<Record<string, ObjectModel>> | undefined,
): void {
  if (!objects) return;
  for (const [name, model] of Object.entries(objects)) {
    placeObject(container, children, name, model);
  }
}

/**
 * Adds one object to a container: a class-style object is placed as it is, plain data becomes a
 * new object.
 *
 * @param container The node or object.
 * @param children Its children by name, to add to.
 * @param name The object's name.
 * @param object The object, or its description.
 * @returns The object, placed.
 */
export function placeObject(
  container: ContainerRef,
  children: Children<CloudioObject>,
  name: string,
  object: ObjectModel | CloudioObject,
): CloudioObject {
  assertFreeName("object", name, children, knownPath(container) ?? "");
  let placed: CloudioObject;
  if (object instanceof CloudioObject) {
    object[adopt](container, name);
    placed = object;
  } else {
    placing = { parent: container, name };
    try {
      placed = new CloudioObject(object);
    } finally {
      placing = undefined;
    }
  }
  children.set(name, placed);
  return placed;
}

/**
 * Checks a child name is valid and free, for `addObject` and `addAttribute`.
 *
 * @param kind What is added.
 * @param name Its name.
 * @param taken The children already there, by name.
 * @param where The container's path, for the message.
 * @throws {TypeError} When the name is invalid or taken.
 */
export function assertFreeName(
  kind: "node" | "object" | "attribute",
  name: string,
  taken: { has(name: string): boolean },
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
 * Makes the fields of a class-style node or object part of the tree: every own field that holds a
 * `CloudioObject` becomes a child object, and (for objects) every field that holds a
 * `CloudioAttribute` an attribute, each named after its field. Other fields are the program's own.
 *
 * @param part The node or object, just placed.
 * @param objects Its child objects by name.
 * @param attributes Its attributes by name, for objects.
 * @throws {TypeError} When a node has an attribute field, or a name is invalid or taken.
 */
export function adoptFields(
  part: ContainerRef,
  objects: Children<CloudioObject>,
  attributes?: Children<CloudioAttribute>,
): void {
  for (const [name, value] of Object.entries(part)) {
    if (value instanceof CloudioObject) {
      if (objects.get(name) === value) continue;
      placeObject(part, objects, name, value);
    } else if (value instanceof CloudioAttribute) {
      if (!attributes) {
        throw new TypeError(
          `Cannot add attribute "${name}" to node "${part.path}": a node has objects only, ` +
            "an attribute must live in an object",
        );
      }
      if (attributes.get(name) === value) continue;
      assertFreeName("attribute", name, attributes, knownPath(part) ?? "");
      value[adopt](part, name);
      attributes.set(name, value as CloudioAttribute);
    }
  }
}

/** Where an object is created, when its container creates it from plain data. */
let placing: { parent: ContainerRef; name: string } | undefined;

/**
 * A cloud.iO object. Create one with `addObject` on a node or on another object, from a model,
 * or write it as a class whose fields are its attributes (`measure()`, `setPoint()`, …) and child
 * objects: the fields are named and placed when the object is added to a node.
 *
 * With a model written as a constant, `objects` and `attributes` are typed by name (`M` is the
 * object's part of the model); for a class, its fields are.
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
 *
 * @example An object written as a class
 * ```ts
 * import { CloudioObject, Endpoint, measure, setPoint } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * class Thermostat extends CloudioObject {
 *   override readonly conforms = "Thermostat";
 *   temperature = measure("Number", { value: 20 });
 *   target = setPoint("Number", { value: 21, accept: (celsius) => celsius <= 30 });
 * }
 * const thermostat = new Thermostat();
 * new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55").addNode("Heater", {
 *   objects: { Thermostat: thermostat },
 * });
 * thermostat.temperature.value = 20.5;
 * assert.equal(thermostat.target.path, "Heater/Thermostat/target");
 * assert.equal(thermostat.attributes.temperature, thermostat.temperature);
 * ```
 */
export class CloudioObject<M extends ObjectModel = ObjectModel> {
  /** The class it conforms to, if declared. */
  readonly conforms?: string;
  #name?: string;
  #parent?: ContainerRef;
  #objects = new Children<CloudioObject>();
  #attributes = new Children<CloudioAttribute>();
  #path?: string;

  /**
   * Creates an object. A class-style object (a subclass) is created on its own and placed when
   * it is added (to a node's `objects`, as a field of another object, or with `addObject`);
   * `addObject` creates plain objects in place.
   *
   * @param options Its class and, optionally, its content as plain data.
   * @throws {TypeError} When the content is invalid.
   */
  constructor(options: ObjectOptions = {}) {
    const at = placing;
    placing = undefined;
    if (at) {
      this.#parent = at.parent;
      this.#name = at.name;
    }
    if (options.conforms !== undefined) {
      if (typeof options.conforms !== "string") {
        throw new TypeError(
          `Cannot add ${describePart("object", knownPath(this))}: conforms must be a string`,
        );
      }
      this.conforms = options.conforms;
    }
    addObjects(this, this.#objects, options.objects);
    for (const [n, model] of Object.entries(options.attributes ?? {})) this.#attribute(n, model);
  }

  /**
   * Places an object created on its own in its container, and its fields in it. Internal to the
   * model.
   *
   * @param parent The node or object.
   * @param name Its name there.
   * @throws {TypeError} When it was placed already, or a field cannot be added.
   */
  [adopt](parent: ContainerRef, name: string): void {
    if (this.#parent === parent && this.#name === name) return;
    if (this.#parent) {
      throw new TypeError(
        `Cannot add object "${knownPath(parent)}/${name}": it is object "${
          knownPath(this)
        }" already`,
      );
    }
    this.#parent = parent;
    this.#name = name;
    // Content created before the object had a place (plain data given to a class-style object's
    // constructor) is placed with it, then its fields.
    for (const [child, object] of this.#objects.map) object[adopt](this, child);
    for (const [child, attribute] of this.#attributes.map) attribute[adopt](this, child);
    adoptFields(this, this.#objects, this.#attributes);
  }

  /**
   * The object's name within its parent.
   *
   * @throws {TypeError} When it was not added yet.
   */
  get name(): string {
    if (this.#name === undefined) throw notPlaced("name");
    return this.#name;
  }

  /**
   * The node or object that holds it.
   *
   * @throws {TypeError} When it was not added yet.
   */
  get parent(): ContainerRef {
    if (!this.#parent) throw notPlaced("parent");
    return this.#parent;
  }

  /**
   * The node the object belongs to.
   *
   * @throws {TypeError} When it was not added yet.
   */
  get node(): NodeRef {
    return this.parent.node;
  }

  /**
   * The path below the endpoint: `node/object/…`.
   *
   * @throws {TypeError} When it was not added yet.
   */
  get path(): string {
    return this.#path ??= `${this.parent.path}/${this.name}`;
  }

  /** Child objects by name (typed by name for a model written as a constant). */
  get objects(): ObjectsOf<M> {
    return this.#objects.record as ObjectsOf<M>;
  }

  /** Attributes by name (typed by name for a model written as a constant). */
  get attributes(): AttributesOf<M> {
    return this.#attributes.record as AttributesOf<M>;
  }

  /** Child objects in order, for the library's encoders. */
  get [objectMap](): ReadonlyMap<string, CloudioObject> {
    return this.#objects.map;
  }

  /** Attributes in order, for the library's encoders. */
  get [attributeMap](): ReadonlyMap<string, CloudioAttribute> {
    return this.#attributes.map;
  }

  /**
   * Adds a child object: plain data, or a class-style object.
   *
   * @param name Its name (protocol §2: no `/ . # + *`, not empty).
   * @param options Its class and, optionally, its content as plain data; or a class-style object.
   * @returns The new object, or the class-style object given.
   * @throws {TypeError} When the name is invalid or taken, or the content is invalid.
   */
  addObject<const O extends ObjectOptions | CloudioObject = ObjectOptions>(
    name: string,
    options?: O,
  ): O extends CloudioObject ? O : CloudioObject<O & ObjectModel> {
    const object = placeObject(this, this.#objects, name, options ?? {});
    if (this.#parent) sinkOf(this.node)?.restructured(this.node);
    return object as O extends CloudioObject ? O : CloudioObject<O & ObjectModel>;
  }

  /**
   * Adds an attribute. Its TypeScript type follows `type` and `constraint`, and its value is
   * typed without `undefined` when an initial `value` is given.
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
   * const value: boolean = on.value; // an initial value was given: never undefined
   * assert.equal(value, false);
   * ```
   */
  addAttribute<
    T extends AttributeType,
    C extends AttributeConstraint,
    V extends ValueOf<T> | undefined = undefined,
  >(
    name: string,
    options: AttributeOptions<T, C, V>,
  ): CloudioAttribute<T, C, KnownFrom<V>> {
    const attribute = this.#attribute(name, options);
    if (this.#parent) sinkOf(this.node)?.restructured(this.node);
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
    for (const [name, object] of this.#objects.map) objects[name] = object.toModel();
    const attributes: Record<string, AttributeModel> = {};
    for (const [name, attribute] of this.#attributes.map) attributes[name] = attribute.toModel();
    const model: ObjectModel = { objects, attributes };
    if (this.conforms !== undefined) model.conforms = this.conforms;
    return model;
  }

  #attribute<
    T extends AttributeType,
    C extends AttributeConstraint,
    V extends ValueOf<T> | undefined,
  >(
    name: string,
    options: AttributeOptions<T, C, V> | CloudioAttribute,
  ): CloudioAttribute<T, C, KnownFrom<V>> {
    assertFreeName("attribute", name, this.#attributes, knownPath(this) ?? "");
    let attribute: CloudioAttribute<T, C, KnownFrom<V>>;
    if (options instanceof CloudioAttribute) {
      options[adopt](this, name);
      attribute = options as unknown as CloudioAttribute<T, C, KnownFrom<V>>;
    } else {
      attribute = createAttribute(this, name, options);
    }
    this.#attributes.set(name, attribute as unknown as CloudioAttribute);
    return attribute;
  }
}

function notPlaced(what: string): TypeError {
  return new TypeError(`Cannot tell the ${what} of an object not added to a node yet`);
}

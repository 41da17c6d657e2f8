/**
 * How the parts of the model tree see the containers above them: a node, and the node or object
 * that holds an object or an attribute. The classes know each other only through these shapes,
 * so that each class's file imports the ones below it and none imports back up.
 *
 * This module is browser compatible.
 *
 * @module
 */

/** A node, as the objects and attributes below it see it. */
export interface NodeRef {
  /** The node's name. */
  readonly name: string;
  /** Its path below the endpoint: its name. */
  readonly path: string;
}

/** A node or an object, as what it holds sees it. */
export interface ContainerRef {
  /** Its name within its own container. */
  readonly name: string;
  /** Its path below the endpoint. */
  readonly path: string;
  /** The node it is, or belongs to. */
  readonly node: NodeRef;
}

/**
 * The library's own way to place a part of the tree that was created on its own (a class field
 * such as `throughput = measure("Number")`, or `new Status()`): its container calls
 * `part[adopt](container, name)` when the part is added. Not part of the public API.
 */
export const adopt: unique symbol = Symbol("cloudio.adopt");

/**
 * The library's own way to iterate a node's or an object's child objects in order, fast (a `Map`;
 * the public `objects` is a record for typed access). Not part of the public API.
 */
export const objectMap: unique symbol = Symbol("cloudio.objectMap");

/** The same for an object's attributes. Not part of the public API. */
export const attributeMap: unique symbol = Symbol("cloudio.attributeMap");

/**
 * Tells what a detached part will be called in messages: its path once placed.
 *
 * @param kind `attribute`, `object` or `node`.
 * @param path Its path, when known.
 * @returns `attribute "Pump/Status/flow"`, or `an attribute (not added yet)`.
 */
export function describePart(kind: string, path: string | undefined): string {
  return path === undefined
    ? `${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind} (not added yet)`
    : `${kind} "${path}"`;
}

/**
 * Tells the path of a part, or `undefined` while it (or a container above it) is not placed.
 *
 * @param part A node, object or attribute.
 * @returns Its path, when known.
 */
export function knownPath(part: { readonly path: string }): string | undefined {
  try {
    return part.path;
  } catch {
    return undefined;
  }
}

/**
 * The children of a node or an object by name: a `Map` for order and fast iteration, and a
 * record (without prototype) for typed access by name, kept in step.
 */
export class Children<T> {
  /** In order of addition. */
  readonly map: Map<string, T> = new Map();
  /** The same, by name. */
  readonly record: Record<string, T> = Object.create(null);

  /**
   * Tells whether a name is taken.
   *
   * @param name The name.
   * @returns Whether there is a child of that name.
   */
  has(name: string): boolean {
    return this.map.has(name);
  }

  /**
   * Returns a child by name.
   *
   * @param name The name.
   * @returns The child, or `undefined`.
   */
  get(name: string): T | undefined {
    return this.map.get(name);
  }

  /**
   * Adds a child.
   *
   * @param name Its name.
   * @param child The child.
   */
  set(name: string, child: T): void {
    this.map.set(name, child);
    this.record[name] = child;
  }

  /**
   * Removes a child.
   *
   * @param name Its name.
   */
  delete(name: string): void {
    this.map.delete(name);
    delete this.record[name];
  }
}

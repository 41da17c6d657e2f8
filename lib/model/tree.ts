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

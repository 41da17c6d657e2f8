/**
 * The types a model gives its tree: from a model written as a TypeScript constant (the shape of
 * `connectors/model.schema.json`), `endpoint.nodes.Pump.objects.Status.attributes.flow` is a
 * `CloudioAttribute<"Number", "Measure", true>`; a wrong name or a wrong value type does not
 * compile. Class-style parts (instances of `CloudioNode` and `CloudioObject` subclasses) keep their
 * own types: their fields are the typed way to their children. A model that is only known as `EndpointModel` (read from a file at run time) gives
 * records keyed by any string.
 *
 * Types only; nothing here exists at run time.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { CloudioAttribute } from "./attribute.ts";
import type { CloudioNode } from "./node.ts";
import type { CloudioObject } from "./object.ts";
import type { AttributeModel, AttributeValue, NodeModel, ObjectModel } from "./types.ts";

/**
 * The attribute an attribute of a model becomes: a `CloudioAttribute` of its type and constraint,
 * whose value is known when the model gives one. A class-style attribute stays as it is.
 */
export type AttributeOf<A> = A extends CloudioAttribute ? A
  : A extends AttributeModel ? CloudioAttribute<
      A["type"],
      A["constraint"],
      A extends { readonly value: AttributeValue } ? true : false
    >
  : never;

/** The object an object of a model becomes; a class-style object stays as it is. */
export type ObjectOf<O> = O extends CloudioObject ? O
  : O extends ObjectModel ? CloudioObject<O>
  : never;

/** The node a node of a model becomes; a class-style node stays as it is. */
export type NodeOf<N> = N extends CloudioNode ? N
  : N extends NodeModel ? CloudioNode<N>
  : never;

/**
 * The attributes of an object, by name: typed by name when its model names them, keyed by any
 * string when the model is only known as a record, empty when it has none. (A class-style
 * object's fields are typed themselves: `status.throughput`.)
 */
export type AttributesOf<M extends ObjectModel> = unknown extends M["attributes"]
  ? Record<never, never>
  : string extends keyof NonNullable<M["attributes"]>
    ? { readonly [name: string]: CloudioAttribute }
  : {
    readonly [K in keyof NonNullable<M["attributes"]>]: AttributeOf<
      NonNullable<M["attributes"]>[K]
    >;
  };

/** The child objects of a node or an object, by name, as {@linkcode AttributesOf} types them. */
export type ObjectsOf<M extends NodeModel | ObjectModel> = unknown extends M["objects"]
  ? Record<never, never>
  : string extends keyof NonNullable<M["objects"]> ? { readonly [name: string]: CloudioObject }
  : {
    readonly [K in keyof NonNullable<M["objects"]>]: ObjectOf<NonNullable<M["objects"]>[K]>;
  };

/** The nodes of an endpoint's model, by name. */
export type NodesOf<M extends { nodes: Record<string, NodeModel> }> = string extends
  keyof M["nodes"] ? { readonly [name: string]: CloudioNode }
  : { readonly [K in keyof M["nodes"]]: NodeOf<M["nodes"][K]> };

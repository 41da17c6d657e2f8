/**
 * The one interface between a model tree and the endpoint it belongs to. The model tells the
 * endpoint when a value or the structure changes and asks it for the time and whether it has
 * started; the endpoint (its publisher, `lib/outbound/publisher.ts`) implements it. The sink sees
 * the model's classes through the shapes of `tree.ts` (its implementation takes the classes). A node is
 * attached to its endpoint's sink when it is added and detached when it is removed.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { ContainerRef, NodeRef } from "./tree.ts";
import type { AttributeValue } from "./types.ts";

/** What a model tree tells, and asks of, the endpoint it belongs to. */
export interface ModelSink {
  /**
   * Whether the endpoint has started: from then on Static values are fixed, the device may write
   * only Status and Measure attributes, and every change is sent.
   */
  started(): boolean;
  /** The clock that stamps the device's writes, in milliseconds since the epoch. */
  now(): number;
  /** Throws a `ClosedError` when the endpoint is closed. */
  assertOpen(): void;
  /**
   * A Status or Measure attribute of a started endpoint changed on the device.
   *
   * @param attribute The attribute, already holding its new value.
   * @param previousValue Its value before the change.
   * @param previousTimestamp Its timestamp before the change.
   */
  changed(
    attribute: { readonly path: string; readonly parent: ContainerRef },
    previousValue: AttributeValue | undefined,
    previousTimestamp: number | undefined,
  ): void;
  /**
   * Reports a failure that must not stop the endpoint (a change listener that threw) to its
   * `onError` and `status()`.
   *
   * @param error The failure.
   */
  report(error: unknown): void;
  /**
   * A node gained objects or attributes, or was added.
   *
   * @param node The node.
   */
  restructured(node: NodeRef): void;
}

const sinks = new WeakMap<NodeRef, ModelSink>();

/**
 * Attaches a node to the endpoint it was added to.
 *
 * @param node The node.
 * @param sink The endpoint's sink.
 */
export function attachNode(node: NodeRef, sink: ModelSink): void {
  sinks.set(node, sink);
}

/**
 * Detaches a removed node: its writes no longer reach any endpoint.
 *
 * @param node The node.
 */
export function detachNode(node: NodeRef): void {
  sinks.delete(node);
}

/**
 * Finds the endpoint side of a node.
 *
 * @param node The node.
 * @returns Its sink, or `undefined` when the node belongs to no endpoint.
 */
export function sinkOf(node: NodeRef): ModelSink | undefined {
  return sinks.get(node);
}

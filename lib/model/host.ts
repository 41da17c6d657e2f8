/**
 * What a model tree asks of the endpoint it belongs to. Internal: the endpoint implements it; the
 * model classes call it when a value or the structure changes.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { Attribute } from "./attribute.ts";
import type { Node } from "./node.ts";
import type { AttributeValue } from "./types.ts";

/** The endpoint side of a model tree. */
export interface ModelHost {
  /**
   * Whether the endpoint has started: from then on Static values are fixed and the device may
   * write only Status and Measure attributes.
   */
  live(): boolean;
  /** The clock, in milliseconds since the epoch. */
  now(): number;
  /**
   * A Status or Measure attribute of a live node changed on the device.
   *
   * @param attribute The attribute, already holding its new value.
   * @param previousValue Its value before the change.
   * @param previousTimestamp Its timestamp before the change.
   */
  changed(
    attribute: Attribute,
    previousValue: AttributeValue | undefined,
    previousTimestamp: number | undefined,
  ): void;
  /** A live node gained or lost objects or attributes. */
  restructured(node: Node): void;
  /** Throws a `ClosedError` when the endpoint is closed. */
  assertOpen(): void;
}

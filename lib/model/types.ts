/**
 * The vocabulary of the cloud.iO data model, as plain data: attribute types and constraints, and
 * the `*Model` shapes that connectors produce, `@online` carries and the endpoint is built from.
 *
 * Timestamps in these shapes are milliseconds since the UNIX epoch; the codecs turn them into
 * the seconds the wire uses.
 *
 * This module is browser compatible.
 *
 * @module
 */

/** The four attribute types, spelled as the server spells them. */
export type AttributeType = "Boolean" | "Integer" | "Number" | "String";

/** The five attribute constraints, spelled as the server spells them (protocol §1). */
export type AttributeConstraint = "Static" | "Parameter" | "Status" | "SetPoint" | "Measure";

/** The JavaScript value type of an attribute type: `boolean`, `number` or `string`. */
export type ValueOf<T extends AttributeType> = T extends "Boolean" ? boolean
  : T extends "String" ? string
  : number;

/** Any attribute value. */
export type AttributeValue = boolean | number | string;

/** Every attribute type, in the order of the protocol. */
export const ATTRIBUTE_TYPES: readonly AttributeType[] = ["Boolean", "Integer", "Number", "String"];

/** Every constraint, in the order of the protocol. */
export const ATTRIBUTE_CONSTRAINTS: readonly AttributeConstraint[] = [
  "Static",
  "Parameter",
  "Status",
  "SetPoint",
  "Measure",
];

/**
 * A deadband: an absolute amount (`0.5`), or a share of the last value sent, as a percentage
 * (`"2%"`).
 */
export type Deadband = number | `${number}%`;

/**
 * When a Status or Measure attribute's writes are worth sending as `@update`. Without a policy,
 * every write is sent. Durations are in milliseconds. See `lib/outbound/policy.ts` for what the
 * cloud then sees.
 */
export interface PublishPolicy {
  /**
   * Send a write only when its value differs from the last value sent.
   *
   * @default {false}
   */
  onChange?: boolean;
  /**
   * Integer and Number only: send a write only when it differs from the last value sent by more
   * than this (an amount, or `"N%"` of the last value sent). Implies `onChange`.
   */
  deadband?: Deadband;
  /**
   * At most one `@update` per interval: a write within the interval is held, and the latest one
   * is sent at its end (never lost; `close()` sends what is held).
   */
  minInterval?: number;
  /**
   * When nothing was sent for this long, the current value is sent again, stamped now: a
   * heartbeat (only while online).
   */
  maxInterval?: number;
  /**
   * While offline, keep only the newest value of this attribute in the outbox, instead of every
   * value: the cloud gets the latest after the reconnect, not the history.
   *
   * @default {false}
   */
  latestOnlyWhileOffline?: boolean;
}

/** An attribute as plain data. */
export interface AttributeModel {
  /** The value's type. */
  type: AttributeType;
  /** Who may write it and how it travels. */
  constraint: AttributeConstraint;
  /** The current or initial value; absent when none is known yet. */
  value?: AttributeValue;
  /** When the value was taken, in milliseconds since the epoch; absent when none is known. */
  timestamp?: number;
  /** When writes are worth sending (Status and Measure only); every write when absent. */
  policy?: PublishPolicy;
}

/** An object as plain data: child objects and attributes, and the class it conforms to. */
export interface ObjectModel {
  /** A free class name; not validated by the cloud. */
  conforms?: string;
  /** Child objects by name. */
  objects?: Record<string, ObjectModel>;
  /** Attributes by name. */
  attributes?: Record<string, AttributeModel>;
}

/** A node as plain data: the interfaces it implements and its objects. */
export interface NodeModel {
  /** Free interface names; not validated by the cloud. */
  implements?: readonly string[];
  /** Objects by name. */
  objects?: Record<string, ObjectModel>;
}

/** A whole endpoint's model as plain data. */
export interface EndpointModel {
  /** Nodes by name. */
  nodes: Record<string, NodeModel>;
}

/** The two message formats of cloud.iO v0.2. */
export type MessageFormat = "JSON" | "CBOR";

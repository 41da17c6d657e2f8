/**
 * The topics of the cloud.iO protocol (§2, §4): `<action>/<uuid>[/<node>[/<object…>/<attribute>]]`,
 * built for one endpoint and parsed. Every topic the endpoint, the devcloud and the tests spell is
 * spelled here.
 *
 * This module is browser compatible.
 *
 * @module
 */

/** The actions of protocol v0.2, each the first level of its topics. */
export type Action =
  | "@online"
  | "@offline"
  | "@nodeAdded"
  | "@nodeRemoved"
  | "@update"
  | "@set"
  | "@didSet"
  | "@transaction"
  | "@delayed"
  | "@logs"
  | "@logsLevel"
  | "@exec"
  | "@execOutput";

/** The topics of one endpoint. */
export interface EndpointTopics {
  /** The endpoint's UUID. */
  readonly uuid: string;
  /** `@online/<uuid>`: the model, on every (re)connect. */
  readonly online: string;
  /** `@offline/<uuid>`: the will, and the goodbye of `close()`. */
  readonly offline: string;
  /** `@transaction/<uuid>`. */
  readonly transaction: string;
  /** `@delayed/<uuid>`: the backlog after a reconnect. */
  readonly delayed: string;
  /** `@logs/<uuid>`. */
  readonly logs: string;
  /** `@logsLevel/<uuid>`: the cloud sets the remote log level. */
  readonly logsLevel: string;
  /** `@exec/<uuid>`: the cloud starts a job. */
  readonly exec: string;
  /**
   * What the endpoint subscribes to: `@set/<uuid>/#` first (its refusal is fatal), then the exact
   * topics `@exec/<uuid>` and `@logsLevel/<uuid>` (a wildcard there is an invalid topic that
   * RabbitMQ disconnects on).
   */
  readonly subscriptions: readonly string[];
  /**
   * `@nodeAdded/<uuid>/<node>`.
   *
   * @param node The node's name.
   * @returns The topic.
   */
  nodeAdded(node: string): string;
  /**
   * `@nodeRemoved/<uuid>/<node>`.
   *
   * @param node The node's name.
   * @returns The topic.
   */
  nodeRemoved(node: string): string;
  /**
   * `@update/<uuid>/<path>`.
   *
   * @param path The attribute's path, `node/object/…/attribute`.
   * @returns The topic.
   */
  update(path: string): string;
  /**
   * `@set/<uuid>/<path>`.
   *
   * @param path The attribute's path.
   * @returns The topic.
   */
  set(path: string): string;
  /**
   * `@didSet/<uuid>/<path>`.
   *
   * @param path The attribute's path.
   * @returns The topic.
   */
  didSet(path: string): string;
  /**
   * `@execOutput/<uuid>/<correlationID>`.
   *
   * @param correlationID The job's correlation ID.
   * @returns The topic.
   */
  execOutput(correlationID: string): string;
}

/**
 * Builds the topics of one endpoint.
 *
 * @param uuid The endpoint's UUID.
 * @returns Its topics.
 *
 * @example
 * ```ts
 * import { topicsOf } from "./topics.ts";
 * import assert from "node:assert/strict";
 *
 * const topics = topicsOf("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
 * assert.equal(topics.update("Pump/Status/rate"), "@update/0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55/Pump/Status/rate");
 * assert.equal(topics.subscriptions[0], "@set/0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55/#");
 * ```
 */
export function topicsOf(uuid: string): EndpointTopics {
  return {
    uuid,
    online: `@online/${uuid}`,
    offline: `@offline/${uuid}`,
    transaction: `@transaction/${uuid}`,
    delayed: `@delayed/${uuid}`,
    logs: `@logs/${uuid}`,
    logsLevel: `@logsLevel/${uuid}`,
    exec: `@exec/${uuid}`,
    subscriptions: [`@set/${uuid}/#`, `@exec/${uuid}`, `@logsLevel/${uuid}`],
    nodeAdded: (node) => `@nodeAdded/${uuid}/${node}`,
    nodeRemoved: (node) => `@nodeRemoved/${uuid}/${node}`,
    update: (path) => `@update/${uuid}/${path}`,
    set: (path) => `@set/${uuid}/${path}`,
    didSet: (path) => `@didSet/${uuid}/${path}`,
    execOutput: (correlationID) => `@execOutput/${uuid}/${correlationID}`,
  };
}

/** A topic split into its parts. */
export interface ParsedTopic {
  /** The first level, such as `@set` (not checked against the known actions). */
  action: string;
  /** The second level: the endpoint's UUID, if there is one. */
  uuid?: string;
  /** The levels after the UUID: a node, or an attribute's path, or a correlation ID. */
  path: string[];
}

/**
 * Splits a topic into its action, its UUID and the rest.
 *
 * @param topic The topic.
 * @returns Its parts.
 *
 * @example
 * ```ts
 * import { parseTopic } from "./topics.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseTopic("@set/u/Pump/Parameters/on"), {
 *   action: "@set",
 *   uuid: "u",
 *   path: ["Pump", "Parameters", "on"],
 * });
 * assert.deepEqual(parseTopic("@online"), { action: "@online", path: [] });
 * ```
 */
export function parseTopic(topic: string): ParsedTopic {
  const [action, uuid, ...path] = topic.split("/");
  return uuid === undefined ? { action, path } : { action, uuid, path };
}

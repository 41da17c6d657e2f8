/**
 * The error classes of the library. Bad arguments get the built-in `TypeError` or `RangeError`;
 * these classes exist for the conditions a caller will want to `catch` or tell apart.
 *
 * This module is browser compatible.
 *
 * @module
 */

/**
 * Base class of every error this library defines, so that one `instanceof` check catches them all.
 *
 * @example Telling a library error from anything else
 * ```ts
 * import { CloudioError, ConfigError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new ConfigError("Missing property", { key: "hostUri" });
 * assert.ok(error instanceof CloudioError);
 * ```
 */
export class CloudioError extends Error {
  /**
   * Creates an error.
   *
   * @param message What failed.
   * @param options `cause` carries the underlying error.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CloudioError";
  }
}

/** Where a {@linkcode ConfigError} was found and what was searched. */
export interface ConfigErrorOptions extends ErrorOptions {
  /** The property key at fault, without the `ch.hevs.cloudio.endpoint.` prefix. */
  key?: string;
  /** The file at fault. */
  path?: string;
  /** Every place that was searched, in order, when something was not found. */
  searched?: readonly string[];
}

/**
 * The configuration is missing, unreadable or wrong: a properties file, a key, a certificate.
 *
 * @example Reading what went wrong
 * ```ts
 * import { ConfigError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new ConfigError("No properties file for endpoint \"x\"", {
 *   searched: ["/etc/cloud.io/x.properties"],
 * });
 * assert.deepEqual(error.searched, ["/etc/cloud.io/x.properties"]);
 * ```
 */
export class ConfigError extends CloudioError {
  /** The property key at fault, if one is. */
  readonly key?: string;
  /** The file at fault, if one is. */
  readonly path?: string;
  /** Every place searched, in order. */
  readonly searched: readonly string[];

  /**
   * Creates a configuration error.
   *
   * @param message What is wrong.
   * @param options The key, file and searched places.
   */
  constructor(message: string, options: ConfigErrorOptions = {}) {
    super(message, options);
    this.name = "ConfigError";
    this.key = options.key;
    this.path = options.path;
    this.searched = options.searched ?? [];
  }
}

/**
 * The broker could not be reached, refused the endpoint, or the TLS handshake failed.
 *
 * @example
 * ```ts
 * import { ConnectionError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new ConnectionError("Connection refused", { url: "mqtts://127.0.0.1:8883" });
 * assert.equal(error.url, "mqtts://127.0.0.1:8883");
 * ```
 */
export class ConnectionError extends CloudioError {
  /** The broker address, without credentials. */
  readonly url?: string;

  /**
   * Creates a connection error.
   *
   * @param message What failed.
   * @param options The broker URL and the underlying cause.
   */
  constructor(message: string, options: ErrorOptions & { url?: string } = {}) {
    super(message, options);
    this.name = "ConnectionError";
    this.url = options.url;
  }
}

/**
 * Why an inbound message was refused:
 *
 * | code | the message |
 * |---|---|
 * | `invalid-topic` | came on a topic the endpoint does not answer |
 * | `unknown-path` | names an attribute the endpoint does not have |
 * | `unsupported-format` | is neither JSON nor CBOR |
 * | `malformed-payload` | cannot be decoded, or lacks what it must carry |
 * | `too-large` | exceeds `maxPayload` |
 * | `wrong-type` | carries a value that does not convert to the attribute's type |
 * | `constraint` | writes an attribute the cloud may not write |
 * | `invalid-timestamp` | has no timestamp, or one that is not a plausible time |
 * | `stale` | is not newer than the last `@set` the attribute took |
 * | `refused` | was refused by the attribute's `accept()` |
 */
export type ProtocolErrorCode =
  | "invalid-topic"
  | "unknown-path"
  | "unsupported-format"
  | "malformed-payload"
  | "too-large"
  | "wrong-type"
  | "constraint"
  | "invalid-timestamp"
  | "stale"
  | "refused";

/**
 * A message from the cloud was refused: it named an unknown attribute, could not be decoded, had a
 * value of the wrong type or an implausible timestamp, targeted a read-only attribute, or came too
 * late. The endpoint keeps running and its state is unchanged.
 *
 * @example
 * ```ts
 * import { ProtocolError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new ProtocolError("Unknown attribute", {
 *   code: "unknown-path",
 *   topic: "@set/0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55/node/obj/nope",
 * });
 * assert.equal(error.code, "unknown-path");
 * ```
 */
export class ProtocolError extends CloudioError {
  /** Why the message was refused. */
  readonly code: ProtocolErrorCode;
  /** The topic the message arrived on. */
  readonly topic?: string;

  /**
   * Creates a protocol error.
   *
   * @param message What was wrong with the message.
   * @param options The reason code, the topic and the underlying cause.
   */
  constructor(
    message: string,
    options: ErrorOptions & { code: ProtocolErrorCode; topic?: string },
  ) {
    super(message, options);
    this.name = "ProtocolError";
    this.code = options.code;
    this.topic = options.topic;
  }
}

/** One problem found in a model description, with where it was found. */
export interface ModelProblem {
  /** Where: `file:line` or an element or JSON path such as `$.nodes.Pump.objects.Status`. */
  location: string;
  /** What is wrong there. */
  message: string;
}

/**
 * A model description (JSON, XML or code) is invalid. Carries every problem found, each with its
 * location, so that one run shows them all.
 *
 * @example
 * ```ts
 * import { ModelError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new ModelError([{ location: "$.nodes.a", message: "Unknown type \"Float\"" }]);
 * assert.match(error.message, /\$\.nodes\.a: Unknown type "Float"/);
 * ```
 */
export class ModelError extends CloudioError {
  /** Every problem found. */
  readonly problems: readonly ModelProblem[];

  /**
   * Creates a model error.
   *
   * @param problems Every problem found, at least one.
   * @param options `source` names the file; `cause` the underlying parse error.
   */
  constructor(problems: readonly ModelProblem[], options: ErrorOptions & { source?: string } = {}) {
    const head = options.source ? `Invalid model in ${options.source}` : "Invalid model";
    const lines = problems.map((p) => `  ${p.location}: ${p.message}`);
    super(
      `${head} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${
        lines.join("\n")
      }`,
      options,
    );
    this.name = "ModelError";
    this.problems = problems;
  }
}

/**
 * The outbox store failed: it cannot be opened, written, or is corrupt.
 *
 * @example
 * ```ts
 * import { StoreError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new StoreError("Cannot open the outbox", { path: "/nope/x.sqlite" });
 * assert.equal(error.path, "/nope/x.sqlite");
 * ```
 */
export class StoreError extends CloudioError {
  /** The file of the store, if it has one. */
  readonly path?: string;

  /**
   * Creates a store error.
   *
   * @param message What failed.
   * @param options The store's file and the underlying cause.
   */
  constructor(message: string, options: ErrorOptions & { path?: string } = {}) {
    super(message, options);
    this.name = "StoreError";
    this.path = options.path;
  }
}

/**
 * The outbox dropped messages: it was full, or persistence is off and the endpoint was offline.
 * Reported (at most once a second, with the count since the last report) so that no drop is
 * silent; every drop is also counted in `Endpoint.outbox.dropped` and yielded by `status()`.
 *
 * @example
 * ```ts
 * import { DroppedError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new DroppedError(3, "full", "@update/u/n/o/a");
 * assert.match(error.message, /Dropped 3 messages/);
 * ```
 */
export class DroppedError extends CloudioError {
  /** How many messages were dropped since the last report. */
  readonly count: number;
  /** Why. */
  readonly reason: "full" | "offline";
  /** The topic of the last message dropped. */
  readonly topic: string;

  /**
   * Creates a drop report.
   *
   * @param count How many since the last report.
   * @param reason `full` or `offline`.
   * @param topic The last dropped message's topic.
   */
  constructor(count: number, reason: "full" | "offline", topic: string) {
    super(
      `Dropped ${count} message${count === 1 ? "" : "s"} (last: ${topic}): ${
        reason === "full" ? "the outbox is full" : "offline with persistence off"
      }`,
    );
    this.name = "DroppedError";
    this.count = count;
    this.reason = reason;
    this.topic = topic;
  }
}

/**
 * The endpoint was closed: the call cannot be honoured any more.
 *
 * @example
 * ```ts
 * import { ClosedError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new ClosedError().name, "ClosedError");
 * ```
 */
export class ClosedError extends CloudioError {
  /**
   * Creates a closed error.
   *
   * @param message What could not be done.
   */
  constructor(message = "The endpoint is closed") {
    super(message);
    this.name = "ClosedError";
  }
}

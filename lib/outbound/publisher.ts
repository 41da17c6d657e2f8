/**
 * The publisher: every message the endpoint sends starts here. It is the model's sink (a value
 * the device writes arrives in {@linkcode Publisher.prototype.changed}), it encodes each message
 * in the endpoint's format and puts it into the outbox, which sends it when the session allows.
 * While `connect()` is still reading the configuration and opening the store, messages wait here
 * as snapshots, encoded once the UUID and the format are known.
 *
 * This module is browser compatible.
 *
 * @module
 */

import {
  encodeAttribute,
  encodeExecOutput,
  encodeLog,
  encodeNode,
  encodeState,
  encodeTransaction,
} from "../codec/encode.ts";
import { ClosedError } from "../errors.ts";
import type { LogRecord } from "../logs/levels.ts";
import type { CloudioAttribute } from "../model/attribute.ts";
import type { CloudioNode } from "../model/node.ts";
import type { CloudioObject } from "../model/object.ts";
import { type ModelSink, sinkOf } from "../model/sink.ts";
import { attributeMap, objectMap } from "../model/tree.ts";
import type { AttributeValue, MessageFormat } from "../model/types.ts";
import type { Outbox } from "../outbox/outbox.ts";
import type { OutboxMessage } from "../outbox/store.ts";
import type { EndpointTopics } from "../topics.ts";
import { Announcements } from "./announcements.ts";
import { Policies, type PolicyHost } from "./policy.ts";
import { type Transaction, Transactions } from "./transactions.ts";

/** Where the messages go once the endpoint knows who it is. */
interface Open {
  outbox: Outbox;
  topics: EndpointTopics;
  format: MessageFormat;
}

/** Encodes and queues what the endpoint sends; the model's sink. */
export class Publisher implements ModelSink {
  #now: () => number;
  #report: (error: unknown) => void;
  #open?: Open;
  #early: ((open: Open) => OutboxMessage)[] = [];
  #started = false;
  #closing = false;
  #closed = false;
  #updateTopics = new WeakMap<CloudioAttribute, string>();
  #transactions: Transactions;
  #announcements: Announcements;
  #policies: Policies;

  /**
   * Creates the publisher of an endpoint.
   *
   * @param now The clock that stamps the device's writes.
   * @param report Told of failures that do not stop the endpoint.
   * @param timers The publish policies' clocks and timers (for tests); the global ones by default.
   */
  constructor(
    now: () => number,
    report: (error: unknown) => void,
    timers: Pick<PolicyHost, "monotonic" | "setTimer" | "clearTimer"> = {},
  ) {
    this.#now = now;
    this.#report = report;
    this.#transactions = new Transactions((attributes) => this.#transaction(attributes), now);
    this.#announcements = new Announcements((node) => this.#nodeAdded(node));
    this.#policies = new Policies({
      ...timers,
      send: (attribute, timestamp) => this.#update(attribute, timestamp),
      attached: (attribute) => !this.#closed && sinkOf(attribute.node) === this,
      online: () => this.#open?.outbox.online ?? false,
      now,
    });
  }

  /**
   * From `connect()` on, every change is kept for the cloud.
   *
   * @param nodes The endpoint's nodes: the publish policies start from their values now.
   */
  start(nodes: Iterable<CloudioNode> = []): void {
    this.#started = true;
    for (const node of nodes) this.#track(node);
  }

  /** A `connect()` that failed on its configuration: back to before, what waited is dropped. */
  unstart(): void {
    this.#started = false;
    this.#early = [];
    this.#policies.reset();
  }

  /**
   * Starts putting messages into the outbox; those that waited go first.
   *
   * @param outbox The endpoint's outbox.
   * @param topics The endpoint's topics.
   * @param format The format the endpoint sends in.
   */
  open(outbox: Outbox, topics: EndpointTopics, format: MessageFormat): void {
    const open = this.#open = { outbox, topics, format };
    for (const build of this.#early.splice(0)) outbox.add(build(open));
  }

  /** `close()` was called: the model refuses writes from now on. */
  closing(): void {
    this.#closing = true;
  }

  /**
   * Sends what the publish policies hold back and stops their timers: `close()` was called, and
   * the cloud is to get the device's last values before `@offline`.
   */
  flushPolicies(): void {
    this.#policies.flush();
  }

  /** The endpoint is closed: nothing more is sent. */
  close(): void {
    this.#policies.flush();
    this.#closing = this.#closed = true;
  }

  // ---- The model's sink -----------------------------------------------------------------------

  /**
   * Whether the endpoint has started.
   *
   * @returns `true` from `connect()` on.
   */
  started(): boolean {
    return this.#started;
  }

  /**
   * The clock.
   *
   * @returns Milliseconds since the epoch.
   */
  now(): number {
    return this.#now();
  }

  /** Throws a `ClosedError` once `close()` was called. */
  assertOpen(): void {
    if (this.#closing) throw new ClosedError();
  }

  /**
   * Reports a failure that does not stop the endpoint.
   *
   * @param error The failure.
   */
  report(error: unknown): void {
    this.#report(error);
  }

  /**
   * Sends a device write as `@update`, or collects it in the open transaction, as the
   * attribute's publish policy says (`policy.ts`). The hot path of every value the device sets:
   * no intermediate objects, and without a policy nothing more than a field read.
   *
   * @param attribute The attribute, holding its new value.
   * @param previousValue Its value before.
   * @param previousTimestamp Its timestamp before.
   */
  changed(
    attribute: CloudioAttribute,
    previousValue: AttributeValue | undefined,
    previousTimestamp: number | undefined,
  ): void {
    if (this.#transactions.capture(attribute, previousValue, previousTimestamp)) return;
    if (attribute.policy !== undefined && !this.#policies.admit(attribute, previousValue)) return;
    this.#update(attribute);
  }

  // Queues an attribute's current value as @update (stamped `timestamp` instead of its own, for a
  // heartbeat).
  #update(attribute: CloudioAttribute, timestamp = attribute.timestamp): void {
    this.#announcements.before(attribute);
    const open = this.#open;
    if (!open) {
      const model = attribute.toModel();
      model.timestamp = timestamp;
      const path = attribute.path;
      this.#early.push(({ topics, format }) => ({
        kind: "update",
        topic: topics.update(path),
        payload: encodeAttribute(format, model),
        retain: true,
        key: path,
      }));
      return;
    }
    let topic = this.#updateTopics.get(attribute);
    if (topic === undefined) {
      topic = open.topics.update(attribute.path);
      this.#updateTopics.set(attribute, topic);
    }
    open.outbox.add(
      {
        kind: "update",
        topic,
        payload: encodeState(
          open.format,
          attribute.type,
          attribute.constraint,
          attribute.value,
          timestamp,
        ),
        retain: true,
        key: attribute.path,
      },
      attribute.policy?.latestOnlyWhileOffline === true,
    );
  }

  /**
   * Announces a node added or grown once started.
   *
   * @param node The node.
   */
  restructured(node: CloudioNode): void {
    if (this.#started && !this.#closed) {
      this.#announcements.add(node);
      this.#track(node);
    }
  }

  // The publish policies follow every attribute with a policy from the moment the endpoint has
  // started (or the attribute was added).
  #track(node: CloudioNode): void {
    for (const attribute of attributesOf(node)) {
      if (attribute.policy !== undefined) this.#policies.track(attribute);
    }
  }

  // ---- Messages -------------------------------------------------------------------------------

  /**
   * Answers a `@set` with the attribute's state. An attribute that holds only its initial value
   * has no timestamp yet: the answer is stamped now (the attribute keeps none).
   *
   * @param attribute The attribute.
   * @returns `false` when it cannot be answered: it has no value.
   */
  didSet(attribute: CloudioAttribute): boolean {
    const model = attribute.toModel();
    if (model.value === undefined) return false;
    model.timestamp ??= this.#now();
    const path = attribute.path;
    this.#queue(({ topics, format }) => ({
      kind: "didSet",
      topic: topics.didSet(path),
      payload: encodeAttribute(format, model),
      retain: true,
      key: path,
    }));
    return true;
  }

  /**
   * Tells the cloud a node was removed, once started (before, the `@online` will not carry it).
   *
   * @param node The node, already detached.
   */
  nodeRemoved(node: CloudioNode): void {
    this.#announcements.forget(node);
    for (const attribute of attributesOf(node)) this.#policies.forget(attribute);
    if (!this.#started || this.#closed) return;
    const name = node.name;
    this.#queue(({ topics }) => ({
      kind: "nodeRemoved",
      topic: topics.nodeRemoved(name),
      payload: new Uint8Array(),
      retain: false,
    }));
  }

  /**
   * Sends a log record as `@logs`, once started.
   *
   * @param record The record.
   */
  log(record: LogRecord): void {
    if (!this.#started || this.#closed) return;
    this.#queue(({ topics, format }) => ({
      kind: "logs",
      topic: topics.logs,
      payload: encodeLog(format, record),
      retain: false,
    }));
  }

  /**
   * Sends one line of a job's output as `@execOutput`.
   *
   * @param correlationID The job's correlation ID.
   * @param line The line.
   */
  execOutput(correlationID: string, line: string): void {
    if (!this.#started || this.#closed) return;
    this.#queue(({ topics, format }) => ({
      kind: "execOutput",
      topic: topics.execOutput(correlationID),
      payload: encodeExecOutput(format, { correlationID, data: line }),
      retain: false,
    }));
  }

  /**
   * Begins a transaction.
   *
   * @returns The transaction.
   * @throws {Error} When one is already open.
   */
  beginTransaction(): Transaction {
    return this.#transactions.begin();
  }

  #nodeAdded(node: CloudioNode): void {
    this.#queue(({ topics, format }) => ({
      kind: "nodeAdded",
      topic: topics.nodeAdded(node.name),
      payload: encodeNode(format, node),
      retain: false,
    }));
  }

  #transaction(attributes: readonly CloudioAttribute[]): void {
    for (const attribute of attributes) {
      if (attribute.policy !== undefined) this.#policies.sent(attribute);
    }
    const snapshot = attributes.map((a) => [a.path, a.toModel()] as const);
    this.#queue(({ topics, format }) =>
      ({
        kind: "transaction",
        topic: topics.transaction,
        payload: encodeTransaction(
          format,
          snapshot.map(([path, model]) => [`${topics.uuid}/${path}`, model] as const),
        ),
        retain: false,
      }) as const
    );
  }

  #queue(build: (open: Open) => OutboxMessage): void {
    const open = this.#open;
    if (open) open.outbox.add(build(open));
    else this.#early.push(build);
  }
}

function* attributesOf(container: CloudioNode | CloudioObject): Generator<CloudioAttribute> {
  for (const object of container[objectMap].values()) {
    yield* object[attributeMap].values();
    yield* attributesOf(object);
  }
}

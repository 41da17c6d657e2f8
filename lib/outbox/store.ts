/**
 * The storage contract behind the outbox. A store keeps messages in the order they were added
 * (a strictly increasing `seq` that survives restarts), counts them per class, and makes what
 * was added or deleted durable on `commit()`. Every implementation runs the same contract suite
 * (`tests/outbox_store_contract.ts`).
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { MessageFormat } from "../model/types.ts";

/** The kinds of message that go through the outbox. */
export type OutboxKind =
  | "update"
  | "didSet"
  | "transaction"
  | "logs"
  | "execOutput"
  | "nodeAdded"
  | "nodeRemoved";

/** The kinds that a `@delayed` batch carries (protocol §6.7); the rest go out one by one. */
export const DELAYED_KINDS: readonly OutboxKind[] = ["update", "transaction", "logs"];

/**
 * The three classes that have their own limits: values (`update`, `didSet`, `transaction`),
 * logs (`logs`, and job output `execOutput`) and the nodes' lifecycle (`nodeAdded`,
 * `nodeRemoved`), which a flood of values must never push out.
 */
export type OutboxClass = "updates" | "logs" | "lifecycle";

/** Every class, in a fixed order. */
export const OUTBOX_CLASSES: readonly OutboxClass[] = ["updates", "logs", "lifecycle"];

/**
 * Tells the class of a kind.
 *
 * @param kind The kind.
 * @returns `logs` for logs and job output, `lifecycle` for nodes, `updates` for the rest.
 */
export function classOf(kind: OutboxKind): OutboxClass {
  if (kind === "logs" || kind === "execOutput") return "logs";
  if (kind === "nodeAdded" || kind === "nodeRemoved") return "lifecycle";
  return "updates";
}

/** A message waiting to be delivered. */
export interface OutboxMessage {
  /** Its kind. */
  kind: OutboxKind;
  /** The full topic. */
  topic: string;
  /** The encoded payload. */
  payload: Uint8Array;
  /** Whether it is published retained. */
  retain: boolean;
  /** The attribute path for values, so that a drop policy can keep the latest per attribute. */
  key?: string;
}

/** A stored message with its sequence number. */
export interface OutboxEntry extends OutboxMessage {
  /** Its position; strictly increasing, never reused. */
  seq: number;
}

/** How much a class holds. */
export interface OutboxUsage {
  /** Messages. */
  messages: number;
  /** Payload bytes. */
  bytes: number;
}

/** What may go in one `@delayed` batch (see {@linkcode OutboxStore.encodeRun}). */
export interface RunLimits {
  /** The batch's format: a message whose payload is in another one ends the run. */
  format: MessageFormat;
  /** Only messages up to this sequence number (the end of the backlog). */
  lastSeq: number;
  /** Messages at most. */
  maxMessages: number;
  /** Payload bytes at most; a first message larger than that makes a run of its own. */
  maxBytes: number;
}

/** A run of stored messages, encoded as the items of a `@delayed` batch's `messages` array. */
export interface EncodedRun {
  /** How many messages. */
  count: number;
  /** The first one's sequence number. */
  firstSeq: number;
  /** The last one's sequence number; every stored message from `firstSeq` on is in the run. */
  lastSeq: number;
  /**
   * Each message as `{"topic": …, "data": …}` with its stored payload as `data`, one after the
   * other (in JSON separated by commas). A buffer of its own, which the caller may detach.
   */
  items: Uint8Array;
}

/** The storage behind an outbox. */
export interface OutboxStore {
  /** Whether committed entries survive a crash of the process. */
  readonly durable: boolean;
  /** Where the store lives, for messages (a file path, or `memory`). */
  readonly location: string;
  /**
   * Adds a message at the end. The store may keep the object itself (and set its `seq`): the
   * caller must not change it afterwards.
   *
   * @param message The message.
   * @returns Its sequence number.
   */
  append(message: OutboxMessage): number;
  /**
   * Tells the highest sequence number ever given out (0 for a new store).
   *
   * @returns The sequence number.
   */
  lastSeq(): number;
  /**
   * Reads messages in order.
   *
   * @param afterSeq Only messages with a greater sequence number.
   * @param limit At most this many.
   * @returns The messages, ascending.
   */
  read(afterSeq: number, limit: number): OutboxEntry[];
  /**
   * Deletes messages; unknown sequence numbers are ignored.
   *
   * @param seqs The sequence numbers.
   */
  delete(seqs: readonly number[]): void;
  /**
   * Removes one message of a class to make room: the oldest, or with `latestPerKey` the oldest
   * one whose attribute has a newer message stored (falling back to the oldest).
   *
   * @param cls The class.
   * @param latestPerKey Whether to prefer superseded values.
   * @returns The removed message, or `undefined` when the class is empty.
   */
  evict(cls: OutboxClass, latestPerKey: boolean): OutboxEntry | undefined;
  /**
   * Tells how much a class holds. The outbox asks at every add, so a store may answer with its own
   * running figures rather than a copy: a caller that keeps them copies them.
   *
   * @param cls The class.
   * @returns Messages and bytes.
   */
  usage(cls: OutboxClass): Readonly<OutboxUsage>;
  /**
   * Reads a small persisted setting (such as the remote log level).
   *
   * @param key The setting's name.
   * @returns Its value, or `undefined`.
   */
  getState(key: string): string | undefined;
  /**
   * Writes a small persisted setting; durable at the next commit.
   *
   * @param key The setting's name.
   * @param value Its value.
   */
  setState(key: string, value: string): void;
  /**
   * Optional: encodes, in the store itself, the run of messages after `afterSeq` that goes in one
   * `@delayed` batch: values, transactions and logs in the batch's format, in order, within the
   * limits. A store that keeps its messages outside the JavaScript heap (SQLite) saves the outbox
   * an object, a topic string and a payload buffer per replayed message this way.
   *
   * @param afterSeq Only messages with a greater sequence number.
   * @param limits The batch's format and size.
   * @returns The run, or `undefined` when there is no message after `afterSeq` up to
   *   `limits.lastSeq`, or the first one cannot travel in such a batch (`read()` it then).
   */
  encodeRun?(afterSeq: number, limits: RunLimits): EncodedRun | undefined;
  /** Makes everything appended or deleted so far durable. */
  commit(): Promise<void>;
  /** Commits and releases the store. */
  close(): Promise<void>;
}

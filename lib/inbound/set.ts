/**
 * The cloud writes a value: the `@set` algorithm of protocol §7.3. The topic names the attribute,
 * only a Parameter or SetPoint may be written, the payload is decoded in either format, the value
 * converted to the attribute's type, the timestamp checked for plausibility and order, and the
 * attribute's `accept()` asked. Every `@set` of a Parameter or SetPoint is answered with a
 * `@didSet` of the attribute's state afterwards, whether it was applied or refused; every refusal
 * is a {@linkcode ProtocolError} that says what was refused and why.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { decodePayload, describe, parseSetCommand } from "../codec/decode.ts";
import { coerceValue } from "../model/coerce.ts";
import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import { type CloudioAttribute, cloudWrite } from "../model/attribute.ts";
import type { AttributeValue } from "../model/types.ts";
import { formatTime, timeProblem } from "../time.ts";
import { parseTopic } from "../topics.ts";
import type { SetOrder } from "./set_order.ts";

/** What the `@set` handler needs of the endpoint. */
export interface SetTarget {
  /** The endpoint's UUID, in the form the topics carry it. */
  readonly uuid: string;
  /** The largest payload accepted, in bytes. */
  readonly maxPayload: number;
  /** The order of the cloud's writes so far. */
  readonly order: SetOrder;
  /**
   * Finds an attribute.
   *
   * @param path Its path: the node's name, the objects' names, the attribute's name.
   * @returns The attribute, or `undefined`.
   */
  find(path: readonly string[]): CloudioAttribute | undefined;
  /**
   * Answers with a `@didSet` of the attribute's current state.
   *
   * @param attribute The attribute.
   * @returns `false` when it cannot: the attribute has no value yet.
   */
  answer(attribute: CloudioAttribute): boolean;
}

/**
 * Applies a `@set`, or refuses it.
 *
 * @param target The endpoint side.
 * @param topic The topic it came on.
 * @param payload Its payload.
 * @throws {ProtocolError} When it is refused; the code says why.
 */
export function applySet(target: SetTarget, topic: string, payload: Uint8Array): void {
  const { uuid, path: levels } = parseTopic(topic);
  if (uuid !== target.uuid || levels.length < 3 || levels.includes("")) {
    throw new ProtocolError(
      `Cannot apply the @set on ${topic}: the topic is not @set/${target.uuid}/<node>/<object…>/<attribute>`,
      { code: "invalid-topic", topic },
    );
  }
  const attribute = target.find(levels);
  const path = levels.join("/");
  if (!attribute) {
    throw new ProtocolError(
      `Cannot apply the @set on ${topic}: the endpoint has no attribute "${path}"`,
      {
        code: "unknown-path",
        topic,
      },
    );
  }
  if (attribute.constraint !== "Parameter" && attribute.constraint !== "SetPoint") {
    throw new ProtocolError(
      `Cannot apply the @set of "${path}": a ${attribute.constraint} attribute is written by the device only`,
      { code: "constraint", topic },
    );
  }
  let value: AttributeValue | undefined;
  const refusal = (code: ProtocolErrorCode, reason: string, cause?: unknown) => {
    const to = value === undefined ? "" : ` to ${show(value)}`;
    return new ProtocolError(`Cannot apply the @set of "${path}"${to}: ${reason}`, {
      code,
      topic,
      cause,
    });
  };
  try {
    const { value: body } = decodePayload(payload, { topic, maxBytes: target.maxPayload });
    const command = parseSetCommand(body, topic);
    value = coerceValue(attribute.type, command.value);
    if (value === undefined) {
      throw refusal("wrong-type", `${describe(command.value)} is not a valid ${attribute.type}`);
    }
    const timestamp = command.timestamp;
    if (timestamp === undefined) {
      throw refusal(
        "invalid-timestamp",
        'it has no timestamp (a @set carries the time of the cloud\'s write: "timestamp", in seconds)',
      );
    }
    const problem = timeProblem(timestamp);
    if (problem !== undefined) {
      throw refusal(
        "invalid-timestamp",
        `its timestamp ${describe(body.timestamp)} is not plausible: ${problem}`,
      );
    }
    const later = target.order.staleAgainst(attribute, timestamp);
    if (later !== undefined) {
      throw refusal(
        "stale",
        `stale: ${formatTime(timestamp)} is not newer than ${
          formatTime(later)
        }, the last @set's time`,
      );
    }
    // A refused write is still the cloud's latest word on the attribute.
    target.order.record(attribute, timestamp);
    let applied: boolean;
    try {
      applied = attribute[cloudWrite](value as never, timestamp);
    } catch (cause) {
      throw refusal("refused", `accept() refused it: ${(cause as Error)?.message ?? cause}`, cause);
    }
    if (!applied) throw refusal("refused", "accept() refused it");
  } catch (error) {
    if (!target.answer(attribute) && error instanceof ProtocolError) {
      throw new ProtocolError(
        `${error.message} (not answered with @didSet: "${path}" has no value yet)`,
        { code: error.code, topic, cause: error.cause },
      );
    }
    throw error;
  }
  target.answer(attribute);
}

function show(value: AttributeValue): string {
  return typeof value === "string" ? describe(value) : String(value);
}

/**
 * The cloud sets the remote log level (`@logsLevel`, protocol §6.8).
 *
 * This module is browser compatible.
 *
 * @module
 */

import { decodePayload } from "../codec/decode.ts";
import { ProtocolError } from "../errors.ts";
import { isLogLevel, type LogLevel } from "../logs/levels.ts";
import { parseTopic } from "../topics.ts";

/** What the `@logsLevel` handler needs of the endpoint. */
export interface LogsLevelTarget {
  /** The endpoint's UUID. */
  readonly uuid: string;
  /** The largest payload accepted, in bytes. */
  readonly maxPayload: number;
  /**
   * Applies the level (and keeps it: the cloud never sends it again).
   *
   * @param level The level.
   */
  setLevel(level: LogLevel): void;
}

/**
 * Applies a `@logsLevel`, or refuses it.
 *
 * @param target The endpoint side.
 * @param topic The topic it came on.
 * @param payload Its payload, `{"level": …}`.
 * @throws {ProtocolError} `invalid-topic`, a decoding code, or `wrong-type` for an unknown level.
 */
export function applyLogsLevel(target: LogsLevelTarget, topic: string, payload: Uint8Array): void {
  const { uuid, path } = parseTopic(topic);
  if (uuid !== target.uuid || path.length !== 0) {
    throw new ProtocolError(`Cannot apply ${topic}: the topic is not @logsLevel/${target.uuid}`, {
      code: "invalid-topic",
      topic,
    });
  }
  const { value } = decodePayload(payload, { topic, maxBytes: target.maxPayload });
  if (!isLogLevel(value.level)) {
    throw new ProtocolError(
      `Cannot apply ${topic}: ${JSON.stringify(value.level ?? null)} is not a log level`,
      { code: "wrong-type", topic },
    );
  }
  target.setLevel(value.level);
}

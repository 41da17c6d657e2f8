/**
 * The cloud starts a job (`@exec`, protocol §6.9).
 *
 * This module is browser compatible.
 *
 * @module
 */

import { decodePayload } from "../codec/decode.ts";
import { ProtocolError } from "../errors.ts";
import { type Jobs, parseJobCommand } from "../jobs/jobs.ts";
import { parseTopic } from "../topics.ts";

/** What the `@exec` handler needs of the endpoint. */
export interface ExecTarget {
  /** The endpoint's UUID. */
  readonly uuid: string;
  /** The largest payload accepted, in bytes. */
  readonly maxPayload: number;
  /** The endpoint's jobs. */
  readonly jobs: Jobs;
  /**
   * Told when a started job fails.
   *
   * @param error The failure.
   */
  report(error: unknown): void;
}

/**
 * Starts the job an `@exec` asks for, or refuses it.
 *
 * @param target The endpoint side.
 * @param topic The topic it came on.
 * @param payload Its payload.
 * @throws {ProtocolError} `invalid-topic`, a decoding code, or `malformed-payload`.
 */
export function startJob(target: ExecTarget, topic: string, payload: Uint8Array): void {
  const { uuid, path } = parseTopic(topic);
  if (uuid !== target.uuid || path.length !== 0) {
    throw new ProtocolError(
      `Cannot run the job of ${topic}: the topic is not @exec/${target.uuid}`,
      { code: "invalid-topic", topic },
    );
  }
  const { value } = decodePayload(payload, { topic, maxBytes: target.maxPayload });
  const command = parseJobCommand(value, topic);
  target.jobs.run(command, topic).catch((error) => target.report(error));
}

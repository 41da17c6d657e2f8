/**
 * Inbound dispatch: each message the endpoint receives goes to the handler of its action, as
 * MQTT.js's `handlers/` do per packet type. A handler refuses a message by throwing; the refusal
 * is reported and the endpoint goes on.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { type Action, parseTopic } from "../topics.ts";

/** Handles one inbound message; throws to refuse it. */
export type InboundHandler = (topic: string, payload: Uint8Array) => void;

/**
 * Builds the function that receives every inbound message.
 *
 * @param handlers One handler per action the endpoint subscribes to.
 * @param report Told of every refusal or failure.
 * @returns The receiver, for the transport.
 *
 * @example
 * ```ts
 * import { dispatcher } from "./dispatch.ts";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const errors: unknown[] = [];
 * const receive = dispatcher(new Map([["@set", (topic) => seen.push(topic)]]), (e) => errors.push(e));
 * receive("@set/u/n/o/a", new Uint8Array());
 * receive("@update/u/n/o/a", new Uint8Array());
 * assert.deepEqual(seen, ["@set/u/n/o/a"]);
 * assert.equal(errors.length, 1);
 * ```
 */
export function dispatcher(
  handlers: ReadonlyMap<Action, InboundHandler>,
  report: (error: unknown) => void,
): (topic: string, payload: Uint8Array) => void {
  return (topic, payload) => {
    try {
      const handler = handlers.get(parseTopic(topic).action as Action);
      if (!handler) {
        throw new ProtocolError(
          `Cannot handle a message on ${topic}: the endpoint did not subscribe to it`,
          { code: "invalid-topic", topic },
        );
      }
      handler(topic, payload);
    } catch (error) {
      report(error);
    }
  };
}

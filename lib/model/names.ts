/**
 * Rules for endpoint UUIDs and for node, object and attribute names (protocol §2).
 *
 * This module is browser compatible.
 *
 * @module
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// §2: "/", ".", "#", "+", "*" split or wildcard topics on the server and RabbitMQ; the rest is the
// Java reference's forbidden set, plus every control character.
// deno-lint-ignore no-control-regex
const FORBIDDEN = /[/.#+*\\?"',:;<>\x00-\x1f\x7f]/;

/** The longest name accepted, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 255;

/**
 * Tells why a string is not a valid endpoint UUID, or returns `undefined` when it is one.
 *
 * The cloud parses the UUID as a `java.util.UUID` and refuses the nil UUID; we ask for the
 * canonical 8-4-4-4-12 hexadecimal form.
 *
 * @param uuid The candidate.
 * @returns The reason it is invalid, or `undefined`.
 *
 * @example
 * ```ts
 * import { uuidProblem } from "./names.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(uuidProblem("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55"), undefined);
 * assert.match(uuidProblem("00000000-0000-0000-0000-000000000000")!, /nil/);
 * ```
 */
export function uuidProblem(uuid: string): string | undefined {
  if (typeof uuid !== "string") return "it is not a string";
  if (!UUID.test(uuid)) return "it is not a UUID of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  if (/^[0-]+$/.test(uuid)) return "the nil UUID is refused by the cloud";
  return undefined;
}

/**
 * Tells why a string cannot name a node, object or attribute, or returns `undefined` when it can.
 *
 * @param name The candidate.
 * @returns The reason it is invalid, or `undefined`.
 *
 * @example
 * ```ts
 * import { nameProblem } from "./names.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(nameProblem("throughput"), undefined);
 * assert.match(nameProblem("a/b")!, /"\/"/);
 * ```
 */
export function nameProblem(name: string): string | undefined {
  if (typeof name !== "string") return "it is not a string";
  if (name.length === 0) return "it is empty";
  if (name.length > MAX_NAME_LENGTH) return `it is longer than ${MAX_NAME_LENGTH} characters`;
  const bad = FORBIDDEN.exec(name);
  if (bad) {
    const shown = bad[0].charCodeAt(0) < 0x20 || bad[0] === "\x7f"
      ? `control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, "0")}`
      : `"${bad[0]}"`;
    return `it contains ${shown}`;
  }
  if (name === "__proto__") return "it is reserved";
  return undefined;
}

/**
 * Throws a `TypeError` when a name is invalid.
 *
 * @param kind What is being named, for the message: `node`, `object` or `attribute`.
 * @param name The candidate.
 * @throws {TypeError} When the name is invalid.
 *
 * @example
 * ```ts
 * import { assertName } from "./names.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => assertName("node", "a.b"), TypeError);
 * ```
 */
export function assertName(kind: "node" | "object" | "attribute", name: string): void {
  const problem = nameProblem(name);
  if (problem) {
    throw new TypeError(`Cannot use ${JSON.stringify(name)} as ${kind} name: ${problem}`);
  }
  if (kind === "node" && name === "nodes") {
    throw new TypeError(
      'Cannot use "nodes" as node name: the cloud takes it for a v0.1 topic (protocol §2)',
    );
  }
}

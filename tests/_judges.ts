/**
 * Two independent judges of "the cloud accepts this", for every message an endpoint publishes:
 *
 * 1. `devcloud/strict.ts` (`serverProblems`), the library's own reimplementation of the
 *    server's strict decoder, which the devcloud also uses.
 * 2. This module: the JSON Schema `schemas/cloudio-v0.2.schema.json`, written from the protocol
 *    reference (§2, §5, §6), validated with ajv; payloads decoded by `JSON.parse` and by cborg (not
 *    by the library's decoder); topics checked against §2's level counts; and, because a JSON
 *    Schema cannot tell `20.0` from `20` once parsed, the number tokens themselves read from the
 *    raw bytes (JSON source text, CBOR major types): a `Number` value must be written as a float
 *    and an `Integer` value as an integer (§5.2.3).
 *
 * A mistake shared by `strict.ts` and the code it checks cannot pass both.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Ajv2020 } from "npm:ajv@8.20.0/dist/2020.js";
import { decode as cborDecode, Token, Tokenizer, Type } from "npm:cborg@6.1.5";
import { serverProblems } from "../devcloud/strict.ts";
import type { Received } from "./_cloud.ts";

const SCHEMA = JSON.parse(
  Deno.readTextFileSync(new URL("./schemas/cloudio-v0.2.schema.json", import.meta.url)),
);
// Strict about unknown keywords; the if/then branches need not repeat "type": "object".
const ajv = new Ajv2020({
  allErrors: true,
  strict: true,
  strictTypes: false,
  allowUnionTypes: true,
});
ajv.addSchema(SCHEMA);

/** The schema entry for each action the endpoint publishes with a payload. */
const DEFINITION: Record<string, string> = {
  "@online": "online",
  "@nodeAdded": "nodeAdded",
  "@update": "update",
  "@didSet": "didSet",
  "@transaction": "transaction",
  "@delayed": "delayed",
  "@logs": "logs",
  "@execOutput": "execOutput",
};

/** §2: topic levels after the action (UUID included); `+` means at least that many. */
const LEVELS: Record<string, number | `${number}+`> = {
  "@online": 1,
  "@offline": 1,
  "@nodeAdded": 2,
  "@nodeRemoved": 2,
  "@update": "4+",
  "@didSet": "4+",
  "@transaction": 1,
  "@delayed": 1,
  "@logs": 1,
  "@execOutput": 2,
};

/** A number as it was written: its value and whether the bytes made it a float. */
class WrittenNumber {
  constructor(readonly value: number, readonly float: boolean) {}
}

const FLOAT_MARK = "\u0000float:";

/** Decodes a payload keeping how each number was written, without the library's decoder. */
function decodeWritten(payload: Uint8Array): unknown {
  if (payload[0] === 0x7b) {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(payload);
    return JSON.parse(
      text,
      // The source text of each number (JSON.parse source text access, ES2025).
      (_key, value, context?: { source?: string }) =>
        typeof value === "number"
          ? new WrittenNumber(value, /[.eE]/.test(context?.source ?? ""))
          : value,
    );
  }
  if ((payload[0] & 0xe0) === 0xa0) {
    // cborg turns floats into plain numbers; a tokenizer in between marks them first.
    const inner = new Tokenizer(payload, {});
    const tokenizer = {
      done: () => inner.done(),
      pos: () => inner.pos(),
      next: () => {
        const token = inner.next();
        return token.type === Type.float
          ? new Token(Type.string, `${FLOAT_MARK}${token.value}`, token.encodedLength)
          : token;
      },
    };
    const decoded = cborDecode(payload, { tokenizer, useMaps: false, strict: true });
    return reviveCbor(decoded);
  }
  throw new Error(`neither JSON nor CBOR (first byte 0x${payload[0]?.toString(16)})`);
}

function reviveCbor(value: unknown): unknown {
  if (typeof value === "string" && value.startsWith(FLOAT_MARK)) {
    return new WrittenNumber(Number(value.slice(FLOAT_MARK.length)), true);
  }
  if (typeof value === "number") return new WrittenNumber(value, false);
  if (typeof value === "bigint") return new WrittenNumber(Number(value), false);
  if (Array.isArray(value)) return value.map(reviveCbor);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviveCbor(v)]));
  }
  return value;
}

/** The plain value, for the schema. */
function plain(value: unknown): unknown {
  if (value instanceof WrittenNumber) return value.value;
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** §5.2.3: every attribute's value token matches its type (found wherever an attribute is). */
function numberProblems(value: unknown, path: string, out: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => numberProblems(v, `${path}[${i}]`, out));
    return;
  }
  if (!value || typeof value !== "object" || value instanceof WrittenNumber) return;
  const record = value as Record<string, unknown>;
  const written = record.value;
  if (typeof record.type === "string" && "constraint" in record) {
    if (record.type === "Number" && written instanceof WrittenNumber && !written.float) {
      out.push(`${path}.value: a Number written as an integer (${written.value})`);
    }
    if (record.type === "Integer" && written instanceof WrittenNumber && written.float) {
      out.push(`${path}.value: an Integer written as a float (${written.value})`);
    }
  }
  for (const [key, child] of Object.entries(record)) numberProblems(child, `${path}.${key}`, out);
}

/**
 * What the second judge finds wrong with one published message (empty when it passes).
 *
 * @param topic The topic.
 * @param payload The payload.
 * @param uuid The endpoint that published it.
 * @returns The problems.
 */
export function schemaProblems(topic: string, payload: Uint8Array, uuid: string): string[] {
  const problems: string[] = [];
  const [action, id, ...rest] = topic.split("/");
  const levels = LEVELS[action];
  if (levels === undefined) return [`${action} is not an action an endpoint publishes`];
  if (id !== uuid) problems.push(`the topic's UUID level is ${id}, not ${uuid}`);
  const count = rest.length + 1;
  if (typeof levels === "number" ? count !== levels : count < Number.parseInt(levels)) {
    problems.push(`${count} level(s) after ${action}, not ${levels}`);
  }
  if (rest.some((level) => !/^[^/.#+*]+$/.test(level))) {
    problems.push(`a topic level is empty or holds one of . # + *`);
  }
  const definition = DEFINITION[action];
  if (!definition) return problems; // @offline, @nodeRemoved: the payload is never read (§6.10)
  let written: unknown;
  try {
    written = decodeWritten(payload);
  } catch (error) {
    return [...problems, `cannot decode the payload: ${(error as Error).message}`];
  }
  const validate = ajv.getSchema(`${SCHEMA.$id}#/$defs/${definition}`)!;
  if (!validate(plain(written))) {
    for (const error of validate.errors ?? []) {
      problems.push(`${error.instancePath || "/"} ${error.message} (${error.schemaPath})`);
    }
  }
  numberProblems(written, "", problems);
  if (action === "@delayed" || action === "@transaction") {
    // The UUID inside must be the publisher's too.
    const body = plain(written) as Record<string, unknown>;
    const inner = action === "@delayed"
      ? ((body.messages ?? []) as { topic: string }[]).map((m) => m.topic.split("/")[1])
      : Object.keys((body.attributes ?? {}) as object).map((key) => key.split("/")[0]);
    for (const other of inner) {
      if (other !== uuid) problems.push(`carries a message of ${other}, not of ${uuid}`);
    }
  }
  return problems;
}

/**
 * Asserts that every message `uuid` published (all but `@set`) passes both judges.
 *
 * @param messages What the test cloud received.
 * @param uuid The endpoint.
 * @throws {AssertionError} Naming the topic, the judge and the problems.
 */
export function assertServerValid(messages: Received[], uuid: string): void {
  let checked = 0;
  for (const m of messages) {
    if (m.topic.split("/")[1] !== uuid || m.topic.startsWith("@set/")) continue;
    assert.deepEqual(serverProblems(m.topic, m.payload), [], `${m.topic} passes strict.ts`);
    assert.deepEqual(schemaProblems(m.topic, m.payload, uuid), [], `${m.topic} passes the schema`);
    checked++;
  }
  assert.ok(checked > 0, `no message of ${uuid} to judge`);
}

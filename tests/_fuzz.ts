/**
 * Fuzzing of every inbound path (`@set`, `@exec`, `@logsLevel`, and topics the endpoint never
 * subscribed to) through the endpoint's real receive entry point, with property-based inputs and
 * mutations of valid payloads, in JSON and CBOR. Shared by `tests/fuzz_test.ts` (a sample) and
 * `deno task fuzz` (100,000 cases).
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { encode as cbor } from "npm:cborg@6.1.5";
import { CloudioError, Endpoint, ProtocolError } from "../mod.ts";
import { MemoryStore } from "../extend.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import { SKEW_TOLERANCE, timeProblem } from "../lib/time.ts";
import { encodeAttribute } from "../lib/codec/encode.ts";
import { serverProblems } from "../devcloud/strict.ts";
import { schemaProblems } from "./_judges.ts";
import type { AttributeModel } from "../lib/model/types.ts";
import { memoryTransport } from "./_memory_transport.ts";

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";
const OTHER = "9d1e2f3a-0b1c-4d2e-8f3a-4b5c6d7e8f90";

const MODEL = {
  nodes: {
    Vacuum: {
      implements: ["NodeInterface"],
      objects: {
        Parameters: {
          attributes: {
            power: { type: "Boolean", constraint: "Parameter", value: false },
            target: { type: "Number", constraint: "SetPoint" },
            mode: { type: "Integer", constraint: "Parameter", value: 1 },
            label: { type: "String", constraint: "Parameter", value: "x" },
          },
          objects: { Deep: { attributes: { level: { type: "Integer", constraint: "SetPoint" } } } },
        },
        Status: {
          attributes: {
            throughput: { type: "Number", constraint: "Measure" },
            on: { type: "Boolean", constraint: "Status" },
            serial: { type: "String", constraint: "Static", value: "S1" },
          },
        },
      },
    },
  },
} as const;

const PATHS = [
  "Vacuum/Parameters/power",
  "Vacuum/Parameters/target",
  "Vacuum/Parameters/mode",
  "Vacuum/Parameters/label",
  "Vacuum/Parameters/Deep/level",
  "Vacuum/Status/throughput",
  "Vacuum/Status/on",
  "Vacuum/Status/serial",
];

/** The attributes the cloud may write, with a fresh value for each probe. */
const WRITABLE: [string, (n: number) => unknown][] = [
  ["Vacuum/Parameters/power", (n) => n % 2 === 0],
  ["Vacuum/Parameters/target", (n) => n + 0.5],
  ["Vacuum/Parameters/mode", (n) => n],
  ["Vacuum/Parameters/label", (n) => `p${n}`],
  ["Vacuum/Parameters/Deep/level", (n) => n],
];

const encoder = new TextEncoder();

/** One fuzz case: a topic and a payload. */
export interface FuzzCase {
  topic: string;
  payload: Uint8Array;
}

const level = fc.oneof(
  fc.constantFrom(...PATHS.flatMap((p) => p.split("/"))),
  fc.constantFrom("", ".", "..", "+", "#", "*", "nodes", "__proto__", "constructor", "é", "a b"),
  fc.string({ maxLength: 20 }),
  fc.string({ minLength: 300, maxLength: 2000 }),
);

const topic: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PATHS).map((p) => `@set/${UUID}/${p}`) },
  {
    weight: 2,
    arbitrary: fc.array(level, { maxLength: 6 }).map((ls) => `@set/${UUID}/${ls.join("/")}`),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom(OTHER, "", UUID.toUpperCase(), "+", "#"),
      fc.constantFrom(...PATHS),
    )
      .map(([u, p]) => `@set/${u}/${p}`),
  },
  { weight: 3, arbitrary: fc.constantFrom(`@exec/${UUID}`, `@exec/${UUID}/x`, `@exec/${OTHER}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(`@logsLevel/${UUID}`, `@logsLevel/${UUID}/x`, `@logsLevel`),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("@update/" + UUID + "/Vacuum/Status/on", "@online/" + UUID, ""),
  },
);

const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1, 2 ** 53, -(2 ** 53), 1e308, 5e-324, Number.MAX_SAFE_INTEGER),
  fc.string({ maxLength: 40 }),
  fc.constantFrom("true", "false", "1", "0", "NaN", "1e3", " 7 ", "", "yes"),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);

const timestamp: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.double({ min: 0, max: 4e9, noNaN: true }),
  fc.constantFrom(-1, 0, 1e12, 1.7e12, 1e300, "now", null),
  fc.double(),
);

const setBody = fc.record({
  value,
  timestamp,
  constraint: fc.option(fc.constantFrom("Parameter", "SetPoint", "Measure", "Bogus")),
  type: fc.option(fc.constantFrom("Boolean", "Integer", "Number", "String", "Bogus")),
  correlationID: fc.option(fc.string({ maxLength: 10 })),
}, { requiredKeys: [] });

const execBody = fc.record({
  correlationID: fc.oneof(
    fc.stringMatching(/^[a-z0-9-]{1,12}$/),
    fc.string({ maxLength: 12 }),
    fc.integer(),
  ),
  jobURI: fc.oneof(
    fc.constantFrom(
      "cmd://listJobs",
      "cmd://echo",
      "cmd://fail",
      "cmd://updateJobs",
      "file://../../etc/passwd",
    ),
    fc.string({ maxLength: 20 }),
  ),
  data: fc.oneof(fc.string({ maxLength: 40 }), fc.integer()),
  sendOutput: fc.oneof(fc.boolean(), fc.constant("yes")),
}, { requiredKeys: [] });

const levelBody = fc.record({
  level: fc.oneof(
    fc.constantFrom("OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL", "debug", ""),
    fc.integer(),
  ),
});

const json = (body: unknown) => encoder.encode(JSON.stringify(body));
const toCbor = (body: unknown) => {
  try {
    return cbor(body as never);
  } catch {
    return json(body);
  }
};

const structured = fc.oneof(setBody, execBody, levelBody, fc.jsonValue({ maxDepth: 3 }));

const mutate = (bytes: Uint8Array) =>
  fc.array(
    fc.tuple(
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom("flip", "insert", "delete", "cut"),
    ),
    {
      minLength: 1,
      maxLength: 4,
    },
  ).map((edits) => {
    let out = Array.from(bytes);
    for (const [at, byte, kind] of edits) {
      const i = out.length ? at % out.length : 0;
      if (kind === "flip") out[i] = byte;
      else if (kind === "insert") out.splice(i, 0, byte);
      else if (kind === "delete") out.splice(i, 1);
      else out = out.slice(0, i);
    }
    return new Uint8Array(out);
  });

const valid = fc.constantFrom(...PATHS).map((path) => {
  const attribute = path.split("/").reduce(
    // deno-lint-ignore no-explicit-any
    (node: any, name, i) =>
      i === 0 ? MODEL.nodes[name as "Vacuum"] : (node.objects?.[name] ?? node.attributes?.[name]),
    undefined,
  ) as AttributeModel;
  const sample = { Boolean: true, Integer: 7, Number: 2.5, String: "ok" }[attribute.type];
  // A current write: a second ahead of the device clock, well within the tolerance.
  return { ...attribute, value: sample, timestamp: Date.now() + 1000 };
});

const payload: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: structured.map(json) },
  { weight: 4, arbitrary: structured.map(toCbor) },
  {
    weight: 2,
    arbitrary: valid.chain((a) =>
      fc.constantFrom("JSON", "CBOR").map((f) => encodeAttribute(f as "JSON", a))
    ),
  },
  {
    weight: 3,
    arbitrary: valid.chain((a) =>
      fc.constantFrom("JSON", "CBOR").chain((f) => mutate(encodeAttribute(f as "JSON", a)))
    ),
  },
  {
    weight: 2,
    arbitrary: valid.map((a) => encodeAttribute("CBOR", a)).chain((b) =>
      fc.nat(b.length).map((n) => b.slice(0, n))
    ),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 40_000 }).map((n) =>
      encoder.encode(`{"value":${"[".repeat(n)}${"]".repeat(n)}}`)
    ),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) =>
      new Uint8Array([0xa1, 0x65, 0x76, 0x61, 0x6c, 0x75, 0x65, ...new Array(n).fill(0x81), 0x01])
    ),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1000, max: 300_000 }).map((n) => json({ value: "x".repeat(n) })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), // not UTF-8
      new Uint8Array([0xbf, 0x65, 0x76, 0x61, 0x6c, 0x75, 0x65, 0xf5, 0xff]), // indefinite map {value: true}
      new Uint8Array([0xbf, 0x65, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x9f, 0x01, 0xff, 0xff]), // indefinite array value
      new Uint8Array([
        0xa1,
        0x65,
        0x76,
        0x61,
        0x6c,
        0x75,
        0x65,
        0xfb,
        0x7f,
        0xf8,
        0,
        0,
        0,
        0,
        0,
        0,
      ]), // NaN
      new Uint8Array([0xa1, 0x65, 0x76, 0x61, 0x6c, 0x75, 0x65, 0xf9, 0x7c, 0x00]), // +Infinity (half)
      new Uint8Array([
        0xa1,
        0x65,
        0x76,
        0x61,
        0x6c,
        0x75,
        0x65,
        0x1b,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
      ]), // 2^64-1
      new Uint8Array([0xa1, 0x65, 0x76, 0x61, 0x6c, 0x75, 0x65, 0xc2, 0x41, 0x01]), // a tag
      new Uint8Array([0xa1, 0x65, 0x76, 0x61, 0x6c, 0x75, 0x65, 0xf7]), // undefined
      new Uint8Array([0xa1, 0x65, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x62, 0xff, 0xfe]), // text that is not UTF-8
      new Uint8Array(0),
    ),
  },
);

export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.record({ topic, payload });

/** Every `timestamp` in a decoded message, at any depth, in seconds. */
function timestamps(value: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(value)) { for (const item of value) timestamps(item, out); }
  else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key === "timestamp") out.push(item);
      else timestamps(item, out);
    }
  }
  return out;
}

/** What a fuzz run found. */
export interface FuzzResult {
  cases: number;
  refused: number;
  applied: number;
  /** Current `@set`s delivered after the cases, each of which was applied. */
  probes: number;
  published: number;
  slowestMs: number;
  heapBefore: number;
  heapAfter: number;
  seed: number;
}

/**
 * Runs fuzz cases through one endpoint and checks the properties after each.
 *
 * @param runs How many cases.
 * @param seed The seed (printed, to replay a failure).
 * @returns Counters.
 */
export async function runFuzz(runs: number, seed = Date.now() % 2 ** 31): Promise<FuzzResult> {
  const transport = memoryTransport();
  const errors: unknown[] = [];
  const endpoint = new Endpoint(UUID, {
    model: MODEL as never,
    config: { hostUri: "mqtt://memory", persistence: "memory" },
    transport,
    store: new MemoryStore(),
    onError: (error) => errors.push(error),
    maxPayload: 256 * 1024,
    limits: { updates: { messages: 5_000 }, logs: { messages: 5_000 } },
  });
  endpoint.addJob("echo", (job) => job.output(job.data));
  endpoint.addJob("fail", () => {
    throw new Error("failed on purpose");
  });
  await endpoint.connect();
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = Deno.memoryUsage().heapUsed;
  let refused = 0, applied = 0, slowest = 0, checked = 0, probes = 0;
  const snapshot = () => JSON.stringify(endpoint.toModel());
  // Everything published is server-valid, under the endpoint's UUID, with plausible timestamps.
  const checkPublished = () => {
    for (const message of transport.published.splice(0)) {
      assert.deepEqual(
        serverProblems(message.topic, message.payload),
        [],
        `published ${message.topic}`,
      );
      assert.deepEqual(
        schemaProblems(message.topic, message.payload, UUID),
        [],
        `published ${message.topic} (schema)`,
      );
      assert.ok(
        message.topic.split("/")[1] === UUID,
        `published outside its uuid: ${message.topic}`,
      );
      if (message.payload.length > 0) {
        const body = decodePayload(message.payload, { maxBytes: 1 << 24 }).value;
        for (const t of timestamps(body)) {
          assert.equal(timeProblem((t as number) * 1000), undefined, `${message.topic}: ${t}`);
        }
      }
      checked++;
    }
  };
  // After any message, hostile or not, the cloud's current write is applied to every writable
  // attribute. Only a plausible write that is itself current (within the clock tolerance) may
  // stand in the way, and then one just after it applies.
  const probe = () => {
    for (const [path, make] of WRITABLE) {
      const value = make(++probes);
      const reported = errors.length;
      const send = (ms: number) =>
        transport.deliver(
          `@set/${UUID}/${path}`,
          json({ value, timestamp: ms / 1000 }),
        );
      const now = Date.now();
      send(now);
      let attribute = endpoint.attribute(path)!;
      if (attribute.value !== value) {
        const [error] = errors.slice(reported);
        assert.ok(
          error instanceof ProtocolError && error.code === "stale",
          `a current @set of ${path} was refused: ${error}`,
        );
        const blocking = attribute.timestamp!;
        assert.ok(
          blocking >= now && blocking <= now + SKEW_TOLERANCE + 1000,
          `a @set ${blocking - now} ms ahead held back the current one on ${path}`,
        );
        send(blocking + 1);
        attribute = endpoint.attribute(path)!;
      }
      assert.equal(attribute.value, value, `the current @set of ${path} was applied`);
    }
  };
  try {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fuzzCase, async ({ topic, payload }) => {
        // Let the outbox see its acknowledgements now and then, as it would on a live link.
        if (++run % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
        const before = snapshot();
        const reported = errors.length;
        const started = performance.now();
        transport.deliver(topic, payload); // throws nothing, or the property fails
        slowest = Math.max(slowest, performance.now() - started);
        const after = snapshot();
        const fresh = errors.slice(reported);
        for (const error of fresh) {
          assert.ok(error instanceof CloudioError, `untyped report: ${error}`);
        }
        if (fresh.length > 0) {
          refused++;
          assert.equal(
            after,
            before,
            `refused, yet the model changed: ${fresh.map(String).join("; ")}`,
          );
        }
        if (after !== before) {
          applied++;
          assert.ok(topic.startsWith(`@set/${UUID}/Vacuum/Parameters/`), `changed by ${topic}`);
        }
        probe();
        checkPublished();
        // Keep memory flat: forget what was checked.
        if (errors.length > 1000) errors.splice(0);
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
    // Let jobs and the outbox finish, then check what they published.
    await new Promise((resolve) => setTimeout(resolve, 50));
    checkPublished();
  } finally {
    await endpoint.close({ timeout: 0 });
  }
  gc?.();
  return {
    cases: runs,
    refused,
    applied,
    probes,
    published: checked,
    slowestMs: Math.round(slowest),
    heapBefore,
    heapAfter: Deno.memoryUsage().heapUsed,
    seed,
  };
}

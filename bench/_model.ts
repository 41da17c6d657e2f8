/**
 * The model case, in a fresh process so that the first `@online` is measured cold, as a device
 * pays for it: a 10,000-attribute endpoint (10 nodes × 10 objects × 100 attributes, every type
 * and constraint, each with a value and a timestamp) turned into its `@online` payload in JSON
 * and in CBOR, and decoded again.
 *
 *     deno run -A bench/_model.ts [--attributes 10000] [--iterations 12] [--first CBOR|JSON]
 *
 * Prints one line, `MODEL <json>`, with medians (ms) of the warm iterations, the time of the
 * first (cold) `@online` of the process in the format `--first`, and the sizes. Baselines:
 * `JSON.stringify` + `TextEncoder` and `cborg.encode` of the same object (which no cloud would
 * accept as is: integral Number values become integers); `TextDecoder` + `JSON.parse` and
 * `cborg.decode` of the endpoint's own payloads.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { decode as cborDecode, encode as cborEncode } from "npm:cborg@6.1.5";
import { Endpoint } from "../mod.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import { encodeEndpoint, modelTree, PROTOCOL_VERSION } from "../lib/codec/encode.ts";
import type { AttributeConstraint, AttributeType, MessageFormat } from "../lib/model/types.ts";
import { median } from "./_stats.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    attributes: { type: "string", default: "10000" },
    iterations: { type: "string", default: "12" },
    first: { type: "string", default: "CBOR" },
  },
});
const attributeCount = Number(args.attributes);
const iterations = Number(args.iterations);
const FORMATS: MessageFormat[] = ["JSON", "CBOR"];
const TYPES: AttributeType[] = ["Number", "Integer", "Boolean", "String"];
const CONSTRAINTS: AttributeConstraint[] = ["Measure", "Status", "Parameter", "SetPoint", "Static"];

function time(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

let endpoint!: Endpoint;
const buildMs = time(() => {
  endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
  const perObject = 100;
  const objectsPerNode = 10;
  const nodes = Math.ceil(attributeCount / (perObject * objectsPerNode));
  let n = 0;
  const t = 1_764_000_000_000;
  for (let a = 0; a < nodes && n < attributeCount; a++) {
    const node = endpoint.addNode(`node${a}`, { implements: ["NodeInterface"] });
    for (let b = 0; b < objectsPerNode && n < attributeCount; b++) {
      const object = node.addObject(`object${b}`);
      for (let c = 0; c < perObject && n < attributeCount; c++, n++) {
        const type = TYPES[n % TYPES.length];
        const value = type === "Number"
          ? n * 0.25
          : type === "Integer"
          ? n
          : type === "Boolean"
          ? n % 2 === 0
          : `value ${n}`;
        object.addAttribute(`attribute${c}`, {
          type,
          constraint: CONSTRAINTS[Math.floor(n / TYPES.length) % CONSTRAINTS.length],
          value: value as never,
          timestamp: t + n,
        });
      }
    }
  }
});

const supported: MessageFormat[] = ["JSON", "CBOR"];
// What the endpoint sends on every (re)connect: encoded straight from the live tree (the
// endpoint keeps its nodes in a Map; here, the same nodes in one).
const liveNodes = new Map(Object.entries(endpoint.nodes));
const online = (format: MessageFormat) => encodeEndpoint(format, liveNodes, supported);

// The first @online of the process, as a device sends it after start: cold code. Only the
// format that goes first is cold (the other one shares most of the code).
const first = args.first as MessageFormat;
const coldMs = time(() => online(first));

const model = endpoint.toModel();
const plain = {
  version: PROTOCOL_VERSION,
  messageFormatVersion: 2,
  supportedFormats: supported,
  nodes: model.nodes,
};
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const payloads = { JSON: online("JSON"), CBOR: online("CBOR") };
const baselinePayloads = { JSON: encoder.encode(JSON.stringify(plain)), CBOR: cborEncode(plain) };

// Each figure is measured next to its baseline only, alternating which goes first, so that the
// garbage one leaves behind is collected in the other's time as often as the other way round.
// V8's JSON.parse is several times slower for its first couple of dozen parses of such a payload,
// whoever calls it: hence the long warm-up.
const WARMUP = 12;
const samples: Record<string, number[]> = {};
function measure(pair: [string, () => unknown][]): void {
  for (let i = 0; i < WARMUP; i++) for (const [, fn] of pair) fn();
  for (let i = 0; i < iterations; i++) {
    const order = i % 2 === 0 ? pair : [...pair].reverse();
    for (const [name, fn] of order) (samples[name] ??= []).push(time(fn));
  }
}
measure([["toModel", () => endpoint.toModel()]]);
for (const format of FORMATS) {
  const baselineEncode = format === "JSON"
    ? () => encoder.encode(JSON.stringify(plain))
    : () => cborEncode(plain);
  measure([[`online ${format}`, () => online(format)], [
    `baseline encode ${format}`,
    baselineEncode,
  ]]);
  measure([[`encode ${format}`, () => encodeEndpoint(format, modelTree(model), supported)]]);
  // Decoding baselines read the endpoint's own bytes: float-heavy text parses slower than the
  // integers JSON.stringify writes, and that is not the decoder's doing.
  const baselineDecode = format === "JSON"
    ? () => JSON.parse(decoder.decode(payloads.JSON))
    : () => cborDecode(payloads.CBOR);
  measure([
    [`decode ${format}`, () => decodePayload(payloads[format], { maxBytes: Infinity })],
    [`baseline decode ${format}`, baselineDecode],
  ]);
}

const medians = Object.fromEntries(
  Object.entries(samples).map(([name, values]) => [name, median(values)]),
);
console.log(`MODEL ${
  JSON.stringify({
    attributes: attributeCount,
    buildMs,
    first,
    coldMs,
    medians,
    bytes: {
      JSON: payloads.JSON.length,
      CBOR: payloads.CBOR.length,
      "baseline JSON": baselinePayloads.JSON.length,
      "baseline CBOR": baselinePayloads.CBOR.length,
    },
  })
}`);

import assert from "node:assert/strict";
import { decode as cborDecode } from "npm:cborg@6.1.5";
import { ProtocolError } from "../errors.ts";
import type { AttributeModel, MessageFormat, NodeModel } from "../model/types.ts";
import { decodePayload, detectFormat, parseSetCommand } from "./decode.ts";
import { coerceValue } from "../model/coerce.ts";
import {
  encodeAttribute,
  encodeDelayed,
  encodeEndpoint,
  encodeLog,
  encodeNode,
  encodeTransaction,
  fromWireTime,
  modelTree,
  nodeTree,
} from "./encode.ts";
import { CborWriter, jsonFloat } from "./writer.ts";
import { FIXTURES, FIXTURES_MISSING, testUnless } from "../../tests/_ignore.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** Converts a decoded wire node (timestamps in seconds) to a NodeModel (ms), keeping every key. */
function nodeFromWire(wire: Record<string, unknown>): NodeModel {
  // deno-lint-ignore no-explicit-any
  const object = (o: any): any => ({
    ...(o.conforms !== undefined && o.conforms !== null ? { conforms: o.conforms } : {}),
    objects: Object.fromEntries(Object.entries(o.objects ?? {}).map(([k, v]) => [k, object(v)])),
    attributes: Object.fromEntries(
      // deno-lint-ignore no-explicit-any
      Object.entries(o.attributes ?? {}).map(([k, a]: [string, any]) => [k, {
        type: a.type,
        constraint: a.constraint,
        ...(a.timestamp !== undefined ? { timestamp: fromWireTime(a.timestamp) } : {}),
        ...(a.value !== undefined ? { value: a.value } : {}),
      }]),
    ),
  });
  // deno-lint-ignore no-explicit-any
  const w = wire as any;
  return {
    implements: w.implements,
    objects: Object.fromEntries(Object.entries(w.objects).map(([k, v]) => [k, object(v)])),
  };
}

testUnless(FIXTURES_MISSING, {
  name: "decodePayload() reads the Java reference's CBOR node as its JSON twin",
  async fn() {
    const cbor = await Deno.readFile(new URL("java-TestNode.cbor", FIXTURES));
    const json = await Deno.readFile(new URL("java-TestNode.json", FIXTURES));
    assert.equal(cbor[0], 0xbf, "the fixture uses an indefinite-length map");
    const a = decodePayload(cbor, { maxBytes: 1 << 20 });
    const b = decodePayload(json, { maxBytes: 1 << 20 });
    assert.equal(a.format, "CBOR");
    assert.equal(b.format, "JSON");
    assert.deepEqual(a.value, b.value);
  },
});

testUnless(FIXTURES_MISSING, {
  name: "encodeNode() round-trips the Java reference's node in both formats",
  async fn() {
    const json = await Deno.readFile(new URL("java-TestNode.json", FIXTURES));
    const reference = decodePayload(json).value;
    const model = nodeFromWire(reference);
    for (const format of ["JSON", "CBOR"] as const) {
      const bytes = encodeNode(format, nodeTree(model));
      const back = decodePayload(bytes, { maxBytes: 1 << 20 }).value;
      assert.deepEqual(back, reference, `${format} round trip`);
      assert.deepEqual(nodeFromWire(back), model);
    }
  },
});

Deno.test("encodeAttribute() writes Number values as floats even when integral", () => {
  const attribute: AttributeModel = {
    type: "Number",
    constraint: "Measure",
    value: 20,
    timestamp: 1700000000000,
  };
  assert.equal(
    text(encodeAttribute("JSON", attribute)),
    '{"type":"Number","constraint":"Measure","timestamp":1700000000.0,"value":20.0}',
  );
  const cbor = encodeAttribute("CBOR", attribute);
  // "value" key (65 76 61 6c 75 65) followed by a float64 20.0
  assert.match(hex(cbor), /6576616c7565fb4034000000000000$/);
  // "timestamp" followed by a float64
  assert.match(hex(cbor), /74696d657374616d70fb/);
  assert.deepEqual(cborDecode(cbor), {
    type: "Number",
    constraint: "Measure",
    timestamp: 1700000000,
    value: 20,
  });
});

Deno.test("encodeAttribute() writes Integer values as integers and omits Static timestamps", () => {
  assert.equal(
    text(
      encodeAttribute("JSON", { type: "Integer", constraint: "Status", value: -3, timestamp: 1 }),
    ),
    '{"type":"Integer","constraint":"Status","timestamp":0.001,"value":-3}',
  );
  assert.equal(
    text(
      encodeAttribute("JSON", { type: "String", constraint: "Static", value: "x", timestamp: 5 }),
    ),
    '{"type":"String","constraint":"Static","value":"x"}',
  );
  const cbor = encodeAttribute("CBOR", { type: "Integer", constraint: "Status", value: -3 });
  assert.match(hex(cbor), /6576616c756522$/); // "value": -3 as major type 1
});

Deno.test("CborWriter writes integers, strings and floats that cborg reads back", () => {
  const ints = [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER];
  const strings = ["", "a", "x".repeat(23), "y".repeat(24), "é", "日本語", "😀".repeat(100)];
  // ASCII of every length class (written byte for byte), and UTF-8 of the same lengths.
  for (const n of [255, 256, 65535, 65536]) strings.push("t".repeat(n), "é".repeat(n));
  for (const n of [...ints, ...ints.slice(0, -1).map((i) => -i - 1)]) {
    const w = new CborWriter(1);
    w.integer(n);
    assert.equal(cborDecode(w.finish()), n);
  }
  for (const s of strings) {
    const w = new CborWriter(1);
    w.string(s);
    assert.equal(cborDecode(w.finish()), s);
  }
  for (const f of [0, -0.5, 1e300, 5e-324, 3.14]) {
    const w = new CborWriter(1);
    w.float(f);
    const bytes = w.finish();
    assert.equal(bytes[0], 0xfb);
    assert.equal(cborDecode(bytes), f);
  }
});

Deno.test("jsonFloat() refuses values JSON cannot carry", () => {
  assert.equal(jsonFloat(-0), "-0.0");
  assert.equal(jsonFloat(1e21), "1e+21");
  assert.throws(() => jsonFloat(NaN), RangeError);
  assert.throws(() => jsonFloat(Infinity), RangeError);
});

Deno.test("encodeEndpoint() announces v0.2 and both formats, with empty maps kept", () => {
  for (const format of ["JSON", "CBOR"] as MessageFormat[]) {
    const bytes = encodeEndpoint(
      format,
      modelTree({
        nodes: { n: { implements: [], objects: { o: { objects: {}, attributes: {} } } } },
      }),
      ["CBOR", "JSON"],
    );
    assert.deepEqual(decodePayload(bytes).value, {
      version: "v0.2",
      messageFormatVersion: 2,
      supportedFormats: ["CBOR", "JSON"],
      nodes: { n: { implements: [], objects: { o: { objects: {}, attributes: {} } } } },
    });
  }
});

Deno.test("encodeDelayed() splices stored payloads whole in both formats", () => {
  for (const format of ["JSON", "CBOR"] as MessageFormat[]) {
    const update = encodeAttribute(format, {
      type: "Number",
      constraint: "Measure",
      value: 2,
      timestamp: 1700000100000,
    });
    const log = encodeLog(format, {
      level: "WARN",
      timestamp: 1700000101200,
      message: "link lost",
    });
    const tx = encodeTransaction(format, [[
      "u/n/o/a",
      { type: "Boolean", constraint: "Status", value: true, timestamp: 1 },
    ]]);
    const bytes = encodeDelayed(format, 1700000300000, [
      { topic: "@update/u/n/o/a", payload: update },
      { topic: "@logs/u", payload: log },
      { topic: "@transaction/u", payload: tx },
    ]);
    const value = decodePayload(bytes).value;
    assert.deepEqual(value, {
      timestamp: 1700000300,
      messages: [
        {
          topic: "@update/u/n/o/a",
          data: { type: "Number", constraint: "Measure", timestamp: 1700000100, value: 2 },
        },
        {
          topic: "@logs/u",
          data: {
            level: "WARN",
            timestamp: 1700000101.2,
            message: "link lost",
            loggerName: "",
            logSource: "",
          },
        },
        {
          topic: "@transaction/u",
          data: {
            attributes: {
              "u/n/o/a": { type: "Boolean", constraint: "Status", timestamp: 0.001, value: true },
            },
          },
        },
      ],
    });
  }
});

Deno.test("detectFormat() follows the cloud's first-byte rule", () => {
  assert.equal(detectFormat(new Uint8Array()), undefined);
  assert.equal(detectFormat(new TextEncoder().encode(" {}")), undefined);
  assert.equal(detectFormat(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b])), undefined); // BOM
  assert.equal(detectFormat(new Uint8Array([0xa0])), "CBOR");
  assert.equal(detectFormat(new Uint8Array([0xbf])), "CBOR");
  assert.equal(detectFormat(new Uint8Array([0x80])), undefined); // a CBOR array
});

function refused(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${error}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

Deno.test("decodePayload() refuses garbage with typed errors", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  refused(() => decodePayload(enc("hello")), "unsupported-format");
  refused(() => decodePayload(new Uint8Array()), "unsupported-format");
  refused(() => decodePayload(enc("{nope")), "malformed-payload");
  refused(() => decodePayload(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), "malformed-payload");
  refused(() => decodePayload(new Uint8Array([0xa1, 0x61])), "malformed-payload"); // truncated
  refused(() => decodePayload(new Uint8Array([0xa1, 0x01, 0x02])), "malformed-payload"); // int key
  refused(
    () => decodePayload(new Uint8Array([0xa2, 0x61, 0x61, 1, 0x61, 0x61, 2])),
    "malformed-payload",
  );
  refused(() => decodePayload(new Uint8Array(300_000).fill(0x7b)), "too-large");
  const deep = new Uint8Array(60_000).fill(0x81);
  deep[0] = 0xa1;
  deep[1] = 0x61;
  deep[2] = 0x76;
  refused(() => decodePayload(deep), "malformed-payload");
  refused(() => decodePayload(enc("[" + "[".repeat(50_000))), "unsupported-format");
  // V8 parses deep JSON without trouble: it is valid, and refused later by value conversion.
  const nested = decodePayload(enc('{"value":' + "[".repeat(30_000) + "]".repeat(30_000) + "}"));
  assert.equal(coerceValue("Number", nested.value.value), undefined);
});

Deno.test("decodePayload() keeps a __proto__ key as a plain key", () => {
  const { value } = decodePayload(new TextEncoder().encode('{"__proto__":{"polluted":1}}'));
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("parseSetCommand() is lenient with keys and strict with values", () => {
  assert.deepEqual(parseSetCommand({ value: true }), { value: true });
  assert.deepEqual(parseSetCommand({ value: 1, timestamp: 12345.678 }), {
    value: 1,
    timestamp: 12345678,
  });
  // The public documentation shows millisecond timestamps; they are recognised by size.
  assert.deepEqual(parseSetCommand({ value: 1, timestamp: 1.657092653914e12 }), {
    value: 1,
    timestamp: 1657092653914,
  });
  assert.deepEqual(parseSetCommand({ value: "x", correlationID: "c1", constraint: "Bogus" }), {
    value: "x",
    correlationID: "c1",
  });
  refused(() => parseSetCommand({}), "malformed-payload");
  refused(() => parseSetCommand({ value: null }), "malformed-payload");
  // Whether a numeric timestamp is plausible is judged by the @set handler (lib/inbound/set.ts).
  assert.deepEqual(parseSetCommand({ value: 1, timestamp: -1 }), { value: 1, timestamp: -1000 });
  refused(() => parseSetCommand({ value: 1, timestamp: "now" }), "invalid-timestamp");
});

Deno.test("fromWireTime() recovers whole milliseconds from float seconds", () => {
  for (let ms = 1700000000000; ms < 1700000000000 + 5000; ms += 7) {
    assert.equal(fromWireTime(ms / 1000), ms);
  }
});

Deno.test("jsonString() writes exactly what JSON.stringify writes", async () => {
  const { jsonString } = await import("./writer.ts");
  const fc = (await import("npm:fast-check@4.10.2")).default;
  for (
    const s of [
      "",
      "plain",
      'q"uote',
      "back\\slash",
      "\u0000\u001f",
      "\u2028",
      "\ud800",
      "😀",
      "\udc00x",
    ]
  ) {
    assert.equal(jsonString(s), JSON.stringify(s));
  }
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (s) => jsonString(s) === JSON.stringify(s)),
    { numRuns: 2000 },
  );
});

Deno.test("the attribute fast path writes the same message as the generic writer", () => {
  const samples: AttributeModel[] = [
    { type: "Number", constraint: "Measure", value: 20, timestamp: 1700000000000 },
    { type: "String", constraint: "Parameter", value: 'a "q"\n', timestamp: 1 },
    { type: "Boolean", constraint: "Static", value: true, timestamp: 5 },
    { type: "Integer", constraint: "SetPoint" },
  ];
  for (const a of samples) {
    const json = decodePayload(encodeAttribute("JSON", a)).value;
    const cbor = decodePayload(encodeAttribute("CBOR", a)).value;
    assert.deepEqual(json, cbor);
    assert.deepEqual(
      Object.keys(json).sort(),
      [
        "constraint",
        "type",
        ...(a.value !== undefined ? ["value"] : []),
        ...(a.timestamp !== undefined && a.constraint !== "Static" ? ["timestamp"] : []),
      ].sort(),
    );
  }
});

Deno.test("the live tree encodes exactly as its plain-data model does", async () => {
  const { Endpoint } = await import("../endpoint.ts");
  const endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55", {
    model: {
      nodes: {
        A: {
          implements: ["I", "J"],
          objects: {
            O: {
              conforms: "C",
              objects: {
                P: { attributes: { s: { type: "String", constraint: "Static", value: "x" } } },
              },
              attributes: {
                n: { type: "Number", constraint: "Measure", value: 2, timestamp: 1000 },
                i: { type: "Integer", constraint: "Parameter" },
              },
            },
          },
        },
        B: {},
      },
    },
  });
  for (const format of ["JSON", "CBOR"] as const) {
    assert.deepEqual(
      encodeEndpoint(format, new Map(Object.entries(endpoint.nodes)), ["JSON", "CBOR"]),
      encodeEndpoint(format, modelTree(endpoint.toModel()), ["JSON", "CBOR"]),
    );
    assert.deepEqual(
      encodeNode(format, endpoint.node("A")!),
      encodeNode(format, nodeTree(endpoint.node("A")!.toModel())),
    );
  }
});

// Proves the second judge (tests/_judges.ts): it accepts what the Java reference writes and what
// the endpoint writes, and refuses what the server refuses, each time together with strict.ts.

import assert from "node:assert/strict";
import { encode as cborEncode } from "npm:cborg@6.1.5";
import { serverProblems } from "../devcloud/strict.ts";
import { encodeAttribute, encodeLog, encodeTransaction } from "../lib/codec/encode.ts";
import { FIXTURES, FIXTURES_MISSING, ignoredFor } from "./_ignore.ts";
import { schemaProblems } from "./_judges.ts";

const U = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";
const text = (s: string) => new TextEncoder().encode(s);

for (const file of ["java-TestNode.json", "java-TestNode.cbor"]) {
  const name = `the second judge accepts the node the Java reference wrote (${file})`;
  Deno.test({
    name,
    ignore: ignoredFor(FIXTURES_MISSING, name),
    fn() {
      const payload = Deno.readFileSync(new URL(file, FIXTURES));
      assert.deepEqual(schemaProblems(`@nodeAdded/${U}/TestNode`, payload, U), []);
      assert.deepEqual(serverProblems(`@nodeAdded/${U}/TestNode`, payload), []);
    },
  });
}

Deno.test("the second judge accepts what the library's encoders write, in both formats", () => {
  const now = 1_700_000_000_123;
  for (const format of ["JSON", "CBOR"] as const) {
    const cases: [string, Uint8Array][] = [
      [
        `@update/${U}/n/o/a`,
        encodeAttribute(format, {
          type: "Number",
          constraint: "Measure",
          value: 20,
          timestamp: now,
        }),
      ],
      [
        `@didSet/${U}/n/o/p`,
        encodeAttribute(format, {
          type: "Integer",
          constraint: "SetPoint",
          value: 3,
          timestamp: now,
        }),
      ],
      [
        `@transaction/${U}`,
        encodeTransaction(format, [[`${U}/n/o/a`, {
          type: "Boolean",
          constraint: "Status",
          value: true,
          timestamp: now,
        }]]),
      ],
      [
        `@logs/${U}`,
        encodeLog(format, {
          level: "WARN",
          timestamp: now,
          message: "m",
          loggerName: "l",
          logSource: "",
        }),
      ],
    ];
    for (const [topic, payload] of cases) {
      assert.deepEqual(schemaProblems(topic, payload, U), [], `${format} ${topic}`);
    }
  }
});

Deno.test("the second judge refuses what the server refuses, as strict.ts does", () => {
  const attribute = (fields: string) =>
    text(`{"type":"Number","constraint":"Measure","timestamp":1700000000.5,${fields}}`);
  const cases: [string, string, Uint8Array, RegExp][] = [
    [
      "a Number written as 20",
      `@update/${U}/n/o/a`,
      attribute(`"value":20`),
      /written as an integer/,
    ],
    [
      "a Number as a CBOR integer",
      `@update/${U}/n/o/a`,
      cborEncode({ type: "Number", constraint: "Measure", timestamp: 1700000000.5, value: 20 }),
      /written as an integer/,
    ],
    [
      "an Integer written as 20.0",
      `@update/${U}/n/o/a`,
      text(`{"type":"Integer","constraint":"Status","timestamp":1.5,"value":20.0}`),
      /Integer written as a float/,
    ],
    ["an extra key", `@update/${U}/n/o/a`, attribute(`"value":1.5,"unit":"K"`), /additional/],
    [
      "Setpoint misspelled",
      `@didSet/${U}/n/o/a`,
      text(`{"type":"Number","constraint":"Setpoint","timestamp":1.5,"value":1.5}`),
      /allowed values/,
    ],
    [
      "an @update of a Parameter",
      `@update/${U}/n/o/a`,
      text(`{"type":"Number","constraint":"Parameter","timestamp":1.5,"value":1.5}`),
      /allowed values/,
    ],
    [
      "a @didSet with a correlationID",
      `@didSet/${U}/n/o/a`,
      text(
        `{"type":"Number","constraint":"SetPoint","timestamp":1.5,"value":1.5,"correlationID":"c"}`,
      ),
      /additional/,
    ],
    [
      "an @update without timestamp",
      `@update/${U}/n/o/a`,
      text(`{"type":"Number","constraint":"Measure","value":1.5}`),
      /timestamp/,
    ],
    [
      "a negative timestamp",
      `@update/${U}/n/o/a`,
      text(`{"type":"Number","constraint":"Measure","timestamp":-1.0,"value":1.5}`),
      />= 0/,
    ],
    [
      "a String value for a Number",
      `@update/${U}/n/o/a`,
      attribute(`"value":"1.5"`),
      /must be number/,
    ],
    ["too few topic levels", `@update/${U}/n/a`, attribute(`"value":1.5`), /level/],
    ["a dot in a name", `@update/${U}/n/o.x/a`, attribute(`"value":1.5`), /level/],
    [
      "a @delayed carrying @nodeAdded",
      `@delayed/${U}`,
      text(
        `{"timestamp":1.5,"messages":[{"topic":"@nodeAdded/${U}/n","data":{"implements":[],"objects":{}}}]}`,
      ),
      /pattern/,
    ],
    [
      "a @transaction key without the UUID",
      `@transaction/${U}`,
      text(
        `{"attributes":{"n/o/a":{"type":"Number","constraint":"Measure","timestamp":1.5,"value":1.5}}}`,
      ),
      /property name|pattern/,
    ],
    [
      "@logs without a timestamp",
      `@logs/${U}`,
      text(`{"level":"WARN","message":"m"}`),
      /timestamp/,
    ],
    [
      "@execOutput with output",
      `@execOutput/${U}/job`,
      text(`{"correlationID":"job","output":"x"}`),
      /data|additional/,
    ],
    [
      "@online without supportedFormats",
      `@online/${U}`,
      text(`{"version":"v0.2","messageFormatVersion":2,"nodes":{}}`),
      /supportedFormats/,
    ],
    [
      "a payload that is neither JSON nor CBOR",
      `@update/${U}/n/o/a`,
      text(` {"value":1.5}`),
      /cannot decode/,
    ],
  ];
  for (const [what, topic, payload, expected] of cases) {
    const problems = schemaProblems(topic, payload, U);
    assert.ok(problems.length > 0, `the schema judge accepted ${what}`);
    assert.match(problems.join("; "), expected, what);
    assert.notDeepEqual(serverProblems(topic, payload), [], `strict.ts accepted ${what}`);
  }
});

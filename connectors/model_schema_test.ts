import assert from "node:assert/strict";
// Only this test uses ajv, to check that model.schema.json and modelFromJson() agree.
import { Ajv2020 } from "npm:ajv@8.20.0/dist/2020.js";
import { ModelError } from "../lib/errors.ts";
import { modelFromJson } from "./json.ts";
import { checkFixtures, FIXTURES } from "./_helpers_test.ts";

const haveFixtures = checkFixtures("model_schema_test.ts");

const schemaText = Deno.readTextFileSync(new URL("./model.schema.json", import.meta.url));

function compile() {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  return ajv.compile(JSON.parse(schemaText));
}

function readerAccepts(text: string): boolean {
  try {
    modelFromJson(text);
    return true;
  } catch (error) {
    if (error instanceof ModelError) return false;
    throw error;
  }
}

const attribute = (body: string) =>
  `{"nodes": {"N": {"implements": [], "objects": {"o": {"attributes": {"a": ${body}}}}}}}`;

const GOOD: Record<string, string> = {
  "empty model": '{"nodes": {}}',
  "the @online example of protocol §6.2": `{
    "version": "v0.2", "messageFormatVersion": 2, "supportedFormats": ["JSON", "CBOR"],
    "nodes": {"VacuumCleaner": {"implements": ["NodeInterface"], "objects": {
      "Parameters": {"objects": {}, "attributes": {
        "set_power_on": {"type": "Boolean", "constraint": "Parameter", "value": false}}},
      "Status": {"conforms": "VacuumStatus", "objects": {}, "attributes": {
        "throughput": {"type": "Number", "constraint": "Measure", "timestamp": 1700000000.5, "value": 3.5}}}
    }}}
  }`,
  "nulls for absent keys": `{"version": null, "nodes": {"N": {"implements": null, "objects": {
    "o": {"conforms": null, "objects": null, "attributes": {
      "a": {"type": "String", "constraint": "Static", "value": null, "timestamp": null}}}}}}}`,
  "names with spaces and accents": '{"nodes": {"Pompe à chaleur": {"objects": {"état 1": {}}}}}',
  "a v0.1 header": '{"messageFormatVersion": 1, "nodes": {}}',
  "the largest safe integer": attribute(
    '{"type": "Integer", "constraint": "Status", "value": 9007199254740991}',
  ),
  "an integral Number": attribute('{"type": "Number", "constraint": "Status", "value": 20}'),
  "a timestamp one millisecond after the epoch": attribute(
    '{"type": "Boolean", "constraint": "Status", "timestamp": 0.001}',
  ),
  "the latest timestamp": attribute(
    '{"type": "Boolean", "constraint": "Status", "timestamp": 9223372036.854}',
  ),
  "nested objects": '{"nodes": {"N": {"objects": {"a": {"objects": {"b": {"objects": {}}}}}}}}',
  "a publish policy": attribute(
    `{"type": "Number", "constraint": "Measure", "policy": {"onChange": true, "deadband": "2.5%",
      "minInterval": 100, "maxInterval": 60000, "latestOnlyWhileOffline": true}}`,
  ),
  "an absolute deadband on an Integer Status": attribute(
    '{"type": "Integer", "constraint": "Status", "policy": {"deadband": 2}}',
  ),
  "a null policy on a Parameter": attribute(
    '{"type": "Boolean", "constraint": "Parameter", "policy": null}',
  ),
};

const BAD: Record<string, string> = {
  "no nodes": "{}",
  "an unknown top-level key": '{"nodes": {}, "uuid": "x"}',
  "an unknown format": '{"supportedFormats": ["XML"], "nodes": {}}',
  "version 2 without formats": '{"messageFormatVersion": 2, "nodes": {}}',
  "message format version 0": '{"messageFormatVersion": 0, "nodes": {}}',
  "a node named nodes": '{"nodes": {"nodes": {}}}',
  "a name with a dot": '{"nodes": {"a.b": {}}}',
  "a name with a slash": '{"nodes": {"N": {"objects": {"a/b": {}}}}}',
  "an empty name": '{"nodes": {"": {}}}',
  "a name with a control character": '{"nodes": {"a\\tb": {}}}',
  "a name __proto__": '{"nodes": {"__proto__": {}}}',
  "an attribute under a node":
    '{"nodes": {"N": {"attributes": {"a": {"type": "Boolean", "constraint": "Status"}}}}}',
  "a type on an object": '{"nodes": {"N": {"objects": {"o": {"type": "CloudioObject"}}}}}',
  "implements as a string": '{"nodes": {"N": {"implements": "NodeInterface"}}}',
  "conforms as a number": '{"nodes": {"N": {"objects": {"o": {"conforms": 1}}}}}',
  "an unknown type": attribute('{"type": "Float", "constraint": "Status"}'),
  "a misspelt constraint": attribute('{"type": "Number", "constraint": "Setpoint"}'),
  "no constraint": attribute('{"type": "Number"}'),
  "an unknown attribute key": attribute('{"type": "Number", "constraint": "Status", "unit": "m"}'),
  "a fraction for Integer": attribute('{"type": "Integer", "constraint": "Status", "value": 1.5}'),
  "an unsafe integer": attribute(
    '{"type": "Integer", "constraint": "Status", "value": 9007199254740993}',
  ),
  "a string for Boolean": attribute('{"type": "Boolean", "constraint": "Status", "value": "true"}'),
  "a string for Number": attribute('{"type": "Number", "constraint": "Status", "value": "1.5"}'),
  "a number for String": attribute('{"type": "String", "constraint": "Status", "value": 1}'),
  "a negative timestamp": attribute(
    '{"type": "String", "constraint": "Status", "timestamp": -1}',
  ),
  "a timestamp of zero": attribute('{"type": "Boolean", "constraint": "Status", "timestamp": 0}'),
  "a timestamp in microseconds": attribute(
    '{"type": "Boolean", "constraint": "Status", "timestamp": 1700000000000000}',
  ),
  "a policy on a SetPoint": attribute(
    '{"type": "Number", "constraint": "SetPoint", "policy": {"onChange": true}}',
  ),
  "a deadband on a String": attribute(
    '{"type": "String", "constraint": "Measure", "policy": {"deadband": 1}}',
  ),
  "a negative deadband": attribute(
    '{"type": "Number", "constraint": "Measure", "policy": {"deadband": -1}}',
  ),
  "a deadband in words": attribute(
    '{"type": "Number", "constraint": "Measure", "policy": {"deadband": "two percent"}}',
  ),
  "a minInterval of 0": attribute(
    '{"type": "Number", "constraint": "Measure", "policy": {"minInterval": 0}}',
  ),
  "a maxInterval beyond a timer's reach": attribute(
    '{"type": "Number", "constraint": "Measure", "policy": {"maxInterval": 2147483648}}',
  ),
  "an unknown policy key": attribute(
    '{"type": "Number", "constraint": "Measure", "policy": {"every": 5}}',
  ),
  "onChange as a string": attribute(
    '{"type": "Number", "constraint": "Measure", "policy": {"onChange": "true"}}',
  ),
};

Deno.test("model.schema.json is a valid draft 2020-12 JSON Schema", () => {
  const schema = JSON.parse(schemaText);
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
  assert.equal(ajv.validateSchema(schema), true, JSON.stringify(ajv.errors));
  assert.equal(typeof compile(), "function");
});

Deno.test("model.schema.json and modelFromJson() accept the same good documents", () => {
  const validate = compile();
  for (const [name, text] of Object.entries(GOOD)) {
    assert.equal(
      validate(JSON.parse(text)),
      true,
      `schema: ${name} ${JSON.stringify(validate.errors)}`,
    );
    assert.equal(readerAccepts(text), true, `reader: ${name}`);
  }
});

Deno.test("model.schema.json and modelFromJson() refuse the same bad documents", () => {
  const validate = compile();
  for (const [name, text] of Object.entries(BAD)) {
    assert.equal(validate(JSON.parse(text)), false, `schema: ${name}`);
    assert.equal(readerAccepts(text), false, `reader: ${name}`);
  }
});

Deno.test("model.schema.json accepts examples/vacuum_cleaner.json", () => {
  const text = Deno.readTextFileSync(new URL("../examples/vacuum_cleaner.json", import.meta.url));
  const validate = compile();
  assert.equal(validate(JSON.parse(text)), true, JSON.stringify(validate.errors));
  assert.equal(readerAccepts(text), true);
});

Deno.test({
  name: "model.schema.json accepts the Java TestNode.json as a node",
  ignore: !haveFixtures,
  fn() {
    const node = Deno.readTextFileSync(new URL("java-TestNode.json", FIXTURES));
    const text = `{"nodes": {"TestNode": ${node}}}`;
    const validate = compile();
    assert.equal(validate(JSON.parse(text)), true, JSON.stringify(validate.errors));
    assert.equal(readerAccepts(text), true);
  },
});

import assert from "node:assert/strict";
import { ModelError } from "../lib/errors.ts";
import type { AttributeModel } from "../lib/model/types.ts";
import { modelFromJson, nodeFromJson } from "./json.ts";
import { checkFixtures, FIXTURES, problemsOf } from "./_helpers_test.ts";

const haveFixtures = checkFixtures("json_test.ts");

function locationsOf(fn: () => unknown): string[] {
  return problemsOf(fn).map((p) => p.location);
}

/** The @online example of protocol §6.2. */
const ONLINE = `{
  "version": "v0.2",
  "messageFormatVersion": 2,
  "supportedFormats": ["JSON", "CBOR"],
  "nodes": {
    "VacuumCleaner": {
      "implements": ["NodeInterface"],
      "objects": {
        "Parameters": {
          "objects": {},
          "attributes": {
            "set_power_on": {"type": "Boolean", "constraint": "Parameter", "value": false}
          }
        },
        "Status": {
          "conforms": "VacuumStatus",
          "objects": {},
          "attributes": {
            "throughput": {"type": "Number", "constraint": "Measure", "timestamp": 1700000000.5, "value": 3.5}
          }
        }
      }
    }
  }
}`;

Deno.test({
  name: "nodeFromJson() reads the Java reference's TestNode.json",
  ignore: !haveFixtures,
  fn() {
    const text = Deno.readTextFileSync(new URL("java-TestNode.json", FIXTURES));
    const node = nodeFromJson(text, { source: "java-TestNode.json" });
    assert.deepEqual(node.implements, ["InterfaceA", "InterfaceB"]);
    assert.deepEqual(Object.keys(node.objects!), ["obj1"]);
    const obj1 = node.objects!.obj1;
    assert.equal(obj1.conforms, "TestObject");
    assert.deepEqual(obj1.objects, {});
    const ts = 12345678; // 12345.678 s on the wire
    const expected: Record<string, AttributeModel> = {
      booleanParameter: { type: "Boolean", constraint: "Parameter", value: false },
      booleanStatus: { type: "Boolean", constraint: "Status", timestamp: ts, value: true },
      booleanSetPoint: { type: "Boolean", constraint: "SetPoint", value: true },
      booleanMeasure: { type: "Boolean", constraint: "Measure", timestamp: ts, value: false },
      longParameter: { type: "Integer", constraint: "Parameter", value: 4321 },
      longStatus: { type: "Integer", constraint: "Status", timestamp: ts, value: 1234 },
      longSetPoint: { type: "Integer", constraint: "SetPoint", value: 1024 },
      longMeasure: { type: "Integer", constraint: "Measure", timestamp: ts, value: 424242 },
      doubleParameter: { type: "Number", constraint: "Parameter", value: 5.4321 },
      doubleStatus: { type: "Number", constraint: "Status", timestamp: ts, value: 1.2345 },
      doubleSetPoint: { type: "Number", constraint: "SetPoint", value: 6.789 },
      doubleMeasure: { type: "Number", constraint: "Measure", timestamp: ts, value: 9.8765 },
      stringParameter: { type: "String", constraint: "Parameter", value: "ipsum" },
      stringStatus: { type: "String", constraint: "Status", timestamp: ts, value: "Lorem" },
      stringSetPoint: { type: "String", constraint: "SetPoint", value: "dolor" },
      stringMeasure: { type: "String", constraint: "Measure", timestamp: ts, value: "sit" },
      staticBoolean: { type: "Boolean", constraint: "Static", value: true },
      staticInteger: { type: "Integer", constraint: "Static", value: 42 },
      staticDouble: { type: "Number", constraint: "Static", value: 42 },
      staticString: { type: "String", constraint: "Static", value: "STATIC" },
    };
    assert.deepEqual(obj1.attributes, expected);
  },
});

Deno.test({
  name: "modelFromJson() reads the Java TestNode.json as a node of an @online model",
  ignore: !haveFixtures,
  fn() {
    const node = JSON.parse(Deno.readTextFileSync(new URL("java-TestNode.json", FIXTURES)));
    const model = modelFromJson({ version: "v0.2", nodes: { TestNode: node } });
    assert.equal(model.nodes.TestNode.objects!.obj1.attributes!.longStatus.timestamp, 12345678);
    assert.equal(Object.keys(model.nodes.TestNode.objects!.obj1.attributes!).length, 20);
  },
});

Deno.test("modelFromJson() reads the @online example of the protocol", () => {
  const model = modelFromJson(ONLINE);
  assert.deepEqual(model, {
    nodes: {
      VacuumCleaner: {
        implements: ["NodeInterface"],
        objects: {
          Parameters: {
            objects: {},
            attributes: {
              set_power_on: { type: "Boolean", constraint: "Parameter", value: false },
            },
          },
          Status: {
            conforms: "VacuumStatus",
            objects: {},
            attributes: {
              throughput: {
                type: "Number",
                constraint: "Measure",
                timestamp: 1700000000500,
                value: 3.5,
              },
            },
          },
        },
      },
    },
  });
});

Deno.test("modelFromJson() turns second timestamps into milliseconds", () => {
  const at = (timestamp: number) =>
    modelFromJson({
      nodes: {
        N: {
          objects: {
            o: { attributes: { a: { type: "Boolean", constraint: "Status", timestamp } } },
          },
        },
      },
    }).nodes.N.objects!.o.attributes!.a.timestamp;
  assert.equal(at(12345.678), 12345678);
  assert.equal(at(1700000000.123), 1700000000123);
  assert.equal(at(0.001), 1);
  assert.equal(at(1.0005), 1000);
  assert.throws(() => at(0), /not after 2262-04-11: current value is 0/);
  assert.equal(at(1700000000), 1700000000000);
});

Deno.test("modelFromJson() fills in every optional key and takes null for absent", () => {
  // The C++ reference writes empty maps as null (protocol §12).
  const model = modelFromJson(`{
    "version": null, "messageFormatVersion": null, "supportedFormats": null,
    "nodes": {
      "A": {},
      "B": {"implements": null, "objects": null},
      "C": {"objects": {"o": {"conforms": null, "objects": null, "attributes": {
        "a": {"type": "String", "constraint": "Status", "value": null, "timestamp": null}
      }}}}
    }
  }`);
  assert.deepEqual(model, {
    nodes: {
      A: { implements: [], objects: {} },
      B: { implements: [], objects: {} },
      C: {
        implements: [],
        objects: {
          o: { objects: {}, attributes: { a: { type: "String", constraint: "Status" } } },
        },
      },
    },
  });
});

Deno.test("modelFromJson() keeps nested objects nested", () => {
  const model = modelFromJson({
    nodes: {
      N: {
        objects: {
          outer: {
            objects: {
              inner: { attributes: { a: { type: "Integer", constraint: "Measure", value: 3 } } },
            },
          },
        },
      },
    },
  });
  assert.deepEqual(model.nodes.N.objects!.outer.objects!.inner.attributes!.a, {
    type: "Integer",
    constraint: "Measure",
    value: 3,
  });
});

Deno.test("modelFromJson() copies its input instead of sharing it", () => {
  const input = {
    nodes: {
      N: {
        implements: ["I"],
        objects: { o: { attributes: { a: { type: "Number", constraint: "Status", value: 1 } } } },
      },
    },
  };
  const model = modelFromJson(input);
  input.nodes.N.implements.push("J");
  input.nodes.N.objects.o.attributes.a.value = 2;
  assert.deepEqual(model.nodes.N.implements, ["I"]);
  assert.equal(model.nodes.N.objects!.o.attributes!.a.value, 1);
});

Deno.test("modelFromJson() accepts a byte order mark and a $schema key", () => {
  const model = modelFromJson('\uFEFF{"$schema": "./model.schema.json", "nodes": {}}');
  assert.deepEqual(model, { nodes: {} });
});

Deno.test("modelFromJson() reads the Java node-factory format", () => {
  const model = modelFromJson(`{
    "properties": {"vendor": "HES-SO"},
    "nodes": {
      "Pump": {
        "type": "CloudioNode",
        "properties": {"serial": 42},
        "comment": "unknown keys are ignored, as the Java factory does",
        "objects": {
          "Status": {
            "type": "CloudioObject",
            "properties": {},
            "objects": {
              "Motor": {
                "type": "ch.example.MotorObject",
                "attributes": {"rpm": {"constraint": "Measure", "type": "Number", "value": 1.0}}
              }
            },
            "attributes": {
              "flow": {"constraint": "Measure", "type": "Number", "unit": "l/min"},
              "mode": {"constraint": "SetPoint", "type": "Integer"}
            }
          }
        }
      }
    }
  }`);
  assert.deepEqual(model, {
    nodes: {
      Pump: {
        implements: [],
        objects: {
          Status: {
            objects: {
              Motor: {
                conforms: "ch.example.MotorObject",
                objects: {},
                attributes: { rpm: { type: "Number", constraint: "Measure" } },
              },
            },
            attributes: {
              flow: { type: "Number", constraint: "Measure" },
              mode: { type: "Integer", constraint: "SetPoint" },
            },
          },
        },
      },
    },
  });
});

Deno.test("modelFromJson() tells the factory format by properties or a node type", () => {
  const object = { objects: {}, attributes: {} };
  // A top-level "properties" key is enough.
  assert.deepEqual(
    modelFromJson({ properties: {}, nodes: { N: { objects: { o: object }, extra: 1 } } }),
    {
      nodes: { N: { implements: [], objects: { o: object } } },
    },
  );
  // So is a "type" on one node.
  assert.deepEqual(
    modelFromJson({ nodes: { A: { type: "CloudioNode" }, B: { implements: ["I"] } } }),
    { nodes: { A: { implements: [], objects: {} }, B: { implements: [], objects: {} } } },
  );
  // Without either, a "type" on an object is a mistake in the @online format.
  const problems = problemsOf(() =>
    modelFromJson({ nodes: { N: { objects: { o: { type: "CloudioObject" } } } } })
  );
  assert.equal(problems.length, 1);
  assert.equal(problems[0].location, "$.nodes.N.objects.o.type");
  assert.match(problems[0].message, /node-factory document is recognized by/);
});

Deno.test("modelFromJson() reports the problems of a factory document", () => {
  const locations = locationsOf(() =>
    modelFromJson({
      properties: {},
      nodes: {
        "a/b": { type: "CloudioNode" },
        N: {
          objects: {
            o: {
              type: 42,
              attributes: { x: { type: "Float", constraint: "Measure" }, y: { type: "String" } },
            },
          },
        },
      },
    })
  );
  assert.deepEqual(locations, [
    "$.nodes.N.objects.o.type",
    '$.nodes["a/b"]',
    "$.nodes.N.objects.o.attributes.x.type",
    "$.nodes.N.objects.o.attributes.y.constraint",
  ]);
  assert.deepEqual(locationsOf(() => modelFromJson({ properties: {} })), ["$.nodes"]);
});

Deno.test("modelFromJson() reports syntax errors at their line and column", () => {
  const cases: [string, string, RegExp][] = [
    ['{"nodes": }', "1:11", /Unexpected character "}": expected a value/],
    ['{\n  "nodes": {\n    "a": {},,\n  }\n}', "3:13", /expected a key in double quotes/],
    ['{\n  "nodes": {}\n  "x": 1\n}', "3:3", /expected "," or "}" after the value/],
    ["", "1:1", /Unexpected end of input: expected a value/],
    ['{"nodes": {}', "1:13", /Unexpected end of input/],
    ['{"nodes": {}} x', "1:15", /expected nothing after the JSON value/],
    ['{"a": "x\ny"}', "1:9", /control character/],
    ['{"a": "\\q"}', "1:9", /expected an escape/],
    ['{"a": "\\u12G4"}', "1:10", /four hexadecimal digits/],
    ['{"a": tru}', "1:7", /expected a value/],
    ['{"a": -}', "1:8", /expected a digit/],
    ["{'a': 1}", "1:2", /expected a key in double quotes/],
    ['\r\n{\r\n"a" 1}', "3:5", /expected ":" after the key/],
  ];
  for (const [text, location, message] of cases) {
    assert.throws(
      () => modelFromJson(text),
      (error: unknown) => {
        assert.ok(error instanceof ModelError);
        assert.equal(error.problems.length, 1, JSON.stringify(text));
        assert.equal(error.problems[0].location, location, JSON.stringify(text));
        assert.match(error.problems[0].message, message);
        assert.ok(error.cause instanceof SyntaxError);
        return true;
      },
    );
  }
});

Deno.test("modelFromJson() prefixes syntax error locations with the source", () => {
  assert.throws(
    () => modelFromJson('{\n  "nodes": [\n}', { source: "pump.json" }),
    (error: unknown) =>
      error instanceof ModelError &&
      error.problems[0].location === "pump.json:3:1" &&
      error.message.startsWith("Invalid model in pump.json (1 problem):"),
  );
});

Deno.test("modelFromJson() reports duplicate keys", () => {
  const text = `{
  "nodes": {
    "Pump": {"objects": {}},
    "Pump": {"objects": {"o": {"attributes": {"a": {"type": "String", "type": "String", "constraint": "Static"}}}}}
  }
}`;
  assert.deepEqual(problemsOf(() => modelFromJson(text)), [
    {
      location: "$.nodes.Pump",
      message: 'Duplicate key "Pump" at 4:5 (first at 3:5): the cloud refuses duplicate keys and ' +
        "JSON keeps only the last one",
    },
    {
      location: "$.nodes.Pump.objects.o.attributes.a.type",
      message:
        'Duplicate key "type" at 4:71 (first at 4:53): the cloud refuses duplicate keys and ' +
        "JSON keeps only the last one",
    },
  ]);
});

Deno.test("modelFromJson() checks the @online header keys", () => {
  assert.deepEqual(
    locationsOf(() =>
      modelFromJson({
        version: 2,
        messageFormatVersion: 0,
        supportedFormats: ["JSON", "XML"],
        $schema: 1,
        nodes: {},
      })
    ),
    ["$.version", "$.messageFormatVersion", "$.supportedFormats[1]", "$.$schema"],
  );
  assert.deepEqual(
    problemsOf(() => modelFromJson({ messageFormatVersion: 2, nodes: {} })),
    [{
      location: "$.supportedFormats",
      message:
        'Missing required key "supportedFormats": it is required when "messageFormatVersion" is 2',
    }],
  );
  assert.deepEqual(locationsOf(() => modelFromJson({ supportedFormats: "JSON", nodes: {} })), [
    "$.supportedFormats",
  ]);
});

Deno.test("modelFromJson() points to nodeFromJson() when given a single node", () => {
  const problems = problemsOf(() => modelFromJson({ implements: [], objects: {} }));
  assert.equal(problems.length, 1);
  assert.equal(problems[0].location, "$.nodes");
  assert.match(problems[0].message, /nodeFromJson\(\)/);
});

Deno.test("modelFromJson() refuses unknown types, constraints, names and wrong values", () => {
  const attribute = (type: string, constraint: string, value?: unknown) => ({
    type,
    constraint,
    value,
  });
  const problems = problemsOf(() =>
    modelFromJson({
      nodes: {
        N: {
          objects: {
            o: {
              attributes: {
                a: attribute("Float", "Measure"),
                b: attribute("Number", "Setpoint"),
                "c.d": attribute("String", "Status"),
                e: attribute("Integer", "Status", 1.5),
                f: attribute("Boolean", "Status", "true"),
                g: attribute("String", "Status", 7),
                h: attribute("Number", "Status", "1.5"),
              },
            },
          },
        },
      },
    })
  );
  const at = "$.nodes.N.objects.o.attributes";
  assert.deepEqual(problems.map((p) => p.location), [
    `${at}.a.type`,
    `${at}.b.constraint`,
    `${at}["c.d"]`,
    `${at}.e.value`,
    `${at}.f.value`,
    `${at}.g.value`,
    `${at}.h.value`,
  ]);
  assert.match(problems[1].message, /did you mean "SetPoint"/);
});

Deno.test("modelFromJson() refuses an attribute directly under a node", () => {
  const problems = problemsOf(() =>
    modelFromJson(
      '{"nodes": {"N": {"attributes": {"a": {"type": "Boolean", "constraint": "Status"}}}}}',
    )
  );
  assert.equal(problems.length, 1);
  assert.equal(problems[0].location, "$.nodes.N.attributes");
  assert.match(problems[0].message, /an attribute must live in an object/);
});

Deno.test("modelFromJson() refuses bad timestamps", () => {
  const attribute = (timestamp: unknown) => ({ type: "Boolean", constraint: "Status", timestamp });
  const problems = problemsOf(() =>
    modelFromJson({
      nodes: {
        N: {
          objects: {
            o: { attributes: { a: attribute(-1), b: attribute("1"), c: attribute(1e306) } },
          },
        },
      },
    })
  );
  assert.deepEqual(problems.map((p) => p.location.split(".").slice(-2).join(".")), [
    "a.timestamp",
    "b.timestamp",
    "c.timestamp",
  ]);
  assert.match(
    problems[0].message,
    /timestamp in seconds after the epoch, not after 2262-04-11: current value is -1/,
  );
});

Deno.test("modelFromJson() refuses a __proto__ key without polluting anything", () => {
  const problems = problemsOf(() =>
    modelFromJson('{"nodes": {"__proto__": {"objects": {"polluted": {}}}}}')
  );
  assert.deepEqual(problems.map((p) => p.location), ["$.nodes.__proto__"]);
  assert.equal(({} as Record<string, unknown>).objects, undefined);
});

Deno.test("modelFromJson() reports every problem of a multi-problem document", () => {
  const text = `{
  "version": "v0.2",
  "nodes": {
    "nodes": {},
    "VacuumCleaner": {
      "implements": "NodeInterface",
      "attributes": {},
      "objects": {
        "Status": {
          "conforms": 7,
          "colour": "red",
          "attributes": {
            "throughput": {"type": "Double", "constraint": "Measure", "value": 1.5},
            "mode": {"type": "Integer", "constraint": "measure", "value": "1", "timestamp": -3},
            "bad/name": {"type": "String", "constraint": "Status"}
          }
        }
      }
    }
  }
}`;
  const base = "$.nodes.VacuumCleaner";
  // In document order, whichever step found them.
  assert.deepEqual(locationsOf(() => modelFromJson(text)), [
    "$.nodes.nodes",
    `${base}.implements`,
    `${base}.attributes`,
    `${base}.objects.Status.conforms`,
    `${base}.objects.Status.colour`,
    `${base}.objects.Status.attributes.throughput.type`,
    `${base}.objects.Status.attributes.mode.constraint`,
    `${base}.objects.Status.attributes.mode.value`,
    `${base}.objects.Status.attributes.mode.timestamp`,
    `${base}.objects.Status.attributes["bad/name"]`,
  ]);
});

Deno.test("nodeFromJson() reads one node and reports its problems", () => {
  assert.deepEqual(nodeFromJson('{"implements": ["I"], "objects": {}}'), {
    implements: ["I"],
    objects: {},
  });
  assert.deepEqual(
    locationsOf(() =>
      nodeFromJson({ implements: ["I"], objects: { "o.p": {} }, attributes: {}, online: true })
    ),
    ['$.objects["o.p"]', "$.attributes", "$.online"],
  );
  assert.deepEqual(locationsOf(() => nodeFromJson("[]")), ["$"]);
  assert.deepEqual(locationsOf(() => nodeFromJson('{"implements": [}', { source: "n.json" })), [
    "n.json:1:17",
  ]);
});

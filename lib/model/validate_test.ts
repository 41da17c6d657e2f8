import assert from "node:assert/strict";
import { Endpoint } from "../endpoint.ts";
import { ModelError } from "../errors.ts";
import type { EndpointModel } from "./types.ts";
import { assertModel, modelProblems, nodeProblems, valueProblem } from "./validate.ts";

function vacuumCleaner(): EndpointModel {
  return {
    nodes: {
      VacuumCleaner: {
        implements: ["NodeInterface"],
        objects: {
          Parameters: {
            objects: {},
            attributes: {
              set_power_on: { type: "Boolean", constraint: "Parameter", value: false },
              set_operating_mode: { type: "Integer", constraint: "Parameter", value: 1 },
            },
          },
          Status: {
            conforms: "VacuumStatus",
            objects: {
              Motor: {
                attributes: {
                  rpm: { type: "Number", constraint: "Measure", value: 1200.5, timestamp: 1 },
                },
              },
            },
            attributes: {
              identification: { type: "String", constraint: "Static", value: "VC-1" },
              throughput: {
                type: "Number",
                constraint: "Measure",
                value: 3.5,
                timestamp: 1700000000500,
              },
              mode: { type: "Integer", constraint: "Status" },
              target: { type: "Number", constraint: "SetPoint", value: 7 },
            },
          },
        },
      },
    },
  };
}

function locations(model: unknown): string[] {
  return modelProblems(model).map((p) => p.location);
}

Deno.test("modelProblems() accepts a complete valid model", () => {
  assert.deepEqual(modelProblems(vacuumCleaner()), []);
});

Deno.test("modelProblems() accepts an empty model and nodes without optional keys", () => {
  assert.deepEqual(modelProblems({ nodes: {} }), []);
  assert.deepEqual(modelProblems({ nodes: { A: {}, B: { objects: { o: {} } } } }), []);
  assert.deepEqual(
    modelProblems({
      nodes: { A: { implements: undefined, objects: { o: { conforms: undefined } } } },
    }),
    [],
  );
});

Deno.test("modelProblems() accepts objects without a prototype", () => {
  const model = Object.assign(Object.create(null), { nodes: Object.create(null) });
  assert.deepEqual(modelProblems(model), []);
});

Deno.test("modelProblems() refuses a model that is not a plain object", () => {
  for (const model of [null, undefined, 42, "{}", [], new Map(), new Date(0)]) {
    const problems = modelProblems(model);
    assert.equal(problems.length, 1, String(model));
    assert.equal(problems[0].location, "$");
    assert.match(problems[0].message, /^Expected an object: current value is /);
  }
});

Deno.test("modelProblems() reports a missing nodes key and unknown top-level keys", () => {
  assert.deepEqual(modelProblems({ version: "v0.2" }), [
    { location: "$.version", message: 'Unknown key "version": expected "nodes"' },
    { location: "$.nodes", message: 'Missing required key "nodes"' },
  ]);
});

Deno.test("modelProblems() reports unknown keys at every level", () => {
  const model = {
    nodes: {
      N: {
        online: true,
        objects: {
          o: { kind: "x", attributes: { a: { type: "String", constraint: "Status", unit: "m" } } },
        },
      },
    },
  };
  assert.deepEqual(locations(model), [
    "$.nodes.N.online",
    "$.nodes.N.objects.o.kind",
    "$.nodes.N.objects.o.attributes.a.unit",
  ]);
  assert.match(
    modelProblems(model)[2].message,
    /Unknown key "unit": expected "type", "constraint"/,
  );
});

Deno.test("nodeProblems() refuses an attribute directly under a node", () => {
  const problems = nodeProblems(
    { objects: {}, attributes: { a: { type: "Boolean", constraint: "Status" } } },
    "$.nodes.N",
  );
  assert.equal(problems.length, 1);
  assert.equal(problems[0].location, "$.nodes.N.attributes");
  assert.match(problems[0].message, /an attribute must live in an object/);
});

Deno.test("modelProblems() checks every name and uses brackets for non-identifiers", () => {
  const attribute = { type: "Boolean", constraint: "Status" };
  const model = {
    nodes: {
      "my node": { objects: { "a.b": { attributes: { "x/y": attribute, ok_1: attribute } } } },
      nodes: {},
      "": {},
      "tab\there": {},
    },
  };
  assert.deepEqual(modelProblems(model), [
    {
      location: '$.nodes["my node"].objects["a.b"]',
      message: 'Cannot use "a.b" as object name: it contains "."',
    },
    {
      location: '$.nodes["my node"].objects["a.b"].attributes["x/y"]',
      message: 'Cannot use "x/y" as attribute name: it contains "/"',
    },
    {
      location: "$.nodes.nodes",
      message: 'Cannot use "nodes" as node name: the cloud takes it for a v0.1 topic (protocol §2)',
    },
    { location: '$.nodes[""]', message: 'Cannot use "" as node name: it is empty' },
    {
      location: '$.nodes["tab\\there"]',
      message: 'Cannot use "tab\\there" as node name: it contains control character U+0009',
    },
  ]);
});

Deno.test("modelProblems() refuses a node named __proto__ read from JSON", () => {
  const model = JSON.parse('{"nodes": {"__proto__": {"objects": {}}}}');
  assert.deepEqual(modelProblems(model), [
    {
      location: "$.nodes.__proto__",
      message: 'Cannot use "__proto__" as node name: it is reserved',
    },
  ]);
});

Deno.test("modelProblems() wants the exact spelling of types and constraints", () => {
  const model = {
    nodes: {
      N: {
        objects: {
          o: {
            attributes: {
              a: { type: "Float", constraint: "Measure" },
              b: { type: "number", constraint: "Setpoint" },
              c: { type: 1, constraint: "Invalid" },
              d: {},
            },
          },
        },
      },
    },
  };
  const problems = modelProblems(model);
  const at = "$.nodes.N.objects.o.attributes";
  assert.deepEqual(problems.map((p) => p.location), [
    `${at}.a.type`,
    `${at}.b.type`,
    `${at}.b.constraint`,
    `${at}.c.type`,
    `${at}.c.constraint`,
    `${at}.d.type`,
    `${at}.d.constraint`,
  ]);
  assert.equal(
    problems[0].message,
    'Unknown type "Float": expected one of "Boolean", "Integer", "Number", "String"',
  );
  assert.match(problems[1].message, /did you mean "Number"\?/);
  assert.match(problems[2].message, /did you mean "SetPoint"\?/);
  assert.match(problems[5].message, /Missing required key "type"/);
});

Deno.test("modelProblems() checks that values match their type", () => {
  const attributes = {
    b: { type: "Boolean", constraint: "Status", value: 1 },
    i: { type: "Integer", constraint: "Status", value: 1.5 },
    big: { type: "Integer", constraint: "Status", value: 2 ** 53 },
    n: { type: "Number", constraint: "Status", value: NaN },
    s: { type: "String", constraint: "Status", value: true },
    ok: { type: "Number", constraint: "Status", value: 3 },
  };
  const problems = modelProblems({ nodes: { N: { objects: { o: { attributes } } } } });
  assert.deepEqual(
    problems.map((p) => p.location.replace("$.nodes.N.objects.o.attributes.", "")),
    ["b.value", "i.value", "big.value", "n.value", "s.value"],
  );
  assert.equal(
    problems[1].message,
    'Expected a safe integer for type "Integer": current value is 1.5',
  );
});

Deno.test("modelProblems() wants timestamps to be plausible times", () => {
  const attribute = (timestamp: unknown) => ({ type: "Boolean", constraint: "Status", timestamp });
  const model = {
    nodes: {
      N: {
        objects: {
          o: {
            attributes: {
              zero: attribute(0),
              ms: attribute(1700000000123),
              negative: attribute(-1),
              infinite: attribute(Infinity),
              far: attribute(1e300),
              text: attribute("1700000000"),
              nul: attribute(null),
            },
          },
        },
      },
    },
  };
  const problems = modelProblems(model);
  assert.deepEqual(
    problems.map((p) => p.location.replace("$.nodes.N.objects.o.attributes.", "")),
    [
      "zero.timestamp",
      "negative.timestamp",
      "infinite.timestamp",
      "far.timestamp",
      "text.timestamp",
      "nul.timestamp",
    ],
  );
  assert.match(
    problems[1].message,
    /after the epoch and not after 2262-04-11: current value is -1/,
  );
});

Deno.test("modelProblems() checks implements and conforms", () => {
  const model = {
    nodes: {
      A: { implements: "NodeInterface" },
      B: { implements: ["ok", 7], objects: { o: { conforms: 3 } } },
    },
  };
  assert.deepEqual(locations(model), [
    "$.nodes.A.implements",
    "$.nodes.B.implements[1]",
    "$.nodes.B.objects.o.conforms",
  ]);
});

Deno.test("modelProblems() refuses maps and entries of the wrong shape", () => {
  const model = {
    nodes: {
      A: [],
      B: { objects: [] },
      C: { objects: { o: "x", p: { objects: 1, attributes: [] } } },
      D: { objects: { o: { attributes: { a: "Boolean" } } } },
    },
  };
  assert.deepEqual(locations(model), [
    "$.nodes.A",
    "$.nodes.B.objects",
    "$.nodes.C.objects.o",
    "$.nodes.C.objects.p.objects",
    "$.nodes.C.objects.p.attributes",
    "$.nodes.D.objects.o.attributes.a",
  ]);
  assert.deepEqual(modelProblems({ nodes: [] }), [
    { location: "$.nodes", message: "Expected an object: current value is an array" },
  ]);
});

Deno.test("modelProblems() stops at an object that contains itself", () => {
  const object: Record<string, unknown> = { attributes: {} };
  object.objects = { again: object };
  assert.deepEqual(modelProblems({ nodes: { N: { objects: { o: object } } } }), [
    { location: "$.nodes.N.objects.o.objects.again", message: "The object contains itself" },
  ]);
});

Deno.test("modelProblems() reports every problem of a document, in document order", () => {
  const model = {
    nodes: {
      "bad.name": {
        attributes: {},
        objects: {
          Status: {
            attributes: {
              throughput: { type: "Float", constraint: "Measure", value: "fast" },
              mode: { type: "Integer", constraint: "measure", value: 2.5, timestamp: -5 },
            },
          },
        },
      },
      nodes: { implements: [1] },
    },
    extra: true,
  };
  assert.deepEqual(locations(model), [
    '$.nodes["bad.name"]',
    '$.nodes["bad.name"].attributes',
    '$.nodes["bad.name"].objects.Status.attributes.throughput.type',
    '$.nodes["bad.name"].objects.Status.attributes.mode.constraint',
    '$.nodes["bad.name"].objects.Status.attributes.mode.value',
    '$.nodes["bad.name"].objects.Status.attributes.mode.timestamp',
    "$.nodes.nodes",
    "$.nodes.nodes.implements[0]",
    "$.extra",
  ]);
});

Deno.test("modelProblems() roots locations where it is told", () => {
  assert.deepEqual(modelProblems({ nodes: { "a.b": {} } }, "model.json#").map((p) => p.location), [
    'model.json#.nodes["a.b"]',
  ]);
});

Deno.test("nodeProblems() checks one node without its name", () => {
  assert.deepEqual(nodeProblems({ implements: [], objects: {} }, "$"), []);
  assert.deepEqual(
    nodeProblems({ objects: { "o.1": {} } }, "@nodeAdded").map((p) => p.location),
    ['@nodeAdded.objects["o.1"]'],
  );
  assert.equal(nodeProblems("node", "$")[0].location, "$");
});

Deno.test("valueProblem() accepts exactly the values of each type", () => {
  const cases: [Parameters<typeof valueProblem>[0], unknown, boolean][] = [
    ["Boolean", true, true],
    ["Boolean", false, true],
    ["Boolean", 0, false],
    ["Boolean", "true", false],
    ["Integer", 0, true],
    ["Integer", -42, true],
    ["Integer", Number.MAX_SAFE_INTEGER, true],
    ["Integer", Number.MAX_SAFE_INTEGER + 1, false],
    ["Integer", 1.5, false],
    ["Integer", 1n, false],
    ["Integer", "1", false],
    ["Number", 1.5, true],
    ["Number", 2, true],
    ["Number", -0, true],
    ["Number", NaN, false],
    ["Number", -Infinity, false],
    ["Number", "1.5", false],
    ["String", "", true],
    ["String", "x", true],
    ["String", 1, false],
    ["String", null, false],
  ];
  for (const [type, value, ok] of cases) {
    assert.equal(valueProblem(type, value) === undefined, ok, `${type} ${String(value)}`);
  }
  assert.equal(
    valueProblem("Boolean", "yes"),
    'Expected a boolean for type "Boolean": current value is "yes"',
  );
  assert.match(valueProblem("Float" as "Number", 1)!, /unknown type "Float"/);
});

Deno.test("assertModel() throws one ModelError listing every problem", () => {
  const model = {
    nodes: { "a.b": { objects: { o: { attributes: { x: { type: "Float", constraint: "X" } } } } } },
  };
  assert.throws(
    () => assertModel(model, "pump.json"),
    (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.equal(error.problems.length, 3);
      assert.match(error.message, /^Invalid model in pump\.json \(3 problems\):/);
      assert.match(
        error.message,
        /\$\.nodes\["a\.b"\]\.objects\.o\.attributes\.x\.type: Unknown type/,
      );
      return true;
    },
  );
});

Deno.test("assertModel() returns quietly for a valid model", () => {
  const model: unknown = vacuumCleaner();
  assertModel(model);
  assert.equal(model.nodes.VacuumCleaner.implements?.[0], "NodeInterface");
});

Deno.test("modelProblems() checks publish policies: keys, kinds, deadbands, constraints, intervals", () => {
  const attribute = (type: string, constraint: string, policy: unknown) => ({
    nodes: { N: { objects: { O: { attributes: { a: { type, constraint, policy } } } } } },
  });
  const at = "$.nodes.N.objects.O.attributes.a.policy";
  const problems = (type: string, constraint: string, policy: unknown) =>
    modelProblems(attribute(type, constraint, policy)).map((p) => `${p.location} ${p.message}`);
  assert.deepEqual(
    problems("Number", "Measure", {
      onChange: true,
      deadband: "2.5%",
      minInterval: 100,
      maxInterval: 60_000,
      latestOnlyWhileOffline: true,
    }),
    [],
  );
  assert.deepEqual(problems("Integer", "Status", { deadband: 2 }), []);
  assert.match(
    problems("String", "Measure", { deadband: 1 })[0],
    /policy\.deadband A deadband applies to Integer and Number/,
  );
  assert.match(
    problems("Number", "SetPoint", { onChange: true })[0],
    new RegExp(`^\\${at} A publish policy applies to Status and Measure`),
  );
  assert.match(
    problems("Number", "Measure", { deadband: -1 })[0],
    /Expected an amount ≥ 0 or a percentage/,
  );
  assert.match(problems("Number", "Measure", { deadband: "2 percent" })[0], /deadband/);
  assert.match(
    problems("Number", "Measure", { minInterval: 0 })[0],
    /minInterval Expected milliseconds, more than 0/,
  );
  assert.match(problems("Number", "Measure", { maxInterval: 2 ** 31 })[0], /at most 2147483647/);
  assert.match(
    problems("Number", "Measure", { minInterval: 1000, maxInterval: 10 })[0],
    /maxInterval Expected at least minInterval \(1000\)/,
  );
  assert.match(
    problems("Number", "Measure", { onChange: "yes" })[0],
    /onChange Expected a boolean/,
  );
  assert.match(problems("Number", "Measure", { deadbnad: 1 })[0], /Unknown key "deadbnad"/);
  assert.match(problems("Number", "Measure", 5)[0], /policy Expected an object/);
});

Deno.test("an attribute with an invalid policy is refused when it is created", () => {
  const object = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55").addNode("N").addObject("O");
  assert.throws(
    () =>
      object.addAttribute("a", {
        type: "Number",
        constraint: "Measure",
        policy: { minInterval: -5 },
      }),
    /Cannot add attribute "N\/O\/a": policy\.minInterval: Expected milliseconds/,
  );
  assert.throws(
    () =>
      object.addAttribute("b", {
        type: "Boolean",
        constraint: "Parameter",
        // @ts-expect-error a Parameter has no publish policy
        policy: { onChange: true },
      }),
    /policy: A publish policy applies to Status and Measure attributes/,
  );
  assert.throws(
    () =>
      object.addAttribute("c", {
        type: "Boolean",
        constraint: "Status",
        // @ts-expect-error no deadband for a Boolean
        policy: { deadband: 1 },
      }),
    /policy\.deadband: A deadband applies to Integer and Number attributes: this one is Boolean/,
  );
});

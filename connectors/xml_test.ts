import assert from "node:assert/strict";
import { ModelError } from "../lib/errors.ts";
import { modelFromJson } from "./json.ts";
import { modelFromXml } from "./xml.ts";
import { checkFixtures, FIXTURES, rejectedProblems } from "./_helpers_test.ts";

const haveFixtures = checkFixtures("xml_test.ts");

/** Wraps `<deviceType>` content in `<configs><config>`; the content starts on line 3. */
function inNode(content: string, deviceType = '<deviceType typeId="N">'): string {
  return `<configs>\n<config>\n${deviceType}\n${content}\n</deviceType>\n</config>\n</configs>`;
}

Deno.test({
  name: "modelFromXml() reads the Python connector's vacuum-cleaner model as protocol §10.1 says",
  ignore: !haveFixtures,
  async fn() {
    const text = Deno.readTextFileSync(new URL("python-vacuum-cleaner-model.xml", FIXTURES));
    const model = await modelFromXml(text, { source: "python-vacuum-cleaner-model.xml" });
    assert.deepEqual(Object.keys(model.nodes), ["VacuumCleanerEndpoint"]);
    const node = model.nodes.VacuumCleanerEndpoint;
    assert.deepEqual(node.implements, ["NodeInterface"]);
    // The table of protocol §10.1: object, attribute, type, constraint.
    const table = [
      ["Parameters", "set_identification", "String", "Parameter"],
      ["Parameters", "set_power_on", "Boolean", "Parameter"],
      ["Parameters", "set_throughput", "Number", "Parameter"],
      ["Parameters", "set_operating_mode", "Integer", "Parameter"],
      ["Status", "identification", "String", "Measure"],
      ["Status", "isPoweredOn", "Boolean", "Measure"],
      ["Status", "throughput", "Number", "Measure"],
      ["Status", "operatingMode", "Integer", "Measure"],
    ];
    const found = Object.entries(node.objects!).flatMap(([object, { attributes, objects }]) => {
      assert.deepEqual(objects, {});
      return Object.entries(attributes!).map(([name, a]) => {
        assert.deepEqual(Object.keys(a), ["type", "constraint"], "no value, no timestamp");
        return [object, name, a.type, a.constraint];
      });
    });
    assert.deepEqual(found, table);
  },
});

Deno.test("modelFromXml() reads the examples/vacuum_cleaner.xml and .json to the same model", async () => {
  const xml = Deno.readTextFileSync(new URL("../examples/vacuum_cleaner.xml", import.meta.url));
  const json = Deno.readTextFileSync(new URL("../examples/vacuum_cleaner.json", import.meta.url));
  const model = await modelFromXml(xml, { source: "vacuum_cleaner.xml" });
  assert.deepEqual(model, modelFromJson(json, { source: "vacuum_cleaner.json" }));
  assert.deepEqual(model.nodes.VacuumCleaner.implements, ["NodeInterface"]);
  const { Parameters, Status } = model.nodes.VacuumCleaner.objects!;
  assert.deepEqual(Parameters.attributes, {
    set_identification: { type: "String", constraint: "Parameter", value: "VC-0001" },
    set_power_on: { type: "Boolean", constraint: "Parameter", value: false },
    set_throughput: { type: "Number", constraint: "Parameter", value: 2.5 },
    set_operating_mode: { type: "Integer", constraint: "Parameter", value: 1 },
  });
  assert.deepEqual(Status.attributes, {
    identification: { type: "String", constraint: "Measure", value: "VC-0001" },
    isPoweredOn: { type: "Boolean", constraint: "Measure", value: false },
    throughput: {
      type: "Number",
      constraint: "Measure",
      value: 0,
      policy: { deadband: 0.05, maxInterval: 60000 },
    },
    operatingMode: { type: "Integer", constraint: "Measure", value: 1 },
  });
});

Deno.test("modelFromXml() keeps nested objects nested", async () => {
  const model = await modelFromXml(inNode(`
    <object id="Motor">
      <attribute id="rpm" template="double" constraint="measure"/>
      <object id="Bearing">
        <object id="Sensor"><attribute id="temperature" template="float" constraint="measure"/></object>
      </object>
    </object>`));
  assert.deepEqual(model.nodes.N.objects, {
    Motor: {
      objects: {
        Bearing: {
          objects: {
            Sensor: {
              objects: {},
              attributes: { temperature: { type: "Number", constraint: "Measure" } },
            },
          },
          attributes: {},
        },
      },
      attributes: { rpm: { type: "Number", constraint: "Measure" } },
    },
  });
});

Deno.test("modelFromXml() reads every template alias and constraint in any case", async () => {
  const aliases: [string, string][] = [
    ["bool", "Boolean"],
    ["BOOLEAN", "Boolean"],
    ["short", "Integer"],
    ["Int", "Integer"],
    ["integer", "Integer"],
    ["LONG", "Integer"],
    ["float", "Number"],
    ["Double", "Number"],
    ["number", "Number"],
    ["str", "String"],
    ["String", "String"],
  ];
  const constraints: [string, string][] = [
    ["static", "Static"],
    ["PARAMETER", "Parameter"],
    ["Status", "Status"],
    ["setpoint", "SetPoint"],
    ["measure", "Measure"],
  ];
  const attributes = aliases.map(([template], i) => {
    const [constraint] = constraints[i % constraints.length];
    return `<attribute id="a${i}" template="${template}" constraint="${constraint}"/>`;
  });
  const model = await modelFromXml(inNode(`<object id="o">${attributes.join("\n")}</object>`));
  const read = model.nodes.N.objects!.o.attributes!;
  aliases.forEach(([, type], i) => {
    assert.deepEqual(read[`a${i}`], { type, constraint: constraints[i % constraints.length][1] });
  });
});

Deno.test("modelFromXml() reads initial values per type", async () => {
  const cases: [string, string, unknown][] = [
    ["bool", "true", true],
    ["bool", "TRUE", true],
    ["bool", "1", true],
    ["bool", " false ", false],
    ["bool", "0", false],
    ["int", "42", 42],
    ["int", "-7", -7],
    ["int", "+5", 5],
    ["int", "-0", 0],
    ["int", "9007199254740991", Number.MAX_SAFE_INTEGER],
    ["double", "2.5", 2.5],
    ["double", "-.5", -0.5],
    ["double", "1e3", 1000],
    ["double", "7", 7],
    ["string", "", ""],
    ["string", "  spaced &amp; &lt;escaped&gt; &#65;  ", "  spaced & <escaped> A  "],
  ];
  const attributes = cases.map(([template, value], i) =>
    `<attribute id="a${i}" template="${template}" constraint="Parameter" value="${value}"/>`
  );
  const model = await modelFromXml(inNode(`<object id="o">${attributes.join("\n")}</object>`));
  const read = model.nodes.N.objects!.o.attributes!;
  cases.forEach(([, raw, value], i) => {
    assert.ok(Object.is(read[`a${i}`].value, value), `${raw} read as ${read[`a${i}`].value}`);
  });
});

Deno.test("modelFromXml() refuses values that do not fit their type", async () => {
  const cases: [string, string][] = [
    ["bool", "yes"],
    ["bool", ""],
    ["int", "1.5"],
    ["int", "0x10"],
    ["int", "9007199254740992"],
    ["int", ""],
    ["double", "NaN"],
    ["double", "Infinity"],
    ["double", "1e999"],
    ["double", "1,5"],
  ];
  const attributes = cases.map(([template, value], i) =>
    `<attribute id="a${i}" template="${template}" constraint="Parameter" value="${value}"/>`
  );
  const problems = await rejectedProblems(
    modelFromXml(inNode(`<object id="o">\n${attributes.join("\n")}\n</object>`)),
  );
  assert.equal(problems.length, cases.length);
  problems.forEach((problem, i) => {
    const column = 1 + attributes[i].indexOf(" value=") + 1;
    assert.equal(problem.location, `${5 + i}:${column}`);
    assert.match(problem.message, new RegExp(`^Invalid value .* of attribute "a${i}": expected`));
  });
});

Deno.test("modelFromXml() lets implements, conforms and name override the defaults", async () => {
  const model = await modelFromXml(`<configs>
  <config deviceId="a">
    <deviceType name="A" implements=" I1 , I2 ">
      <object name="o" conforms="Klass"><attribute name="x" template="str" constraint="static"/></object>
    </deviceType>
    <deviceType typeId="B" implements=""/>
  </config>
  <config>
    <deviceType typeId="C"/>
  </config>
</configs>`);
  assert.deepEqual(model, {
    nodes: {
      A: {
        implements: ["I1", "I2"],
        objects: {
          o: {
            conforms: "Klass",
            objects: {},
            attributes: { x: { type: "String", constraint: "Static" } },
          },
        },
      },
      B: { implements: [], objects: {} },
      C: { implements: ["NodeInterface"], objects: {} },
    },
  });
});

Deno.test("modelFromXml() reads an empty model, a BOM, CRLF and an XML declaration", async () => {
  assert.deepEqual(await modelFromXml("<configs/>"), { nodes: {} });
  const text =
    '\uFEFF<?xml version="1.0"?>\r\n<!-- c -->\r\n<configs xmlns="urn:x">\r\n<config/></configs>';
  assert.deepEqual(await modelFromXml(text), { nodes: {} });
  assert.deepEqual(
    await rejectedProblems(modelFromXml('\uFEFF<configs>\r\n<config foo="1"/></configs>')),
    [{
      location: "2:9",
      message: 'Unknown XML attribute "foo" on <config>: expected deviceId',
    }],
  );
  assert.deepEqual(
    (await rejectedProblems(modelFromXml('\uFEFF<configs bar="1"/>'))).map((p) => p.location),
    [
      "1:10",
    ],
  );
});

Deno.test("modelFromXml() reports duplicate node, object and attribute names", async () => {
  const text = `<configs>
<config>
<deviceType typeId="A">
  <object id="o"><attribute id="x" template="int" constraint="status"/></object>
  <object id="o"/>
  <object id="p">
    <attribute id="x" template="int" constraint="status"/>
    <attribute id="x" template="int" constraint="status"/>
    <object id="x"/>
    <object id="q"/><object id="q"/>
  </object>
</deviceType>
</config>
<config><deviceType name="A"/></config>
</configs>`;
  assert.deepEqual(await rejectedProblems(modelFromXml(text, { source: "dup.xml" })), [
    {
      location: "dup.xml:5:11",
      message: 'Duplicate object "o" in node "A": first defined at 4:11',
    },
    {
      location: "dup.xml:8:16",
      message: 'Duplicate attribute "x" in object "p": first defined at 7:16',
    },
    {
      location: "dup.xml:10:29",
      message: 'Duplicate object "q" in object "p": first defined at 10:13',
    },
    { location: "dup.xml:14:21", message: 'Duplicate node "A": first defined at 3:13' },
  ]);
});

Deno.test("modelFromXml() refuses an attribute directly under a node", async () => {
  const problems = await rejectedProblems(
    modelFromXml(inNode('<attribute id="x" template="int" constraint="status"/>')),
  );
  assert.deepEqual(problems, [{
    location: "4:1",
    message:
      'Unexpected <attribute> "x" directly inside node "N": an attribute must live in an <object>',
  }]);
});

Deno.test("modelFromXml() refuses unknown templates, constraints and bad names", async () => {
  const problems = await rejectedProblems(
    modelFromXml(
      inNode(
        `<object id="a.b">
<attribute id="t" template="decimal" constraint="status"/>
<attribute id="c" template="int" constraint="Invalid"/>
<attribute id="s/p" template="int" constraint="status"/>
<attribute id="" template="int" constraint="status"/>
</object>`,
        '<deviceType typeId="nodes">',
      ),
    ),
  );
  assert.deepEqual(problems, [
    {
      location: "3:13",
      message: 'Cannot use "nodes" as node name: the cloud takes it for a v0.1 topic (protocol §2)',
    },
    { location: "4:9", message: 'Cannot use "a.b" as object name: it contains "."' },
    {
      location: "5:19",
      message: 'Unknown template "decimal" of attribute "t": expected bool, boolean (Boolean); ' +
        "short, int, integer, long (Integer); float, double, number (Number); str, string " +
        "(String) in any case",
    },
    {
      location: "6:34",
      message: 'Unknown constraint "Invalid" of attribute "c": expected Static, Parameter, ' +
        "Status, SetPoint, Measure in any case",
    },
    { location: "7:12", message: 'Cannot use "s/p" as attribute name: it contains "/"' },
    { location: "8:12", message: 'Cannot use "" as attribute name: it is empty' },
  ]);
});

Deno.test("modelFromXml() refuses unknown elements, XML attributes and text", async () => {
  const problems = await rejectedProblems(
    modelFromXml(`<configs version="2">
  <config deviceId="d">
    <deviceType typeId="N" kind="x">
      <object id="o" type="Number">
        <attribute id="a" template="int" constraint="status" unit="m">42</attribute>
        <attribute id="b" template="int" constraint="status"><value>1</value></attribute>
        <property/>
      </object>
      <Object id="p"/>
    </deviceType>
    stray text
  </config>
  <node/>
</configs>`),
  );
  assert.deepEqual(problems.map((p) => `${p.location} ${p.message}`), [
    '1:10 Unknown XML attribute "version" on <configs>: it takes none',
    '2:3 Unexpected text "stray text" inside <config>',
    '3:28 Unknown XML attribute "kind" on <deviceType>: expected typeId, name, implements',
    '4:22 Unknown XML attribute "type" on <object>: expected id, name, conforms',
    '5:9 Unexpected text "42" inside <attribute>',
    '5:62 Unknown XML attribute "unit" on <attribute>: expected id, name, template, constraint, value',
    "6:62 Unknown element <value> inside <attribute>: expected <policy>",
    "7:9 Unknown element <property> inside <object>: expected <object> or <attribute>",
    "9:7 Unknown element <Object> inside <deviceType>: expected <object> or <attribute>",
    "13:3 Unknown element <node> inside <configs>: expected <config>",
  ]);
});

Deno.test("modelFromXml() refuses missing names, templates and constraints", async () => {
  const problems = await rejectedProblems(
    modelFromXml(inNode(
      `<object>
<attribute template="int" constraint="status"/>
<attribute id="x"/>
<attribute id="y" name="z" template="int" constraint="status"/>
</object>`,
      "<deviceType>",
    )),
  );
  assert.deepEqual(problems.map((p) => `${p.location} ${p.message}`), [
    "3:1 Missing typeId (or name) on <deviceType>",
    "4:1 Missing id (or name) on <object>",
    "5:1 Missing id (or name) on <attribute>",
    '6:1 Missing template on attribute "x"',
    '6:1 Missing constraint on attribute "x"',
    "7:19 Use either id or name on <attribute>, not both",
  ]);
});

Deno.test("modelFromXml() wants one <configs> root element", async () => {
  assert.deepEqual(await rejectedProblems(modelFromXml("<config/>")), [
    { location: "1:1", message: "Unknown root element <config>: expected <configs>" },
  ]);
  assert.deepEqual(await rejectedProblems(modelFromXml("<configs/>\n<configs/>")), [
    { location: "2:1", message: "Unexpected second root element" },
  ]);
});

Deno.test("modelFromXml() reports malformed XML at the parser's line and column", async () => {
  const cases: [string, string, RegExp][] = [
    ["<configs>\n  <config>\n</configs>", "3:1", /Expected closing tag 'config'/],
    ["<configs>\n<config a='1' a='2'/></configs>", "2:15", /Attribute 'a' is repeated/],
    [
      "<configs>\n  <config deviceId/></configs>",
      "2:11",
      /boolean attribute 'deviceId' is not allowed/,
    ],
    ["<configs>", "1:1", /Unclosed tag 'configs'/],
    ["", "1:1", /Start tag expected/],
    ["just text", "1:1", /char 'j' is not expected/],
  ];
  for (const [text, location, message] of cases) {
    const problems = await rejectedProblems(modelFromXml(text, { source: "bad.xml" }));
    assert.equal(problems.length, 1, text);
    assert.equal(problems[0].location, `bad.xml:${location}`, text);
    assert.match(problems[0].message, message);
  }
});

Deno.test("modelFromXml() reports every problem of a multi-problem document in order", async () => {
  const text = `<configs>
  <config deviceId="TheVacuumCleaner">
    <deviceType typeId="VacuumCleaner">
      <attribute id="loose" template="bool" constraint="status"/>
      <object id="Parameters">
        <attribute id="set_power_on" template="Boolean" constraint="Parameter" value="maybe"/>
        <attribute id="set_throughput" template="Real" constraint="Parameter"/>
      </object>
      <object id="Status">
        <attribute id="throughput" template="Number" constraint="Measured"/>
        <attribute id="throughput" template="Number" constraint="Measure"/>
        <attribute id="bad.name" template="Number" constraint="Measure"/>
      </object>
      <object id="Status"/>
    </deviceType>
    <deviceType typeId="VacuumCleaner"/>
  </config>
</configs>`;
  await assert.rejects(
    () => modelFromXml(text, { source: "vc.xml" }),
    (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.deepEqual(error.problems.map((p) => p.location), [
        "vc.xml:4:7",
        "vc.xml:6:80",
        "vc.xml:7:40",
        "vc.xml:10:54",
        "vc.xml:11:20",
        "vc.xml:12:20",
        "vc.xml:14:15",
        "vc.xml:16:17",
      ]);
      assert.match(error.message, /^Invalid model in vc\.xml \(8 problems\):/);
      return true;
    },
  );
});

Deno.test("modelFromXml() reads a <policy> into the attribute's publish policy", async () => {
  const model = await modelFromXml(inNode(`<object id="Status">
  <attribute id="t" template="double" constraint="measure">
    <policy onChange="true" deadband=" 2.5 % " minInterval="100" maxInterval="60000"
      latestOnlyWhileOffline="TRUE"/>
  </attribute>
  <attribute id="n" template="int" constraint="status"><policy deadband="3"/></attribute>
</object>`));
  assert.deepEqual(model.nodes.N.objects!.Status.attributes, {
    t: {
      type: "Number",
      constraint: "Measure",
      policy: {
        onChange: true,
        deadband: "2.5%",
        minInterval: 100,
        maxInterval: 60000,
        latestOnlyWhileOffline: true,
      },
    },
    n: { type: "Integer", constraint: "Status", policy: { deadband: 3 } },
  });
});

Deno.test("modelFromXml() reports every problem of a <policy> where it is", async () => {
  const text = inNode(`<object id="Status">
<attribute id="a" template="string" constraint="measure"><policy deadband="1"/></attribute>
<attribute id="b" template="double" constraint="setpoint"><policy onChange="true"/></attribute>
<attribute id="c" template="double" constraint="measure"><policy minInterval="soon" every="1"/></attribute>
<attribute id="d" template="double" constraint="measure"><policy/><policy/></attribute>
<attribute id="e" template="double" constraint="measure"><policy minInterval="10" maxInterval="5"/></attribute>
</object>`);
  const problems = await rejectedProblems(modelFromXml(text, { source: "m.xml" }));
  assert.deepEqual(problems.map((p) => `${p.location} ${p.message.split(":")[0]}`), [
    "m.xml:5:66 Invalid deadband of <policy>",
    "m.xml:6:59 A publish policy applies to Status and Measure attributes, which the device writes",
    'm.xml:7:66 Invalid minInterval "soon" of <policy>',
    'm.xml:7:85 Unknown XML attribute "every" on <policy>',
    'm.xml:8:67 Unexpected second <policy> in attribute "d"',
    "m.xml:9:83 Invalid maxInterval of <policy>",
  ]);
});

Deno.test("modelFromJson() reads publish policies, and null as none", () => {
  const model = modelFromJson(`{"nodes": {"N": {"objects": {"S": {"attributes": {
    "t": {"type": "Number", "constraint": "Measure", "policy": {"deadband": "2%", "maxInterval": 60000}},
    "p": {"type": "Number", "constraint": "Parameter", "policy": null}
  }}}}}}`);
  assert.deepEqual(model.nodes.N.objects!.S.attributes, {
    t: { type: "Number", constraint: "Measure", policy: { deadband: "2%", maxInterval: 60000 } },
    p: { type: "Number", constraint: "Parameter" },
  });
});

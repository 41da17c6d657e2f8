import assert from "node:assert/strict";
import { Endpoint } from "../endpoint.ts";
import { ClosedError } from "../errors.ts";
import { cloudWrite } from "./attribute.ts";

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";

Deno.test("Endpoint.addNode() builds nested objects and typed attributes", () => {
  const endpoint = new Endpoint(UUID);
  const node = endpoint.addNode("Drive", { implements: ["A", "B"] });
  const sensors = node.addObject("Motor", { conforms: "Motor" }).addObject("Sensors");
  const rpm = sensors.addAttribute("rpm", { type: "Integer", constraint: "Measure", value: 0 });
  const label = sensors.addAttribute("label", {
    type: "String",
    constraint: "Static",
    value: "m1",
  });
  assert.equal(rpm.path, "Drive/Motor/Sensors/rpm");
  assert.equal(endpoint.attribute("Drive/Motor/Sensors/rpm"), rpm);
  assert.equal(endpoint.attribute("Drive/Motor/Sensors/label", "String"), label);
  assert.throws(() => endpoint.attribute("Drive/Motor/Sensors/rpm", "Number"), TypeError);
  assert.equal(endpoint.attribute("Drive/Motor/nope"), undefined);
  assert.equal(endpoint.attribute("Drive"), undefined);
  assert.deepEqual(endpoint.toModel(), {
    nodes: {
      Drive: {
        implements: ["A", "B"],
        objects: {
          Motor: {
            conforms: "Motor",
            attributes: {},
            objects: {
              Sensors: {
                objects: {},
                attributes: {
                  rpm: { type: "Integer", constraint: "Measure", value: 0 },
                  label: { type: "String", constraint: "Static", value: "m1" },
                },
              },
            },
          },
        },
      },
    },
  });
});

Deno.test("Endpoint.addNode() refuses invalid and duplicate names", () => {
  const endpoint = new Endpoint(UUID);
  for (const bad of ["", "a/b", "a.b", "a#", "a+", "a*", "nodes", "x".repeat(256), "__proto__"]) {
    assert.throws(() => endpoint.addNode(bad), TypeError, `node name ${JSON.stringify(bad)}`);
  }
  const node = endpoint.addNode("n");
  assert.throws(() => endpoint.addNode("n"), /the name is taken/);
  const object = node.addObject("o");
  assert.throws(() => node.addObject("o"), /the name is taken/);
  object.addAttribute("a", { type: "Boolean", constraint: "Status" });
  assert.throws(() => object.addAttribute("a", { type: "Boolean", constraint: "Status" }), /taken/);
  assert.throws(
    () => object.addAttribute("b.c", { type: "Boolean", constraint: "Status" }),
    TypeError,
  );
});

Deno.test("CloudioObject.addAttribute() refuses unknown types, constraints and ill-typed values", () => {
  const object = new Endpoint(UUID).addNode("n").addObject("o");
  // deno-lint-ignore no-explicit-any
  const loose = object as any;
  assert.throws(
    () => loose.addAttribute("a", { type: "Float", constraint: "Status" }),
    /type "Float"/,
  );
  assert.throws(
    () => loose.addAttribute("b", { type: "Number", constraint: "Setpoint" }),
    /constraint/,
  );
  assert.throws(() =>
    loose.addAttribute("c", { type: "Integer", constraint: "Status", value: 1.5 })
  );
  assert.throws(() =>
    loose.addAttribute("d", { type: "Number", constraint: "Status", value: NaN })
  );
  assert.throws(() => loose.addAttribute("e", { type: "Boolean", constraint: "Status", value: 1 }));
  assert.throws(() => loose.addAttribute("f", { type: "String", constraint: "Status", value: 1 }));
  assert.throws(() =>
    loose.addAttribute("g", { type: "Integer", constraint: "Status", value: 2 ** 53 })
  );
  assert.throws(() =>
    loose.addAttribute("h", { type: "Number", constraint: "Status", timestamp: -1 })
  );
});

Deno.test("CloudioAttribute.set() accepts any constraint before the endpoint starts", () => {
  const object = new Endpoint(UUID).addNode("n").addObject("o");
  const s = object.addAttribute("s", { type: "String", constraint: "Static" });
  const p = object.addAttribute("p", { type: "Number", constraint: "Parameter" });
  s.value = "fixed";
  p.set(20, { timestamp: 5 });
  assert.equal(s.value, "fixed");
  assert.equal(p.value, 20);
  assert.equal(p.timestamp, 5);
  assert.throws(() => p.set(1, { timestamp: NaN }), RangeError);
});

Deno.test("CloudioAttribute.changes() yields the device's writes and ends when aborted", async () => {
  const a = new Endpoint(UUID).addNode("n").addObject("o")
    .addAttribute("a", { type: "Integer", constraint: "Measure" });
  const controller = new AbortController();
  const changes = a.changes({ signal: controller.signal });
  a.value = 1;
  a.set(2, { timestamp: 42 });
  const first = await changes.next();
  assert.equal(first.value.value, 1);
  assert.equal(first.value.previous, undefined);
  assert.equal(first.value.source, "device");
  const second = await changes.next();
  assert.deepEqual([second.value.value, second.value.previous, second.value.timestamp], [2, 1, 42]);
  controller.abort();
  assert.equal((await changes.next()).done, true);
});

Deno.test("[cloudWrite]() asks accept() and reports cloud writes as such", async () => {
  const a = new Endpoint(UUID).addNode("n").addObject("o")
    .addAttribute("p", {
      type: "Boolean",
      constraint: "Parameter",
      value: false,
      accept: (value) => value,
    });
  const changes = a.changes();
  assert.equal(a[cloudWrite](false, 500), false, "refused by accept()");
  assert.equal(a.timestamp, undefined);
  assert.equal(a[cloudWrite](true, 1000), true);
  const { value } = await changes.next();
  assert.deepEqual([value.value, value.previous, value.source, value.timestamp], [
    true,
    false,
    "cloud",
    1000,
  ]);
  await changes.return!();
});

Deno.test("Endpoint.close() ends every iteration and refuses later writes", async () => {
  const endpoint = new Endpoint(UUID);
  const a = endpoint.addNode("n").addObject("o").addAttribute("a", {
    type: "Number",
    constraint: "Measure",
  });
  const changes = a.changes();
  const status = endpoint.status();
  await endpoint.close();
  assert.equal((await changes.next()).done, true);
  assert.deepEqual((await status.next()).value, { type: "closed" });
  assert.equal((await status.next()).done, true);
  assert.throws(() => a.value = 1, ClosedError);
  assert.throws(() => endpoint.addNode("m"), ClosedError);
  await assert.rejects(() => endpoint.connect(), ClosedError);
});

Deno.test("Endpoint takes a whole model as plain data", () => {
  const endpoint = new Endpoint(UUID, {
    model: {
      nodes: {
        Lamp: {
          implements: ["Switch"],
          objects: {
            Parameters: {
              attributes: { on: { type: "Boolean", constraint: "Parameter", value: true } },
            },
            Status: {
              conforms: "LampStatus",
              objects: { Deep: { attributes: { lux: { type: "Number", constraint: "Measure" } } } },
            },
          },
        },
      },
    },
  });
  assert.equal(endpoint.attribute("Lamp/Parameters/on", "Boolean")?.value, true);
  assert.equal(endpoint.attribute("Lamp/Status/Deep/lux")?.type, "Number");
  assert.equal(endpoint.node("Lamp")?.object("Status")?.conforms, "LampStatus");
  assert.throws(
    () =>
      new Endpoint(UUID, {
        model: {
          nodes: {
            Bad: {
              objects: {
                o: { attributes: { x: { type: "Integer", constraint: "Measure", value: 0.5 } } },
              },
            },
          },
        },
      }),
    TypeError,
  );
});

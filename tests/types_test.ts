/**
 * What the compiler knows about a model. Every `// @ts-expect-error` line must fail to compile
 * (`deno check tests/` and `deno test` check this file): an unused one is itself an error. Those
 * lines sit in functions that never run (`mistakes`); the runtime assertions make sure the
 * compiling lines do what their types say.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type CloudioAttribute,
  CloudioNode,
  CloudioObject,
  Endpoint,
  type EndpointModel,
  measure,
  modelFromJson,
  parameter,
  setPoint,
} from "../mod.ts";
import { vacuumCleanerModel } from "../examples/vacuum_cleaner_model.ts";
import { VacuumCleaner as VacuumCleanerClasses } from "../examples/vacuum_cleaner_classes.ts";
import { modelFromXml } from "../connectors/xml.ts";

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";

/** Code that writes set-points: it takes a SetPoint, and only a SetPoint. */
function holdAt(target: CloudioAttribute<"Number", "SetPoint">, celsius: number): void {
  target.value = celsius;
}

Deno.test("a model written as a constant types the endpoint's tree", () => {
  const endpoint = new Endpoint(UUID, {
    model: {
      nodes: {
        Heater: {
          implements: ["Thermostat"],
          objects: {
            Status: {
              attributes: {
                temperature: { type: "Number", constraint: "Measure", value: 20 },
                label: { type: "String", constraint: "Status" },
              },
              objects: {
                Sensor: { attributes: { ok: { type: "Boolean", constraint: "Status" } } },
              },
            },
            Parameters: {
              attributes: { target: { type: "Number", constraint: "SetPoint", value: 21 } },
            },
          },
        },
      },
    },
  });
  const status = endpoint.nodes.Heater.objects.Status;
  status.attributes.temperature.value = 20.5;
  const temperature: number = status.attributes.temperature.value; // given a value: known
  assert.equal(temperature, 20.5);
  const label: string | undefined = status.attributes.label.value; // no value: maybe undefined
  assert.equal(label, undefined);
  const mistakes = () => {
    // @ts-expect-error a String attribute takes strings
    status.attributes.label.value = 3;
    // @ts-expect-error without an initial value, the value may be undefined
    const _known: string = status.attributes.label.value;
    // @ts-expect-error no such attribute
    status.attributes.temperatur;
    // @ts-expect-error no such object
    endpoint.nodes.Heater.objects.Stat;
    // @ts-expect-error no such node
    endpoint.nodes.Heat;
    // @ts-expect-error a Number attribute takes numbers
    status.attributes.temperature.value = "warm";
    // @ts-expect-error a Measure is not a SetPoint
    holdAt(status.attributes.temperature, 19);
  };
  void mistakes;
  const ok: CloudioAttribute<"Boolean", "Status", false> = status.objects.Sensor.attributes.ok;
  assert.equal(ok.path, "Heater/Status/Sensor/ok");

  holdAt(endpoint.nodes.Heater.objects.Parameters.attributes.target, 19);
  assert.equal(endpoint.nodes.Heater.objects.Parameters.attributes.target.value, 19);
  // What the compiler refuses, the attribute refuses at run time too.
  assert.throws(() => status.attributes.label.set(3 as unknown as string), TypeError);
});

Deno.test("a model from the code generator is typed the same way", () => {
  const endpoint = new Endpoint(UUID, { model: vacuumCleanerModel });
  endpoint.nodes.VacuumCleaner.objects.Status.attributes.throughput.value = 3.5;
  const power: boolean = endpoint.nodes.VacuumCleaner.objects.Parameters.attributes.set_power_on
    .value;
  assert.equal(power, false);
  const mistakes = () => {
    // @ts-expect-error isPoweredOn is a Boolean
    endpoint.nodes.VacuumCleaner.objects.Status.attributes.isPoweredOn.value = 1;
  };
  void mistakes;
});

Deno.test("a model only known at run time gives records keyed by any name", () => {
  const model: EndpointModel = modelFromJson(
    '{"nodes":{"Pump":{"objects":{"Status":{"attributes":{"flow":{"type":"Number","constraint":"Measure"}}}}}}}',
  );
  const endpoint = new Endpoint(UUID, { model });
  const flow = endpoint.nodes.Pump?.objects.Status?.attributes.flow;
  const value: boolean | number | string | undefined = flow?.value;
  assert.equal(value, undefined);
  assert.equal(endpoint.attribute("Pump/Status/flow", "Number"), flow);
});

Deno.test("addAttribute() types value, constraint and accept() from its options", () => {
  const object = new Endpoint(UUID).addNode("Lamp").addObject("Parameters");
  const on = object.addAttribute("on", { type: "Boolean", constraint: "Parameter", value: false });
  const known: boolean = on.value;
  assert.equal(known, false);
  const level = object.addAttribute("level", {
    type: "Integer",
    constraint: "SetPoint",
    accept: (value) => value <= 100, // value: number
  });
  assert.equal(level.value, undefined);
  const mistakes = () => {
    // @ts-expect-error no initial value: the value may be undefined
    const _level: number = level.value;
    // @ts-expect-error an Integer attribute's initial value is a number
    object.addAttribute("bad", { type: "Integer", constraint: "Status", value: "1" });
    object.addAttribute("bad2", {
      type: "String",
      constraint: "SetPoint",
      // @ts-expect-error accept() of a String attribute gets a string
      accept: (value: number) => value > 0,
    });
  };
  void mistakes;
});

class Parameters extends CloudioObject {
  set_power_on = parameter("Boolean", { value: false });
}
class Status extends CloudioObject {
  override readonly conforms = "VacuumStatus";
  throughput = measure("Number", { value: 0 });
  label = measure("String");
}
class VacuumCleaner extends CloudioNode {
  override readonly implements = ["NodeInterface"];
  Parameters = new Parameters();
  Status = new Status();
}

Deno.test("class-style parts keep their own types, in a model and from addNode()", () => {
  const endpoint = new Endpoint(UUID, { model: { nodes: { VacuumCleaner: new VacuumCleaner() } } });
  const vacuum = endpoint.nodes.VacuumCleaner;
  vacuum.Status.throughput.value = 2.5;
  const throughput: number = vacuum.Status.throughput.value;
  assert.equal(throughput, 2.5);
  const mistakes = () => {
    // @ts-expect-error no initial value: maybe undefined
    const _label: string = vacuum.Status.label.value;
    // @ts-expect-error a Measure is not a SetPoint
    holdAt(vacuum.Status.throughput, 1);
  };
  void mistakes;

  const other = new Endpoint(UUID).addNode("Heater", {
    objects: {
      Thermostat: new (class extends CloudioObject {
        target = setPoint("Number", { value: 21 });
      })(),
    },
  });
  assert.equal(other.object("Thermostat")?.attribute("target")?.value, 21);
  const added = new Endpoint(UUID).addNode("VacuumCleaner", new VacuumCleaner());
  const power: boolean = added.Parameters.set_power_on.value;
  assert.equal(power, false);
});

Deno.test("the VacuumCleaner as classes is the same model as vacuum_cleaner.xml", async () => {
  const xml = await Deno.readTextFile(new URL("../examples/vacuum_cleaner.xml", import.meta.url));
  assert.deepEqual(
    new Endpoint(UUID, { model: { nodes: { VacuumCleaner: new VacuumCleanerClasses() } } })
      .toModel(),
    new Endpoint(UUID, { model: await modelFromXml(xml) }).toModel(),
  );
});

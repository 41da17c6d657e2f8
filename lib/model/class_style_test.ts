import assert from "node:assert/strict";
import { Endpoint } from "../endpoint.ts";
import { cloudWrite } from "./attribute.ts";
import { measure, parameter, setPoint, staticAttribute, status } from "./fields.ts";
import { CloudioNode } from "./node.ts";
import { CloudioObject } from "./object.ts";

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";

class Sensors extends CloudioObject {
  rpm = measure("Integer", { value: 0 });
}
class Motor extends CloudioObject {
  override readonly conforms = "Motor";
  sensors = new Sensors();
  running = status("Boolean", { value: false });
  serial = staticAttribute("String", { value: "M-1" });
  limit = setPoint("Number", { value: 3000, accept: (rpm) => rpm <= 6000 });
  #ticks = 0; // the program's own state: not part of the model
  helper = 42; // neither
  tick(): number {
    return ++this.#ticks;
  }
}
class Drive extends CloudioNode {
  override readonly implements = ["DriveInterface"];
  Motor = new Motor();
}

Deno.test("a class-style node's fields become its objects and attributes, named after them", () => {
  const endpoint = new Endpoint(UUID);
  const drive = endpoint.addNode("Drive", new Drive());
  assert.equal(drive.Motor.sensors.rpm.path, "Drive/Motor/sensors/rpm");
  assert.equal(drive.objects.Motor, drive.Motor);
  assert.equal(drive.Motor.attributes.limit, drive.Motor.limit);
  assert.equal(endpoint.attribute("Drive/Motor/running", "Boolean"), drive.Motor.running);
  assert.equal(drive.Motor.tick(), 1);
  assert.deepEqual(endpoint.toModel(), {
    nodes: {
      Drive: {
        implements: ["DriveInterface"],
        objects: {
          Motor: {
            conforms: "Motor",
            objects: {
              sensors: {
                objects: {},
                attributes: { rpm: { type: "Integer", constraint: "Measure", value: 0 } },
              },
            },
            attributes: {
              running: { type: "Boolean", constraint: "Status", value: false },
              serial: { type: "String", constraint: "Static", value: "M-1" },
              limit: { type: "Number", constraint: "SetPoint", value: 3000 },
            },
          },
        },
      },
    },
  });
});

Deno.test("a class-style attribute's accept() decides what the cloud may write", () => {
  const drive = new Endpoint(UUID).addNode("Drive", new Drive());
  assert.equal(drive.Motor.limit[cloudWrite](9000, 1700000000000), false);
  assert.equal(drive.Motor.limit.value, 3000);
  assert.equal(drive.Motor.limit[cloudWrite](5000, 1700000000000), true);
  assert.equal(drive.Motor.limit.value, 5000);
});

Deno.test("class-style parts mix with plain data, in both directions", () => {
  class Settings extends CloudioObject {
    constructor() {
      super({ attributes: { mode: { type: "Integer", constraint: "Parameter", value: 1 } } });
    }
    interval = parameter("Integer", { value: 60 });
  }
  const endpoint = new Endpoint(UUID, {
    model: {
      nodes: {
        Pump: {
          objects: {
            Settings: new Settings(),
            Status: { attributes: { flow: measure("Number", { value: 1.5 }) } },
          },
        },
      },
    },
  });
  assert.equal(endpoint.attribute("Pump/Settings/mode")?.path, "Pump/Settings/mode");
  assert.equal(endpoint.attribute("Pump/Settings/interval")?.value, 60);
  assert.equal(endpoint.attribute("Pump/Status/flow")?.value, 1.5);
});

Deno.test("a part created on its own tells it has no place yet, and keeps what it is given", () => {
  const motor = new Motor();
  motor.running.value = true;
  assert.equal(motor.running.value, true);
  assert.throws(() => motor.running.path, /an attribute not added to an object yet/);
  assert.throws(() => motor.path, /an object not added to a node yet/);
  assert.throws(() => new Drive().name, /a node not added to an endpoint yet/);
  assert.throws(() => measure("Integer", { value: 1.5 }), /an attribute \(not added yet\) to 1\.5/);
});

Deno.test("a part is placed once: adding it again elsewhere is refused", () => {
  const endpoint = new Endpoint(UUID);
  const drive = endpoint.addNode("Drive", new Drive());
  assert.throws(() => endpoint.addNode("Again", drive), /it is node "Drive" already/);
  assert.throws(
    () => endpoint.addNode("Other").addObject("Motor", drive.Motor),
    /it is object "Drive\/Motor" already/,
  );
  assert.throws(
    () =>
      endpoint.addNode("Third", { objects: { S: { attributes: { r: drive.Motor.sensors.rpm } } } }),
    /it is attribute "Drive\/Motor\/sensors\/rpm" already/,
  );
});

Deno.test("a class-style node with an attribute field is refused", () => {
  class Wrong extends CloudioNode {
    level = measure("Number");
  }
  assert.throws(() => new Endpoint(UUID).addNode("Wrong", new Wrong()), /a node has objects only/);
});

Deno.test("field names follow the name rules", () => {
  class Bad extends CloudioObject {
    "a.b" = measure("Number");
  }
  assert.throws(() => new Endpoint(UUID).addNode("N", { objects: { Bad: new Bad() } }), /"\."/);
});

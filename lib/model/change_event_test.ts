import assert from "node:assert/strict";
import { Endpoint } from "../endpoint.ts";
import type { CloudioError } from "../errors.ts";
import { cloudWrite } from "./attribute.ts";
import type { AttributeChangeEvent } from "./change_event.ts";

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";

function setup() {
  const errors: CloudioError[] = [];
  const endpoint = new Endpoint(UUID, { onError: (error) => errors.push(error) });
  const object = endpoint.addNode("Heater").addObject("Thermostat");
  const temperature = object.addAttribute("temperature", {
    type: "Number",
    constraint: "Measure",
    value: 20,
  });
  const target = object.addAttribute("target", { type: "Number", constraint: "SetPoint" });
  return { endpoint, errors, temperature, target };
}

Deno.test("a change listener is told of each write, with its source, value and previous value", () => {
  const { temperature, target } = setup();
  const seen: string[] = [];
  const record = (event: AttributeChangeEvent<"Number">) =>
    seen.push(`${event.attribute.name} ${event.previous}→${event.value} ${event.source}`);
  temperature.addEventListener("change", record);
  target.addEventListener("change", { handleEvent: record });
  temperature.set(20.5, { timestamp: 1700000000000 });
  target[cloudWrite](21, 1700000000001);
  assert.deepEqual(seen, ["temperature 20→20.5 device", "target undefined→21 cloud"]);
});

Deno.test("listeners end with removeEventListener, a signal or once", () => {
  const { temperature } = setup();
  let plain = 0, aborted = 0, once = 0;
  const listener = () => plain++;
  const controller = new AbortController();
  temperature.addEventListener("change", listener);
  temperature.addEventListener("change", listener); // the same listener counts once
  temperature.addEventListener("change", () => aborted++, { signal: controller.signal });
  temperature.addEventListener("change", () => once++, { once: true });
  temperature.value = 1;
  controller.abort();
  temperature.removeEventListener("change", listener);
  temperature.value = 2;
  assert.deepEqual([plain, aborted, once], [1, 1, 1]);
});

Deno.test("a listener that throws is reported, and the write and the other listeners go on", async () => {
  const { endpoint, errors, temperature } = setup();
  let after = 0;
  temperature.addEventListener("change", () => {
    throw new Error("sensor table full");
  });
  temperature.addEventListener("change", async () => {
    await Promise.resolve();
    throw new Error("async failure");
  });
  temperature.addEventListener("change", () => after++);
  const events = endpoint.status();
  temperature.value = 22;
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(temperature.value, 22);
  assert.equal(after, 1);
  assert.deepEqual(errors.map((e) => e.message), [
    'A change listener of attribute "Heater/Thermostat/temperature" failed: sensor table full',
    'A change listener of attribute "Heater/Thermostat/temperature" failed: async failure',
  ]);
  assert.equal(((await events.next()).value as { type: string }).type, "error");
  await events.return?.();
});

Deno.test("the same listener on two attributes reports each failure at its own attribute", () => {
  const { errors, temperature, target } = setup();
  const failing = () => {
    throw new Error("no");
  };
  temperature.addEventListener("change", failing);
  target.addEventListener("change", failing);
  temperature.value = 1;
  target[cloudWrite](2, 1700000000000);
  assert.deepEqual(errors.map((e) => e.message.split(" failed")[0]), [
    'A change listener of attribute "Heater/Thermostat/temperature"',
    'A change listener of attribute "Heater/Thermostat/target"',
  ]);
});

Deno.test("changes() and listeners see the same changes", async () => {
  const { temperature } = setup();
  const changes = temperature.changes();
  let heard: unknown;
  temperature.addEventListener("change", (event) => heard = event);
  temperature.value = 5;
  const first = await changes.next();
  assert.equal(first.value, heard);
  await changes.return?.();
});

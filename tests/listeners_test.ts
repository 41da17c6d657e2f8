/**
 * Change listeners and `announce()` against a real mosquitto with TLS, client certificates and the
 * cloud.iO ACL: what the listeners are told, what a failing listener does (nothing to the
 * endpoint), and what `announce()` puts on the wire. Everything published is checked by both
 * judges.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ClosedError, CloudioObject, type Endpoint, measure, setPoint } from "../mod.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import { startMosquitto } from "./_broker.ts";
import { connectCloud, type Received } from "./_cloud.ts";
import { randomUuid, tlsEndpoint, until } from "./_endpoint.ts";
import { assertServerValid } from "./_judges.ts";

class Thermostat extends CloudioObject {
  temperature = measure("Number", { value: 20 });
  target = setPoint("Number", { value: 21, accept: (celsius) => celsius >= 5 && celsius <= 30 });
}

function decode(m: Received): Record<string, unknown> {
  return decodePayload(m.payload, { maxBytes: 1 << 20 }).value;
}

function heater(endpoint: Endpoint): Thermostat {
  const thermostat = new Thermostat();
  endpoint.addNode("Heater", { objects: { Thermostat: thermostat } });
  return thermostat;
}

Deno.test("change listeners hear the cloud's @set and the device's writes; one that throws stops nothing", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  const uuid = randomUuid();
  const { endpoint, errors } = await tlsEndpoint(broker, uuid);
  await using _ = endpoint;
  const thermostat = heater(endpoint);
  const heard: string[] = [];
  thermostat.target.addEventListener("change", (event) => {
    heard.push(`target ${event.value} ${event.source}`);
    thermostat.temperature.value = event.value - 0.5; // a device reacting to the cloud
  });
  thermostat.target.addEventListener("change", () => {
    throw new Error("display unplugged");
  });
  thermostat.temperature.addEventListener("change", (e) => heard.push(`temperature ${e.value}`));
  await endpoint.connect();

  for (const [value, applied] of [[25, 25], [40, 25], [26, 26]] as const) {
    const from = cloud.messages.length;
    const timestamp = Date.now() / 1000;
    await cloud.publish(
      `@set/${uuid}/Heater/Thermostat/target`,
      JSON.stringify({ value, timestamp }),
    );
    const didSet = await cloud.waitFor(
      (m) => m.topic === `@didSet/${uuid}/Heater/Thermostat/target`,
      { from },
    );
    assert.equal(decode(didSet).value, applied, `@set ${value}`);
  }
  await until(() => heard.length === 4, 5000, "the listeners");
  assert.deepEqual(heard, [
    "target 25 cloud",
    "temperature 24.5",
    "target 26 cloud",
    "temperature 25.5",
  ]);
  await cloud.waitFor(
    (m) => m.topic === `@update/${uuid}/Heater/Thermostat/temperature` && decode(m).value === 25.5,
  );
  assert.equal(endpoint.state, "online");
  const failures = errors.filter((e) => /change listener/.test(e.message));
  assert.deepEqual(failures.map((e) => e.message), [
    `A change listener of attribute "Heater/Thermostat/target" failed: display unplugged`,
    `A change listener of attribute "Heater/Thermostat/target" failed: display unplugged`,
  ]);
  assertServerValid(cloud.messages, uuid);
});

Deno.test("announce() publishes @online again, retained, with the model as it is now", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  const uuid = randomUuid();
  const { endpoint } = await tlsEndpoint(broker, uuid);
  const thermostat = heater(endpoint);
  await assert.rejects(() => endpoint.announce(), /call connect\(\) first/);
  await endpoint.connect();
  thermostat.temperature.value = 23.5;
  await endpoint.delivered();
  await endpoint.announce();
  const isOnline = (m: Received) => m.topic === `@online/${uuid}`;
  await until(() => cloud.messages.filter(isOnline).length === 2, 5000, "the second @online");
  const onlines = cloud.messages.filter(isOnline);
  assert.equal(onlines[1].retain, false, "live delivery of a retained message");
  // deno-lint-ignore no-explicit-any
  const model = decode(onlines[1]) as any;
  assert.equal(model.nodes.Heater.objects.Thermostat.attributes.temperature.value, 23.5);
  // A new subscriber gets the announced @online as the retained one.
  await using late = await connectCloud(broker.cloudUrl, { subscribe: `@online/${uuid}` });
  // deno-lint-ignore no-explicit-any
  const retained = decode(await late.waitFor((m) => m.retain)) as any;
  assert.equal(retained.nodes.Heater.objects.Thermostat.attributes.temperature.value, 23.5);
  assertServerValid(cloud.messages, uuid);
  await endpoint.close();
  await assert.rejects(() => endpoint.announce(), ClosedError);
});

Deno.test("announce() while offline waits for the next connection", async () => {
  await using broker = await startMosquitto({ persistence: true });
  await using cloud = await connectCloud(broker.cloudUrl, {
    subscribe: "#",
    clean: false,
    clientId: "cloud-announce",
  });
  const uuid = randomUuid();
  const { endpoint } = await tlsEndpoint(broker, uuid);
  await using _ = endpoint;
  heater(endpoint);
  await endpoint.connect();
  await broker.stop();
  await until(() => endpoint.state !== "online", 5000, "the endpoint to notice");
  let done = false;
  const announced = endpoint.announce().then(() => done = true);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(done, false);
  await broker.start();
  await announced;
  // The connection's own @online, then the announced one.
  await until(
    () => cloud.messages.filter((m) => m.topic === `@online/${uuid}`).length >= 3,
    5000,
    "three @online",
  );
  assertServerValid(cloud.messages, uuid);
});

/**
 * Publish policies against a real mosquitto with TLS, client certificates and the cloud.iO ACL:
 * what the cloud receives from a noisy sensor with a deadband, a minimum and a maximum interval,
 * and what waits in the outbox while offline. Everything published is checked by both judges.
 * The exact timing rules are tested with a fake clock in `lib/outbound/policy_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CloudioObject, measure, type PublishPolicy } from "../mod.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import { startMosquitto } from "./_broker.ts";
import { type Cloud, connectCloud, type Received } from "./_cloud.ts";
import { randomUuid, tlsEndpoint, until } from "./_endpoint.ts";
import { assertServerValid } from "./_judges.ts";

function decode(m: Received): Record<string, unknown> {
  return decodePayload(m.payload, { maxBytes: 1 << 20 }).value;
}

/** The values of `@update`s of one attribute, and of the `@delayed` entries for it, in order. */
function valuesOf(cloud: Cloud, uuid: string, path: string): number[] {
  const values: number[] = [];
  for (const m of cloud.messages) {
    if (m.topic === `@update/${uuid}/${path}`) values.push(decode(m).value as number);
    if (m.topic === `@delayed/${uuid}`) {
      // deno-lint-ignore no-explicit-any
      for (const entry of decode(m).messages as any[]) {
        if (entry.topic === `@update/${uuid}/${path}`) values.push(entry.data.value);
      }
    }
  }
  return values;
}

/** A seeded pseudo-random source, so that the noise is the same on every run. */
function noise(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  };
}

/** A noisy temperature: a slow wave and ±0.4 of noise, rounded to hundredths. */
function sensor(count: number): number[] {
  const random = noise(42);
  return Array.from(
    { length: count },
    (_, i) => Math.round((20 + 2 * Math.sin(i / 40) + 0.8 * random()) * 100) / 100,
  );
}

async function sensorEndpoint(policy: PublishPolicy, persistent = false) {
  const broker = await startMosquitto({ persistence: persistent });
  const cloud = await connectCloud(broker.cloudUrl, {
    subscribe: "#",
    clean: !persistent,
    clientId: persistent ? `cloud-${crypto.randomUUID()}` : undefined,
  });
  const uuid = randomUuid();
  const made = await tlsEndpoint(broker, uuid);
  class Room extends CloudioObject {
    temperature = measure("Number", { value: 20, policy });
    raw = measure("Number", { value: 20 });
  }
  const room = new Room();
  made.endpoint.addNode("Sensor", { objects: { Room: room } });
  return { broker, cloud, uuid, room, ...made };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

Deno.test("a noisy sensor at 100 Hz with a deadband sends what the policy says, and its last value", async () => {
  const { broker, cloud, uuid, room, endpoint, errors } = await sensorEndpoint({ deadband: 0.5 });
  await using _broker = broker;
  await using _cloud = cloud;
  await endpoint.connect();
  const values = sensor(300);
  for (const value of values) {
    room.temperature.value = value;
    await tick();
  }
  // What the policy says: the last value sent is 20 (the @online's), then every value more than
  // 0.5 away from the last one sent; at close(), the last value if it was held back.
  const expected: number[] = [];
  let last = 20;
  for (const value of values) {
    if (Math.abs(value - last) > 0.5) expected.push(last = value);
  }
  if (last !== values.at(-1)) expected.push(values.at(-1)!);
  await endpoint.close();
  const path = "Sensor/Room/temperature";
  await until(() => cloud.messages.some((m) => m.topic === `@offline/${uuid}`), 5000, "@offline");
  const received = valuesOf(cloud, uuid, path);
  assert.deepEqual(received, expected);
  assert.ok(received.length < values.length / 4, `${received.length} of ${values.length} sent`);
  console.log(`  ${received.length} of ${values.length} values sent`);
  assert.equal(received.at(-1), values.at(-1), "the last value arrives");
  const stamps = cloud.messages.filter((m) => m.topic === `@update/${uuid}/${path}`)
    .map((m) => decode(m).timestamp as number);
  assert.deepEqual(stamps, stamps.toSorted((a, b) => a - b));
  assert.deepEqual(errors, []);
  assertServerValid(cloud.messages, uuid);
});

Deno.test("minInterval bounds the rate of a 100 Hz sensor and its last value still arrives", async () => {
  const { broker, cloud, uuid, room, endpoint } = await sensorEndpoint({
    minInterval: 200,
    deadband: 0.2,
  });
  await using _broker = broker;
  await using _cloud = cloud;
  await endpoint.connect();
  const values = sensor(150);
  const started = performance.now();
  for (const value of values) {
    room.temperature.value = value;
    await tick();
  }
  const elapsed = performance.now() - started;
  const path = "Sensor/Room/temperature";
  await endpoint.close();
  await until(() => cloud.messages.some((m) => m.topic === `@offline/${uuid}`), 5000, "@offline");
  const received = valuesOf(cloud, uuid, path);
  // One at once, then at most one per 200 ms, plus the one close() sends.
  assert.ok(received.length <= Math.ceil(elapsed / 200) + 2, `${received.length} in ${elapsed} ms`);
  assert.ok(received.length >= 3, `${received.length}`);
  assert.equal(received.at(-1), values.at(-1), "the last value arrives");
  for (const value of received) assert.ok(values.includes(value));
  assertServerValid(cloud.messages, uuid);
});

Deno.test("maxInterval re-sends an unchanged value as a heartbeat, stamped when it is sent", async () => {
  const { broker, cloud, uuid, endpoint } = await sensorEndpoint({ maxInterval: 300 });
  await using _broker = broker;
  await using _cloud = cloud;
  await using _ = endpoint;
  await endpoint.connect();
  const path = `@update/${uuid}/Sensor/Room/temperature`;
  const from = Date.now() / 1000;
  await until(
    () => cloud.messages.filter((m) => m.topic === path).length >= 3,
    5000,
    "three heartbeats",
  );
  const beats = cloud.messages.filter((m) => m.topic === path).map(decode);
  assert.deepEqual(beats.slice(0, 3).map((b) => b.value), [20, 20, 20]);
  const stamps = beats.map((b) => b.timestamp as number);
  assert.ok(stamps[0] >= from, "stamped when sent, not when the value was taken");
  for (let i = 1; i < stamps.length; i++) {
    assert.ok(stamps[i] - stamps[i - 1] >= 0.29, `heartbeats ${stamps[i] - stamps[i - 1]} s apart`);
  }
  assert.equal(
    cloud.messages.filter((m) => m.topic === `@update/${uuid}/Sensor/Room/raw`).length,
    0,
  );
  assertServerValid(cloud.messages, uuid);
});

Deno.test("latestOnlyWhileOffline keeps only the newest value while the broker is away", async () => {
  const { broker, cloud, uuid, room, endpoint } = await sensorEndpoint(
    { latestOnlyWhileOffline: true },
    true,
  );
  await using _broker = broker;
  await using _cloud = cloud;
  await using _ = endpoint;
  await endpoint.connect();
  await broker.stop();
  await until(() => endpoint.state !== "online", 5000, "the endpoint to notice");
  for (let i = 1; i <= 50; i++) {
    room.temperature.value = 20 + i / 10;
    room.raw.value = 20 + i / 10;
  }
  assert.equal(endpoint.outbox?.superseded, 49);
  await broker.start();
  await endpoint.delivered();
  await until(() => valuesOf(cloud, uuid, "Sensor/Room/raw").length === 50, 5000, "the history");
  assert.deepEqual(valuesOf(cloud, uuid, "Sensor/Room/temperature"), [25]);
  assertServerValid(cloud.messages, uuid);
});

Deno.test("close() sends the value minInterval held back before @offline", async () => {
  const { broker, cloud, uuid, room, endpoint } = await sensorEndpoint({ minInterval: 60_000 });
  await using _broker = broker;
  await using _cloud = cloud;
  await endpoint.connect();
  room.temperature.value = 21;
  room.temperature.value = 22; // held for a minute …
  room.temperature.value = 23;
  const closing = performance.now();
  await endpoint.close(); // … but close() sends it, and leaves no timer behind
  assert.ok(performance.now() - closing < 5000);
  await until(() => cloud.messages.some((m) => m.topic === `@offline/${uuid}`), 5000, "@offline");
  const topics = cloud.messages.map((m) => m.topic);
  const last = topics.lastIndexOf(`@update/${uuid}/Sensor/Room/temperature`);
  assert.ok(last < topics.indexOf(`@offline/${uuid}`));
  assert.deepEqual(valuesOf(cloud, uuid, "Sensor/Room/temperature"), [21, 23]);
  assertServerValid(cloud.messages, uuid);
});

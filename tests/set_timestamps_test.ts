/**
 * `@set` timestamps against a real mosquitto: implausible ones are refused and answered, a
 * device clock that is wrong or jumps never makes the endpoint refuse the cloud's current writes,
 * reordered and repeated writes are still refused, and nothing published carries an implausible
 * time.
 *
 * @module
 */

import assert from "node:assert/strict";
import { encode as cbor } from "npm:cborg@6.1.5";
import { type Endpoint, ProtocolError } from "../mod.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import { timeProblem } from "../lib/time.ts";
import { startMosquitto } from "./_broker.ts";
import { type Cloud, connectCloud, type Received } from "./_cloud.ts";
import { tlsEndpoint, until, UUID } from "./_endpoint.ts";
import { assertServerValid } from "./_judges.ts";

const HOUR = 3_600_000;
const SET = `@set/${UUID}/Heater/Parameters`;

function heater(endpoint: Endpoint) {
  const parameters = endpoint.addNode("Heater").addObject("Parameters");
  return {
    target: parameters.addAttribute("target", {
      type: "Number",
      constraint: "SetPoint",
      value: 20,
    }),
    limit: parameters.addAttribute("limit", {
      type: "Integer",
      constraint: "Parameter",
      value: 30,
      accept: (value) => value <= 90,
    }),
    level: endpoint.node("Heater")!.addObject("Status").addAttribute("level", {
      type: "Number",
      constraint: "Measure",
    }),
  };
}

function decode(m: Received): Record<string, unknown> {
  return decodePayload(m.payload, { maxBytes: 1 << 20 }).value;
}

/** Every message of the endpoint is server-valid and every timestamp in it a plausible time. */
function assertPlausible(messages: Received[]): void {
  assertServerValid(messages, UUID);
  for (const m of messages) {
    if (!m.topic.includes(UUID) || m.topic.startsWith("@set/")) continue;
    const body = decode(m);
    if (typeof body.timestamp === "number") {
      assert.equal(timeProblem(body.timestamp * 1000), undefined, `${m.topic} ${body.timestamp}`);
    }
  }
}

/** Publishes a @set and waits for its answer; returns the answer's decoded payload. */
async function set(
  cloud: Cloud,
  attribute: string,
  body: Record<string, unknown> | Uint8Array,
): Promise<Record<string, unknown>> {
  const from = cloud.messages.length;
  await cloud.publish(
    `${SET}/${attribute}`,
    body instanceof Uint8Array ? body : JSON.stringify(body),
  );
  return decode(
    await cloud.waitFor((m) => m.topic === `@didSet/${UUID}/Heater/Parameters/${attribute}`, {
      from,
    }),
  );
}

function codes(errors: Error[]): string[] {
  return errors.map((e) => e instanceof ProtocolError ? e.code : e.name);
}

Deno.test("a @set with an implausible timestamp is refused, answered with the state, and never poisons later @sets", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  const { endpoint, errors } = await tlsEndpoint(broker, UUID);
  await using _ = endpoint;
  const { target } = heater(endpoint);
  await endpoint.connect();
  const now = Date.now() / 1000;
  const bad: [string, Record<string, unknown> | Uint8Array][] = [
    ["1e300 seconds", { value: 21.5, timestamp: 1e300 }],
    ["microseconds", { value: 21.5, timestamp: Date.now() * 1000 }],
    ["zero", { value: 21.5, timestamp: 0 }],
    ["negative", { value: 21.5, timestamp: -1 }],
    ["none", { value: 21.5 }],
    ["a string", { value: 21.5, timestamp: "now" }],
    ["NaN (CBOR)", cbor({ value: 21.5, timestamp: NaN })],
    ["Infinity (CBOR)", cbor({ value: 21.5, timestamp: Infinity })],
  ];
  for (const [name, body] of bad) {
    const answer = await set(cloud, "target", body);
    assert.equal(answer.value, 20, `${name}: answered with the unchanged value`);
    assert.equal(timeProblem((answer.timestamp as number) * 1000), undefined, `${name}: plausible`);
  }
  await until(() => errors.length === bad.length, 5000, "every refusal reported");
  assert.deepEqual(codes(errors), bad.map(() => "invalid-timestamp"));
  assert.equal(target.value, 20);
  assert.equal(target.timestamp, undefined, "a refused @set never becomes the attribute's time");
  assert.match(
    errors[0].message,
    /^Cannot apply the @set of "Heater\/Parameters\/target" to 21\.5: its timestamp 1e\+300 is not plausible/,
  );
  assert.match(errors[4].message, /to 21\.5: it has no timestamp/);
  // The cloud's current write still applies.
  const answer = await set(cloud, "target", { value: 22.5, timestamp: now + 1 });
  assert.deepEqual([answer.value, answer.timestamp], [22.5, now + 1]);
  assert.equal(target.value, 22.5);
  assert.equal(errors.length, bad.length);
  assertPlausible(cloud.messages);
});

for (const [skew, offset] of [["ahead", 3 * HOUR], ["behind", -3 * HOUR]] as const) {
  Deno.test(`a device clock hours ${skew} applies the cloud's current @sets and refuses repeated and reordered ones`, async () => {
    await using broker = await startMosquitto();
    await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
    const { endpoint, errors } = await tlsEndpoint(broker, UUID, {
      now: () => Date.now() + offset,
    });
    await using _ = endpoint;
    const { target, level } = heater(endpoint);
    // Stamped by the device's clock before connect(): not a reason to refuse the cloud.
    target.value = 19;
    await endpoint.connect();
    const t = Date.now() / 1000;
    assert.equal((await set(cloud, "target", { value: 21, timestamp: t })).value, 21);
    assert.equal((await set(cloud, "target", { value: 22, timestamp: t })).value, 21, "repeated");
    assert.equal((await set(cloud, "target", { value: 23, timestamp: t - 5 })).value, 21, "older");
    assert.equal((await set(cloud, "target", { value: 24, timestamp: t + 1 })).value, 24);
    assert.equal(target.value, 24);
    // (A clock behind also makes the new client certificate look "not yet valid": a warning.)
    await until(
      () => errors.filter((e) => e instanceof ProtocolError).length === 2,
      5000,
      "two refusals",
    );
    assert.deepEqual(codes(errors.filter((e) => e instanceof ProtocolError)), ["stale", "stale"]);
    assert.match(
      errors.filter((e) => e instanceof ProtocolError)[1].message,
      new RegExp(
        `to 23: stale: ${new Date((t - 5) * 1000).toISOString()} is not newer than ${
          new Date(t * 1000).toISOString()
        }, the last @set's time`.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
      ),
    );
    level.value = 1.5;
    await cloud.waitFor((m) => m.topic.endsWith("/Heater/Status/level"));
    assertPlausible(cloud.messages);
  });
}

Deno.test("a @set far ahead of the device's clock is applied but does not hold back the cloud's current @sets", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  const { endpoint, errors } = await tlsEndpoint(broker, UUID);
  await using _ = endpoint;
  const { target } = heater(endpoint);
  await endpoint.connect();
  const t = Date.now() / 1000;
  // A sender whose clock runs two days ahead.
  assert.equal((await set(cloud, "target", { value: 30, timestamp: t + 2 * 86_400 })).value, 30);
  assert.equal((await set(cloud, "target", { value: 21, timestamp: t })).value, 21, "current");
  assert.equal((await set(cloud, "target", { value: 18, timestamp: t - 1 })).value, 21, "older");
  assert.equal(target.value, 21);
  await until(() => errors.length === 1, 5000, "one refusal");
  assert.deepEqual(codes(errors), ["stale"]);
  assertPlausible(cloud.messages);
});

Deno.test("a device clock that jumps forwards and backwards keeps every timestamp plausible and @sets applying", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  let offset = 0;
  const { endpoint, errors } = await tlsEndpoint(broker, UUID, { now: () => Date.now() + offset });
  await using _ = endpoint;
  const { target, level } = heater(endpoint);
  await endpoint.connect();
  let t = Date.now() / 1000;
  for (const jump of [5 * HOUR, -30 * 24 * HOUR, -60 * 365 * 24 * HOUR, 0]) {
    offset = jump; // an NTP correction, or a clock that lost its battery (back to 1970)
    level.value = Math.abs(jump) / HOUR;
    t += 1;
    assert.equal((await set(cloud, "target", { value: t, timestamp: t })).value, t);
  }
  assert.equal(target.value, t);
  await until(
    () => cloud.messages.filter((m) => m.topic.endsWith("/Status/level")).length === 4,
    5000,
    "four @updates",
  );
  assert.deepEqual(errors, []);
  assertPlausible(cloud.messages);
});

Deno.test("a refused @set of an attribute that holds only its initial value is answered, and the next @set applies", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  const { endpoint, errors } = await tlsEndpoint(broker, UUID);
  await using _ = endpoint;
  const { limit } = heater(endpoint);
  await endpoint.connect();
  const t = Date.now() / 1000;
  const refused = await set(cloud, "limit", { value: 99, timestamp: t });
  assert.equal(refused.value, 30);
  assert.ok(Math.abs((refused.timestamp as number) - Date.now() / 1000) < 60, "stamped now");
  assert.equal(limit.timestamp, undefined);
  await until(() => errors.length === 1, 5000, "the refusal");
  assert.deepEqual(codes(errors), ["refused"]);
  assert.equal(
    errors[0].message,
    'Cannot apply the @set of "Heater/Parameters/limit" to 99: accept() refused it',
  );
  const applied = await set(cloud, "limit", { value: 60, timestamp: t + 1 });
  assert.deepEqual([applied.value, applied.timestamp], [60, t + 1]);
  assert.equal(limit.value, 60);
  assertPlausible(cloud.messages);
});

Deno.test("a @set refused for its type or payload is answered with the state too", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  const { endpoint, errors } = await tlsEndpoint(broker, UUID);
  await using _ = endpoint;
  const { target } = heater(endpoint);
  const bare = endpoint.node("Heater")!.object("Parameters")!.addAttribute("mode", {
    type: "String",
    constraint: "Parameter",
  });
  await endpoint.connect();
  const t = Date.now() / 1000;
  assert.equal((await set(cloud, "target", { value: "hot", timestamp: t })).value, 20);
  assert.equal((await set(cloud, "target", new TextEncoder().encode("{oops"))).value, 20);
  // An attribute without any value cannot be answered: the cloud refuses a @didSet without one.
  await cloud.publish(`${SET}/mode`, JSON.stringify({ value: 1, timestamp: t }));
  await until(() => errors.length === 3, 5000, "three refusals");
  assert.deepEqual(codes(errors), ["wrong-type", "malformed-payload", "wrong-type"]);
  assert.match(
    errors[2].message,
    /not answered with @didSet: "Heater\/Parameters\/mode" has no value yet/,
  );
  assert.equal(cloud.messages.filter((m) => m.topic.endsWith("/mode")).length, 1, "only the @set");
  assert.equal(bare.value, undefined);
  assert.equal(target.value, 20);
  assertPlausible(cloud.messages);
});

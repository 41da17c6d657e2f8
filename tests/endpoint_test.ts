import assert from "node:assert/strict";
import { ConfigError, ConnectionError, Endpoint, ProtocolError } from "../mod.ts";
import { encodeAttribute } from "../lib/codec/encode.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import type { MessageFormat } from "../lib/model/types.ts";
import { startMosquitto } from "./_broker.ts";
import { connectCloud, type Received } from "./_cloud.ts";
import { randomUuid, tlsEndpoint, until, UUID } from "./_endpoint.ts";
import { collectUntil, within } from "./_deadline.ts";
// Both judges: strict.ts and the JSON Schema written from the protocol reference.
import { assertServerValid } from "./_judges.ts";

const FORMATS: MessageFormat[] = ["JSON", "CBOR"];

function vacuum(endpoint: Endpoint) {
  const node = endpoint.addNode("VacuumCleaner", { implements: ["NodeInterface"] });
  const status = node.addObject("Status");
  const parameters = node.addObject("Parameters");
  return {
    throughput: status.addAttribute("throughput", { type: "Number", constraint: "Measure" }),
    mode: status.addAttribute("operatingMode", { type: "Integer", constraint: "Status", value: 0 }),
    id: node.addObject("Info").addAttribute("serial", {
      type: "String",
      constraint: "Static",
      value: "VC-1",
    }),
    power: parameters.addAttribute("set_power_on", {
      type: "Boolean",
      constraint: "Parameter",
      value: false,
    }),
    speed: parameters.addAttribute("set_throughput", { type: "Number", constraint: "SetPoint" }),
    label: parameters.addAttribute("set_identification", {
      type: "String",
      constraint: "Parameter",
    }),
  };
}

function decode(m: Received): Record<string, unknown> {
  return decodePayload(m.payload, { maxBytes: 1 << 20 }).value;
}

Deno.test("connect() subscribes to @set before publishing a retained @online, then @update flows", async () => {
  await using broker = await startMosquitto({ logTypes: ["all"] });
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  const { endpoint, errors } = await tlsEndpoint(broker, UUID);
  await using _ = endpoint;
  const { throughput, mode } = vacuum(endpoint);
  await endpoint.connect();
  assert.equal(endpoint.state, "online");
  assert.equal(endpoint.uuid, UUID);
  const online = await cloud.waitFor((m) => m.topic === `@online/${UUID}`);
  // A live subscriber sees retain=0 (MQTT 3.1.1 §3.3.1.3); a late one gets the retained copy.
  await using late = await connectCloud(broker.cloudUrl, { subscribe: `@online/${UUID}` });
  assert.equal((await late.waitFor(() => true)).retain, true);
  assert.deepEqual(decode(online), {
    version: "v0.2",
    messageFormatVersion: 2,
    supportedFormats: ["JSON", "CBOR"],
    nodes: {
      VacuumCleaner: {
        implements: ["NodeInterface"],
        objects: {
          Status: {
            objects: {},
            attributes: {
              throughput: { type: "Number", constraint: "Measure" },
              operatingMode: { type: "Integer", constraint: "Status", value: 0 },
            },
          },
          Parameters: {
            objects: {},
            attributes: {
              set_power_on: { type: "Boolean", constraint: "Parameter", value: false },
              set_throughput: { type: "Number", constraint: "SetPoint" },
              set_identification: { type: "String", constraint: "Parameter" },
            },
          },
          Info: {
            objects: {},
            attributes: { serial: { type: "String", constraint: "Static", value: "VC-1" } },
          },
        },
      },
    },
  });
  // The broker's own log shows the order: SUBSCRIBE before the PUBLISH of @online.
  const log = broker.output();
  const subscribed = log.indexOf(`Received SUBSCRIBE from ${UUID}`);
  const published = log.indexOf(`'@online/${UUID}'`);
  assert.ok(subscribed >= 0 && published > subscribed, "SUBSCRIBE precedes @online");
  throughput.value = 20;
  mode.value = 3;
  const update = await cloud.waitFor((m) =>
    m.topic === `@update/${UUID}/VacuumCleaner/Status/throughput`
  );
  assert.match(new TextDecoder().decode(update.payload), /"value":20\.0/);
  await cloud.waitFor((m) => m.topic === `@update/${UUID}/VacuumCleaner/Status/operatingMode`);
  assertServerValid(cloud.messages, UUID);
  assert.deepEqual(errors, []);
  assert.ok(!/Denied PUBLISH/.test(broker.output()), "no publish was refused by the ACL");
});

for (const format of FORMATS) {
  Deno.test(`@set is applied, reported by changes() and answered with @didSet (${format})`, async () => {
    await using broker = await startMosquitto();
    await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@didSet/${UUID}/#` });
    const { endpoint, errors } = await tlsEndpoint(broker, UUID, { format });
    await using _ = endpoint;
    const { power, speed, label } = vacuum(endpoint);
    await endpoint.connect();
    const changes = power.changes();
    const now = Date.now();
    // The cloud writes in the other format too: the endpoint decodes both.
    for (const wire of FORMATS) {
      await cloud.publish(
        `@set/${UUID}/VacuumCleaner/Parameters/set_throughput`,
        encodeAttribute(wire, {
          type: "Number",
          constraint: "SetPoint",
          value: wire === "JSON" ? 20 : 21.5,
          timestamp: now + (wire === "JSON" ? 1 : 2),
        }),
      );
    }
    await cloud.publish(
      `@set/${UUID}/VacuumCleaner/Parameters/set_power_on`,
      JSON.stringify({ value: true, timestamp: (now + 3) / 1000 }),
    );
    const change = await within(changes.next(), 5000, "the change from the cloud");
    assert.deepEqual([change.value.value, change.value.previous, change.value.source], [
      true,
      false,
      "cloud",
    ]);
    assert.equal(change.value.timestamp, now + 3);
    const didSets = await cloud.waitForCount(() => true, 3);
    assert.deepEqual(didSets.map((m) => m.topic), [
      `@didSet/${UUID}/VacuumCleaner/Parameters/set_throughput`,
      `@didSet/${UUID}/VacuumCleaner/Parameters/set_throughput`,
      `@didSet/${UUID}/VacuumCleaner/Parameters/set_power_on`,
    ]);
    assert.equal(didSets[0].payload[0] === 0x7b ? "JSON" : "CBOR", format);
    assert.deepEqual(decode(didSets[1]), {
      type: "Number",
      constraint: "SetPoint",
      timestamp: (now + 2) / 1000,
      value: 21.5,
    });
    assert.equal(speed.value, 21.5);
    assert.equal(power.value, true);
    assert.equal(label.value, undefined);
    assertServerValid(cloud.messages, UUID);
    assert.deepEqual(errors, []);
    await changes.return!();
  });
}

Deno.test("@set that is stale, read-only, ill-typed, unknown or malformed is refused and reported", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@didSet/${UUID}/#` });
  const { endpoint, errors } = await tlsEndpoint(broker, UUID);
  await using _ = endpoint;
  const { power, speed, throughput } = vacuum(endpoint);
  await endpoint.connect();
  const base = `@set/${UUID}/VacuumCleaner`;
  const t = Date.now() / 1000;
  const send = (topic: string, body: string | Uint8Array) => cloud.publish(topic, body);
  await send(`${base}/Parameters/set_power_on`, JSON.stringify({ value: true, timestamp: t }));
  await cloud.waitFor((m) => m.topic.endsWith("set_power_on"));
  const cases: [string, string | Uint8Array, string][] = [
    [`${base}/Parameters/set_power_on`, JSON.stringify({ value: false, timestamp: t }), "stale"],
    [
      `${base}/Parameters/set_power_on`,
      JSON.stringify({ value: false, timestamp: t - 10 }),
      "stale",
    ],
    [`${base}/Status/throughput`, JSON.stringify({ value: 1.5, timestamp: t + 1 }), "constraint"],
    [
      `${base}/Parameters/set_throughput`,
      JSON.stringify({ value: "fast", timestamp: t + 1 }),
      "wrong-type",
    ],
    [
      `${base}/Parameters/set_power_on`,
      JSON.stringify({ value: 2, timestamp: t + 1 }),
      "wrong-type",
    ],
    [`${base}/Parameters/nope`, JSON.stringify({ value: 1, timestamp: t + 1 }), "unknown-path"],
    [`${base}/Nope/set_power_on`, JSON.stringify({ value: 1, timestamp: t + 1 }), "unknown-path"],
    [`${base}/set_power_on`, JSON.stringify({ value: true, timestamp: t + 1 }), "invalid-topic"],
    [`${base}/Parameters/set_power_on`, "garbage", "unsupported-format"],
    [`${base}/Parameters/set_power_on`, "{not json", "malformed-payload"],
    [`${base}/Parameters/set_power_on`, new Uint8Array([0xbf, 0x61]), "malformed-payload"],
    [`${base}/Parameters/set_power_on`, JSON.stringify({ timestamp: t + 1 }), "malformed-payload"],
    [
      `${base}/Parameters/set_identification`,
      JSON.stringify({ value: "x".repeat(300_000) }),
      "too-large",
    ],
  ];
  for (const [topic, body] of cases) await send(topic, body);
  await until(() => errors.length >= cases.length, 5000, `${cases.length} errors`);
  assert.deepEqual(
    errors.map((e) => e instanceof ProtocolError ? e.code : e.name),
    cases.map(([, , code]) => code),
  );
  for (const error of errors) assert.match(error.message, /^Cannot (apply|decode)/);
  // Nothing changed; every refused @set of set_power_on (stale, ill-typed, undecodable, without
  // a value) was answered with the unchanged state; an attribute without a value cannot be.
  assert.equal(power.value, true);
  assert.equal(speed.value, undefined);
  assert.equal(throughput.value, undefined);
  const didSets = cloud.messages.filter((m) => m.topic.endsWith("set_power_on"));
  assert.equal(didSets.length, 1 + 7);
  for (const m of didSets) assert.equal(decode(m).value, true);
  // And the endpoint keeps working.
  await send(`${base}/Parameters/set_throughput`, JSON.stringify({ value: 7, timestamp: t + 2 }));
  await cloud.waitFor((m) => m.topic.endsWith("set_throughput"));
  assert.equal(speed.value, 7);
  assertServerValid(cloud.messages, UUID);
});

Deno.test("an accept() function that refuses a value keeps the state and answers with it", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@didSet/${UUID}/#` });
  const { endpoint, errors } = await tlsEndpoint(broker, UUID);
  await using _ = endpoint;
  const limit = endpoint.addNode("Heater").addObject("Parameters").addAttribute("limit", {
    type: "Number",
    constraint: "SetPoint",
    value: 20,
    accept: (value) => value <= 30,
  });
  await endpoint.connect();
  const topic = `@set/${UUID}/Heater/Parameters/limit`;
  const t = Date.now() / 1000;
  await cloud.publish(topic, JSON.stringify({ value: 25, timestamp: t }));
  await cloud.publish(topic, JSON.stringify({ value: 99, timestamp: t + 1 }));
  const answers = await cloud.waitForCount(() => true, 2);
  assert.deepEqual(answers.map((m) => decode(m).value), [25, 25]);
  assert.equal(limit.value, 25);
  assert.deepEqual(errors.map((e) => (e as ProtocolError).code), ["refused"]);
});

Deno.test("a dropped connection fires the will; close() publishes @offline and no will", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, {
    subscribe: [`@offline/${UUID}`, `@online/${UUID}`],
  });
  const { endpoint, connection } = await tlsEndpoint(broker, UUID);
  vacuum(endpoint);
  await endpoint.connect();
  await cloud.waitFor((m) => m.topic.startsWith("@online/"));
  connection()!.destroy(); // as a network failure would
  const will = await cloud.waitFor((m) => m.topic === `@offline/${UUID}`);
  assert.equal(will.payload.length, 0);
  // The endpoint comes back by itself.
  await cloud.waitForCount((m) => m.topic.startsWith("@online/"), 2);
  const before = cloud.messages.length;
  await endpoint.close();
  assert.equal(endpoint.state, "closed");
  await cloud.waitFor((m) => m.topic === `@offline/${UUID}`, { from: before });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(
    cloud.messages.slice(before).filter((m) => m.topic === `@offline/${UUID}`).length,
    1,
    "one @offline from close(), no will after a clean DISCONNECT",
  );
});

Deno.test("after a broker restart the endpoint comes back online, resubscribes and replays", async () => {
  // The broker keeps the cloud's session across the restart; the endpoint's is lost with the
  // restart (clean stop, but the endpoint must still resubscribe because the ACL'd session is new).
  await using broker = await startMosquitto({ persistence: true });
  await using cloud = await connectCloud(broker.cloudUrl, {
    subscribe: "#",
    clean: false,
    clientId: "cloud-restart",
  });
  const { endpoint, errors } = await tlsEndpoint(broker, UUID, { extra: { cleanSession: true } });
  await using _ = endpoint;
  const { throughput, speed } = vacuum(endpoint);
  const status = endpoint.status();
  await endpoint.connect();
  await cloud.waitFor((m) => m.topic === `@online/${UUID}`);
  await broker.stop();
  await until(() => endpoint.state !== "online", 5000, "the endpoint to notice");
  for (let i = 1; i <= 5; i++) throughput.value = i; // while offline
  // Counted before start(): the endpoint may be back, and its @online in, before start() returns.
  const from = cloud.messages.length;
  await broker.start();
  await cloud.waitFor((m) => m.topic === `@online/${UUID}`, { from, timeout: 10_000 });
  const delayed = await cloud.waitFor((m) => m.topic === `@delayed/${UUID}`, { from });
  // deno-lint-ignore no-explicit-any
  const carried = (decode(delayed).messages as any[]).map((m) => [m.topic, m.data.value]);
  assert.deepEqual(
    carried,
    [1, 2, 3, 4, 5].map((v) => [`@update/${UUID}/VacuumCleaner/Status/throughput`, v]),
  );
  await cloud.publish(
    `@set/${UUID}/VacuumCleaner/Parameters/set_throughput`,
    JSON.stringify({ value: 3.5, timestamp: Date.now() / 1000 }),
  );
  await cloud.waitFor((m) => m.topic === `@didSet/${UUID}/VacuumCleaner/Parameters/set_throughput`);
  assert.equal(speed.value, 3.5);
  assertServerValid(cloud.messages, UUID);
  assert.deepEqual(errors, []);
  const seen = (await collectUntil(
    status,
    (_, all) => all.filter((e) => e.type === "online").length === 2,
    5000,
    "the second online event",
  )).map((e) => e.type).filter((t) => t !== "certificate");
  assert.deepEqual(seen.slice(0, 2), ["connecting", "online"]);
  assert.ok(seen.includes("offline"));
});

Deno.test("a node added while online is announced with @nodeAdded before its first @update", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  const { endpoint } = await tlsEndpoint(broker, UUID, { format: "CBOR" });
  await using _ = endpoint;
  vacuum(endpoint);
  await endpoint.connect();
  const pump = endpoint.addNode("Pump", { implements: ["Pump"] });
  pump.addObject("Status").addAttribute("rate", { type: "Number", constraint: "Measure" }).value =
    1;
  const added = await cloud.waitFor((m) => m.topic === `@nodeAdded/${UUID}/Pump`);
  const update = await cloud.waitFor((m) => m.topic === `@update/${UUID}/Pump/Status/rate`);
  assert.ok(cloud.messages.indexOf(added) < cloud.messages.indexOf(update));
  assert.equal(endpoint.removeNode("Pump"), true);
  await cloud.waitFor((m) => m.topic === `@nodeRemoved/${UUID}/Pump`);
  assertServerValid(cloud.messages, UUID);
});

Deno.test("a transaction goes out as one @transaction with each attribute once", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@transaction/${UUID}` });
  const { endpoint } = await tlsEndpoint(broker, UUID);
  await using _ = endpoint;
  const { throughput, mode } = vacuum(endpoint);
  await endpoint.connect();
  await endpoint.transaction(() => {
    throughput.value = 1;
    throughput.value = 2;
    mode.value = 4;
  });
  const tx = await cloud.waitFor(() => true);
  assert.deepEqual(Object.keys(decode(tx).attributes as object), [
    `${UUID}/VacuumCleaner/Status/throughput`,
    `${UUID}/VacuumCleaner/Status/operatingMode`,
  ]);
  // deno-lint-ignore no-explicit-any
  assert.equal((decode(tx).attributes as any)[`${UUID}/VacuumCleaner/Status/throughput`].value, 2);
  await assert.rejects(() =>
    endpoint.transaction(() => {
      throughput.value = 9;
      throw new Error("no");
    }), /no/);
  assert.equal(throughput.value, 2, "rolled back");
  assertServerValid(cloud.messages, UUID);
});

Deno.test("a broker signed by another CA is refused with a TLS error", async () => {
  await using broker = await startMosquitto();
  const { endpoint } = await tlsEndpoint(broker, randomUuid(), {
    extra: { "ssl.authorityCert": broker.pki.otherCaCert },
  });
  await assert.rejects(() => endpoint.connect(), (error: unknown) => {
    assert.ok(error instanceof ConnectionError);
    assert.match(error.message, /TLS handshake with mqtts:\/\/127\.0\.0\.1:\d+ failed/);
    return true;
  });
  await endpoint.close();
});

Deno.test("an expired client certificate is refused with a clear error", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  const expired = await broker.pki.client(uuid, { expired: true });
  const { endpoint, errors } = await tlsEndpoint(broker, uuid, {
    extra: { "ssl.clientCert": expired.cert, "ssl.clientKey": expired.key },
  });
  await assert.rejects(() => endpoint.connect(), (error: unknown) => {
    assert.ok(error instanceof ConnectionError, String(error));
    // The broker refuses the handshake; the message says so and names what to check.
    assert.match(error.message, /mqtts:\/\/127\.0\.0\.1:\d+/);
    assert.match(error.message, /ssl\.clientCert/);
    assert.match(
      error.message,
      /TLS handshake .* failed|closed the connection before accepting it/,
    );
    return true;
  });
  // And before trying, the endpoint said why: the certificate has expired.
  assert.ok(
    errors.some((e) => /The client certificate expired on .*: renew it/.test(e.message)),
    errors.map((e) => e.message).join("\n"),
  );
  await endpoint.close();
});

Deno.test("a missing key file is a ConfigError that names the key and the file", async () => {
  await using broker = await startMosquitto();
  const { endpoint } = await tlsEndpoint(broker, randomUuid(), {
    extra: { "ssl.clientKey": "/nonexistent/key.pem" },
  });
  await assert.rejects(() => endpoint.connect(), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.key, "ssl.clientKey");
    assert.match(error.message, /\/nonexistent\/key\.pem/);
    return true;
  });
  await endpoint.close();
});

Deno.test("waitOnFirstConnect keeps trying until the broker appears", async () => {
  // The broker keeps the cloud's session across the restart, so nothing depends on who reconnects
  // first.
  await using broker = await startMosquitto({ persistence: true });
  await using cloud = await connectCloud(broker.cloudUrl, {
    subscribe: "#",
    clean: false,
    clientId: "cloud-wait",
  });
  await broker.stop();
  const { endpoint } = await tlsEndpoint(broker, UUID, { waitOnFirstConnect: true });
  await using _ = endpoint;
  const { throughput } = vacuum(endpoint);
  const connected = endpoint.connect();
  await until(() => endpoint.state === "offline", 5000, "a failed attempt");
  throughput.value = 42; // before the first connection: kept, not lost
  await broker.start();
  await within(connected, 10_000, "connect() to resolve once the broker is there");
  const delayed = await cloud.waitFor((m) => m.topic === `@delayed/${UUID}`, { timeout: 10_000 });
  assert.match(new TextDecoder().decode(delayed.payload), /42\.0/);
});

Deno.test("connect() may be called again after a failed first attempt, and nothing set between is lost", async () => {
  await using broker = await startMosquitto({ persistence: true });
  await using cloud = await connectCloud(broker.cloudUrl, {
    subscribe: "#",
    clean: false,
    clientId: "cloud-retry",
  });
  await broker.stop();
  const { endpoint } = await tlsEndpoint(broker, UUID);
  await using _ = endpoint;
  const { throughput } = vacuum(endpoint);
  await assert.rejects(() => endpoint.connect(), ConnectionError);
  assert.equal(endpoint.state, "offline");
  throughput.value = 1;
  throughput.value = 2;
  await broker.start();
  await endpoint.connect();
  const delayed = await cloud.waitFor((m) => m.topic === `@delayed/${UUID}`, { timeout: 10_000 });
  // deno-lint-ignore no-explicit-any
  assert.deepEqual((decode(delayed).messages as any[]).map((m) => m.data.value), [1, 2]);
});

Deno.test("a connect() that fails on its configuration leaves the endpoint as it was", async () => {
  const endpoint = new Endpoint(UUID, { config: { persistence: "memory" }, onError: () => {} });
  await using _ = endpoint;
  const { throughput } = vacuum(endpoint);
  await assert.rejects(() => endpoint.connect(), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.key, "hostUri");
    return true;
  });
  assert.equal(endpoint.state, "idle");
  throughput.value = 5; // an initial value again, no error
  assert.equal(throughput.value, 5);
});

Deno.test("a broker that closes the connection on SUBSCRIBE (RabbitMQ's refusal) gets a clear error", async () => {
  const { memoryTransport } = await import("./_memory_transport.ts");
  const { MemoryStore } = await import("../mod.ts");
  const transport = memoryTransport();
  const refusing = {
    url: transport.url,
    async connect(
      params: Parameters<typeof transport.connect>[0],
      onMessage: Parameters<typeof transport.connect>[1],
    ) {
      const connection = await transport.connect(params, onMessage);
      return {
        ...connection,
        subscribe: () => Promise.reject(new ConnectionError("Lost the connection")),
      };
    },
  };
  const endpoint = new Endpoint(UUID, {
    config: { hostUri: "mqtt://memory", persistence: "memory" },
    transport: refusing,
    store: new MemoryStore(),
    onError: () => {},
  });
  await assert.rejects(() => endpoint.connect(), (error: unknown) => {
    assert.ok(error instanceof ConnectionError);
    assert.match(
      error.message,
      /closed the connection when the endpoint subscribed to @set\/.*: check its topic permissions/,
    );
    return true;
  });
  await endpoint.close();
});

/**
 * Broker failover against real mosquitto brokers: with several brokers in `hostUri`, an endpoint
 * moves to the next when a broker is down or refuses it, with the same backoff, birth and replay
 * as on a reconnect, and says in `status()` which broker it is on. (The same on a real RabbitMQ
 * cluster, with node deaths: `deno task cluster`.)
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConnectionError, type EndpointStatus } from "../mod.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import { startMosquitto } from "./_broker.ts";
import { connectCloud } from "./_cloud.ts";
import { collectUntil } from "./_deadline.ts";
import { tlsEndpoint, until, UUID } from "./_endpoint.ts";
import { assertServerValid } from "./_judges.ts";
import { testPki } from "./_certs.ts";
import { settingsFromProperties } from "../extend.ts";

Deno.test("an endpoint moves to the next broker when its broker goes down, and replays there", async () => {
  await using first = await startMosquitto();
  await using second = await startMosquitto();
  await using cloud1 = await connectCloud(first.cloudUrl, { subscribe: "#" });
  await using cloud2 = await connectCloud(second.cloudUrl, { subscribe: "#" });
  const { endpoint, errors } = await tlsEndpoint(first, UUID, {
    extra: { hostUri: `${first.tlsUrl}, ${second.tlsUrl}` },
  });
  await using _ = endpoint;
  const level = endpoint.addNode("Tank").addObject("Status").addAttribute("level", {
    type: "Number",
    constraint: "Measure",
  });
  const status = endpoint.status();
  await endpoint.connect();
  assert.equal(endpoint.broker, first.tlsUrl);
  await cloud1.waitFor((m) => m.topic === `@online/${UUID}`);
  level.value = 1;
  await cloud1.waitFor((m) => m.topic === `@update/${UUID}/Tank/Status/level`);
  await first.kill();
  for (let i = 2; i <= 4; i++) level.value = i; // while it moves
  await cloud2.waitFor((m) => m.topic === `@online/${UUID}`, { timeout: 10_000 });
  await until(() => endpoint.state === "online", 10_000, "the endpoint online again");
  assert.equal(endpoint.broker, second.tlsUrl);
  // The values set meanwhile arrive on the new broker, in order, after its @online.
  await endpoint.delivered();
  const values = cloud2.messages.flatMap((m) => {
    if (m.topic === `@update/${UUID}/Tank/Status/level`) return [decodePayload(m.payload).value];
    if (m.topic !== `@delayed/${UUID}`) return [];
    return (decodePayload(m.payload).value.messages as { data: unknown }[]).map((e) => e.data);
  }).map((data) => (data as { value: number }).value);
  assert.deepEqual(values, [2, 3, 4]);
  const events = (await collectUntil(
    status,
    (_, all) => all.filter((e) => e.type === "online").length === 2,
    5000,
    "the second online event",
  )).filter((e) => e.type === "connecting" || e.type === "online") as (EndpointStatus & {
    url: string;
  })[];
  assert.deepEqual(events[0].url, first.tlsUrl);
  assert.deepEqual(events.at(-1), { type: "online", url: second.tlsUrl });
  assertServerValid(cloud2.messages, UUID);
  assert.deepEqual(errors, []);
});

Deno.test("an endpoint skips a broker that refuses it and connects to the next", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@online/${UUID}` });
  // The first address speaks plain MQTT where the endpoint speaks TLS: the handshake fails.
  const refusing = broker.cloudUrl.replace("mqtt://", "mqtts://");
  const { endpoint, errors } = await tlsEndpoint(broker, UUID, {
    extra: { hostUri: `${refusing},${broker.tlsUrl}` },
    waitOnFirstConnect: true,
  });
  await using _ = endpoint;
  const status = endpoint.status();
  await endpoint.connect();
  await cloud.waitFor(() => true);
  assert.equal(endpoint.broker, broker.tlsUrl);
  const seen = (await collectUntil(status, (e) => e.type === "online", 5000, "online"))
    .filter((e) => e.type !== "certificate" && e.type !== "store");
  assert.deepEqual(seen.map((e) => e.type), ["connecting", "offline", "connecting", "online"]);
  const offline = seen[1] as { error?: Error };
  assert.ok(offline.error instanceof ConnectionError, "the first broker's refusal is told");
  assert.match(offline.error.message, /TLS handshake with mqtts:\/\/127\.0\.0\.1:\d+ failed/);
  assert.deepEqual(errors, []);
});

Deno.test("connect() rejects only when every listed broker refused, once each", async () => {
  await using broker = await startMosquitto();
  const refusing = broker.cloudUrl.replace("mqtt://", "mqtts://");
  // The first broker refuses: connect() goes on to the second instead of failing.
  const ok = await tlsEndpoint(broker, UUID, {
    extra: { hostUri: `${refusing},${broker.tlsUrl}` },
  });
  await using _ = ok.endpoint;
  await ok.endpoint.connect();
  assert.equal(ok.endpoint.broker, broker.tlsUrl);
  // Both refuse: connect() rejects with the last refusal, after one round.
  const other = "0b2c6a5e-31c7-4f0b-9d5e-1f0e54c3a0aa";
  const bad = await tlsEndpoint(broker, other, {
    extra: { hostUri: `${refusing},${refusing.replace(/:(\d+)$/, ":1")}` },
  });
  await using __ = bad.endpoint;
  const status = bad.endpoint.status();
  await assert.rejects(bad.endpoint.connect(), {
    name: "ConnectionError",
    message: /127\.0\.0\.1:1\b/,
  });
  const seen = await collectUntil(
    status,
    (e) => e.type === "offline" && !("retryIn" in e && e.retryIn !== undefined),
    5000,
    "the final offline",
  );
  assert.deepEqual(
    seen.filter((e) => e.type === "connecting").map((e) => (e as { url: string }).url),
    [refusing, refusing.replace(/:(\d+)$/, ":1")],
  );
});

Deno.test("a comma-separated hostUri is read element by element", async () => {
  const pki = await testPki();
  const { endpoint } = await tlsEndpoint({ tlsUrl: "mqtts://127.0.0.1:1", pki }, UUID, {
    extra: { hostUri: "mqtts://a.example:8883, ftp://b.example" },
  });
  await assert.rejects(endpoint.connect(), {
    name: "ConfigError",
    key: "hostUri",
    message: /"ftp:\/\/b\.example": scheme "ftp" is not supported/,
  });
  assert.deepEqual(
    settingsFromProperties(new Map([["hostUri", "a.example, tcp://b.example:1884 ,a.example"]]), {
      uuid: UUID,
    }).brokers.map((b) => b.url),
    ["mqtts://a.example:8883", "mqtt://b.example:1884"],
  );
});

/**
 * Nodes added and removed at any moment reach the cloud, against a real mosquitto: during the
 * birth's wait for its PUBACK, while offline, and across a restart with a durable store.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Endpoint } from "../mod.ts";
import type { Connection } from "../lib/transport.ts";
import { startMosquitto } from "./_broker.ts";
import { connectCloud, type Received } from "./_cloud.ts";
import { tlsEndpoint, until, UUID } from "./_endpoint.ts";
import { assertServerValid } from "./_judges.ts";
import { denoPlatform } from "../lib/adapters/deno.ts";

function pump(endpoint: Endpoint, name = "Pump") {
  return endpoint.addNode(name, { implements: ["Pump"] }).addObject("Status").addAttribute("rate", {
    type: "Number",
    constraint: "Measure",
  });
}

/** A cloud whose session (and what is queued for it) outlives a broker restart. */
function persistentCloud(url: string) {
  return connectCloud(url, {
    subscribe: "#",
    clean: false,
    clientId: `cloud-${crypto.randomUUID()}`,
  });
}

/** The endpoint's messages from `from` on, without the will a broker restart fires. */
function topics(messages: Received[], from = 0): string[] {
  return messages.slice(from).filter((m) =>
    m.topic.includes(UUID) && !m.topic.startsWith("@offline")
  )
    .map((m) => m.topic.replace(`/${UUID}`, ""));
}

Deno.test("a node added while the @online waits for its PUBACK is announced", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  const late: { endpoint?: Endpoint } = {};
  // Adds the node just after the @online went out, before the broker acknowledges it.
  const lateAdder = (connection: Connection): Connection => ({
    ...connection,
    closed: connection.closed,
    publish(topic, payload, options) {
      const sent = connection.publish(topic, payload, options);
      const endpoint = late.endpoint!;
      if (topic.startsWith("@online/") && !endpoint.node("Late")) pump(endpoint, "Late").value = 1;
      return sent;
    },
  });
  const made = await tlsEndpoint(broker, UUID, {
    replay: "direct",
    platform: {
      ...denoPlatform,
      createTransport: (settings, provider) => {
        const inner = denoPlatform.createTransport(settings, provider);
        return {
          url: inner.url,
          connect: async (params, onMessage) => lateAdder(await inner.connect(params, onMessage)),
        };
      },
    },
  });
  const endpoint = late.endpoint = made.endpoint;
  await using _ = endpoint;
  pump(endpoint);
  await endpoint.connect();
  await cloud.waitFor((m) => m.topic === `@update/${UUID}/Late/Status/rate`);
  const seen = topics(cloud.messages);
  assert.deepEqual(seen, ["@online", "@nodeAdded/Late", "@update/Late/Status/rate"]);
  assertServerValid(cloud.messages, UUID);
  assert.deepEqual(made.errors, []);
});

Deno.test("a node removed while offline is reported after the next @online, after its last values", async () => {
  await using broker = await startMosquitto({ persistence: true });
  await using cloud = await persistentCloud(broker.cloudUrl);
  const { endpoint, errors } = await tlsEndpoint(broker, UUID, {
    extra: { cleanSession: true },
    replay: "direct",
  });
  await using _ = endpoint;
  const rate = pump(endpoint);
  pump(endpoint, "Kept");
  await endpoint.connect();
  await cloud.waitFor((m) => m.topic === `@online/${UUID}`);
  await broker.stop();
  await until(() => endpoint.state !== "online", 5000, "the endpoint to notice");
  rate.value = 7; // its last value, then it goes
  assert.equal(endpoint.removeNode("Pump"), true);
  const from = cloud.messages.length;
  await broker.start();
  await cloud.waitFor((m) => m.topic === `@nodeRemoved/${UUID}/Pump`, { from, timeout: 10_000 });
  assert.deepEqual(topics(cloud.messages, from), [
    "@online",
    "@update/Pump/Status/rate",
    "@nodeRemoved/Pump",
  ]);
  assert.deepEqual(errors, []);
});

Deno.test("a node removed and added again while offline is carried by the @online alone", async () => {
  await using broker = await startMosquitto({ persistence: true });
  await using cloud = await persistentCloud(broker.cloudUrl);
  const { endpoint } = await tlsEndpoint(broker, UUID, { extra: { cleanSession: true } });
  await using _ = endpoint;
  pump(endpoint);
  await endpoint.connect();
  await cloud.waitFor((m) => m.topic === `@online/${UUID}`);
  await broker.stop();
  await until(() => endpoint.state !== "online", 5000, "the endpoint to notice");
  endpoint.removeNode("Pump");
  pump(endpoint);
  endpoint.addNode("Valve");
  endpoint.removeNode("Valve"); // gone before it was announced: the cloud is only told it is gone
  const from = cloud.messages.length;
  await broker.start();
  await cloud.waitFor((m) => m.topic === `@nodeRemoved/${UUID}/Valve`, { from, timeout: 10_000 });
  await endpoint.delivered();
  assert.deepEqual(topics(cloud.messages, from), ["@online", "@nodeRemoved/Valve"]);
});

Deno.test("a @nodeRemoved queued offline in a durable store reaches the cloud after a restart", async () => {
  await using broker = await startMosquitto({ persistence: true });
  await using cloud = await persistentCloud(broker.cloudUrl);
  const dir = await Deno.makeTempDir({ prefix: "cloudio-lifecycle-" });
  try {
    const durable = { persistence: "file", persistenceLocation: dir, cleanSession: true };
    {
      const { endpoint } = await tlsEndpoint(broker, UUID, { extra: durable });
      await using _ = endpoint;
      pump(endpoint);
      pump(endpoint, "Kept");
      await endpoint.connect();
      await cloud.waitFor((m) => m.topic === `@online/${UUID}`);
      await broker.stop();
      await until(() => endpoint.state !== "online", 5000, "the endpoint to notice");
      endpoint.removeNode("Pump");
      await endpoint.close({ timeout: 0 });
    }
    await broker.start();
    const from = cloud.messages.length;
    // The next run of the program builds its model without the node.
    const { endpoint, errors } = await tlsEndpoint(broker, UUID, { extra: durable });
    await using _ = endpoint;
    pump(endpoint, "Kept");
    await endpoint.connect();
    await cloud.waitFor((m) => m.topic === `@nodeRemoved/${UUID}/Pump`, { from });
    assert.deepEqual(topics(cloud.messages, from), ["@online", "@nodeRemoved/Pump"]);
    assertServerValid(cloud.messages, UUID);
    assert.deepEqual(errors, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a node removed before connect() is never announced, one removed after is", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  const { endpoint } = await tlsEndpoint(broker, UUID);
  await using _ = endpoint;
  pump(endpoint, "Gone");
  endpoint.removeNode("Gone");
  pump(endpoint);
  await endpoint.connect();
  endpoint.removeNode("Pump");
  await cloud.waitFor((m) => m.topic === `@nodeRemoved/${UUID}/Pump`);
  assert.deepEqual(topics(cloud.messages), ["@online", "@nodeRemoved/Pump"]);
});

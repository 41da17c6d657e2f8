/**
 * A gateway of many endpoints in one process against a real mosquitto with TLS, a client
 * certificate per endpoint and the cloud.iO ACL: one outbox file, paced connections, a broker
 * restart, and one endpoint's trouble (a refused certificate, a full outbox, hostile input) leaving
 * the others working.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConnectionError, Gateway, ProtocolError } from "../mod.ts";
import type { CloudioError } from "../lib/errors.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import { type Mosquitto, startMosquitto } from "./_broker.ts";
import { connectCloud } from "./_cloud.ts";
import { until } from "./_endpoint.ts";
import { assertServerValid } from "./_judges.ts";
import { spawnDeno } from "./_process.ts";

/** The configuration of one endpoint of the gateway: its own certificate, the shared CA. */
async function config(broker: Mosquitto, uuid: string, extra: Record<string, string> = {}) {
  const credentials = await broker.pki.client(uuid);
  return {
    hostUri: broker.tlsUrl,
    "ssl.authorityCert": broker.pki.caCert,
    "ssl.clientCert": credentials.cert,
    "ssl.clientKey": credentials.key,
    messageFormat: "JSON" as const,
    ...extra,
  };
}

const MODEL = {
  nodes: {
    VacuumCleaner: {
      implements: ["NodeInterface"],
      objects: {
        Status: { attributes: { throughput: { type: "Number", constraint: "Measure" } } },
        Parameters: {
          attributes: {
            set_power_on: { type: "Boolean", constraint: "Parameter", value: false },
          },
        },
      },
    },
  },
} as const;

Deno.test("a gateway runs its endpoints in one process: one outbox file, paced connections, a broker restart", async () => {
  await using broker = await startMosquitto({ persistence: true });
  await using cloud = await connectCloud(broker.cloudUrl, {
    subscribe: "#",
    clean: false,
    clientId: `cloud-gateway-${crypto.randomUUID().slice(0, 8)}`,
  });
  const dir = await Deno.makeTempDir({ prefix: "cloudio-gateway-" });
  const errors: CloudioError[] = [];
  try {
    const uuids = Array.from({ length: 12 }, () => crypto.randomUUID());
    const rate = 40;
    await using gateway = new Gateway({
      connectRate: rate,
      onError: (error) => errors.push(error),
    });
    for (const uuid of uuids) {
      gateway.add(uuid, {
        model: MODEL,
        config: await config(broker, uuid, { persistence: "file", persistenceLocation: dir }),
        reconnect: { initialDelay: 50, maxDelay: 500 },
      });
    }
    const started = performance.now();
    const report = await gateway.connect({ timeout: 20_000 });
    const took = performance.now() - started;
    assert.deepEqual(report.offline, []);
    assert.equal(report.online.length, uuids.length);
    // One file for every outbox, none of an endpoint's own.
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
      n.endsWith(".sqlite")
    );
    assert.deepEqual(files, ["gateway.outbox.sqlite"]);
    // Paced: the connections took at least (n − 1) intervals (half of it, for the jitter).
    assert.ok(took >= ((uuids.length - 1) * 1000) / rate * 0.5, `paced at start (${took} ms)`);
    await cloud.waitForCount((m) => m.topic.startsWith("@online/"), uuids.length);
    for (const [i, uuid] of uuids.entries()) {
      gateway.endpoints.get(uuid)!.attribute("VacuumCleaner/Status/throughput", "Number")!.value =
        i;
    }
    await Promise.all(uuids.map((uuid) => gateway.endpoints.get(uuid)!.delivered()));
    for (const [i, uuid] of uuids.entries()) {
      const update = cloud.messages.find((m) =>
        m.topic === `@update/${uuid}/VacuumCleaner/Status/throughput`
      );
      assert.equal(decodePayload(update!.payload).value.value, i, uuid);
    }
    // The broker restarts: every endpoint comes back and replays what was set meanwhile.
    await broker.stop();
    await until(
      () => [...gateway.endpoints.values()].every((e) => e.state !== "online"),
      5000,
      "every endpoint to notice",
    );
    for (const uuid of uuids) {
      gateway.endpoints.get(uuid)!.attribute("VacuumCleaner/Status/throughput", "Number")!.value =
        100;
    }
    const from = cloud.messages.length;
    const restarted = performance.now();
    await broker.start();
    await until(
      () => [...gateway.endpoints.values()].every((e) => e.state === "online"),
      20_000,
      "every endpoint back online",
    );
    const back = performance.now() - restarted;
    assert.ok(
      back >= ((uuids.length - 1) * 1000) / rate * 0.5,
      `paced after a restart (${back} ms)`,
    );
    await Promise.all(uuids.map((uuid) => gateway.endpoints.get(uuid)!.delivered()));
    for (const uuid of uuids) {
      const replayed = cloud.messages.slice(from).some((m) =>
        m.topic === `@delayed/${uuid}` &&
        new TextDecoder().decode(m.payload).includes('"value":100.0')
      );
      assert.ok(replayed, `${uuid} replayed its value`);
      assertServerValid(cloud.messages, uuid);
    }
    assert.deepEqual(errors, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("one endpoint's refused certificate, full outbox or hostile input leaves the others working", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  const errors = new Map<string, CloudioError[]>();
  await using gateway = new Gateway({
    connectRate: 100,
    onError: (error, endpoint) => {
      errors.set(endpoint.name, [...errors.get(endpoint.name) ?? [], error]);
    },
  });
  const good = Array.from({ length: 5 }, () => crypto.randomUUID());
  const [expired, full, attacked] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
  for (const uuid of [...good, full, attacked]) {
    gateway.add(uuid, {
      model: MODEL,
      config: await config(broker, uuid, { persistence: "memory" }),
      limits: uuid === full ? { updates: { messages: 3 } } : undefined,
    });
  }
  const stale = await broker.pki.client(expired, { expired: true });
  gateway.add(expired, {
    model: MODEL,
    config: {
      ...await config(broker, expired, { persistence: "memory" }),
      "ssl.clientCert": stale.cert,
      "ssl.clientKey": stale.key,
    },
  });
  const report = await gateway.connect({ timeout: 3000 });
  assert.deepEqual(report.offline.map((o) => o.name), [expired]);
  assert.match(`${report.offline[0].error?.message}`, /expired/i, `${report.offline[0].error}`);
  assert.equal(report.online.length, good.length + 2);
  // The endpoint whose outbox is full drops, the attacked one refuses garbage…
  await broker.stop();
  await until(() => gateway.endpoints.get(full)!.state !== "online", 5000, "offline");
  for (let i = 0; i < 20; i++) {
    gateway.endpoints.get(full)!.attribute("VacuumCleaner/Status/throughput", "Number")!.value = i;
  }
  await broker.start();
  await until(
    () =>
      [...good, full, attacked].every((uuid) => gateway.endpoints.get(uuid)!.state === "online"),
    10_000,
    "the endpoints back",
  );
  for (let i = 0; i < 50; i++) {
    await cloud.publish(`@set/${attacked}/VacuumCleaner/Parameters/set_power_on`, `{"value":[${i}`);
  }
  // …and the others go on: a value from each, and a current @set is applied.
  for (const uuid of good) {
    gateway.endpoints.get(uuid)!.attribute("VacuumCleaner/Status/throughput", "Number")!.value = 7;
  }
  await Promise.all(good.map((uuid) => gateway.endpoints.get(uuid)!.delivered()));
  for (const uuid of good) {
    assert.ok(
      cloud.messages.some((m) => m.topic === `@update/${uuid}/VacuumCleaner/Status/throughput`),
      uuid,
    );
    assert.equal(errors.get(uuid), undefined, `no error for ${uuid}`);
  }
  await cloud.publish(
    `@set/${attacked}/VacuumCleaner/Parameters/set_power_on`,
    JSON.stringify({ value: true, timestamp: Date.now() / 1000 }),
  );
  await until(
    () =>
      gateway.endpoints.get(attacked)!.attribute("VacuumCleaner/Parameters/set_power_on")!.value ===
        true,
    5000,
    "the current @set applied",
  );
  assert.ok(errors.get(attacked)!.every((e) => e instanceof ProtocolError));
  assert.ok(errors.get(full)!.some((e) => e.name === "DroppedError"));
  assert.ok(errors.get(expired)!.some((e) => /expired/.test(e.message)));
});

const GATEWAY_EXAMPLE = new URL("../examples/gateway.ts", import.meta.url).pathname;

Deno.test("examples/gateway.ts runs N devices on the embedded default and stops by itself", async () => {
  const home = await Deno.makeTempDir({ prefix: "cloudio-home-" });
  try {
    const child = spawnDeno(["run", "-A", GATEWAY_EXAMPLE, "--count", "5", "--seconds", "2"], {
      env: { HOME: home, XDG_STATE_HOME: `${home}/state` },
    });
    await using _ = child;
    await child.waitForLine(/^5 online in \d+ ms$/, 20_000);
    await child.waitForLine(/^the cloud saw 5 endpoints and \d+ values$/, 20_000);
    assert.equal((await child.status).code, 0);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("examples/gateway.ts connects a device per properties file, each with its own certificate", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  const dir = await Deno.makeTempDir({ prefix: "cloudio-gateway-config-" });
  try {
    const uuids = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    for (const uuid of uuids) {
      const c = await config(broker, uuid, { persistence: "memory" });
      await Deno.writeTextFile(
        `${dir}/${uuid}.properties`,
        Object.entries(c).map(([key, value]) => `ch.hevs.cloudio.endpoint.${key}=${value}`).join(
          "\n",
        )
          .replaceAll(":", "\\:"),
      );
    }
    const child = spawnDeno(["run", "-A", GATEWAY_EXAMPLE, "--config", dir, "--seconds", "3"]);
    await using _ = child;
    await child.waitForLine(/^3 online in \d+ ms$/, 20_000);
    for (const uuid of uuids) {
      await cloud.waitFor((m) => m.topic === `@update/${uuid}/VacuumCleaner/Status/throughput`, {
        timeout: 5000,
      });
    }
    assert.equal((await child.status).code, 0);
    for (const uuid of uuids) assertServerValid(cloud.messages, uuid);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("connect() says why an endpoint is not online; add() after close() is refused", async () => {
  const gateway = new Gateway({ connectRate: 100, onError: () => {} });
  const uuid = crypto.randomUUID();
  gateway.add(uuid, { config: { hostUri: "mqtt://127.0.0.1:1", persistence: "memory" } });
  const report = await gateway.connect({ timeout: 1500 });
  assert.deepEqual(report.online, []);
  assert.equal(report.offline[0].name, uuid);
  assert.ok(report.offline[0].error instanceof ConnectionError, `${report.offline[0].error}`);
  assert.match(report.offline[0].error.message, /127\.0\.0\.1:1/);
  await gateway.close();
  assert.throws(() => gateway.add(crypto.randomUUID()), { name: "ClosedError" });
});

Deno.test("add() refuses a name another endpoint has in another case: one client id, two connections", () => {
  const gateway = new Gateway();
  gateway.add("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
  assert.throws(() => gateway.add("0B3C8E3A-4F1D-4C2B-9A8E-2F6D1C0B7A55"), {
    name: "TypeError",
    message: /"0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55" is there/,
  });
  return gateway.close();
});

// Proves the test harness (tests/_certs.ts, tests/_broker.ts, tests/_cloud.ts) against a real
// mosquitto: certificate login, the per-uuid ACL of protocol §9, and restarts.

import assert from "node:assert/strict";
import type * as net from "node:net";
import { connect, type IClientOptions, type MqttClient } from "npm:mqtt@5.16.0";
import { type Mosquitto, startMosquitto } from "./_broker.ts";
import { type ClientCredentials, testPki } from "./_certs.ts";
import { type Cloud, connectCloud, type Received } from "./_cloud.ts";

/** An MQTT.js client playing the endpoint, with what it received. */
interface TestEndpoint extends AsyncDisposable {
  client: MqttClient;
  received: Received[];
}

type ConnectResult = { ok: true; endpoint: TestEndpoint } | { ok: false; error: Error };

/** Connect an MQTT.js client (MQTT 3.1.1, no retry) and report success or the failure. */
async function tryConnect(url: string, options: IClientOptions): Promise<ConnectResult> {
  const client = connect(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 3000,
    ...options,
  });
  client.on("error", () => {}); // never an uncaught "error" event, e.g. when the broker dies
  const received: Received[] = [];
  client.on("message", (topic, payload, packet) => {
    received.push({
      topic,
      payload: new Uint8Array(payload),
      retain: packet.retain,
      qos: packet.qos,
    });
  });
  const error = await new Promise<Error | undefined>((resolve) => {
    client.once("connect", () => resolve(undefined));
    client.once("error", (e) => resolve(e));
    client.once("close", () => resolve(new Error("Connection closed before CONNACK")));
  });
  if (error) {
    await closeClient(client);
    return { ok: false, error };
  }
  return {
    ok: true,
    endpoint: { client, received, [Symbol.asyncDispose]: () => closeClient(client) },
  };
}

async function connectEndpoint(url: string, options: IClientOptions): Promise<TestEndpoint> {
  const result = await tryConnect(url, options);
  if (!result.ok) throw new Error(`Cannot connect to ${url}`, { cause: result.error });
  return result.endpoint;
}

function tlsOptions(
  broker: Mosquitto,
  credentials: ClientCredentials,
  clientId: string,
): IClientOptions {
  return { ca: broker.pki.caPem, cert: credentials.certPem, key: credentials.keyPem, clientId };
}

async function closeClient(client: MqttClient): Promise<void> {
  client.removeAllListeners("error");
  client.on("error", () => {});
  await client.endAsync(!client.connected);
  const stream = client.stream as net.Socket | undefined;
  if (stream && !stream.destroyed) {
    await new Promise<void>((resolve) => {
      stream.once("close", () => resolve());
      stream.destroy();
    });
  }
}

async function waitUntil(condition: () => boolean, what: string, timeout = 3000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const text = (m: Received) => new TextDecoder().decode(m.payload);

/**
 * The endpoint `uuid` may publish and subscribe only its own topics: its publishes under another
 * uuid are dropped, it receives @set for itself only.
 */
async function assertAcl(endpoint: TestEndpoint, cloud: Cloud, uuid: string): Promise<void> {
  const other = crypto.randomUUID();
  await endpoint.client.subscribeAsync([`@set/${uuid}/#`, `@set/${other}/#`], { qos: 1 });

  // Sent in order on one connection: once the allowed one arrives, the forbidden one was dropped.
  const from = cloud.messages.length;
  await endpoint.client.publishAsync(`@update/${other}/n/o/a`, "forbidden", { qos: 1 });
  await endpoint.client.publishAsync(`@update/${uuid}/n/o/a`, "allowed", { qos: 1 });
  const update = await cloud.waitFor((m) => m.topic === `@update/${uuid}/n/o/a`, { from });
  assert.equal(text(update), "allowed");
  assert.ok(update.payload instanceof Uint8Array);
  assert.deepEqual(
    cloud.messages.slice(from).filter((m) => m.topic.includes(other)),
    [],
    "a publish under another uuid must be dropped",
  );

  await cloud.publish(`@set/${other}/n/o/a`, "not for you");
  await cloud.publish(`@set/${uuid}/n/o/a`, "for you");
  await waitUntil(() => endpoint.received.some((m) => m.topic === `@set/${uuid}/n/o/a`), "@set");
  assert.deepEqual(endpoint.received.map((m) => [m.topic, text(m)]), [
    [`@set/${uuid}/n/o/a`, "for you"],
  ]);
}

Deno.test("startMosquitto() lets a TLS endpoint use only its own topics", async () => {
  await using broker = await startMosquitto({ logTypes: ["all"] });
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: ["@update/#"] });
  const uuid = crypto.randomUUID();
  const credentials = await broker.pki.client(uuid);
  await using endpoint = await connectEndpoint(
    broker.tlsUrl,
    tlsOptions(broker, credentials, uuid),
  );
  await assertAcl(endpoint, cloud, uuid);
  const log = broker.output();
  assert.match(log, new RegExp(`New client connected from .* as ${uuid} .*u'${uuid}'`));
  assert.match(log, new RegExp(`Denied PUBLISH from ${uuid} .*'@update/`));
});

Deno.test("startMosquitto() binds a plain TCP client with id U to the same ACL", async () => {
  await using broker = await startMosquitto();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "@update/#" });
  const uuid = crypto.randomUUID();
  await using endpoint = await connectEndpoint(broker.tcpUrl, { clientId: uuid });
  await assertAcl(endpoint, cloud, uuid);
});

Deno.test("startMosquitto() refuses a certificate from another CA", async () => {
  await using broker = await startMosquitto();
  const uuid = crypto.randomUUID();
  const credentials = await broker.pki.client(uuid, { signer: "other" });
  const result = await tryConnect(broker.tlsUrl, tlsOptions(broker, credentials, uuid));
  assert.equal(result.ok, false);
  assert.match(result.error.message, /UnknownCA/i);
  await waitUntil(() => /certificate verify failed/.test(broker.output()), "the broker's log");
});

Deno.test("startMosquitto() refuses an expired certificate", async () => {
  await using broker = await startMosquitto();
  const uuid = crypto.randomUUID();
  const credentials = await broker.pki.client(uuid, { expired: true });
  const result = await tryConnect(broker.tlsUrl, tlsOptions(broker, credentials, uuid));
  assert.equal(result.ok, false);
  assert.match(result.error.message, /CertificateExpired/i);
  await waitUntil(() => /certificate verify failed/.test(broker.output()), "the broker's log");
});

Deno.test("startMosquitto() refuses a TLS client without a certificate", async () => {
  await using broker = await startMosquitto();
  const result = await tryConnect(broker.tlsUrl, { ca: broker.pki.caPem, clientId: "anonymous" });
  assert.equal(result.ok, false);
  assert.match(result.error.message, /CertificateRequired/i);
});

Deno.test("Mosquitto.stop() and start() keep the URLs and accept connections again", async () => {
  await using broker = await startMosquitto({ websockets: true });
  const urls = [broker.tlsUrl, broker.tcpUrl, broker.cloudUrl, broker.wsUrl];
  const uuid = crypto.randomUUID();
  const options = tlsOptions(broker, await broker.pki.client(uuid), uuid);
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "@update/#" });
  const firstPid = broker.pid;
  assert.ok(firstPid);

  await broker.stop();
  assert.equal(broker.pid, undefined);
  const down = await tryConnect(broker.tcpUrl, { clientId: uuid });
  assert.equal(down.ok, false);

  await broker.start();
  assert.deepEqual([broker.tlsUrl, broker.tcpUrl, broker.cloudUrl, broker.wsUrl], urls);
  assert.notEqual(broker.pid, firstPid);
  {
    await using endpoint = await connectEndpoint(broker.tlsUrl, options);
    // Retained, so the cloud gets it whenever its automatic reconnect and resubscribe happen.
    await endpoint.client.publishAsync(`@update/${uuid}/n/o/a`, "back", { qos: 1, retain: true });
  }
  const update = await cloud.waitFor((m) => m.topic === `@update/${uuid}/n/o/a`);
  // (retain is false when the cloud resubscribed before the publish and got it live)
  assert.equal(text(update), "back");
  await using ws = await connectEndpoint(broker.wsUrl!, { clientId: uuid });
  assert.ok(ws.client.connected);

  await broker.kill();
  await broker.start();
  await using again = await connectEndpoint(broker.tcpUrl, { clientId: uuid });
  assert.ok(again.client.connected);
  assert.equal(broker.output().match(/mosquitto version \S+ running/g)?.length, 3);
});

Deno.test("connectCloud() retries while the broker is down and closes cleanly", async () => {
  await using broker = await startMosquitto({ plainEndpointListener: false });
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "@logs/#" });
  await broker.stop();
  await new Promise((resolve) => setTimeout(resolve, 500)); // a few refused reconnects
  const restartedAt = broker.output().length;
  await broker.start();
  await waitUntil(
    () => broker.output().slice(restartedAt).includes(" @logs/#"),
    "the cloud to resubscribe",
  );
  await cloud.publish("@logs/x", "again");
  assert.equal(text(await cloud.waitFor((m) => m.topic === "@logs/x")), "again");
  await broker.stop();
  await cloud.close(); // while the broker is down
});

Deno.test("Mosquitto.start() fails with the broker's output when a port is taken", async () => {
  await using broker = await startMosquitto({ plainEndpointListener: false });
  await broker.stop();
  using _squatter = Deno.listen({
    hostname: "127.0.0.1",
    port: Number(new URL(broker.cloudUrl).port),
  });
  await assert.rejects(broker.start(), /exited with code [1-9][\s\S]*Address already in use/);
  assert.equal(broker.pid, undefined);
});

Deno.test("Cloud.waitFor() rejects with the topics seen on timeout", async () => {
  await using broker = await startMosquitto({ plainEndpointListener: false });
  assert.throws(() => broker.tcpUrl, /plainEndpointListener/);
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  await cloud.publish("@logs/x", "{}");
  await cloud.waitFor((m) => m.topic === "@logs/x");
  await assert.rejects(
    cloud.waitFor((m) => m.topic === "@never", { timeout: 100 }),
    /within 100 ms.*@logs\/x/,
  );
  const two = cloud.waitForCount((m) => m.topic.startsWith("@logs/"), 2);
  await cloud.publish("@logs/y", new Uint8Array([0x7b, 0x7d]), { qos: 0 });
  assert.deepEqual((await two).map((m) => m.topic), ["@logs/x", "@logs/y"]);
});

Deno.test("testPki() issues memoized client certificates with the requested validity", async () => {
  const pki = await testPki();
  assert.equal(pki, await testPki());
  assert.match(pki.dir, /cloudio-pki-/);
  const uuid = crypto.randomUUID();
  const [valid, expired] = await Promise.all([
    pki.client(uuid),
    pki.client(uuid, { expired: true }),
  ]);
  assert.equal(valid, await pki.client(uuid));
  assert.notEqual(valid.cert, expired.cert);
  assert.match(valid.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  const dates = async (cert: string) => {
    const { stdout } = await new Deno.Command("openssl", {
      args: ["x509", "-noout", "-subject", "-enddate", "-in", cert],
    }).output();
    const out = new TextDecoder().decode(stdout);
    return {
      subject: out.match(/subject=(.*)/)![1],
      notAfter: new Date(out.match(/notAfter=(.*)/)![1]),
    };
  };
  const v = await dates(valid.cert);
  const e = await dates(expired.cert);
  assert.equal(v.subject, `CN = ${uuid}, O = client`);
  assert.ok(v.notAfter.getTime() > Date.now() + 300 * 86400_000);
  assert.ok(e.notAfter.getTime() < Date.now());
});

Deno.test("freePort() gives distinct ports below the ephemeral range that nothing listens on", async () => {
  const { freePort } = await import("./_ports.ts");
  const [low] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim().split(/\s+/)
    .map(Number);
  const ports = Array.from({ length: 50 }, () => freePort());
  assert.equal(new Set(ports).size, ports.length, "never the same port twice");
  for (const port of ports) {
    assert.ok(port >= 10_000 && port < low, `${port} is below the ephemeral range (from ${low})`);
    Deno.listen({ hostname: "127.0.0.1", port }).close(); // bindable
  }
});

Deno.test("retryOnAddressInUse() picks new ports after an address clash, and only then", async () => {
  const { retryOnAddressInUse } = await import("./_ports.ts");
  let starts = 0;
  let repicks = 0;
  const result = await retryOnAddressInUse(() => {
    starts++;
    if (starts < 3) {
      return Promise.reject(new Error("Cannot start mosquitto: Error: Address already in use"));
    }
    return Promise.resolve("started");
  }, () => void repicks++);
  assert.deepEqual([result, starts, repicks], ["started", 3, 2]);
  starts = repicks = 0;
  await assert.rejects(
    retryOnAddressInUse(() => {
      starts++;
      return Promise.reject(new Error("it exited with code 3"));
    }, () => void repicks++),
    /exited with code 3/,
  );
  assert.deepEqual([starts, repicks], [1, 0], "other failures are not retried");
});

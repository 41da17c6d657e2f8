import assert from "node:assert/strict";
import { ConfigError, ConnectionError, Endpoint } from "../mod.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import { startMosquitto } from "./_broker.ts";
import { connectCloud, type Received } from "./_cloud.ts";
import { randomUuid, tlsEndpoint, until, UUID } from "./_endpoint.ts";
import { within } from "./_deadline.ts";
import { mosquittoUnderTest } from "./_brokers.ts";
import { runScenarios, vacuum } from "./_scenarios.ts";

function decode(m: Received): Record<string, unknown> {
  return decodePayload(m.payload, { maxBytes: 1 << 20 }).value;
}

Deno.test("scenarios on mosquitto with TLS, client certificates and the cloud.iO ACL", async (t) => {
  await using broker = await startMosquitto({ persistence: true, logTypes: ["all"] });
  await runScenarios(t, mosquittoUnderTest(broker));
  assert.ok(!/Denied (PUBLISH|SUBSCRIBE)/.test(broker.output()), "nothing was refused by the ACL");
});

Deno.test("the broker's log shows SUBSCRIBE before the PUBLISH of @online", async () => {
  await using broker = await startMosquitto({ logTypes: ["all"] });
  const { endpoint } = await tlsEndpoint(broker, UUID);
  await using _ = endpoint;
  vacuum(endpoint);
  await endpoint.connect();
  const log = broker.output();
  const subscribed = log.indexOf(`Received SUBSCRIBE from ${UUID}`);
  const published = log.indexOf(`'@online/${UUID}'`);
  assert.ok(subscribed >= 0 && published > subscribed, "SUBSCRIBE precedes @online");
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
  const { MemoryStore } = await import("../extend.ts");
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

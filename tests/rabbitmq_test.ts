/**
 * The endpoint against a real RabbitMQ, the broker family of the real cloud.iO (protocol §3, §9):
 * MQTT plugin, TLS 1.2 with client certificates, login by certificate CN, one user per endpoint
 * with the topic permissions of §9. One private node serves the whole file (a start costs
 * ~10–13 s on two cores); every step uses endpoints of its own.
 *
 * RabbitMQ is stricter than mosquitto: a publish or subscribe outside the endpoint's permissions
 * closes the whole connection. The last steps check that the library never makes it do so.
 *
 * @module
 */

import assert from "node:assert/strict";
import tls from "node:tls";
import mqtt from "npm:mqtt@5.16.0";
import { ConnectionError, Endpoint } from "../mod.ts";
import { denoPlatform } from "../lib/adapters/deno.ts";
import { encodeAttribute } from "../lib/codec/encode.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import type { CloudioError } from "../lib/errors.ts";
import type { MessageFormat } from "../lib/model/types.ts";
import type { Connection, Transport } from "../lib/session/transport.ts";
import { connectCloud, type Received } from "./_cloud.ts";
import { until } from "./_endpoint.ts";
import { within } from "./_deadline.ts";
// Both judges: strict.ts and the JSON Schema written from the protocol reference.
import { assertServerValid } from "./_judges.ts";
import { type RabbitMq, rabbitMqMissing, startRabbitMq } from "./_rabbitmq.ts";
import { testUnless } from "./_ignore.ts";

const missing = rabbitMqMissing();
const RABBITMQ_MISSING = missing === undefined
  ? undefined
  : { id: "rabbitmq" as const, why: missing };

const FORMATS: MessageFormat[] = ["JSON", "CBOR"];

/** Errors in the node's log that mean a connection was refused or broken by the broker. */
const BROKER_COMPLAINT =
  /access_refused|authorization failure|authentication failure|protocol error|cannot parse|login failed/;

function vacuum(endpoint: Endpoint) {
  const node = endpoint.addNode("VacuumCleaner", { implements: ["NodeInterface"] });
  const status = node.addObject("Status");
  const parameters = node.addObject("Parameters");
  return {
    throughput: status.addAttribute("throughput", { type: "Number", constraint: "Measure" }),
    mode: status.addAttribute("operatingMode", { type: "Integer", constraint: "Status", value: 0 }),
    power: parameters.addAttribute("set_power_on", {
      type: "Boolean",
      constraint: "Parameter",
      value: false,
    }),
    speed: parameters.addAttribute("set_throughput", { type: "Number", constraint: "SetPoint" }),
  };
}

interface RabbitEndpoint {
  endpoint: Endpoint;
  errors: CloudioError[];
  /** What the endpoint did on its connections, in order: "connect", "subscribe …", "publish …". */
  ops: string[];
  /** The live connection, to drop it as a network failure would. */
  connection(): Connection | undefined;
}

/** An endpoint for the node's TLS listener, with its certificate, recording what it sends. */
async function rabbitEndpoint(
  broker: RabbitMq,
  uuid: string,
  options: {
    format?: MessageFormat;
    extra?: Record<string, string | number | boolean>;
    /** The endpoint's name, when it is not the UUID as written. */
    name?: string;
  } = {},
): Promise<RabbitEndpoint> {
  const credentials = await broker.pki.client(uuid);
  const errors: CloudioError[] = [];
  const ops: string[] = [];
  let current: Connection | undefined;
  const endpoint = new Endpoint(options.name ?? uuid, {
    config: {
      hostUri: broker.tlsUrl,
      "ssl.authorityCert": broker.pki.caCert,
      "ssl.clientCert": credentials.cert,
      "ssl.clientKey": credentials.key,
      messageFormat: options.format ?? "JSON",
      persistence: "memory",
      ...options.extra,
    },
    onError: (error) => errors.push(error),
    reconnect: { initialDelay: 50, maxDelay: 500 },
    platform: {
      ...denoPlatform,
      createTransport: (settings, provider) =>
        recording(denoPlatform.createTransport(settings, provider), ops, (c) => current = c),
    },
  });
  return { endpoint, errors, ops, connection: () => current };
}

function recording(
  transport: Transport,
  ops: string[],
  seen: (connection: Connection) => void,
): Transport {
  return {
    url: transport.url,
    async connect(params, onMessage) {
      const connection = await transport.connect(params, onMessage);
      ops.push("connect");
      const wrapped: Connection = {
        ...connection,
        closed: connection.closed,
        publish(topic, payload, options) {
          ops.push(`publish ${topic}`);
          return connection.publish(topic, payload, options);
        },
        subscribe(filters) {
          ops.push(`subscribe ${filters.join(" ")}`);
          return connection.subscribe(filters);
        },
        close: () => connection.close(),
        destroy: () => connection.destroy(),
      };
      seen(wrapped);
      return wrapped;
    },
  };
}

/** A bare MQTT.js client on the TLS listener with the certificate of `cn`. */
interface RawClient {
  client: InstanceType<typeof mqtt.MqttClient>;
  /** "connack <code>", "error <message>", "close", "message <topic>", in order. */
  events: string[];
  /** Resolves when the connection has closed. */
  closed: Promise<void>;
}

async function rawClient(
  broker: RabbitMq,
  cn: string,
  protocolVersion: 4 | 5 = 4,
): Promise<RawClient> {
  const credentials = await broker.pki.client(cn);
  const { hostname, port } = new URL(broker.tlsUrl);
  const build = () =>
    tls.connect({
      host: hostname,
      port: Number(port),
      ca: broker.pki.caPem,
      cert: credentials.certPem,
      key: credentials.keyPem,
    });
  // deno-lint-ignore no-explicit-any
  const client = new mqtt.MqttClient(build as any, {
    clientId: cn,
    protocolVersion,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  const events: string[] = [];
  const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
  client.on("connect", (packet) => events.push(`connack ${packet.returnCode ?? 0}`));
  client.on("error", (error) => events.push(`error ${error.message}`));
  client.on("close", () => events.push("close"));
  client.on("message", (topic) => events.push(`message ${topic}`));
  const raw: RawClient = { client, events, closed };
  // Settled by CONNACK, by a refusal or by the broker closing the connection.
  await within(
    Promise.race([new Promise((resolve) => client.once("connect", resolve)), closed]),
    10_000,
    `a CONNACK or a close for the raw client ${cn}`,
  );
  return raw;
}

async function endRaw(raw: RawClient): Promise<void> {
  raw.client.end(true);
  await within(raw.closed, 5000, "the raw client's connection to close");
}

function decode(m: Received): Record<string, unknown> {
  return decodePayload(m.payload, { maxBytes: 1 << 20 }).value;
}

/** Lines of the log from `from` on that show the broker refusing or breaking a client. */
function complaints(log: string, from: number): string[] {
  return log.slice(from).split("\n").filter((line) => BROKER_COMPLAINT.test(line));
}

/** How many MQTT connections the node accepted from `clientId` (it logs each one). */
function acceptedConnections(log: string, clientId: string): number {
  return log.split("\n").filter((line) =>
    line.includes("accepting MQTT connection") && line.includes(`client id: ${clientId})`)
  ).length;
}

testUnless(RABBITMQ_MISSING, {
  name: "the endpoint works against RabbitMQ with certificate login and cloud.iO's permissions",
  async fn(t) {
    const began = performance.now();
    await using broker = await startRabbitMq();
    // Endpoints that must never be refused or disconnected by the broker, with the number of
    // connections each is expected to open.
    const expected = new Map<string, number>();
    const uuids = {
      birth: crypto.randomUUID(),
      set: Object.fromEntries(FORMATS.map((f) => [f, crypto.randomUUID()])),
      will: crypto.randomUUID(),
      queued: crypto.randomUUID(),
      nodes: crypto.randomUUID(),
      jobs: crypto.randomUUID(),
      restart: crypto.randomUUID(),
      upper: crypto.randomUUID(),
      rogue: crypto.randomUUID(), // the raw client that breaks the rules on purpose
    };
    await broker.addEndpoint(
      uuids.birth,
      ...Object.values(uuids.set),
      uuids.will,
      uuids.queued,
      uuids.nodes,
      uuids.jobs,
      uuids.restart,
      uuids.upper,
      uuids.rogue,
    );
    const logStart = (await broker.syncLog()).length;

    await t.step(
      "connect() subscribes to @set before the retained @online; @update flows",
      async () => {
        const uuid = uuids.birth;
        expected.set(uuid, 1);
        await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
        const { endpoint, errors, ops } = await rabbitEndpoint(broker, uuid);
        await using _ = endpoint;
        const { throughput, mode } = vacuum(endpoint);
        await endpoint.connect();
        assert.equal(endpoint.state, "online");
        const online = await cloud.waitFor((m) => m.topic === `@online/${uuid}`);
        const model = decode(online);
        assert.equal(model.version, "v0.2");
        assert.equal(model.messageFormatVersion, 2);
        assert.deepEqual(model.supportedFormats, ["JSON", "CBOR"]);
        assert.deepEqual(Object.keys(model.nodes as object), ["VacuumCleaner"]);
        // The order on the wire: CONNECT, SUBSCRIBE @set/<uuid>/#, then PUBLISH @online.
        assert.equal(ops[0], "connect");
        assert.match(ops[1], new RegExp(`^subscribe @set/${uuid}/#`));
        assert.equal(ops[2], `publish @online/${uuid}`);
        // On RabbitMQ the subscription is a queue bound to amq.topic with '/' mapped to '.'.
        const bindings = await broker.ctl("list_bindings", "destination_name", "routing_key");
        assert.match(bindings, new RegExp(`mqtt-subscription-${uuid}qos1\\s+@set\\.${uuid}\\.#`));
        // The login is the certificate's CN.
        const connections = await broker.mqttConnections();
        assert.deepEqual(
          connections.filter((c) => c.clientId === uuid).map((c) => c.user),
          [uuid],
        );
        // A late subscriber gets the retained copy (RabbitMQ only sends retained messages to a
        // subscription on the exact topic, not to one with wildcards).
        await using late = await connectCloud(broker.cloudUrl, { subscribe: `@online/${uuid}` });
        const retained = await late.waitFor(() => true);
        assert.equal(retained.retain, true);
        assert.deepEqual(decode(retained), model);
        throughput.value = 20;
        mode.value = 3;
        const update = await cloud.waitFor((m) =>
          m.topic === `@update/${uuid}/VacuumCleaner/Status/throughput`
        );
        assert.match(new TextDecoder().decode(update.payload), /"value":20\.0/);
        await cloud.waitFor((m) =>
          m.topic === `@update/${uuid}/VacuumCleaner/Status/operatingMode`
        );
        assertServerValid(cloud.messages, uuid);
        assert.deepEqual(errors, []);
      },
    );

    for (const format of FORMATS) {
      await t.step(`@set is applied and answered with @didSet (${format})`, async () => {
        const uuid = uuids.set[format];
        expected.set(uuid, 1);
        await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@didSet/${uuid}/#` });
        const { endpoint, errors } = await rabbitEndpoint(broker, uuid, { format });
        await using _ = endpoint;
        const { power, speed } = vacuum(endpoint);
        await endpoint.connect();
        const now = Date.now();
        for (const wire of FORMATS) {
          await cloud.publish(
            `@set/${uuid}/VacuumCleaner/Parameters/set_throughput`,
            encodeAttribute(wire, {
              type: "Number",
              constraint: "SetPoint",
              value: wire === "JSON" ? 20 : 21.5,
              timestamp: now + (wire === "JSON" ? 1 : 2),
            }),
          );
        }
        await cloud.publish(
          `@set/${uuid}/VacuumCleaner/Parameters/set_power_on`,
          JSON.stringify({ value: true, timestamp: (now + 3) / 1000 }),
        );
        const didSets = await cloud.waitForCount(() => true, 3);
        assert.deepEqual(didSets.map((m) => m.topic), [
          `@didSet/${uuid}/VacuumCleaner/Parameters/set_throughput`,
          `@didSet/${uuid}/VacuumCleaner/Parameters/set_throughput`,
          `@didSet/${uuid}/VacuumCleaner/Parameters/set_power_on`,
        ]);
        for (const m of didSets) assert.equal(m.payload[0] === 0x7b ? "JSON" : "CBOR", format);
        assert.deepEqual(decode(didSets[1]), {
          type: "Number",
          constraint: "SetPoint",
          timestamp: (now + 2) / 1000,
          value: 21.5,
        });
        assert.equal(speed.value, 21.5);
        assert.equal(power.value, true);
        assertServerValid(cloud.messages, uuid);
        assert.deepEqual(errors, []);
      });
    }

    await t.step(
      "a dropped connection fires the will; close() publishes @offline and no will",
      async () => {
        const uuid = uuids.will;
        expected.set(uuid, 2);
        await using cloud = await connectCloud(broker.cloudUrl, {
          subscribe: [`@offline/${uuid}`, `@online/${uuid}`],
        });
        const { endpoint, connection, errors } = await rabbitEndpoint(broker, uuid);
        vacuum(endpoint);
        await endpoint.connect();
        await cloud.waitFor((m) => m.topic.startsWith("@online/"));
        connection()!.destroy(); // as a network failure would
        const will = await cloud.waitFor((m) => m.topic === `@offline/${uuid}`);
        assert.equal(will.payload.length, 0);
        await cloud.waitForCount((m) => m.topic.startsWith("@online/"), 2, { timeout: 10_000 });
        await until(() => endpoint.state === "online", 5000, "the endpoint to be back online");
        const before = cloud.messages.length;
        await endpoint.close();
        assert.equal(endpoint.state, "closed");
        await cloud.waitFor((m) => m.topic === `@offline/${uuid}`, { from: before });
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.equal(
          cloud.messages.slice(before).filter((m) => m.topic === `@offline/${uuid}`).length,
          1,
          "one @offline from close(), no will after a clean DISCONNECT",
        );
        assert.deepEqual(errors, []);
      },
    );

    await t.step(
      "a @set sent while the endpoint was away is delivered when it comes back (cleanSession=false)",
      async () => {
        // RabbitMQ keeps a durable queue mqtt-subscription-<uuid>qos1 for a persistent session.
        const uuid = uuids.queued;
        expected.set(uuid, 2);
        await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@didSet/${uuid}/#` });
        {
          const { endpoint, errors } = await rabbitEndpoint(broker, uuid);
          vacuum(endpoint);
          await endpoint.connect();
          await endpoint.close();
          assert.deepEqual(errors, []);
        }
        const queues = await broker.ctl("list_queues", "name", "durable");
        assert.match(queues, new RegExp(`mqtt-subscription-${uuid}qos1\\s+true`));
        await cloud.publish(
          `@set/${uuid}/VacuumCleaner/Parameters/set_throughput`,
          JSON.stringify({ value: 12.5, timestamp: Date.now() / 1000 }),
        );
        const { endpoint, errors } = await rabbitEndpoint(broker, uuid);
        await using _ = endpoint;
        const { speed } = vacuum(endpoint);
        await endpoint.connect();
        await until(() => speed.value === 12.5, 5000, "the queued @set to be applied");
        const didSet = await cloud.waitFor((m) => m.topic.endsWith("/set_throughput"));
        assert.equal(decode(didSet).value, 12.5);
        assertServerValid(cloud.messages, uuid);
        assert.deepEqual(errors, []);
      },
    );

    await t.step(
      "@nodeAdded, @nodeRemoved and @transaction pass the topic permissions",
      async () => {
        const uuid = uuids.nodes;
        expected.set(uuid, 1);
        await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
        const { endpoint, errors } = await rabbitEndpoint(broker, uuid, { format: "CBOR" });
        await using _ = endpoint;
        const { throughput, mode } = vacuum(endpoint);
        await endpoint.connect();
        const pump = endpoint.addNode("Pump", { implements: ["Pump"] });
        pump.addObject("Status").addAttribute("rate", { type: "Number", constraint: "Measure" })
          .value = 1;
        await cloud.waitFor((m) => m.topic === `@nodeAdded/${uuid}/Pump`);
        await cloud.waitFor((m) => m.topic === `@update/${uuid}/Pump/Status/rate`);
        assert.equal(endpoint.removeNode("Pump"), true);
        await cloud.waitFor((m) => m.topic === `@nodeRemoved/${uuid}/Pump`);
        await endpoint.transaction(() => {
          throughput.value = 1;
          mode.value = 4;
        });
        await cloud.waitFor((m) => m.topic === `@transaction/${uuid}`);
        assertServerValid(cloud.messages, uuid);
        assert.deepEqual(errors, []);
      },
    );

    await t.step(
      "@logsLevel, @logs, @exec and @execOutput stay within the permissions",
      async () => {
        const uuid = uuids.jobs;
        expected.set(uuid, 1);
        await using cloud = await connectCloud(broker.cloudUrl, {
          subscribe: [`@logs/${uuid}`, `@execOutput/${uuid}/#`],
        });
        const { endpoint, errors } = await rabbitEndpoint(broker, uuid);
        await using _ = endpoint;
        vacuum(endpoint);
        endpoint.addJob("echo", (job) => job.output(job.data));
        await endpoint.connect();
        await cloud.publish(`@logsLevel/${uuid}`, JSON.stringify({ level: "INFO" }));
        await until(() => endpoint.logLevel === "INFO", 5000, "the level to be applied");
        endpoint.logger("drive").info("motor started");
        const log = await cloud.waitFor((m) => m.topic === `@logs/${uuid}`);
        assert.equal(decode(log).message, "motor started");
        const exec = (correlationID: string) =>
          cloud.publish(
            `@exec/${uuid}`,
            JSON.stringify({ correlationID, jobURI: "cmd://echo", data: "a\nb", sendOutput: true }),
          );
        // Correlation IDs that would be several topic levels on RabbitMQ are refused, not sent.
        for (const bad of ["x/y", "x.y", "x#", "x+"]) await exec(bad);
        await exec("job-1");
        const lines = await cloud.waitForCount(
          (m) => m.topic.startsWith(`@execOutput/${uuid}/`),
          2,
        );
        assert.deepEqual(lines.map((m) => [m.topic, decode(m).data]), [
          [`@execOutput/${uuid}/job-1`, "a"],
          [`@execOutput/${uuid}/job-1`, "b"],
        ]);
        assert.equal(
          cloud.messages.filter((m) => m.topic.startsWith("@execOutput/")).length,
          2,
          "nothing for the refused correlation IDs",
        );
        assert.equal(errors.length, 4, errors.map((e) => e.message).join("\n"));
        assert.equal(endpoint.state, "online");
        assertServerValid(cloud.messages, uuid);
      },
    );

    await t.step(
      "after a broker restart the endpoint comes back, replays @delayed and gets @set",
      async () => {
        const uuid = uuids.restart;
        expected.set(uuid, 2);
        // A persistent session for the cloud: its queue keeps what arrives before it reconnects.
        await using cloud = await connectCloud(broker.cloudUrl, {
          subscribe: "#",
          clean: false,
          clientId: `cloud-restart-${uuid.slice(0, 8)}`,
        });
        const { endpoint, errors } = await rabbitEndpoint(broker, uuid);
        await using _ = endpoint;
        const { throughput, speed } = vacuum(endpoint);
        await endpoint.connect();
        await cloud.waitFor((m) => m.topic === `@online/${uuid}`);
        await broker.stop();
        await until(() => endpoint.state !== "online", 5000, "the endpoint to notice");
        for (let i = 1; i <= 5; i++) throughput.value = i; // while offline
        // The endpoint may be back (and its @online in) before start() returns: the listeners
        // open before RabbitMQ logs that its startup is complete.
        const from = cloud.messages.length;
        await broker.start();
        await cloud.waitFor((m) => m.topic === `@online/${uuid}`, { from, timeout: 20_000 });
        const delayed = await cloud.waitFor((m) => m.topic === `@delayed/${uuid}`, {
          from,
          timeout: 10_000,
        });
        // deno-lint-ignore no-explicit-any
        const carried = (decode(delayed).messages as any[]).map((m) => [m.topic, m.data.value]);
        assert.deepEqual(
          carried,
          [1, 2, 3, 4, 5].map((v) => [`@update/${uuid}/VacuumCleaner/Status/throughput`, v]),
        );
        await cloud.publish(
          `@set/${uuid}/VacuumCleaner/Parameters/set_throughput`,
          JSON.stringify({ value: 3.5, timestamp: Date.now() / 1000 }),
        );
        await cloud.waitFor((m) =>
          m.topic === `@didSet/${uuid}/VacuumCleaner/Parameters/set_throughput`
        );
        assert.equal(speed.value, 3.5);
        assertServerValid(cloud.messages, uuid);
        assert.deepEqual(errors, []);
      },
    );

    await t.step("the library never made the broker refuse or close a connection", async () => {
      const log = await broker.syncLog();
      assert.deepEqual(complaints(log, logStart), [], "no refusals in the node's log");
      for (const [uuid, count] of expected) {
        assert.ok(!log.includes(`refused for user '${uuid}'`), `nothing refused to ${uuid}`);
        assert.equal(acceptedConnections(log, uuid), count, `connections of ${uuid}`);
      }
      // Only the cloud clients may still be connected; no endpoint connection is left behind.
      const connections = await broker.mqttConnections();
      assert.deepEqual(connections.filter((c) => expected.has(c.clientId)), []);
    });

    await t.step(
      "RabbitMQ closes the connection on a publish or subscribe outside the permissions",
      async () => {
        const uuid = uuids.rogue;
        const other = uuids.birth;
        const from = (await broker.syncLog()).length;
        // Allowed: its own @set subscription and its own @online.
        {
          const raw = await rawClient(broker, uuid);
          assert.deepEqual(raw.events, ["connack 0"]);
          const granted = await raw.client.subscribeAsync(`@set/${uuid}/#`, { qos: 1 });
          assert.deepEqual(granted.map((g) => g.qos), [1]);
          await raw.client.publishAsync(`@online/${uuid}`, "{}", { qos: 1 });
          await raw.client.publishAsync(`@update/${uuid}/n/o/a`, "{}", { qos: 1 });
          assert.equal(raw.client.connected, true);
          await endRaw(raw);
        }
        const forbidden: [string, (raw: RawClient) => Promise<unknown>][] = [
          [
            "a publish on another endpoint's topic",
            (raw) => raw.client.publishAsync(`@update/${other}/n/o/a`, "{}", { qos: 1 }),
          ],
          [
            "a QoS 0 publish on its own @set",
            (raw) => raw.client.publishAsync(`@set/${uuid}/n/o/a`, "{}", { qos: 0 }),
          ],
          [
            "an @update with too few levels",
            (raw) => raw.client.publishAsync(`@update/${uuid}/n/a`, "{}", { qos: 1 }),
          ],
          [
            "an unknown action",
            (raw) => raw.client.publishAsync(`@jobs/${uuid}`, "{}", { qos: 1 }),
          ],
          [
            "a subscription to its own @update",
            (raw) => raw.client.subscribeAsync(`@update/${uuid}/#`, { qos: 1 }),
          ],
          [
            "a subscription to another endpoint's @set",
            (raw) => raw.client.subscribeAsync(`@set/${other}/#`, { qos: 1 }),
          ],
        ];
        for (const [what, act] of forbidden) {
          const raw = await rawClient(broker, uuid);
          assert.deepEqual(raw.events, ["connack 0"], what);
          // MQTT.js settles the call only when the client ends: wait for the close instead.
          act(raw).catch(() => {});
          await within(raw.closed, 10_000, `the broker to close the connection on ${what}`);
          assert.equal(raw.client.connected, false, `${what} closes the connection`);
          await endRaw(raw);
        }
        const refusals = complaints(await broker.syncLog(), from).filter((l) =>
          l.includes(`refused for user '${uuid}'`)
        );
        assert.equal(refusals.length, forbidden.length, refusals.join("\n"));
      },
    );

    await t.step(
      "a UUID written with capitals is used in the cloud's lower-case form",
      async () => {
        const uuid = uuids.upper;
        expected.set(uuid, 1);
        await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
        const { endpoint, errors } = await rabbitEndpoint(broker, uuid, {
          name: uuid.toUpperCase(),
        });
        await using _ = endpoint;
        const { power, throughput } = vacuum(endpoint);
        await endpoint.connect();
        assert.equal(endpoint.uuid, uuid);
        await cloud.waitFor((m) => m.topic === `@online/${uuid}`);
        throughput.value = 2.5;
        await cloud.waitFor((m) => m.topic === `@update/${uuid}/VacuumCleaner/Status/throughput`);
        await cloud.publish(
          `@set/${uuid}/VacuumCleaner/Parameters/set_power_on`,
          JSON.stringify({ value: true, timestamp: Date.now() / 1000 }),
        );
        await cloud.waitFor((m) =>
          m.topic === `@didSet/${uuid}/VacuumCleaner/Parameters/set_power_on`
        );
        assert.equal(power.value, true);
        assert.deepEqual(errors, []);
        // Had it used the capitals, RabbitMQ would have closed the connection on the first publish.
        assert.equal(endpoint.state, "online");
      },
    );

    await t.step("unknown endpoints, MQTT 5 and foreign certificates are refused", async () => {
      // An endpoint the cloud does not know: CONNACK 4 (bad user name or password).
      const unknown = crypto.randomUUID();
      const { endpoint } = await rabbitEndpoint(broker, unknown);
      await assert.rejects(() => endpoint.connect(), (error: unknown) => {
        assert.ok(error instanceof ConnectionError, String(error));
        assert.match(error.message, /refused the endpoint/);
        assert.match(error.message, /certificate's CN/);
        return true;
      });
      await endpoint.close();
      // MQTT 5: closed without a CONNACK (the library speaks 3.1.1).
      const v5 = await rawClient(broker, uuids.rogue, 5);
      await within(v5.closed, 10_000, "the broker to close an MQTT 5 connection");
      assert.ok(!v5.events.some((e) => e.startsWith("connack")), v5.events.join(", "));
      await endRaw(v5);
      // A certificate from another CA: the TLS handshake fails.
      const foreign = crypto.randomUUID();
      await broker.addEndpoint(foreign);
      const cert = await broker.pki.client(foreign, { signer: "other" });
      const { endpoint: stranger } = await rabbitEndpoint(broker, foreign, {
        extra: { "ssl.clientCert": cert.cert, "ssl.clientKey": cert.key },
      });
      await assert.rejects(() => stranger.connect(), ConnectionError);
      await stranger.close();
    });

    const { starts, rssKb, maxRssKb } = broker.stats;
    console.log(
      `RabbitMQ node ${broker.nodeName}: starts ${starts.join(" ms, ")} ms; ` +
        `RSS ${rssKb} kB (max ${maxRssKb} kB); ` +
        `file ${Math.round(performance.now() - began)} ms before the final stop`,
    );
  },
});

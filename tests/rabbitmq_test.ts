/**
 * The endpoint against a real RabbitMQ, the broker family of the real cloud.iO (protocol §3, §9):
 * MQTT plugin, TLS 1.2 with client certificates, login by certificate CN, one user per endpoint
 * with the topic permissions of §9. One private node serves the whole file (a start costs
 * ~10–13 s on two cores); every step uses endpoints of its own.
 *
 * The scenario suite (`tests/_scenarios.ts`) runs here first, as it does on mosquitto and on the
 * devcloud's broker; then what is RabbitMQ's own. RabbitMQ is stricter than mosquitto: a publish
 * or subscribe outside the endpoint's permissions closes the whole connection. The last steps
 * check that the library never makes it do so, and that the broker does when it should.
 *
 * @module
 */

import assert from "node:assert/strict";
import tls from "node:tls";
import mqtt from "npm:mqtt@5.16.0";
import { ConnectionError } from "../mod.ts";
import { tlsEndpoint } from "./_endpoint.ts";
import { within } from "./_deadline.ts";
import { rabbitMqUnderTest } from "./_brokers.ts";
import { type RabbitMq, rabbitMqMissing, startRabbitMq } from "./_rabbitmq.ts";
import { runScenarios } from "./_scenarios.ts";
import { testUnless } from "./_ignore.ts";

const missing = rabbitMqMissing();
const RABBITMQ_MISSING = missing === undefined
  ? undefined
  : { id: "rabbitmq" as const, why: missing };

/** Errors in the node's log that mean a connection was refused or broken by the broker. */
const BROKER_COMPLAINT =
  /access_refused|authorization failure|authentication failure|protocol error|cannot parse|login failed/;

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

/** Lines of the log from `from` on that show the broker refusing or breaking a client. */
function complaints(log: string, from: number): string[] {
  return log.slice(from).split("\n").filter((line) => BROKER_COMPLAINT.test(line));
}

testUnless(RABBITMQ_MISSING, {
  name: "the endpoint works against RabbitMQ with certificate login and cloud.iO's permissions",
  async fn(t) {
    const began = performance.now();
    await using broker = await startRabbitMq();
    const logStart = (await broker.syncLog()).length;
    const rogue = crypto.randomUUID(); // a raw client that breaks the rules on purpose
    await broker.addEndpoint(rogue);

    await runScenarios(t, rabbitMqUnderTest(broker));

    await t.step(
      "the subscription is a queue bound with '.' for '/', the login the CN",
      async () => {
        const uuid = crypto.randomUUID();
        await broker.addEndpoint(uuid);
        const { endpoint } = await tlsEndpoint(broker, uuid);
        await using _ = endpoint;
        await endpoint.connect();
        const bindings = await broker.ctl("list_bindings", "destination_name", "routing_key");
        assert.match(bindings, new RegExp(`mqtt-subscription-${uuid}qos1\\s+@set\\.${uuid}\\.#`));
        const connections = await broker.mqttConnections();
        assert.deepEqual(
          connections.filter((c) => c.clientId === uuid).map((c) => c.user),
          [uuid],
        );
      },
    );

    await t.step("the library never made the broker refuse or close a connection", async () => {
      const log = await broker.syncLog();
      assert.deepEqual(complaints(log, logStart), [], "no refusals in the node's log");
      // Only the cloud clients may still be connected; no endpoint connection is left behind.
      const connections = await broker.mqttConnections();
      assert.deepEqual(connections.filter((c) => !c.clientId.startsWith("cloud")), []);
    });

    await t.step(
      "RabbitMQ closes the connection on a publish or subscribe outside the permissions",
      async () => {
        const uuid = rogue;
        const other = crypto.randomUUID();
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

    await t.step("unknown endpoints, MQTT 5 and foreign certificates are refused", async () => {
      // An endpoint the cloud does not know: CONNACK 4 (bad user name or password).
      const unknown = crypto.randomUUID();
      const { endpoint } = await tlsEndpoint(broker, unknown);
      await assert.rejects(() => endpoint.connect(), (error: unknown) => {
        assert.ok(error instanceof ConnectionError, String(error));
        assert.match(error.message, /refused the endpoint/);
        assert.match(error.message, /certificate's CN/);
        return true;
      });
      await endpoint.close();
      // MQTT 5: closed without a CONNACK (the library speaks 3.1.1).
      const v5 = await rawClient(broker, rogue, 5);
      await within(v5.closed, 10_000, "the broker to close an MQTT 5 connection");
      assert.ok(!v5.events.some((e) => e.startsWith("connack")), v5.events.join(", "));
      await endRaw(v5);
      // A certificate from another CA: the TLS handshake fails.
      const foreign = crypto.randomUUID();
      await broker.addEndpoint(foreign);
      const cert = await broker.pki.client(foreign, { signer: "other" });
      const { endpoint: stranger } = await tlsEndpoint(broker, foreign, {
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

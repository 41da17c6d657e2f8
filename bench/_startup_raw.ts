/**
 * The start-up case, baseline: the least a Deno process with MQTT.js does to announce a device,
 * from process start: connect (MQTT 3.1.1, TCP no-delay, a last will as the endpoint sets one),
 * subscribe to `@set/<uuid>/#`, publish a retained `@online` at QoS 1 (a fixed payload of the
 * size of the endpoint's), print `RSS bytes` 2 s later (idle, connected), disconnect. It imports nothing but MQTT.js.
 *
 *     deno run -A bench/_startup_raw.ts --url mqtt://127.0.0.1:P --uuid U --bytes N
 *
 * @module
 */

import { Buffer } from "node:buffer";
import net from "node:net";
import mqtt from "npm:mqtt@5.16.0";

const [href, uuid, bytes] = ["--url", "--uuid", "--bytes"].map((flag) =>
  Deno.args[Deno.args.indexOf(flag) + 1]
);
const url = new URL(href);
const client = new mqtt.MqttClient(() => {
  const socket = net.connect({ host: url.hostname, port: Number(url.port) });
  socket.setNoDelay(true);
  return socket;
}, {
  clientId: uuid,
  protocolVersion: 4,
  clean: false,
  reconnectPeriod: 0,
  will: { topic: `@offline/${uuid}`, payload: "", qos: 1, retain: false },
});
await new Promise<void>((resolve, reject) => {
  client.once("connect", () => resolve());
  client.once("error", reject);
});
await client.subscribeAsync(`@set/${uuid}/#`, { qos: 1 });
const payload = Buffer.alloc(Number(bytes), 0x61);
await client.publishAsync(`@online/${uuid}`, payload, { qos: 1, retain: true });
await new Promise((resolve) => setTimeout(resolve, 2000));
console.log(`RSS ${Deno.memoryUsage().rss}`);
await client.endAsync();

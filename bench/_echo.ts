/**
 * The device side of the `@set`→`@didSet` round-trip case, in a process of its own.
 * `bench/run.ts` plays the cloud: it publishes each `@set` and waits for the answer.
 *
 *     deno run -A bench/_echo.ts --mode endpoint|raw --url mqtt://127.0.0.1:P --uuid U
 *       [--persistence memory|file --store DIR] [--format CBOR|JSON]
 *
 * - `endpoint`: an {@linkcode Endpoint} with one Number/SetPoint attribute `Node/Parameters/sp`
 *   whose `changes()` a device loop consumes; the endpoint applies each `@set` and answers with
 *   `@didSet` through its outbox.
 * - `raw`: MQTT.js alone (built as `lib/adapters/mqtt.ts` builds it: MQTT 3.1.1, TCP no-delay),
 *   subscribed to `@set/<uuid>/#` at QoS 1, answering each message by publishing its payload back
 *   on the matching `@didSet` topic, QoS 1, retained (as the endpoint's `@didSet` is).
 *
 * It prints `READY` once it can answer, and runs until it is killed.
 *
 * @module
 */

import net from "node:net";
import { parseArgs } from "node:util";
import mqtt from "npm:mqtt@5.16.0";
import { Endpoint } from "../mod.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    mode: { type: "string", default: "endpoint" },
    url: { type: "string" },
    uuid: { type: "string" },
    persistence: { type: "string", default: "memory" },
    store: { type: "string" },
    format: { type: "string", default: "CBOR" },
  },
});
const uuid = args.uuid!;

if (args.mode === "endpoint") {
  const endpoint = new Endpoint(uuid, {
    config: {
      hostUri: args.url!,
      persistence: args.persistence!,
      ...(args.store ? { persistenceLocation: args.store } : {}),
      messageFormat: args.format as "JSON" | "CBOR",
    },
    onError: (error) => console.error(`error: ${error.message}`),
  });
  const setPoint = endpoint.addNode("Node").addObject("Parameters")
    .addAttribute("sp", { type: "Number", constraint: "SetPoint", value: 0 });
  await endpoint.connect();
  console.log("READY");
  let applied = 0;
  for await (const _change of setPoint.changes()) applied++;
} else {
  const url = new URL(args.url!);
  const client = new mqtt.MqttClient(() => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    socket.setNoDelay(true);
    return socket;
  }, { clientId: uuid, protocolVersion: 4, reconnectPeriod: 0, queueQoSZero: false });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  client.on("message", (topic, payload) => {
    client.publish(`@didSet${topic.slice("@set".length)}`, payload, { qos: 1, retain: true });
  });
  await client.subscribeAsync(`@set/${uuid}/#`, { qos: 1 });
  console.log("READY");
}

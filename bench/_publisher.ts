/**
 * The publisher side of the update-throughput case, in a process of its own so that its CPU time
 * and its profile are its own. `bench/run.ts` starts it; the subscriber is in `run.ts`.
 *
 *     deno run -A bench/_publisher.ts --mode endpoint|raw --url mqtt://127.0.0.1:P --uuid U
 *       [--persistence memory|file --store DIR] [--attributes 10] [--per 10000]
 *       [--chunk 1000] [--format CBOR|JSON]
 *
 * - `endpoint`: an {@linkcode Endpoint} with `attributes` Number/Measure attributes; after
 *   `connect()` it sets `attributes × per` values, round robin, yielding to the event loop every
 *   `chunk` values (a busy device that does not starve its own I/O), then waits for `delivered()`.
 * - `raw`: MQTT.js alone, the way `lib/adapters/mqtt.ts` builds it (MQTT 3.1.1, TCP no-delay,
 *   reconnect off), publishing payloads built beforehand with `encodeAttribute` (the same bytes
 *   the endpoint sends: same type, constraint, value, a timestamp of the same size) on the same
 *   topics, QoS 1, retained, with at most `--window` (1,000, the endpoint's `maxInFlight`)
 *   unacknowledged at once.
 *
 * Lines on stdout: `START t p` when the first value is about to be set or published, `SET t` when
 * the last one was, `ACKED t p` when the broker has acknowledged everything (t: epoch ms with a
 * fraction, comparable across processes; p: `performance.now()`), `CPU µs` (user + system of
 * this process between START and ACKED), `RSS bytes`, `PEAK bytes` (the peak resident set), and `END p` just before it exits (a
 * `--cpu-prof` profile ends there, which places START and ACKED in it).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import net from "node:net";
import process from "node:process";
import { parseArgs } from "node:util";
import mqtt from "npm:mqtt@5.16.0";
import { Endpoint } from "../mod.ts";
import { peakRss } from "./_common.ts";
import { encodeAttribute } from "../lib/codec/encode.ts";
import type { MessageFormat } from "../lib/model/types.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    mode: { type: "string", default: "endpoint" },
    url: { type: "string" },
    uuid: { type: "string" },
    persistence: { type: "string", default: "memory" },
    store: { type: "string" },
    attributes: { type: "string", default: "10" },
    per: { type: "string", default: "10000" },
    chunk: { type: "string", default: "1000" },
    window: { type: "string", default: "1000" },
    format: { type: "string", default: "CBOR" },
    refill: { type: "string", default: "sync" },
  },
});

const uuid = args.uuid!;
const url = new URL(args.url!);
const attributeCount = Number(args.attributes);
const total = attributeCount * Number(args.per);
const chunk = Number(args.chunk);
const format = args.format as MessageFormat;
const refillMode = args.refill;

/** Wall-clock time in ms with a fraction, comparable with the parent's. */
const now = () => performance.timeOrigin + performance.now();
// Deno.cpuUsage() exists in Deno 2.9 but is not in its type declarations yet.
const denoCpuUsage = (Deno as { cpuUsage?: () => { user: number; system: number } }).cpuUsage;
/** CPU time of this process (user + system, every thread), µs. */
const cpu = () => {
  const { user, system } = denoCpuUsage ? denoCpuUsage() : process.cpuUsage();
  return user + system;
};
const yieldNow = () => new Promise((resolve) => setTimeout(resolve, 0));

if (args.mode === "endpoint") await runEndpoint();
else await runRaw();
// The clock of the last line, to place START and ACKED in a --cpu-prof profile (which ends here).
console.log(`END ${performance.now()}`);
Deno.exit(0);

async function runEndpoint(): Promise<void> {
  const endpoint = new Endpoint(uuid, {
    config: {
      hostUri: args.url!,
      persistence: args.persistence!,
      ...(args.store ? { persistenceLocation: args.store } : {}),
      messageFormat: format,
    },
    onError: (error) => console.error(`error: ${error.message}`),
  });
  const status = endpoint.addNode("Node").addObject("Status");
  const attributes = Array.from(
    { length: attributeCount },
    (_, i) => status.addAttribute(`a${i}`, { type: "Number", constraint: "Measure" }),
  );
  await endpoint.connect();
  const cpu0 = cpu();
  console.log(`START ${now()} ${performance.now()}`);
  for (let v = 0; v < total; v++) {
    attributes[v % attributeCount].value = v + 0.5;
    if ((v + 1) % chunk === 0) await yieldNow();
  }
  console.log(`SET ${now()}`);
  await endpoint.delivered();
  console.log(`ACKED ${now()} ${performance.now()}`);
  console.log(`CPU ${cpu() - cpu0}`);
  console.log(`RSS ${Deno.memoryUsage().rss}`);
  console.log(`PEAK ${peakRss()}`);
  await endpoint.close();
}

async function runRaw(): Promise<void> {
  const window = Number(args.window);
  const timestamp = Date.now();
  const topics = Array.from(
    { length: attributeCount },
    (_, i) => `@update/${uuid}/Node/Status/a${i}`,
  );
  const payloads = Array.from({ length: total }, (_, v) => {
    const bytes = encodeAttribute(format, {
      type: "Number",
      constraint: "Measure",
      value: v + 0.5,
      timestamp,
    });
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  });
  const client = new mqtt.MqttClient(() => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    socket.setNoDelay(true);
    return socket;
  }, { clientId: uuid, protocolVersion: 4, reconnectPeriod: 0, queueQoSZero: false });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  const cpu0 = cpu();
  console.log(`START ${now()} ${performance.now()}`);
  let next = 0;
  let acked = 0;
  const { promise: done, resolve } = Promise.withResolvers<void>();
  let refillQueued = false;
  const refill = () => {
    refillQueued = false;
    while (next < total && next - acked < window) send();
  };
  const onAck = (error?: Error) => {
    if (error) throw error;
    acked++;
    if (refillMode === "sync") {
      if (next < total) send();
    } else if (!refillQueued) {
      refillQueued = true;
      if (refillMode === "micro") queueMicrotask(refill);
      else setTimeout(refill, 0);
    }
    if (acked === total) resolve();
  };
  const send = () => {
    const v = next++;
    client.publish(topics[v % attributeCount], payloads[v], { qos: 1, retain: true }, onAck);
    if (next === total) console.log(`SET ${now()}`);
  };
  while (next < Math.min(window, total)) send();
  await done;
  console.log(`ACKED ${now()} ${performance.now()}`);
  console.log(`CPU ${cpu() - cpu0}`);
  console.log(`RSS ${Deno.memoryUsage().rss}`);
  console.log(`PEAK ${peakRss()}`);
  await client.endAsync();
}

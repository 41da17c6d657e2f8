/**
 * The endpoint side of the offline case: an endpoint with a durable outbox (`persistence: file`)
 * whose broker is down sets `--count` values, then replays them once the broker is back.
 * `bench/run.ts` stops and starts the broker.
 *
 *     deno run -A bench/_offline.ts --url mqtt://127.0.0.1:P --uuid U --store DIR
 *       [--count 1000000] [--attributes 10] [--chunk 1000] [--format CBOR|JSON]
 *
 * Values are Number/Measure on `Node/Status/a{i}`, set round robin, yielding to the event loop
 * every `chunk` values (so the outbox's group commits run as they would in a device).
 *
 * Lines on stdout: `RSS_IDLE rss heapTotal heapUsed external` (bytes, before the first value),
 * `SET ms` (from the first value set until `flush()` resolved: all of them on disk), `RSS_SET
 * bytes` (peak resident set while queueing: the kernel's high-water mark), `ONLINE t` (epoch ms
 * when the endpoint came back online), `REPLAYED ms` (from online until the broker acknowledged
 * the whole backlog), `RSS_REPLAY bytes` (peak over the whole run). `HEAP_SET` and `HEAP_REPLAY`
 * give the largest V8 heap total, heap used and external (ArrayBuffer) bytes seen so far;
 * `HEAP_AFTER_GC bytes` (with `--v8-flags=--expose-gc`) the heap in use after a full collection
 * with the whole backlog queued.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Endpoint } from "../mod.ts";
import { peakRss } from "./_common.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    url: { type: "string" },
    uuid: { type: "string" },
    store: { type: "string" },
    count: { type: "string", default: "1000000" },
    attributes: { type: "string", default: "10" },
    chunk: { type: "string", default: "1000" },
    format: { type: "string", default: "CBOR" },
  },
});

const count = Number(args.count);
const attributeCount = Number(args.attributes);
const chunk = Number(args.chunk);

const endpoint = new Endpoint(args.uuid!, {
  config: {
    hostUri: args.url!,
    persistence: "file",
    persistenceLocation: args.store!,
    messageFormat: args.format as "JSON" | "CBOR",
  },
  waitOnFirstConnect: true,
  reconnect: { initialDelay: 50, maxDelay: 100 },
  onError: (error) => console.error(`error: ${error.message}`),
});
const status = endpoint.addNode("Node").addObject("Status");
const attributes = Array.from(
  { length: attributeCount },
  (_, i) => status.addAttribute(`a${i}`, { type: "Number", constraint: "Measure" }),
);

let onlineAt = 0;
const online = (async () => {
  for await (const event of endpoint.status()) {
    if (event.type === "online") {
      onlineAt = performance.now();
      return;
    }
  }
})();
const connected = endpoint.connect();
connected.catch((error) => console.error(`connect: ${error.message}`));

const idle = Deno.memoryUsage();
console.log(`RSS_IDLE ${idle.rss} ${idle.heapTotal} ${idle.heapUsed} ${idle.external}`);
// The largest V8 heap seen (total: reserved by V8; used: live and not yet collected) and the
// largest memory outside it (ArrayBuffers), to tell what the resident set is made of.
const peak = { heapTotal: 0, heapUsed: 0, external: 0 };
const sample = () => {
  const usage = Deno.memoryUsage();
  peak.heapTotal = Math.max(peak.heapTotal, usage.heapTotal);
  peak.heapUsed = Math.max(peak.heapUsed, usage.heapUsed);
  peak.external = Math.max(peak.external, usage.external);
};
const printPeak = (name: string) =>
  console.log(`${name} ${peak.heapTotal} ${peak.heapUsed} ${peak.external}`);

const started = performance.now();
for (let v = 0; v < count; v++) {
  attributes[v % attributeCount].value = v + 0.5;
  if ((v + 1) % chunk === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  if ((v + 1) % 10_000 === 0) sample();
}
await endpoint.flush();
console.log(`SET ${performance.now() - started}`);
console.log(`RSS_SET ${peakRss()}`);
sample();
printPeak("HEAP_SET");
// With --v8-flags=--expose-gc: the heap that is really live with the whole backlog queued.
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  gc();
  console.log(`HEAP_AFTER_GC ${Deno.memoryUsage().heapUsed}`);
}
const sampler = setInterval(sample, 100);

await connected;
await online;
console.log(`ONLINE ${performance.timeOrigin + onlineAt}`);
await endpoint.delivered();
console.log(`REPLAYED ${performance.now() - onlineAt}`);
console.log(`RSS_REPLAY ${peakRss()}`);
clearInterval(sampler);
sample();
printPeak("HEAP_REPLAY");
await endpoint.close();

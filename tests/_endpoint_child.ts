/**
 * An endpoint in a process of its own, for the crash and volume tests: it sets the values 1…N on
 * `Node/Status/a{v % attributes}` (Integer, Status) with a durable outbox, and says on stdout how
 * far it got.
 *
 *     deno run -A tests/_endpoint_child.ts --url mqtt://127.0.0.1:P --uuid U --store DIR
 *       [--count N] [--from V] [--attributes A] [--flush-every K] [--pace MS] [--format CBOR|JSON]
 *
 * Lines: `DURABLE v` after `flush()` resolved (every value up to v is on disk; `NOT-DURABLE v: why`
 * when it rejected), `RSS bytes`
 * (the peak so far), `SET v ms` when every value is set, `DRAINED ms` once the broker has
 * acknowledged everything, then it closes and exits. With `--count 0` it only drains what its
 * store holds.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Endpoint } from "../mod.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    url: { type: "string" },
    uuid: { type: "string" },
    store: { type: "string" },
    count: { type: "string", default: "1000" },
    from: { type: "string", default: "1" },
    attributes: { type: "string", default: "5" },
    "flush-every": { type: "string", default: "100" },
    pace: { type: "string", default: "0" },
    format: { type: "string", default: "CBOR" },
  },
});

const count = Number(args.count);
const from = Number(args.from);
const attributeCount = Number(args.attributes);
const flushEvery = Number(args["flush-every"]);
const pace = Number(args.pace);
let peak = 0;
const sample = () => {
  const rss = Deno.memoryUsage().rss;
  if (rss > peak) peak = rss;
};

const endpoint = new Endpoint(args.uuid!, {
  config: {
    hostUri: args.url!,
    persistence: "file",
    persistenceLocation: args.store!,
    messageFormat: args.format as "JSON" | "CBOR",
  },
  waitOnFirstConnect: true,
  reconnect: { initialDelay: 50, maxDelay: 500 },
  onError: (error) => console.error(`error: ${error.message}`),
});
const status = endpoint.addNode("Node").addObject("Status");
const attributes = Array.from(
  { length: attributeCount },
  (_, i) => status.addAttribute(`a${i}`, { type: "Integer", constraint: "Status" }),
);
const connected = endpoint.connect();
connected.catch((error) => console.error(`connect: ${error.message}`));

/** Flushes; says `DURABLE v`, or `NOT-DURABLE v: why` when the store cannot commit. */
async function durable(v: number): Promise<void> {
  try {
    await endpoint.flush();
    console.log(`DURABLE ${v}`);
  } catch (error) {
    console.log(`NOT-DURABLE ${v}: ${(error as Error).message}`);
  }
}

const started = performance.now();
for (let v = from; v < from + count; v++) {
  attributes[v % attributeCount].value = v;
  if ((v - from + 1) % flushEvery === 0) {
    await durable(v);
    sample();
    if (pace > 0) await new Promise((resolve) => setTimeout(resolve, pace));
  }
}
if (count > 0) await durable(from + count - 1);
else await endpoint.flush();
sample();
console.log(`SET ${from + count - 1} ${Math.round(performance.now() - started)}`);
console.log(`RSS ${peak}`);
// With --v8-flags=--expose-gc: the heap that is really in use with the whole backlog queued.
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  gc();
  console.log(`HEAP ${Deno.memoryUsage().heapUsed}`);
}

const draining = performance.now();
const sampler = setInterval(sample, 200);
await connected;
await endpoint.delivered();
clearInterval(sampler);
sample();
console.log(`DRAINED ${Math.round(performance.now() - draining)}`);
console.log(`RSS ${peak}`);
await endpoint.close();

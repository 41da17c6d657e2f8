/**
 * The start-up case, endpoint side: a small device (the vacuum cleaner's shape: one node, two
 * objects, six attributes) with the default durable outbox, from process start to `@online`.
 * `bench/run.ts` spawns it and times until its subscriber receives the `@online`; 2 s later it
 * prints `RSS bytes` (idle, connected) and closes.
 *
 *     deno run -A bench/_startup_endpoint.ts --url mqtt://127.0.0.1:P --uuid U --store DIR
 *
 * @module
 */

import { Endpoint } from "../mod.ts";

const [url, uuid, store] = ["--url", "--uuid", "--store"].map((flag) =>
  Deno.args[Deno.args.indexOf(flag) + 1]
);

const endpoint = new Endpoint(uuid, {
  config: { hostUri: url, persistence: "file", persistenceLocation: store },
});
const node = endpoint.addNode("VacuumCleaner", { implements: ["NodeInterface"] });
const parameters = node.addObject("Parameters");
parameters.addAttribute("set_identification", {
  type: "String",
  constraint: "Parameter",
  value: "VC-0001",
});
parameters.addAttribute("set_power_on", { type: "Boolean", constraint: "Parameter", value: false });
const status = node.addObject("Status");
status.addAttribute("identification", { type: "String", constraint: "Status", value: "VC-0001" });
status.addAttribute("isPoweredOn", { type: "Boolean", constraint: "Status", value: false });
status.addAttribute("throughput", { type: "Number", constraint: "Measure", value: 0 });
status.addAttribute("cycles", { type: "Integer", constraint: "Status", value: 0 });
await endpoint.connect();
// Idle and connected: the resident set once start-up's garbage had time to go.
await new Promise((resolve) => setTimeout(resolve, 2000));
console.log(`RSS ${Deno.memoryUsage().rss}`);
await endpoint.close();

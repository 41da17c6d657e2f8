#!/usr/bin/env -S deno run -A
/**
 * A gateway of simulated vacuum cleaners: N endpoints in one process, as cloud.iO's Modbus or KNX
 * gateways run one per field device. Each has its own UUID, certificate and connection; they share
 * one outbox file and one timer wheel, and connect at a paced rate.
 *
 *     deno run -A examples/gateway.ts [--count N] [--config DIR] [--seconds S] [--rate R]
 *
 * With `--config DIR` holding a `<uuid>.properties` (and certificates) per device, every file's
 * endpoint joins the gateway and connects to its cloud. Without it, N devices (default 10) run
 * against a broker in this process, and a stand-in cloud counts what arrives. It stops after
 * `--seconds` (default: on Ctrl-C), going offline cleanly.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Gateway } from "../mod.ts";
import { startLocalBroker } from "../devcloud/broker.ts";
import { DevCloud } from "../devcloud/cloud.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    count: { type: "string", default: "10" },
    config: { type: "string" },
    seconds: { type: "string" },
    rate: { type: "string", default: "20" },
  },
});

// 1. The devices: one VacuumCleaner model each.
const model = {
  nodes: {
    VacuumCleaner: {
      implements: ["NodeInterface"],
      objects: {
        Status: {
          attributes: {
            throughput: { type: "Number", constraint: "Measure" },
            isPoweredOn: { type: "Boolean", constraint: "Measure", value: true },
          },
        },
        Parameters: {
          attributes: { set_throughput: { type: "Number", constraint: "SetPoint", value: 5 } },
        },
      },
    },
  },
} as const;

// 2. Their configurations: the properties files given, or a local broker and a stand-in cloud.
let local: { close(): Promise<void>; seen: { endpoints: Set<string>; values: number } } | undefined;
let devices: { name: string; config?: { hostUri: string; persistence: "memory" } }[];
if (args.config) {
  devices = [...Deno.readDirSync(args.config)]
    .filter((entry) => entry.name.endsWith(".properties"))
    .map((entry) => ({ name: entry.name.slice(0, -".properties".length) }));
} else {
  const broker = await startLocalBroker();
  const cloud = await DevCloud.connect({ url: broker.url });
  const seen = { endpoints: new Set<string>(), values: 0 };
  const counting = (async () => {
    for await (const event of cloud.events()) {
      if (event.type === "online") seen.endpoints.add(event.uuid);
      if (event.type === "update") seen.values++;
    }
  })();
  local = {
    seen,
    async close() {
      await cloud.close();
      await counting;
      await broker.close();
    },
  };
  devices = Array.from({ length: Number(args.count) }, () => ({
    name: crypto.randomUUID(),
    config: { hostUri: broker.url, persistence: "memory" },
  }));
  console.log(`LOCAL DEMO: ${devices.length} devices against a broker in this process.`);
}

// 3. The gateway: every device an endpoint (typed from the model), connected at a paced rate.
const gateway = new Gateway({ connectRate: Number(args.rate) });
const cleaners = devices.map((device) =>
  gateway.add(device.name, {
    model,
    config: device.config,
    locations: args.config ? [args.config] : undefined,
  })
);
const started = performance.now();
const report = await gateway.connect();
console.log(
  `${report.online.length} online in ${Math.round(performance.now() - started)} ms` +
    (report.offline.length ? `, ${report.offline.length} still trying` : ""),
);

// 4. Each device measures once a second.
const timer = setInterval(() => {
  for (const cleaner of cleaners) {
    cleaner.nodes.VacuumCleaner.objects.Status.attributes.throughput.value =
      Math.round(Math.random() * 1000) / 100;
  }
}, 1000);

// 5. Until the time is up or Ctrl-C: then offline cleanly, and what the cloud saw.
await new Promise<void>((resolve) => {
  Deno.addSignalListener("SIGINT", resolve);
  if (args.seconds) setTimeout(resolve, Number(args.seconds) * 1000);
});
clearInterval(timer);
await gateway.close();
if (local) {
  const { endpoints, values } = local.seen;
  console.log(`the cloud saw ${endpoints.size} endpoints and ${values} values`);
  await local.close();
}
Deno.exit(0);

#!/usr/bin/env -S deno run -A
/**
 * A simulated vacuum cleaner on cloud.iO: its Status measures change every second, and the
 * Parameters the cloud writes (`set_power_on`, `set_throughput`, `set_operating_mode`,
 * `set_identification`) change how it behaves.
 *
 *     deno run -A examples/vacuum_cleaner.ts [--uuid UUID] [--config DIR] [--model FILE] [--port N]
 *
 * With a properties file for the UUID (`<uuid>.properties` in --config DIR, ~/.config/cloud.io/
 * or /etc/cloud.io/), it connects to that cloud. Without one, it runs a local demo: an MQTT broker
 * in this process on 127.0.0.1, a stand-in cloud that prints what arrives and writes a set-point
 * every few seconds (until one is changed on the page), and a web page (on --port, default a
 * free one) that shows the device live and edits its set-points. Ctrl-C goes offline cleanly
 * (`@offline`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type CloudioAttribute, type EndpointModel, modelFromJson, modelFromXml } from "../mod.ts";
import { connectOrDemo, say } from "./_demo.ts";

const DEMO_UUID = "5e1f0a9c-0d1e-4c2a-9b7e-6a3c2d1f0e11";
const USAGE =
  "Usage: deno run -A examples/vacuum_cleaner.ts [--uuid UUID] [--config DIR] [--model FILE] [--port N]";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    uuid: { type: "string" },
    config: { type: "string" },
    model: { type: "string" },
    port: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  console.log(USAGE);
  Deno.exit(0);
}

// 1. The model: our VacuumCleaner description beside this file, or the one given.
async function loadModel(file?: string): Promise<EndpointModel> {
  const url = file
    ? new URL(file, `file://${Deno.cwd()}/`)
    : new URL("./vacuum_cleaner.xml", import.meta.url);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Cannot read the model ${url}: ${response.status}`);
  const text = await response.text();
  const source = file ?? "vacuum_cleaner.xml";
  return url.pathname.endsWith(".json")
    ? modelFromJson(text, { source })
    : await modelFromXml(text, { source });
}
const model = await loadModel(args.model);
const uuid = args.uuid ?? DEMO_UUID;

// 2. A real cloud when a properties file is found; otherwise the local demo (`_demo.ts`).
const { endpoint, demo } = await connectOrDemo(uuid, () => model, {
  config: args.config,
  port: Number(args.port ?? 0),
  title: "a vacuum cleaner",
});

// 3. The simulation: the node that has Parameters and Status objects.
const node = Object.values(endpoint.nodes).find((n) =>
  n.object("Parameters") && n.object("Status")
);
if (!node) throw new Error("The model has no node with Parameters and Status objects");
const parameters = node.object("Parameters")!;
const status = node.object("Status")!;
const param = <T>(name: string) => parameters.attribute(name) as CloudioAttribute | undefined as T;
const power = param<CloudioAttribute<"Boolean"> | undefined>("set_power_on");
const target = param<CloudioAttribute<"Number"> | undefined>("set_throughput");
const mode = param<CloudioAttribute<"Integer"> | undefined>("set_operating_mode");
const label = param<CloudioAttribute<"String"> | undefined>("set_identification");
const measure = <T>(name: string) => status.attribute(name) as CloudioAttribute | undefined as T;
const isPoweredOn = measure<CloudioAttribute<"Boolean"> | undefined>("isPoweredOn");
const throughput = measure<CloudioAttribute<"Number"> | undefined>("throughput");
const operatingMode = measure<CloudioAttribute<"Integer"> | undefined>("operatingMode");
const identification = measure<CloudioAttribute<"String"> | undefined>("identification");

function reflect(): void {
  if (isPoweredOn && power?.value !== undefined && isPoweredOn.value !== power.value) {
    isPoweredOn.value = power.value;
  }
  if (operatingMode && mode?.value !== undefined && operatingMode.value !== mode.value) {
    operatingMode.value = mode.value;
  }
  if (identification && label?.value !== undefined && identification.value !== label.value) {
    identification.value = label.value;
  }
}

// Remote logs (shipped as @logs at or above the level the cloud sets with @logsLevel, ERROR
// until then) and a remote job the cloud can run with @exec as cmd://selfTest.
const log = endpoint.logger("vacuum");
endpoint.addJob("selfTest", (job) => {
  job.output(`motor: ${isPoweredOn?.value ? "running" : "stopped"}`);
  job.output(`throughput: ${throughput?.value ?? 0} (target ${target?.value ?? "none"})`);
  job.output("filter: ok");
});

const stop = new AbortController();
for (const parameter of [power, target, mode, label]) {
  if (!parameter) continue;
  (async () => {
    for await (const change of (parameter as CloudioAttribute).changes({ signal: stop.signal })) {
      if (change.source !== "cloud") continue;
      say("device", `${change.attribute.name} ← ${JSON.stringify(change.value)} (from the cloud)`);
      log.info(`${change.attribute.name} set to ${JSON.stringify(change.value)} by the cloud`);
      if (change.attribute === power && change.value === false) log.warn("powered off remotely");
      reflect();
    }
  })();
}
reflect();
const tick = setInterval(() => {
  if (!throughput) return;
  const on = power?.value ?? true;
  const base = target?.value ?? 2.5;
  throughput.value = on ? Math.round(base * (0.9 + Math.random() * 0.2) * 100) / 100 : 0;
}, 1000);

// 4. In the demo, the stand-in cloud writes a set-point every few seconds, until one is changed
// on the page (so that the page's value stays).
let writes: ReturnType<typeof setInterval> | undefined;
if (demo) {
  const cloud = demo.cloud;
  const scripted = new Set<string>();
  let scripting = true;
  (async () => {
    for await (const event of cloud.events()) {
      if (event.type !== "set" || scripted.delete(`${event.path}=${event.value}`)) continue;
      scripting = false;
      clearInterval(writes);
      say("cloud ", "a set-point was changed on the page: the scripted writes stop");
      break;
    }
  })();
  const script: [string, (i: number) => boolean | number | string][] = [
    ["set_power_on", () => true],
    ["set_throughput", (i) => 1 + (i % 5)],
    ["set_operating_mode", (i) => 1 + (i % 3)],
    ["set_power_on", () => false],
    ["set_identification", (i) => `VC-${String(i).padStart(4, "0")}`],
    ["set_power_on", () => true],
  ];
  let i = 0;
  const write = () => {
    if (!scripting) return;
    const [name, value] = script[i % script.length];
    const attribute = parameters.attribute(name);
    i++;
    if (!attribute) return;
    scripted.add(`${attribute.path}=${value(i)}`);
    cloud.set(uuid, attribute.path, value(i)).catch((e) => say("cloud ", String(e)));
  };
  setTimeout(write, 1500);
  writes = setInterval(write, 3000);
}

// 5. Ctrl-C: go offline cleanly.
let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  say("device", "stopping: publishing @offline");
  clearInterval(tick);
  clearInterval(writes);
  stop.abort();
  await endpoint.close();
  await new Promise((resolve) => setTimeout(resolve, 100)); // let the cloud print @offline
  await demo?.close();
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);

#!/usr/bin/env -S deno run -A
/**
 * A thermostat on cloud.iO, written in the class style: a SetPoint the cloud writes (and that
 * refuses what is out of range with `accept`), a Measure with a deadband, and a listener that
 * turns the heating on and off when the target changes.
 *
 *     deno run -A examples/thermostat.ts [--uuid UUID] [--config DIR] [--seconds N] [--port N]
 *
 * With a properties file for the UUID, it connects to that cloud. Without one, it runs the local
 * demo of `vacuum_cleaner.ts`: an MQTT broker in this process, a stand-in cloud that prints what
 * it receives and writes a few targets, and the devcloud page. `--seconds N` stops it after N
 * seconds (exit code 0) and says what the cloud saw; Ctrl-C stops it otherwise.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CloudioNode, CloudioObject, measure, setPoint, status } from "../mod.ts";
import { connectOrDemo, say } from "./_demo.ts";

const DEMO_UUID = "7a4c3b2e-1d0f-4e5a-8b9c-0d1e2f3a4b5c";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    uuid: { type: "string" },
    config: { type: "string" },
    seconds: { type: "string" },
    port: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  console.log(
    "Usage: deno run -A examples/thermostat.ts [--uuid UUID] [--config DIR] [--seconds N] [--port N]",
  );
  Deno.exit(0);
}
const seconds = args.seconds === undefined ? undefined : Number(args.seconds);
if (seconds !== undefined && !(seconds > 0)) throw new RangeError("--seconds must be more than 0");

// 1. The model, as classes: the fields are the attributes, typed from what they declare.
class Thermostat extends CloudioObject {
  override readonly conforms = "Thermostat";
  /** Written by the cloud; the device refuses targets outside 5–30 °C. */
  target = setPoint("Number", { value: 21, accept: (celsius) => celsius >= 5 && celsius <= 30 });
  /** Measured ten times a second; sent when it moves by more than 0.2 °C, or once a minute. */
  temperature = measure("Number", {
    value: 18,
    policy: { deadband: 0.2, maxInterval: 60_000 },
  });
  /** Whether the heating runs. */
  heating = status("Boolean", { value: false });
}

class Room extends CloudioNode {
  override readonly implements = ["ThermostatInterface"];
  Thermostat = new Thermostat();
}

// 2. A real cloud when a properties file is found; otherwise the local demo.
const { endpoint, demo } = await connectOrDemo(
  args.uuid ?? DEMO_UUID,
  () => ({ nodes: { Room: new Room() } }),
  {
    config: args.config,
    port: seconds === undefined ? Number(args.port ?? 0) : false,
    title: "a thermostat",
    stop: seconds === undefined ? "Ctrl-C to stop." : `It stops after ${seconds} s.`,
  },
);
const thermostat = endpoint.nodes.Room.Thermostat; // typed: the model's Room instance

// 3. The control loop: a listener for the target, a tick for the room's physics.
function control(): void {
  const { heating, temperature, target } = thermostat;
  const on = temperature.value < target.value - 0.3 ||
    (heating.value && temperature.value < target.value + 0.3);
  if (on !== heating.value) heating.value = on;
}
thermostat.target.addEventListener("change", (event) => {
  say("device", `target ← ${event.value} °C (from the ${event.source})`);
  control();
});
let measured = 0;
const tick = setInterval(() => {
  const { heating, temperature } = thermostat;
  const drift = heating.value ? 0.15 : -0.05;
  const noise = (Math.random() - 0.5) * 0.1;
  temperature.value = Math.round((temperature.value + drift + noise) * 100) / 100;
  measured++;
  control();
}, 100);

// 4. In the demo, the stand-in cloud writes targets: one the device takes, one it refuses.
const writes: ReturnType<typeof setTimeout>[] = [];
if (demo) {
  const path = thermostat.target.path;
  for (const [at, celsius] of [[1000, 23], [2000, 35], [3000, 19.5]] as const) {
    writes.push(
      setTimeout(() => demo.cloud.set(endpoint.uuid!, path, celsius).catch(() => {}), at),
    );
  }
}

// 5. Stop: after --seconds, or on Ctrl-C. close() sends what the deadband held back, then
// @offline.
let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(tick);
  for (const write of writes) clearTimeout(write);
  say("device", `stopping after ${measured} measurements: publishing @offline`);
  await endpoint.close();
  if (demo) {
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the cloud print @offline
    const updates = demo.seen.filter((e) => e.type === "update" && e.path.endsWith("/temperature"));
    const last = updates.at(-1);
    say(
      "cloud ",
      `saw ${updates.length} @update of the temperature for ${measured} measurements` +
        (last?.type === "update" ? `, the last ${last.attribute.value} °C` : "") +
        `; the device's last value was ${thermostat.temperature.value} °C`,
    );
    await demo.close();
  }
  Deno.exit(0);
}
if (seconds !== undefined) setTimeout(stop, seconds * 1000);
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

/**
 * The process side of the gateway case (`_case_gateway.ts`): N devices in one process, each the
 * VacuumCleaner model with its own UUID, client certificate and TLS connection.
 *
 *     deno run -A bench/_gateway.ts --variant endpoint|raw --config DIR [--rate 100]
 *       [--settle 10] [--idle 60] [--updates 20]
 *
 * `DIR` holds a `<uuid>.properties` per device (broker, certificate files, `persistence=file`,
 * keep-alive). The `endpoint` variant is a {@linkcode Gateway} of them (one shared outbox file,
 * one timer wheel, connections paced at `--rate` per second). The `raw` variant is the baseline:
 * one MQTT.js client per device with the same certificate and keep-alive, opened at the same
 * pace, subscribing to its `@set/…/#` and publishing the same retained `@online` bytes, and later
 * the same `@update` bytes at QoS 1; it has no model, no outbox and MQTT.js's own reconnect.
 *
 * It goes through four steps and prints a line after each (t: epoch ms with a fraction):
 * `ONLINE ms` (from the first connection attempt to the last device online), `IDLE cpuUs ms rss`
 * (CPU of this process over `--idle` seconds of keep-alives only, and RSS after it),
 * `THROUGHPUT updates ms` (every device sets `--updates` values; until the broker acknowledged
 * all), then `RESTART` and waits: the parent restarts the broker, and it prints `LOST t` when
 * every device has lost its connection and `BACK t` when all are online again. It ends with
 * `RSS_HWM bytes` and `END p`. `IDLE` and `THROUGHPUT` end with the step's start and end on the
 * `performance.now()` clock, as `END` does, to find the steps in a `--cpu-prof` profile.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import process from "node:process";
import { parseArgs } from "node:util";
import mqtt from "npm:mqtt@5.16.0";
import { type Endpoint, Gateway, modelFromJson } from "../mod.ts";
import { parseProperties } from "../extend.ts";
import { encodeAttribute, encodeEndpoint, modelTree } from "../lib/codec/encode.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    variant: { type: "string", default: "endpoint" },
    config: { type: "string" },
    rate: { type: "string", default: "100" },
    idle: { type: "string", default: "60" },
    settle: { type: "string", default: "10" },
    updates: { type: "string", default: "20" },
  },
});

const dir = args.config!;
const rate = Number(args.rate);
const idleMs = Number(args.idle) * 1000;
const settleMs = Number(args.settle) * 1000;
const updates = Number(args.updates);
const uuids = [...Deno.readDirSync(dir)]
  .filter((entry) => entry.name.endsWith(".properties"))
  .map((entry) => entry.name.slice(0, -".properties".length))
  .sort();
const model = modelFromJson(
  await Deno.readTextFile(new URL("../examples/vacuum_cleaner.json", import.meta.url)),
);

const now = () => performance.timeOrigin + performance.now();
// Deno.cpuUsage() exists in Deno 2.9 but is not in its type declarations yet.
const denoCpuUsage = (Deno as { cpuUsage?: () => { user: number; system: number } }).cpuUsage;
const cpu = () => {
  const { user, system } = denoCpuUsage ? denoCpuUsage() : process.cpuUsage();
  return user + system;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const yieldNow = () => new Promise((resolve) => setTimeout(resolve, 0));
const hwm = () =>
  Number(/VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"))![1]) * 1024;

/** Counts devices online, and resolves when all are online or all are offline. */
class Census {
  #online = new Set<string>();
  #waiters: { all: boolean; resolve(): void }[] = [];
  set(uuid: string, online: boolean): void {
    if (online) this.#online.add(uuid);
    else this.#online.delete(uuid);
    this.#waiters = this.#waiters.filter((w) => {
      const done = w.all ? this.#online.size === uuids.length : this.#online.size === 0;
      if (done) w.resolve();
      return !done;
    });
  }
  until(all: boolean): Promise<void> {
    if (all ? this.#online.size === uuids.length : this.#online.size === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push({ all, resolve }));
  }
}

interface Devices {
  /** Starts connecting; resolves when all are online. */
  connect(census: Census): Promise<void>;
  /** Sets `updates` values on every device; resolves when the broker acknowledged all. */
  publish(updates: number): Promise<void>;
  close(): Promise<void>;
}

const census = new Census();
const devices = args.variant === "raw" ? rawDevices() : gatewayDevices();

const t0 = performance.now();
await devices.connect(census);
console.log(`ONLINE ${performance.now() - t0}`);

// The start's garbage is collected and the last @online acknowledged before idle is measured.
await sleep(settleMs);
const cpu0 = cpu();
const idle0 = performance.now();
for (let slice = cpu0, at = idle0; performance.now() - idle0 < idleMs;) {
  await sleep(Math.min(10_000, idleMs - (performance.now() - idle0)));
  console.log(`IDLE_SLICE ${cpu() - slice} ${performance.now() - at}`);
  slice = cpu();
  at = performance.now();
}
console.log(
  `IDLE ${cpu() - cpu0} ${
    performance.now() - idle0
  } ${Deno.memoryUsage().rss} ${idle0} ${performance.now()}`,
);

const p0 = performance.now();
await devices.publish(updates);
console.log(
  `THROUGHPUT ${updates * uuids.length} ${performance.now() - p0} ${p0} ${performance.now()}`,
);

const lost = census.until(false);
console.log("RESTART");
await lost;
console.log(`LOST ${now()}`);
await census.until(true);
console.log(`BACK ${now()}`);

console.log(`RSS_HWM ${hwm()}`);
await devices.close();
// The clock of the last line, to place the steps in a --cpu-prof profile (which ends here).
console.log(`END ${performance.now()}`);
Deno.exit(0);

function gatewayDevices(): Devices {
  const gateway = new Gateway({ connectRate: rate, onError: () => {} });
  const endpoints: Endpoint[] = uuids.map((uuid) => gateway.add(uuid, { model, locations: [dir] }));
  return {
    async connect(census) {
      for (const endpoint of endpoints) {
        (async () => {
          for await (const event of endpoint.status()) {
            if (event.type === "online") census.set(endpoint.name, true);
            if (event.type === "offline") census.set(endpoint.name, false);
          }
        })();
      }
      const online = census.until(true);
      await gateway.connect({ timeout: 600_000 });
      await online;
    },
    async publish(updates) {
      const throughput = endpoints.map((e) =>
        e.attribute("VacuumCleaner/Status/throughput", "Number")!
      );
      let set = 0;
      for (let k = 0; k < updates; k++) {
        for (const attribute of throughput) {
          attribute.value = k + 0.5;
          if (++set % 1000 === 0) await yieldNow();
        }
      }
      await Promise.all(endpoints.map((e) => e.delivered()));
    },
    close: () => gateway.close(),
  };
}

function rawDevices(): Devices {
  const online = encodeEndpoint("CBOR", modelTree(model), ["JSON", "CBOR"]);
  const timestamp = Date.now();
  const clients = uuids.map((uuid) => {
    const p = parseProperties(Deno.readTextFileSync(`${dir}/${uuid}.properties`));
    const key = (name: string) => p.get(`ch.hevs.cloudio.endpoint.${name}`) ?? p.get(name)!;
    return {
      uuid,
      url: key("hostUri"),
      ca: Deno.readTextFileSync(key("ssl.authorityCert")),
      cert: Deno.readTextFileSync(key("ssl.clientCert")),
      key: Deno.readTextFileSync(key("ssl.clientKey")),
      keepalive: Number(key("keepAliveInterval")),
      client: undefined as mqtt.MqttClient | undefined,
    };
  });
  return {
    async connect(census) {
      const all = census.until(true);
      for (const [i, c] of clients.entries()) {
        if (i > 0) await sleep(1000 / rate);
        const client = mqtt.connect(c.url.replace(/^ssl:/, "mqtts:"), {
          clientId: c.uuid,
          protocolVersion: 4,
          clean: true,
          keepalive: c.keepalive,
          ca: c.ca,
          cert: c.cert,
          key: c.key,
          rejectUnauthorized: true,
          reconnectPeriod: 1000,
          will: { topic: `@offline/${c.uuid}`, payload: Buffer.alloc(0), qos: 1, retain: false },
        });
        client.on("connect", () => {
          client.subscribe(`@set/${c.uuid}/#`, { qos: 1 }, () => {
            client.publish(
              `@online/${c.uuid}`,
              Buffer.from(online),
              { qos: 1, retain: true },
              () => census.set(c.uuid, true),
            );
          });
        });
        client.on("close", () => census.set(c.uuid, false));
        client.on("error", () => {});
        c.client = client;
      }
      await all;
    },
    async publish(updates) {
      const acks: Promise<unknown>[] = [];
      let sent = 0;
      for (let k = 0; k < updates; k++) {
        const payload = Buffer.from(encodeAttribute("CBOR", {
          type: "Number",
          constraint: "Measure",
          value: k + 0.5,
          timestamp,
        }));
        for (const c of clients) {
          acks.push(
            c.client!.publishAsync(`@update/${c.uuid}/VacuumCleaner/Status/throughput`, payload, {
              qos: 1,
              retain: true,
            }),
          );
          if (++sent % 1000 === 0) await yieldNow();
        }
      }
      await Promise.all(acks);
    },
    async close() {
      await Promise.all(clients.map((c) => c.client?.endAsync()));
    },
  };
}

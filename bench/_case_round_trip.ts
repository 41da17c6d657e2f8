/**
 * Case 2, `@set` → `@didSet` round trips: the cloud sets a SetPoint and waits for the answer,
 * sequentially, against the endpoint with a memory or a file outbox and a raw MQTT.js echo
 * (`_echo.ts`), interleaved in blocks after a warm-up.
 *
 * @module
 */

import { connectCloud } from "../tests/_cloud.ts";
import { type Child, spawnDeno } from "../tests/_process.ts";
import { log, remove, script, tempDir, within } from "./_common.ts";
import { config } from "./_config.ts";
import { fmtMs } from "./_format.ts";
import { percentile } from "./_stats.ts";

type EchoVariant = "endpoint memory" | "endpoint file" | "raw echo";

export async function roundTripCase(endpointUrl: string, cloudUrl: string) {
  let pending: { topic: string; resolve: (t: number) => void } | undefined;
  const cloud = await connectCloud(cloudUrl, {
    record: false,
    subscribe: "@didSet/#",
    onMessage: (m) => {
      if (pending && m.topic === pending.topic) {
        const p = pending;
        pending = undefined;
        p.resolve(performance.now());
      }
    },
  });
  const stores: string[] = [];
  const children: Child[] = [];
  const uuids = new Map<EchoVariant, string>();
  const samples = new Map<EchoVariant, number[]>();
  let lost = 0;
  try {
    for (const variant of ["endpoint memory", "endpoint file", "raw echo"] as const) {
      const uuid = crypto.randomUUID();
      const store = await tempDir("echo");
      stores.push(store);
      uuids.set(variant, uuid);
      samples.set(variant, []);
      const child = spawnDeno([
        "run",
        "-A",
        script("_echo.ts"),
        "--mode",
        variant === "raw echo" ? "raw" : "endpoint",
        "--persistence",
        variant === "endpoint file" ? "file" : "memory",
        "--store",
        store,
        "--url",
        endpointUrl,
        "--uuid",
        uuid,
        "--format",
        config.format,
      ]);
      children.push(child);
      await child.waitForLine(/^READY$/, 30_000);
    }
    let lastTimestamp = 0;
    let value = 0;
    const once = async (variant: EchoVariant): Promise<number> => {
      const uuid = uuids.get(variant)!;
      const path = "Node/Parameters/sp";
      const timestamp = lastTimestamp = Math.max(Date.now(), lastTimestamp + 1);
      const body = `{"type":"Number","constraint":"SetPoint","timestamp":${
        timestamp / 1000
      },"value":${
        ++value +
        0.5
      }}`;
      const answered = new Promise<number>((resolve) =>
        pending = { topic: `@didSet/${uuid}/${path}`, resolve }
      );
      const t0 = performance.now();
      cloud.publish(`@set/${uuid}/${path}`, body).catch(() => {});
      const t1 = await within(answered, 5000, NaN);
      if (Number.isNaN(t1)) {
        pending = undefined;
        lost++;
      }
      return t1 - t0;
    };
    const variants = [...uuids.keys()];
    for (const variant of variants) {
      for (let i = 0; i < config.warmup; i++) await once(variant);
    }
    const blocks = 4;
    for (let block = 0; block < blocks; block++) {
      const order = variants.map((_, i) => variants[(i + block) % variants.length]);
      for (const variant of order) {
        const into = samples.get(variant)!;
        for (let i = 0; i < config.roundTrips / blocks; i++) {
          const ms = await once(variant);
          if (!Number.isNaN(ms)) into.push(ms);
        }
      }
    }
  } finally {
    for (const child of children) await child[Symbol.asyncDispose]();
    for (const store of stores) await remove(store);
    await cloud.close();
  }
  const summary = Object.fromEntries(
    [...samples].map(([variant, values]) => [variant, {
      n: values.length,
      p50: percentile(values, 50),
      p90: percentile(values, 90),
      p99: percentile(values, 99),
      max: Math.max(...values),
    }]),
  ) as Record<EchoVariant, { n: number; p50: number; p90: number; p99: number; max: number }>;
  for (const [variant, s] of Object.entries(summary)) {
    log(`round trip ${variant.padEnd(15)} p50 ${fmtMs(s.p50)} p99 ${fmtMs(s.p99)} (n=${s.n})`);
  }
  return { summary, lost };
}

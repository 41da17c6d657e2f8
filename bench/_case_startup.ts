/**
 * Case 5, start-up: the time from spawning a process to its `@online` at the cloud, for the
 * endpoint (`_startup_endpoint.ts`) and for a process that only connects MQTT.js
 * (`_startup_raw.ts`), alternately; and each one's resident set once idle and connected.
 *
 * @module
 */

import { connectCloud, type Received } from "../tests/_cloud.ts";
import { spawnDeno } from "../tests/_process.ts";
import { field, log, remove, script, tempDir, within } from "./_common.ts";
import { config } from "./_config.ts";
import { fmtMs } from "./_format.ts";
import { median } from "./_stats.ts";

export async function startupCase(endpointUrl: string, cloudUrl: string) {
  const waiting = new Map<string, (message: Received) => void>();
  const cloud = await connectCloud(cloudUrl, {
    record: false,
    subscribe: "@online/#",
    onMessage: (m) => waiting.get(m.topic.slice("@online/".length))?.(m),
  });
  const samples: Record<"endpoint" | "raw", number[]> = { endpoint: [], raw: [] };
  const idle: Record<"endpoint" | "raw", number[]> = { endpoint: [], raw: [] };
  let bytes = 200;
  try {
    for (let i = 0; i <= config.startups; i++) {
      // One warm-up each first (module cache), endpoint first to learn its @online size.
      const order = i % 2 === 0 ? ["endpoint", "raw"] as const : ["raw", "endpoint"] as const;
      for (const variant of order) {
        const uuid = crypto.randomUUID();
        const store = await tempDir("startup");
        const online = new Promise<{ at: number; size: number }>((resolve) =>
          waiting.set(uuid, (m) => resolve({ at: performance.now(), size: m.payload.length }))
        );
        const t0 = performance.now();
        const child = spawnDeno(
          variant === "endpoint"
            ? [
              "run",
              "-A",
              script("_startup_endpoint.ts"),
              "--url",
              endpointUrl,
              "--uuid",
              uuid,
              "--store",
              store,
            ]
            : [
              "run",
              "-A",
              script("_startup_raw.ts"),
              "--url",
              endpointUrl,
              "--uuid",
              uuid,
              "--bytes",
              String(bytes),
            ],
        );
        try {
          const seen = await within(online, 30_000, undefined);
          if (!seen) throw new Error(`no @online from the ${variant} process:\n${child.stderr()}`);
          if (variant === "endpoint") bytes = seen.size;
          if (i > 0) samples[variant].push(seen.at - t0);
          await within(child.status, 10_000, undefined);
          if (i > 0) idle[variant].push(field(child, "RSS"));
        } finally {
          waiting.delete(uuid);
          await child[Symbol.asyncDispose]();
          await remove(store);
        }
      }
    }
  } finally {
    await cloud.close();
  }
  const result = {
    endpoint: median(samples.endpoint),
    raw: median(samples.raw),
    samples,
    onlineBytes: bytes,
    /** Resident set 2 s after `@online`, idle and connected, bytes (medians). */
    idleRss: { endpoint: median(idle.endpoint), raw: median(idle.raw) },
  };
  log(`start-up: endpoint ${fmtMs(result.endpoint)}, raw MQTT.js ${fmtMs(result.raw)} (medians)`);
  return result;
}

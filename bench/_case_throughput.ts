/**
 * Case 1, update throughput: a publisher process (`_publisher.ts`) sends `config.updates`
 * `@update`s through the endpoint with a memory or a file outbox, or as raw MQTT.js, to a
 * subscriber that counts them; the variants rotate round by round, then each is profiled once.
 *
 * @module
 */

import { type Cloud, connectCloud, type Received } from "../tests/_cloud.ts";
import { spawnDeno } from "../tests/_process.ts";
import { epochNow, field, log, remove, ROOT, script, tempDir, within } from "./_common.ts";
import { config, flags } from "./_config.ts";
import { fmtInt, fmtMs } from "./_format.ts";
import { type CpuProfile, type ProfileSummary, summarizeProfile } from "./_profile.ts";

export type Variant = "raw" | "memory" | "file";
export const VARIANTS: Variant[] = ["raw", "memory", "file"];

export interface PublisherRun {
  variant: Variant;
  /** The round it belongs to (-1: a profiled run). */
  round: number;
  /** Messages per second, from the first publish to the last message at the subscriber. */
  rate: number;
  /** Publisher CPU (user + system) from the first publish to the last PUBACK, µs. */
  cpuUs: number;
  /** Endpoint only: ms spent in the loop that sets the values. */
  setMs: number;
  rssBytes: number;
  /** The process's peak resident set, bytes. */
  peakBytes: number;
  received: number;
  profile?: ProfileSummary;
}

interface Subscriber {
  cloud: Cloud;
  /** Starts counting messages under `prefix`; resolves when `count` have arrived. */
  expect(prefix: string, count: number): Promise<void>;
  /** How many arrived so far. */
  received(): number;
  /** When the last one arrived, epoch ms. */
  last(): number;
}

async function updateSubscriber(url: string): Promise<Subscriber> {
  let prefix = "\u0000";
  let target = 0;
  let count = 0;
  let last = 0;
  let done: () => void = () => {};
  const cloud = await connectCloud(url, {
    record: false,
    subscribe: "@update/#",
    onMessage: (m: Received) => {
      if (!m.topic.startsWith(prefix)) return;
      count++;
      last = epochNow();
      if (count === target) done();
    },
  });
  return {
    cloud,
    expect(p, n) {
      prefix = p;
      target = n;
      count = 0;
      last = 0;
      return new Promise<void>((resolve) => done = resolve);
    },
    received: () => count,
    last: () => last,
  };
}

async function publisherRun(
  brokerUrl: string,
  subscriber: Subscriber,
  variant: Variant,
  round: number,
  profileDir?: string,
  /** How many values, and how many the publisher sets before it yields to the event loop. */
  shape: { total: number; chunk: number } = { total: config.updates, chunk: 1000 },
): Promise<PublisherRun> {
  const uuid = crypto.randomUUID();
  const store = await tempDir("store");
  const { total } = shape;
  const prefix = `@update/${uuid}/`;
  const arrived = subscriber.expect(prefix, total).then(() => true);
  const profileName = `${variant}.cpuprofile`;
  const child = spawnDeno([
    "run",
    "-A",
    ...(profileDir
      ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${profileName}`]
      : []),
    script("_publisher.ts"),
    "--mode",
    variant === "raw" ? "raw" : "endpoint",
    "--persistence",
    variant === "raw" ? "memory" : variant,
    "--store",
    store,
    "--url",
    brokerUrl,
    "--uuid",
    uuid,
    "--attributes",
    String(config.attributes),
    "--per",
    String(Math.round(total / config.attributes)),
    "--window",
    String(config.window),
    "--chunk",
    String(shape.chunk),
    "--format",
    config.format,
  ]);
  try {
    const status = await within(child.status, 300_000, undefined);
    const complete = await within(arrived, 30_000, false);
    if (!status?.success || !complete) {
      throw new Error(
        `the ${variant} publisher ${
          !status ? "timed out" : status.success ? "finished" : `exited with ${status.code}`
        } and the subscriber received ${subscriber.received()} of ${total}; stderr:\n${child.stderr()}`,
      );
    }
    const start = field(child, "START");
    const run: PublisherRun = {
      variant,
      round,
      rate: total / ((subscriber.last() - start) / 1000),
      cpuUs: field(child, "CPU"),
      setMs: field(child, "SET") - start,
      rssBytes: field(child, "RSS"),
      peakBytes: field(child, "PEAK"),
      received: subscriber.received(),
    };
    if (profileDir) {
      const path = `${profileDir}/${profileName}`;
      const profile = JSON.parse(await Deno.readTextFile(path)) as CpuProfile;
      const duration = profile.endTime - profile.startTime;
      const end = field(child, "END");
      // START and ACKED on the profile's clock, which ends where the child printed END.
      const window: [number, number] = [
        duration - (end - field(child, "START", 2)) * 1000,
        duration - (end - field(child, "ACKED", 2)) * 1000,
      ];
      run.profile = summarizeProfile(profile, { root: ROOT, window, top: 25 });
    }
    return run;
  } finally {
    await child[Symbol.asyncDispose]();
    await remove(store);
  }
}

export async function throughputCase(brokerUrl: string, cloudUrl: string) {
  const subscriber = await updateSubscriber(cloudUrl);
  const runs: PublisherRun[] = [];
  try {
    for (let round = 0; round < config.rounds; round++) {
      // Rotate the order so that no variant always runs first (or right after another).
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
      for (const variant of order) {
        try {
          const run = await publisherRun(brokerUrl, subscriber, variant, round);
          runs.push(run);
          log(
            `throughput round ${round + 1}/${config.rounds} ${variant.padEnd(6)} ${
              fmtInt(run.rate)
            } msg/s, CPU ${fmtMs(run.cpuUs / 1000)}`,
          );
        } catch (error) {
          log(`throughput round ${round + 1} ${variant} FAILED: ${(error as Error).message}`);
        }
      }
    }
    // Bursts: config.burst values set in one loop that never yields (the outbox queues them all
    // at once), memory outbox against raw MQTT.js publishing as many in one loop, its window
    // the same; their peak resident sets.
    const bursts: PublisherRun[] = [];
    const burst = { total: config.burst, chunk: config.burst };
    for (let round = 0; round < config.rounds; round++) {
      for (const variant of round % 2 ? ["memory", "raw"] as const : ["raw", "memory"] as const) {
        try {
          const run = await publisherRun(brokerUrl, subscriber, variant, round, undefined, burst);
          bursts.push(run);
          log(
            `burst round ${round + 1}/${config.rounds} ${variant.padEnd(6)} peak ${
              fmtInt(run.peakBytes / 1e6)
            } MB`,
          );
        } catch (error) {
          log(`burst round ${round + 1} ${variant} FAILED: ${(error as Error).message}`);
        }
      }
    }
    const profiles: Partial<Record<Variant, ProfileSummary>> = {};
    if (config.profile) {
      const dir = flags.profiles ?? await tempDir("profiles");
      await Deno.mkdir(dir, { recursive: true });
      try {
        for (const variant of ["memory", "file", "raw"] as const) {
          try {
            const run = await publisherRun(brokerUrl, subscriber, variant, -1, dir);
            profiles[variant] = run.profile;
            log(`profiled ${variant} (${fmtInt(run.rate)} msg/s under the profiler)`);
          } catch (error) {
            log(`profile of ${variant} FAILED: ${(error as Error).message}`);
          }
        }
      } finally {
        if (!flags.profiles) await remove(dir);
      }
    }
    return { runs, profiles, bursts };
  } finally {
    await subscriber.cloud.close();
  }
}

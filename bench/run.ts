/**
 * `deno task bench` (`deno run -A bench/run.ts`): the endpoint measured side by side with its
 * baselines, in one run, against a mosquitto it starts itself (plain TCP on loopback).
 *
 * Every figure is divided by a baseline measured in the same run: raw MQTT.js publishing the
 * same bytes the same way, a raw MQTT.js echo, `JSON.stringify`/`cborg`, a process that only
 * connects MQTT.js. Throughput runs alternate their order round by round and take medians,
 * round trips alternate in blocks, start-ups alternate. See `bench/README.md` for each case.
 *
 * Prints one table (Markdown), the CPU profile's hotspots and the goals, and writes
 * `bench/results.json` and `bench/results.svg`.
 *
 *     deno run -A bench/run.ts [--quick] [--updates N] [--rounds R] [--offline N]
 *       [--round-trips N] [--startups N] [--no-profile] [--profiles DIR] [--out DIR]
 *
 * `--quick` uses smaller sizes (about a minute) and writes its results to a temporary directory
 * unless `--out` says where; `--profiles DIR` keeps the `.cpuprofile` files (open them in Chrome
 * DevTools or speedscope).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startMosquitto } from "../tests/_broker.ts";
import { type Cloud, connectCloud, type Received } from "../tests/_cloud.ts";
import { type Child, spawnDeno } from "../tests/_process.ts";
import { type ChartRow, renderChart } from "./_chart.ts";
import { type CpuProfile, type ProfileSummary, summarizeProfile } from "./_profile.ts";
import { median, percentile } from "./_stats.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    updates: { type: "string" },
    rounds: { type: "string" },
    offline: { type: "string" },
    "round-trips": { type: "string" },
    startups: { type: "string" },
    "no-profile": { type: "boolean", default: false },
    profiles: { type: "string" },
    out: { type: "string" },
  },
});

const quick = flags.quick;
const config = {
  mode: quick ? "quick" : "full",
  /** Attributes the updates are spread over. */
  attributes: 10,
  /** Updates per throughput run (attributes × k). */
  updates: Number(flags.updates ?? (quick ? 20_000 : 50_000)),
  /** Throughput runs per variant. */
  rounds: Number(flags.rounds ?? (quick ? 3 : 7)),
  /** The publish window: the endpoint's default maxInFlight. */
  window: 1000,
  /** Round trips per variant, after the warm-up. */
  roundTrips: Number(flags["round-trips"] ?? (quick ? 500 : 2000)),
  warmup: quick ? 100 : 200,
  /** Values queued offline. */
  offline: Number(flags.offline ?? (quick ? 100_000 : 1_000_000)),
  /** Start-ups per variant (after one warm-up each). */
  startups: Number(flags.startups ?? (quick ? 3 : 5)),
  modelAttributes: 10_000,
  /** Fresh processes per format for the model case (each encodes its format first, cold). */
  modelProcesses: quick ? 1 : 3,
  format: "CBOR",
  profile: !flags["no-profile"],
};

const HERE = new URL(".", import.meta.url);
const ROOT = new URL("../", import.meta.url).href;
const script = (name: string) => new URL(name, HERE).pathname;
const started = performance.now();
const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
const log = (line: string) => console.log(`[${elapsed().padStart(6)} s] ${line}`);
const epochNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MB = 1e6;

/** Resolves with the promise's value, or `fallback` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((resolve) => timer = setTimeout(() => resolve(fallback), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function field(child: Child, name: string, index = 1): number {
  const line = child.lines.findLast((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[index]) : NaN;
}

async function tempDir(prefix: string): Promise<string> {
  return await Deno.makeTempDir({ prefix: `cloudio-bench-${prefix}-` });
}

async function remove(path: string): Promise<void> {
  await Deno.remove(path, { recursive: true }).catch(() => {});
}

// ---------------------------------------------------------------------------------------------
// Machine

function machine() {
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return "";
    }
  };
  const cpu = /model name\s*:\s*(.+)/.exec(read("/proc/cpuinfo"))?.[1] ?? "unknown";
  let mosquitto = "unknown";
  try {
    const out = new Deno.Command("/usr/sbin/mosquitto", { args: ["-h"], stdout: "piped" })
      .outputSync();
    mosquitto = /mosquitto version (\S+)/.exec(new TextDecoder().decode(out.stdout))?.[1] ??
      mosquitto;
  } catch {
    // not installed: startMosquitto() will say so
  }
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryGB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    mosquitto,
    loadAverageAtStart: read("/proc/loadavg").split(" ").slice(0, 3).join(" "),
  };
}

// ---------------------------------------------------------------------------------------------
// Update throughput

type Variant = "raw" | "memory" | "file";
const VARIANTS: Variant[] = ["raw", "memory", "file"];

interface PublisherRun {
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
): Promise<PublisherRun> {
  const uuid = crypto.randomUUID();
  const store = await tempDir("store");
  const total = config.updates;
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

async function throughputCase(brokerUrl: string, cloudUrl: string) {
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
    return { runs, profiles };
  } finally {
    await subscriber.cloud.close();
  }
}

// ---------------------------------------------------------------------------------------------
// @set → @didSet round trips

type EchoVariant = "endpoint memory" | "endpoint file" | "raw echo";

async function roundTripCase(endpointUrl: string, cloudUrl: string) {
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

// ---------------------------------------------------------------------------------------------
// Offline queue and replay

/** How many messages a `@delayed` payload carries (CBOR header or JSON), or 1 for the rest. */
function carried(message: Received): number {
  if (!message.topic.startsWith("@delayed/")) return 1;
  const bytes = message.payload;
  if (bytes[0] === 0x7b) {
    return (JSON.parse(new TextDecoder().decode(bytes)) as { messages: unknown[] }).messages
      .length;
  }
  // CBOR: find the "messages" key (0x68 + 8 bytes) and read the array header after it.
  const key = [0x68, ...new TextEncoder().encode("messages")];
  search: for (let i = 0; i + key.length < bytes.length; i++) {
    for (let j = 0; j < key.length; j++) if (bytes[i + j] !== key[j]) continue search;
    const at = i + key.length;
    const info = bytes[at] & 0x1f;
    if (info < 24) return info;
    if (info === 24) return bytes[at + 1];
    if (info === 25) return (bytes[at + 1] << 8) | bytes[at + 2];
    if (info === 26) {
      return ((bytes[at + 1] << 24) >>> 0) + (bytes[at + 2] << 16) + (bytes[at + 3] << 8) +
        bytes[at + 4];
    }
  }
  return 0;
}

/** V8 flags that bound the heap, for memory-constrained devices (see the README). */
const SMALL_HEAP = ["--max-semi-space-size=1", "--max-old-space-size=24"];

async function offlineCase(v8Flags: string[] = []) {
  const uuid = crypto.randomUUID();
  const store = await tempDir("offline");
  // A broker of its own, with persistence: the subscriber's session survives the stop.
  await using broker = await startMosquitto({ persistence: true });
  let delivered = 0;
  await using _cloud = await connectCloud(broker.cloudUrl, {
    clientId: `bench-${uuid.slice(0, 8)}`,
    clean: false,
    record: false,
    subscribe: [`@update/${uuid}/#`, `@delayed/${uuid}`],
    onMessage: (m) => delivered += carried(m),
  });
  await broker.stop();
  const child = spawnDeno([
    "run",
    "-A",
    `--v8-flags=${["--expose-gc", ...v8Flags].join(",")}`,
    script("_offline.ts"),
    "--url",
    broker.tcpUrl,
    "--uuid",
    uuid,
    "--store",
    store,
    "--count",
    String(config.offline),
    "--attributes",
    String(config.attributes),
    "--format",
    config.format,
  ]);
  try {
    await child.waitForLine(/^RSS_SET /, 240_000);
    log(`offline: ${fmtInt(config.offline)} values queued in ${fmtMs(field(child, "SET"))}`);
    await broker.start();
    await child.waitForLine(/^HEAP_REPLAY /, 240_000);
    await child.status;
    const deadline = Date.now() + 30_000;
    while (delivered < config.offline && Date.now() < deadline) await sleep(20);
    const result = {
      count: config.offline,
      setMs: field(child, "SET"),
      rssIdle: field(child, "RSS_IDLE"),
      rssSet: field(child, "RSS_SET"),
      rssReplay: field(child, "RSS_REPLAY"),
      replayMs: field(child, "REPLAYED"),
      delivered,
      heapIdle: {
        total: field(child, "RSS_IDLE", 2),
        used: field(child, "RSS_IDLE", 3),
        external: field(child, "RSS_IDLE", 4),
      },
      /** Largest V8 heap (total, used) and external memory while queueing, bytes. */
      /** V8 heap in use after a full GC with the whole backlog queued. */
      heapAfterGc: field(child, "HEAP_AFTER_GC"),
      heapSet: {
        total: field(child, "HEAP_SET", 1),
        used: field(child, "HEAP_SET", 2),
        external: field(child, "HEAP_SET", 3),
      },
      heapReplay: {
        total: field(child, "HEAP_REPLAY", 1),
        used: field(child, "HEAP_REPLAY", 2),
        external: field(child, "HEAP_REPLAY", 3),
      },
    };
    log(
      `offline: replayed in ${fmtMs(result.replayMs)}, peak RSS ${
        fmtMB(result.rssSet)
      } queueing (V8 heap at most ${fmtMB(result.heapSet.total)}, ${
        fmtMB(result.heapAfterGc)
      } live after a full GC) / ${fmtMB(result.rssReplay)} overall (heap ${
        fmtMB(result.heapReplay.total)
      }), ${fmtInt(delivered)} delivered`,
    );
    return result;
  } finally {
    await child[Symbol.asyncDispose]();
    await remove(store);
  }
}

// ---------------------------------------------------------------------------------------------
// Model

interface ModelProcess {
  attributes: number;
  buildMs: number;
  first: "JSON" | "CBOR";
  coldMs: number;
  medians: Record<string, number>;
  bytes: Record<string, number>;
}

async function modelProcess(first: "JSON" | "CBOR"): Promise<ModelProcess> {
  const child = spawnDeno([
    "run",
    "-A",
    script("_model.ts"),
    "--attributes",
    String(config.modelAttributes),
    "--first",
    first,
  ]);
  try {
    const line = await child.waitForLine(/^MODEL /, 120_000);
    return JSON.parse(line.slice("MODEL ".length)) as ModelProcess;
  } finally {
    await child[Symbol.asyncDispose]();
  }
}

/** Fresh processes, alternately encoding CBOR and JSON first (cold); medians across them. */
async function modelCase() {
  const processes: ModelProcess[] = [];
  for (let i = 0; i < 2 * config.modelProcesses; i++) {
    processes.push(await modelProcess(i % 2 === 0 ? "CBOR" : "JSON"));
  }
  const cold = (format: "JSON" | "CBOR") =>
    median(processes.filter((p) => p.first === format).map((p) => p.coldMs));
  const result = {
    attributes: processes[0].attributes,
    processes: processes.length,
    buildMs: median(processes.map((p) => p.buildMs)),
    cold: { CBOR: cold("CBOR"), JSON: cold("JSON") },
    medians: Object.fromEntries(
      Object.keys(processes[0].medians).map((name) => [
        name,
        median(processes.map((p) => p.medians[name])),
      ]),
    ),
    bytes: processes[0].bytes,
    coldSamples: processes.map(({ first, coldMs }) => ({ first, coldMs })),
  };
  log(
    `model: @online CBOR ${fmtMs(result.cold.CBOR)} first, ${
      fmtMs(result.medians["online CBOR"])
    } warm; JSON ${fmtMs(result.cold.JSON)} first, ${fmtMs(result.medians["online JSON"])} warm`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------------
// Start-up

async function startupCase(endpointUrl: string, cloudUrl: string) {
  const waiting = new Map<string, (message: Received) => void>();
  const cloud = await connectCloud(cloudUrl, {
    record: false,
    subscribe: "@online/#",
    onMessage: (m) => waiting.get(m.topic.slice("@online/".length))?.(m),
  });
  const samples: Record<"endpoint" | "raw", number[]> = { endpoint: [], raw: [] };
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
  };
  log(`start-up: endpoint ${fmtMs(result.endpoint)}, raw MQTT.js ${fmtMs(result.raw)} (medians)`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Formatting

function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a";
}

function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

function fmtMB(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / MB).toFixed(1)} MB` : "n/a";
}

function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×` : "n/a";
}

function fmtShare(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

interface Row extends ChartRow {
  /** The endpoint's figure, formatted. */
  value: string;
  /** The baseline's figure and what it is, formatted. */
  baseline: string;
  /** The goal in words, when there is one. */
  goal?: string;
  /** The raw numbers, for results.json. */
  numbers: { value: number; baseline: number; unit: string };
}

interface RowOptions {
  section: string;
  label: string;
  /** The endpoint's figure. */
  value: number;
  /** The baseline's figure. */
  baseline: number;
  unit: string;
  format: (n: number) => string;
  /** What the baseline is. */
  baselineName: string;
  better: "higher" | "lower";
  /** The ratio when it is not `value / baseline` (the median of paired ratios). */
  ratio?: number;
  /** Smallest and largest of the paired ratios. */
  range?: [number, number];
  /** The goal: in words, as a ratio to the baseline, and whether it holds. */
  goal?: { text: string; ratio: number; holds: (ratio: number, value: number) => boolean };
}

function row(o: RowOptions): Row {
  const ratio = o.ratio ?? o.value / o.baseline;
  const measured = Number.isFinite(ratio);
  return {
    section: o.section,
    label: o.label,
    ratio,
    range: o.range,
    better: o.better,
    value: o.format(o.value),
    baseline: `${o.format(o.baseline)} ${o.baselineName}`,
    goal: o.goal?.text,
    goalRatio: o.goal?.ratio,
    holds: o.goal ? measured && o.goal.holds(ratio, o.value) : undefined,
    text: `${o.format(o.value)} vs ${o.format(o.baseline)}`,
    numbers: { value: o.value, baseline: o.baseline, unit: o.unit },
  };
}

function markdownTable(rows: readonly Row[]): string {
  const header = ["figure", "endpoint", "baseline", "ratio", "spread", "goal"];
  const lines = [header];
  let section = "";
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      lines.push([`**${section}**`, "", "", "", "", ""]);
    }
    const verdict = r.goal ? `${r.goal} ${r.holds ? "✓ holds" : "✗ missed"}` : "";
    const spread = r.range ? `${fmtRatio(r.range[0])}–${fmtRatio(r.range[1])}` : "";
    lines.push([r.label, r.value, r.baseline, fmtRatio(r.ratio), spread, verdict]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const render = (cells: string[]) =>
    `| ${cells.map((c, i) => i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])).join(" | ")} |`;
  return [
    render(lines[0]),
    `|${widths.map((w, i) => i === 3 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2)).join("|")}|`,
    ...lines.slice(1).map(render),
  ].join("\n");
}

function hotspotText(name: string, profile: ProfileSummary | undefined, top: number): string {
  if (!profile) return `${name}: no profile`;
  const lines = [
    `${name}: ${fmtMs(profile.busyMs)} busy, ${fmtMs(profile.idleMs)} idle between START and ACKED`,
    `  by origin: ${profile.origins.map((o) => `${o.origin} ${fmtShare(o.share)}`).join(", ")}`,
    `  self time:`,
    ...profile.self.slice(0, top).map((h) =>
      `    ${fmtShare(h.share).padStart(6)}  ${h.fn} (${h.where})`
    ),
  ];
  if (profile.inclusive.length) {
    lines.push(
      `  the endpoint's functions, inclusive (themselves + what they call):`,
      ...profile.inclusive.filter((h) => h.share >= 0.02).slice(0, 16).map((h) =>
        `    ${fmtShare(h.share).padStart(6)}  ${h.fn} (${h.where})`
      ),
    );
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Main

const info = machine();
log(
  `cloud.iO endpoint benchmark (${config.mode}): ${info.cpu}, ${info.cores} cores, Deno ${info.deno}, mosquitto ${info.mosquitto}, load ${info.loadAverageAtStart}`,
);
await using broker = await startMosquitto();
log(`mosquitto on ${broker.tcpUrl} (endpoints, client-id ACL) and ${broker.cloudUrl} (cloud)`);

const throughput = await throughputCase(broker.tcpUrl, broker.cloudUrl);
const roundTrips = await roundTripCase(broker.tcpUrl, broker.cloudUrl).catch((error) => {
  log(`round trips FAILED: ${error.message}`);
  return undefined;
});
const startup = await startupCase(broker.tcpUrl, broker.cloudUrl).catch((error) => {
  log(`start-up FAILED: ${error.message}`);
  return undefined;
});
const model = await modelCase().catch((error) => {
  log(`model FAILED: ${error.message}`);
  return undefined;
});
const offlineSmall = await offlineCase(SMALL_HEAP).catch((error) => {
  log(`offline (bounded heap) FAILED: ${error.message}`);
  return undefined;
});
const offline = await offlineCase().catch((error) => {
  log(`offline FAILED: ${error.message}`);
  return undefined;
});

// ---------------------------------------------------------------------------------------------
// The table

const rows: Row[] = [];
const perSecond = (n: number) => `${fmtInt(n)}/s`;
const kB = (n: number) => `${fmtInt(n / 1000)} kB`;

// Throughput: medians of each variant's runs, and the ratio as the median of the ratios within
// each round (the runs of a round are minutes apart at most, so the machine's load cancels out).
const runsOf = (variant: Variant) => throughput.runs.filter((r) => r.variant === variant);
const cpuPer100k = (r: PublisherRun) => r.cpuUs / 1000 / config.updates * 100_000;
function paired(variant: Variant, pick: (r: PublisherRun) => number) {
  const ratios: number[] = [];
  for (let round = 0; round < config.rounds; round++) {
    const raw = throughput.runs.find((r) => r.round === round && r.variant === "raw");
    const run = throughput.runs.find((r) => r.round === round && r.variant === variant);
    if (raw && run) ratios.push(pick(run) / pick(raw));
  }
  return {
    value: median(runsOf(variant).map(pick)),
    baseline: median(runsOf("raw").map(pick)),
    ratio: median(ratios),
    range: [Math.min(...ratios), Math.max(...ratios)] as [number, number],
    ratios,
  };
}
const S1 = `Update throughput: ${
  fmtInt(config.updates)
} @update → subscriber, ${config.rounds} rounds`;
const pairs = {
  memory: paired("memory", (r) => r.rate),
  file: paired("file", (r) => r.rate),
  cpuMemory: paired("memory", cpuPer100k),
  cpuFile: paired("file", cpuPer100k),
};
const rateRow = (label: string, p: typeof pairs.memory, min: number) =>
  row({
    section: S1,
    label,
    ...p,
    unit: "msg/s",
    format: perSecond,
    baselineName: "raw MQTT.js",
    better: "higher",
    goal: { text: `≥ ${min}×`, ratio: min, holds: (ratio) => ratio >= min },
  });
const cpuRow = (label: string, p: typeof pairs.memory) =>
  row({
    section: S1,
    label,
    ...p,
    unit: "ms",
    format: fmtMs,
    baselineName: "raw MQTT.js",
    better: "lower",
  });
rows.push(
  rateRow("@update rate, memory outbox", pairs.memory, 0.9),
  rateRow("@update rate, durable outbox (file)", pairs.file, 0.5),
  cpuRow("publisher CPU per 100k, memory", pairs.cpuMemory),
  cpuRow("publisher CPU per 100k, durable", pairs.cpuFile),
);

if (roundTrips) {
  const s = roundTrips.summary;
  const raw = s["raw echo"];
  const S2 = `@set → @didSet round trip, ${fmtInt(config.roundTrips)} per variant`;
  for (
    const [variant, name] of [["endpoint memory", "memory"], ["endpoint file", "durable"]] as const
  ) {
    const common = {
      section: S2,
      unit: "ms",
      format: fmtMs,
      baselineName: "raw echo",
      better: "lower" as const,
    };
    rows.push(
      row({ ...common, label: `p50, ${name} outbox`, value: s[variant].p50, baseline: raw.p50 }),
      row({
        ...common,
        label: `p99, ${name} outbox`,
        value: s[variant].p99,
        baseline: raw.p99,
        goal: { text: "≤ 2×", ratio: 2, holds: (ratio) => ratio <= 2 },
      }),
    );
  }
}

if (offline) {
  const S3 = `Offline: ${fmtInt(offline.count)} updates queued on disk, then replayed`;
  const online = pairs.file.value;
  rows.push(
    row({
      section: S3,
      label: `queueing rate (all set and on disk in ${fmtMs(offline.setMs)})`,
      value: offline.count / (offline.setMs / 1000),
      baseline: online,
      unit: "values/s",
      format: perSecond,
      baselineName: "online, durable",
      better: "higher",
    }),
    row({
      section: S3,
      label: "peak RSS while queueing, default V8 heap",
      value: offline.rssSet,
      baseline: offline.rssIdle,
      unit: "bytes",
      format: fmtMB,
      baselineName: "idle",
      better: "lower",
    }),
    row({
      section: S3,
      label: "peak RSS, queueing and replay",
      value: offline.rssReplay,
      baseline: offline.rssIdle,
      unit: "bytes",
      format: fmtMB,
      baselineName: "idle",
      better: "lower",
    }),
    row({
      section: S3,
      label: `replay rate (${fmtInt(offline.delivered)} delivered)`,
      value: offline.count / (offline.replayMs / 1000),
      baseline: online,
      unit: "values/s",
      format: perSecond,
      baselineName: "online, durable",
      better: "higher",
    }),
  );
}
if (offlineSmall) {
  const S3b = `Offline, heap bounded (--v8-flags=${SMALL_HEAP.join(",")}): ${
    fmtInt(offlineSmall.count)
  } updates`;
  rows.push(
    row({
      section: S3b,
      label: "peak RSS, queueing and replay",
      value: Math.max(offlineSmall.rssSet, offlineSmall.rssReplay),
      baseline: offlineSmall.rssIdle,
      unit: "bytes",
      format: fmtMB,
      baselineName: "idle",
      better: "lower",
      goal: {
        text: "≤ 100 MB",
        ratio: 100 * MB / offlineSmall.rssIdle,
        holds: (_, value) => value <= 100 * MB,
      },
    }),
    row({
      section: S3b,
      label: `replay rate (${fmtInt(offlineSmall.delivered)} delivered)`,
      value: offlineSmall.count / (offlineSmall.replayMs / 1000),
      baseline: pairs.file.value,
      unit: "values/s",
      format: perSecond,
      baselineName: "online, durable",
      better: "higher",
    }),
  );
}

if (model) {
  const S4 = `Model: @online of ${
    fmtInt(model.attributes)
  } attributes, ${model.processes} processes`;
  const m = model.medians;
  const goal50 = {
    text: "≤ 50 ms",
    holds: (_: number, value: number) => value <= 50,
  };
  const ms = (
    label: string,
    value: number,
    baseline: number,
    baselineName: string,
    goal?: boolean,
  ) =>
    row({
      section: S4,
      label,
      value,
      baseline,
      unit: "ms",
      format: fmtMs,
      baselineName,
      better: "lower",
      goal: goal ? { ...goal50, ratio: 50 / baseline } : undefined,
    });
  rows.push(
    ms(
      "@online CBOR, first in the process",
      model.cold.CBOR,
      m["baseline encode CBOR"],
      "cborg.encode",
      true,
    ),
    ms("@online CBOR, warm", m["online CBOR"], m["baseline encode CBOR"], "cborg.encode", true),
    ms(
      "@online JSON, first in the process",
      model.cold.JSON,
      m["baseline encode JSON"],
      "JSON.stringify",
      true,
    ),
    ms("@online JSON, warm", m["online JSON"], m["baseline encode JSON"], "JSON.stringify", true),
    ms("decode CBOR (decodePayload)", m["decode CBOR"], m["baseline decode CBOR"], "cborg.decode"),
    ms("decode JSON (decodePayload)", m["decode JSON"], m["baseline decode JSON"], "JSON.parse"),
  );
  for (const format of ["CBOR", "JSON"] as const) {
    rows.push(row({
      section: S4,
      label: `size ${format}`,
      value: model.bytes[format],
      baseline: model.bytes[`baseline ${format}`],
      unit: "bytes",
      format: kB,
      baselineName: format === "CBOR" ? "cborg" : "JSON.stringify",
      better: "lower",
    }));
  }
}

if (startup) {
  rows.push(row({
    section: `Start-up: spawn → @online received, median of ${config.startups}`,
    label: "endpoint (6 attributes, durable store)",
    value: startup.endpoint,
    baseline: startup.raw,
    unit: "ms",
    format: fmtMs,
    baselineName: "raw MQTT.js process",
    better: "lower",
  }));
}

const durationS = (performance.now() - started) / 1000;
const date = new Date().toISOString();
const subtitle = `${
  date.slice(0, 16).replace("T", " ")
} UTC · ${info.cpu}, ${info.cores} cores · Deno ${info.deno} · mosquitto ${info.mosquitto} · ${config.mode} run, ${
  durationS.toFixed(0)
} s · load ${info.loadAverageAtStart}`;

console.log(`\n${markdownTable(rows)}\n`);
console.log(
  [
    `Throughput: ${config.attributes} Number attributes, QoS 1, retained, window ${config.window}, ${config.format};`,
    `  figures are medians of the rounds; ratio = median of the per-round ratios (spread: lowest–highest).`,
    `Round trips: sequential, interleaved in blocks of ${
      config.roundTrips / 4
    }, after ${config.warmup} warm-up each.`,
    `Model: toModel() + encodeEndpoint(); "first" = the first @online of a fresh process (cold code).`,
    `RSS: the kernel's high-water mark (VmHWM); MB = 10^6 bytes.`,
    "",
  ].join("\n"),
);
if (config.profile) {
  console.log(`Hotspots (deno run --cpu-prof, publisher process, between START and ACKED):\n`);
  console.log(hotspotText("endpoint, memory outbox", throughput.profiles.memory, 12));
  console.log();
  console.log(hotspotText("endpoint, durable outbox", throughput.profiles.file, 12));
  console.log();
  console.log(hotspotText("raw MQTT.js (for comparison)", throughput.profiles.raw, 6));
  console.log();
}
const goals = rows.filter((r) => r.goal);
console.log("Goals:");
for (const r of goals) {
  console.log(
    `  ${r.holds ? "✓" : "✗"} ${r.section.split(/[:,]/)[0]}, ${r.label}: ${r.value} (${
      fmtRatio(r.ratio)
    } ${r.baseline}), goal ${r.goal}`,
  );
}

const results = {
  date,
  durationS,
  machine: {
    ...info,
    loadAverageAtEnd: Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" "),
  },
  config,
  // Every row as drawn, so that the chart can be drawn again from this file.
  rows,
  pairedRatios: {
    rate: { memory: pairs.memory.ratios, file: pairs.file.ratios },
    cpu: { memory: pairs.cpuMemory.ratios, file: pairs.cpuFile.ratios },
  },
  throughput: throughput.runs.map(({ profile: _, ...run }) => run),
  roundTrips,
  offline,
  model,
  startup,
  profiles: throughput.profiles,
};
// A quick run must not overwrite the full run's results (the README shows them).
const outDir = flags.out ??
  (quick
    ? await Deno.makeTempDir({ prefix: "cloudio-bench-quick-" })
    : new URL(".", HERE).pathname);
await Deno.mkdir(outDir, { recursive: true });
const jsonPath = `${outDir.replace(/\/$/, "")}/results.json`;
const svgPath = `${outDir.replace(/\/$/, "")}/results.svg`;
await Deno.writeTextFile(jsonPath, JSON.stringify(results, null, 2) + "\n");
await Deno.writeTextFile(
  svgPath,
  renderChart(rows, { title: "cloudio-endpoint vs its baselines, same run", subtitle }),
);
// In the repository's own style, so that `deno fmt --check` stays clean after a run.
await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", jsonPath, svgPath] }).output()
  .catch(() => {});
log(`wrote ${jsonPath} and ${svgPath}; finished in ${durationS.toFixed(0)} s`);

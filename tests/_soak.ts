/**
 * The fault runs of the outbox, shared by `tests/faults_test.ts` (at the size) and
 * `deno task soak` (bigger, several configurations).
 *
 * @module
 */

import type { OutboxStats, ReplayMode } from "../mod.ts";
import type { MessageFormat } from "../lib/model/types.ts";
import { startMosquitto } from "./_broker.ts";
import { connectCloud } from "./_cloud.ts";
import { randomUuid, tlsEndpoint, until } from "./_endpoint.ts";
import { spawnDeno } from "./_process.ts";
import { Tally } from "./_tally.ts";

/** Options of {@linkcode restartSoak}. */
export interface RestartSoakOptions {
  /** Values to set. */
  updates: number;
  /** Attributes they are spread over. */
  attributes: number;
  /** Times the broker goes away and comes back. */
  restarts: number;
  /** The outbox store. */
  persistence: "memory" | "file";
  /** How the backlog is sent. */
  replay?: ReplayMode;
  /** The message format. */
  format?: MessageFormat;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What a run found. */
export interface SoakResult {
  tally: Tally;
  outbox: OutboxStats | undefined;
  milliseconds: number;
}

const yieldNow = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Sets numbered values on an endpoint while the broker is stopped (SIGTERM: the endpoint's
 * connection drops mid-stream) and restarted again and again, and counts what a cloud with a
 * persistent session received.
 *
 * The broker runs with persistence and the cloud with a persistent session, so that what the
 * broker has acknowledged reaches the cloud across restarts: whatever is missing was lost by the
 * endpoint. (SIGKILL would make mosquitto lose acknowledged messages by itself: its persistence
 * is a snapshot written at exit.)
 *
 * @param options Sizes and configuration.
 * @returns The tally.
 */
export async function restartSoak(options: RestartSoakOptions): Promise<SoakResult> {
  const { updates, attributes: count, restarts, persistence, log = () => {} } = options;
  const started = performance.now();
  const uuid = randomUuid();
  const tally = new Tally(uuid, updates);
  const store = persistence === "file"
    ? await Deno.makeTempDir({ prefix: "cloudio-soak-" })
    : undefined;
  await using broker = await startMosquitto({ persistence: true });
  await using _cloud = await connectCloud(broker.cloudUrl, {
    clientId: `soak-${uuid.slice(0, 8)}`,
    clean: false,
    record: false,
    subscribe: [`@update/${uuid}/#`, `@delayed/${uuid}`, `@transaction/${uuid}`],
    onMessage: (m) => tally.message(m.topic, m.payload),
  });
  const { endpoint, errors } = await tlsEndpoint(broker, uuid, {
    format: options.format ?? "CBOR",
    replay: options.replay,
    extra: { persistence, ...(store ? { persistenceLocation: store } : {}) },
    reconnect: { initialDelay: 50, maxDelay: 300 },
  });
  try {
    const object = endpoint.addNode("Node").addObject("Status");
    const attributes = Array.from(
      { length: count },
      (_, i) => object.addAttribute(`a${i}`, { type: "Integer", constraint: "Status" }),
    );
    await endpoint.connect();
    let next = 1;
    const set = async (n: number) => {
      for (let i = 0; i < n && next <= updates; i++, next++) {
        attributes[next % count].value = next;
        if (next % 20 === 0) await yieldNow();
      }
    };
    const per = Math.floor(updates / restarts);
    for (let r = 0; r < restarts; r++) {
      await set(per / 2);
      const stopping = broker.stop(); // mid-stream
      await set(per / 4);
      await stopping;
      await set(per / 4); // offline
      await broker.start();
      log(`restart ${r + 1}/${restarts}: ${next - 1} set, ${tally.delivered} delivered so far`);
    }
    await set(updates);
    await until(() => endpoint.state === "online", 10_000, "the endpoint to be online");
    await Promise.race([
      endpoint.delivered(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error("not delivered within 60 s")), 60_000)
      ),
    ]);
    await until(() => tally.delivered >= updates, 20_000, "the cloud to receive every value").catch(
      () => {},
    );
    if (errors.length) log(`errors: ${errors.map((e) => e.message).join("; ")}`);
    return {
      tally,
      outbox: endpoint.outbox,
      milliseconds: Math.round(performance.now() - started),
    };
  } finally {
    await endpoint.close({ timeout: 0 });
    if (store) await Deno.remove(store, { recursive: true });
  }
}

/** Options of {@linkcode crashSoak}. */
export interface CrashSoakOptions {
  /** Values the first process sets before it is killed (it is killed before it finishes). */
  updates: number;
  /** Attributes they are spread over. */
  attributes: number;
  /** Kill once this many values are reported durable. */
  killAfter: number;
  /** Stop the broker once this many are durable, so that a backlog builds up on disk. */
  stopBrokerAfter: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What a crash run found. */
export interface CrashResult {
  tally: Tally;
  /** The last value the killed process reported durable. */
  durable: number;
  /** Lines of the second process. */
  restarted: string[];
}

/**
 * Runs an endpoint process with a durable outbox, stops the broker so that values pile up on
 * disk, SIGKILLs the process, starts the broker and a new process on the same store, and counts
 * what the cloud received: every value reported durable must arrive.
 *
 * @param options Sizes.
 * @returns The tally and the last durable value.
 */
export async function crashSoak(options: CrashSoakOptions): Promise<CrashResult> {
  const { updates, attributes, killAfter, stopBrokerAfter, log = () => {} } = options;
  const uuid = randomUuid();
  const tally = new Tally(uuid, updates);
  const store = await Deno.makeTempDir({ prefix: "cloudio-crash-" });
  await using broker = await startMosquitto({ persistence: true });
  await using _cloud = await connectCloud(broker.cloudUrl, {
    clientId: `crash-${uuid.slice(0, 8)}`,
    clean: false,
    record: false,
    subscribe: [`@update/${uuid}/#`, `@delayed/${uuid}`, `@transaction/${uuid}`],
    onMessage: (m) => tally.message(m.topic, m.payload),
  });
  const child = new URL("./_endpoint_child.ts", import.meta.url).pathname;
  const args = (count: number, from: number) => [
    "run",
    "-A",
    child,
    "--url",
    broker.tcpUrl,
    "--uuid",
    uuid,
    "--store",
    store,
    "--count",
    String(count),
    "--from",
    String(from),
    "--attributes",
    String(attributes),
    "--flush-every",
    "50",
    "--pace",
    "2",
  ];
  try {
    let durable = 0;
    const first = spawnDeno(args(updates, 1));
    try {
      await until(
        () => lastDurable(first.lines) >= stopBrokerAfter,
        60_000,
        "values to become durable",
      );
      await broker.stop();
      log(`broker stopped at durable ${lastDurable(first.lines)}`);
      await until(() => lastDurable(first.lines) >= killAfter, 60_000, "more durable values");
      first.kill("SIGKILL");
      await first.status;
      durable = lastDurable(first.lines);
      log(`killed at durable ${durable}`);
    } finally {
      await first[Symbol.asyncDispose]();
    }
    await broker.start();
    const second = spawnDeno(args(0, updates + 1));
    try {
      await second.waitForLine(/^DRAINED /, 60_000);
      await second.status;
    } finally {
      await second[Symbol.asyncDispose]();
    }
    await until(() => tally.complete(durable), 10_000, "every durable value").catch(() => {});
    return { tally, durable, restarted: second.lines };
  } finally {
    await Deno.remove(store, { recursive: true });
  }
}

function lastDurable(lines: string[]): number {
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = /^DURABLE (\d+)$/.exec(lines[i]);
    if (match) return Number(match[1]);
  }
  return 0;
}

/** What an offline-volume run found. */
export interface VolumeResult {
  tally: Tally;
  /** Peak RSS of the endpoint process, in bytes. */
  rss: number;
  /** Milliseconds to set every value (offline). */
  setMs: number;
  /** Heap in use after a full garbage collection with every value queued, in bytes. */
  heap: number;
  /** Milliseconds from the broker's start to the last PUBACK. */
  drainMs: number;
}

/**
 * Sets many values in an endpoint process while the broker is down, with a durable outbox, then
 * starts the broker and measures the replay: peak RSS, time, and that nothing was lost.
 *
 * @param updates How many values.
 * @param log Progress lines.
 * @param v8Flags V8 flags for the endpoint's process (e.g. heap limits).
 * @returns The tally and the measurements.
 */
export async function volumeSoak(
  updates: number,
  log: (line: string) => void = () => {},
  v8Flags: string[] = [],
): Promise<VolumeResult> {
  const uuid = randomUuid();
  const tally = new Tally(uuid, updates);
  const store = await Deno.makeTempDir({ prefix: "cloudio-volume-" });
  await using broker = await startMosquitto({ persistence: true });
  await using _cloud = await connectCloud(broker.cloudUrl, {
    clientId: `volume-${uuid.slice(0, 8)}`,
    clean: false,
    record: false,
    subscribe: [`@update/${uuid}/#`, `@delayed/${uuid}`],
    onMessage: (m) => tally.message(m.topic, m.payload),
  });
  await broker.stop();
  const child = spawnDeno([
    "run",
    "-A",
    `--v8-flags=${["--expose-gc", ...v8Flags].join(",")}`,
    new URL("./_endpoint_child.ts", import.meta.url).pathname,
    "--url",
    broker.tcpUrl,
    "--uuid",
    uuid,
    "--store",
    store,
    "--count",
    String(updates),
    "--attributes",
    "10",
    "--flush-every",
    String(Math.max(1000, updates / 100)),
  ]);
  try {
    const set = await child.waitForLine(/^SET /, 600_000);
    log(`set ${updates} values offline: ${set}`);
    await broker.start();
    const drained = await child.waitForLine(/^DRAINED /, 600_000);
    await child.status;
    const rss = Math.max(
      ...child.lines.filter((l) => l.startsWith("RSS ")).map((l) => Number(l.split(" ")[1])),
    );
    await until(() => tally.delivered >= updates, 60_000, "every value at the cloud").catch(
      () => {},
    );
    const heap = Number(child.lines.find((l) => l.startsWith("HEAP "))?.split(" ")[1] ?? NaN);
    return {
      tally,
      rss,
      heap,
      setMs: Number(set.split(" ")[2]),
      drainMs: Number(drained.split(" ")[1]),
    };
  } finally {
    await child[Symbol.asyncDispose]();
    await Deno.remove(store, { recursive: true });
  }
}

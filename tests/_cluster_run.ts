/**
 * The failover run of `deno task cluster` (issue #16): endpoints stream numbered values into a
 * 3-node RabbitMQ cluster on loopback while the node they are connected to is SIGKILLed and
 * brought back, again and again; three "cloud" observers, one per node, count what arrived.
 *
 * - Endpoints: {@linkcode FailoverRunOptions.endpoints} of them, each with `attributes` Integer
 *   attributes, setting values 1, 2, 3, … (value `v` on attribute `a{v % attributes}`) at `rate`
 *   values per second, `persistence: memory`, the library's default backoff. Each names every
 *   node in its `hostUri` and fails over by itself (the library's rule: the next attempt after a
 *   failure goes to the next node); they all start on the first node. `_attempt_recorder.ts`
 *   records what each attempt came to.
 * - Observers: one persistent session (`cleanSession` false, QoS 1) on the cloud listener of each
 *   node, subscribed to every `@update`, `@transaction` and `@delayed`. Only one node is ever down
 *   at a time, so two observers and their queues are always up, whatever the queue type: a value
 *   that reached none was lost by the endpoint (or by the cluster after acknowledging it to the
 *   endpoint: the union of the queues cannot tell those apart). What one observer misses alone is
 *   what its own queue lost: with classic queues, which live on the observer's node, what was
 *   routed to it while that node was down; each such loss is matched with a kill of its node.
 * - Kills: after `seconds` of streaming, the node most endpoints are on is killed (SIGKILL of its
 *   `beam.smp`), stays down `down` seconds and is restarted; the run waits for every endpoint to be
 *   online again, streams `seconds` more, and so on. The time from the SIGKILL to each endpoint's
 *   next acknowledged `@online` is measured, and what the endpoint went through meanwhile (a
 *   connection accepted and then closed before `@online` is a "drop", the loop classic queues
 *   cause).
 *
 * @module
 */

import { type CloudioAttribute, Endpoint, type EndpointStatus } from "../mod.ts";
import { denoPlatform } from "../extend.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import { connectCloud, type Received } from "./_cloud.ts";
import { type AttemptEvent, recordAttempts } from "./_attempt_recorder.ts";
import { until } from "./_endpoint.ts";
import { type QueueType, type RabbitMqCluster, startRabbitMqCluster } from "./_rabbitmq_cluster.ts";
import { Tally } from "./_tally.ts";

/** Options of {@linkcode failoverRun}. */
export interface FailoverRunOptions {
  /** The queue type of persistent sessions. */
  queueType: QueueType;
  /** How many endpoints stream. */
  endpoints: number;
  /** Values per second, per endpoint. */
  rate: number;
  /** Attributes per endpoint the values are spread over. */
  attributes: number;
  /** How many times the endpoints' node is killed. */
  kills: number;
  /** Seconds of streaming before each kill (after the previous recovery), and after the last. */
  seconds: number;
  /** Seconds a killed node stays down before it is restarted. */
  down: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** A directory to copy the nodes' logs to (`n1.log`, …) before the cluster is stopped. */
  logsTo?: string;
}

/** What one endpoint went through after one kill. */
export interface EndpointRecovery {
  /** The endpoint's UUID. */
  uuid: string;
  /** Milliseconds from the SIGKILL to the next acknowledged `@online`; undefined if none came. */
  toOnline: number | undefined;
  /**
   * Milliseconds from the killed node's endpoint listener accepting connections again to that
   * `@online`; negative when the endpoint was online elsewhere first. RabbitMQ opens its
   * listeners last, after its queues are back: for an endpoint caught by a classic queue on the
   * killed node, this is how late it left the loop.
   */
  afterRestart: number | undefined;
  /** The node it came back on (index). */
  node: number | undefined;
  /** Attempts that failed (refused, unreachable, TLS, timeout). */
  failed: number;
  /** Connections accepted and then closed before `@online` (the classic-queue loop). */
  dropped: number;
  /** Milliseconds from the first drop to the `@online`: how long the endpoint was caught. */
  trapped: number | undefined;
  /** The longest `retryIn` the endpoint announced meanwhile. */
  maxRetryIn: number;
  /** The distinct errors of its `offline` status events meanwhile. */
  errors: string[];
  /**
   * Its attempts from the kill to the `@online`: node number and outcome (`lost`, `failed`,
   * `dropped`: accepted then closed, `online`), e.g. `1 lost, 2 dropped, 3 dropped, 1 failed, …`.
   */
  attempts: string;
}

/** One kill. */
export interface KillReport {
  /**
   * Connections lost after the kill, before the next kill (or the end), other than the one the
   * kill cut: of endpoints on other nodes, or after an endpoint was back online.
   */
  lostAgain: number;
  /** The node killed (index). */
  node: number;
  /** When, in ms since the streaming started. */
  at: number;
  /** How many endpoints were on it. */
  endpointsOnIt: number;
  /** Milliseconds from the SIGKILL to the node running in the cluster again. */
  backAfter: number;
  /** Milliseconds from the SIGKILL to the node's endpoint listener accepting again. */
  listeningAfter: number;
  /** Per endpoint that was on the node. */
  endpoints: EndpointRecovery[];
}

/** What an observer received, summed over the endpoints. */
export interface ObserverReport {
  /** The node it is connected to (index). */
  node: number;
  /** Distinct values received. */
  delivered: number;
  /**
   * When the values it missed were set, in ms after the last kill of its node before each (give
   * or take the 20 ms streaming tick); `unexplained` counts those set before any kill of it.
   */
  lostSetAfterKill: { min: number; max: number; unexplained: number } | undefined;
  /** Extra copies received. */
  duplicates: number;
  /** New values that came after a higher one of the same attribute. */
  outOfOrder: number;
}

/** What a node keeps as retained messages, for the endpoints of the run. */
export interface RetainedReport {
  /** The node (index). */
  node: number;
  /** Endpoints whose retained `@online` it has. */
  online: number;
  /** Endpoints whose retained `@update` of `a0` is the last value set on it. */
  updateCurrent: number;
  /** Endpoints whose retained `@update` of `a0` is an older value. */
  updateStale: number;
}

/** The result of {@linkcode failoverRun}. */
export interface FailoverRunResult {
  /** Milliseconds to start the cluster (every node running, listeners open). */
  formedIn: number;
  /** Milliseconds of each node's first start. */
  nodeStarts: number[];
  /** How many endpoints streamed. */
  endpoints: number;
  /** Values set, over every endpoint. */
  sent: number;
  /** Values that reached at least one observer. */
  delivered: number;
  /** The larger of the observers' duplicates. */
  duplicates: number;
  /** The larger of the observers' out-of-order counts. */
  outOfOrder: number;
  /** Times an endpoint came online on another node than before. */
  failovers: number;
  /** Messages the endpoints' outboxes dropped (full or offline): must be 0. */
  droppedByEndpoints: number;
  /** Per kill. */
  kills: KillReport[];
  /** Per observer. */
  observers: ObserverReport[];
  /** Per node, after the run. */
  retained: RetainedReport[];
  /** Errors the endpoints reported through `onError`, distinct. */
  errors: string[];
  /**
   * Every attempt of every endpoint, in ms since the streaming started (negative: before), with
   * the node (index): the raw material of the figures above.
   */
  trace: { uuid: string; at: number; node: number; outcome: string; error?: string }[];
  /** Connections lost before the first kill. */
  unprovoked: number;
  /**
   * What the nodes logged about the endpoints, as warnings or errors (or a duplicate client id),
   * without times, UUIDs and ports, with how often: what the broker did to them.
   */
  brokerSaid: { line: string; count: number }[];
}

interface StreamingEndpoint {
  uuid: string;
  endpoint: Endpoint;
  attributes: CloudioAttribute<"Integer">[];
  /** What each connection attempt came to. */
  events: AttemptEvent[];
  status: { at: number; event: EndpointStatus }[];
  sent: number;
  /** Per observer. */
  tallies: Tally[];
}

const MAX_SECONDS = 3600;
const OBSERVER_NODES = [0, 1, 2];

/**
 * Runs the failover run.
 *
 * @param options Sizes, queue type, kills.
 * @returns What was measured.
 */
export async function failoverRun(options: FailoverRunOptions): Promise<FailoverRunResult> {
  const { queueType, rate, attributes: count, kills, log = () => {} } = options;
  const began = performance.now();
  const total = Math.ceil(rate * MAX_SECONDS);
  log(`starting a 3-node cluster (durable queues: ${queueType})`);
  await using cluster = await startRabbitMqCluster({ queueType });
  const nodeStarts = cluster.nodes.map((n) => n.stats.starts[0]);
  log(`cluster running in ${cluster.formedIn} ms (node starts ${nodeStarts.join(", ")} ms)`);
  const uuids = Array.from({ length: options.endpoints }, () => crypto.randomUUID());
  await cluster.addEndpoint(...uuids);
  const endpoints: StreamingEndpoint[] = [];
  const errors = new Set<string>();
  const byUuid = new Map<string, StreamingEndpoint>();
  const observe = (observer: number) => (m: Received) => {
    const uuid = m.topic.split("/")[1];
    byUuid.get(uuid)?.tallies[observer].message(m.topic, m.payload);
  };
  const runId = crypto.randomUUID().slice(0, 8);
  const connected = await Promise.allSettled(
    OBSERVER_NODES.map((node, i) =>
      connectCloud(cluster.nodes[node].cloudUrl, {
        clientId: `observer-${runId}-${i}`,
        clean: false,
        record: false,
        subscribe: ["@update/#", "@transaction/#", "@delayed/#"],
        onMessage: observe(i),
      })
    ),
  );
  const observers = connected.flatMap((c) => c.status === "fulfilled" ? [c.value] : []);
  const refused = connected.find((c) => c.status === "rejected");
  if (refused) {
    await Promise.all(observers.map((o) => o.close()));
    throw refused.reason;
  }
  let streaming: ReturnType<typeof setInterval> | undefined;
  let streamStart = now();
  const polling = new AbortController();
  try {
    for (const uuid of uuids) {
      const client = await cluster.pki.client(uuid);
      const events: AttemptEvent[] = [];
      const endpoint = new Endpoint(uuid, {
        config: { hostUri: cluster.nodes.map((n) => n.tlsUrl), persistence: "memory" },
        credentials: { ca: cluster.pki.caPem, cert: client.certPem, key: client.keyPem },
        platform: recordAttempts(denoPlatform, events),
        onError: (error) => errors.add(error.message.replaceAll(uuid, "<uuid>")),
      });
      const object = endpoint.addNode("Node").addObject("Status");
      const attributes = Array.from(
        { length: count },
        (_, i) => object.addAttribute(`a${i}`, { type: "Integer", constraint: "Status" }),
      );
      const entry: StreamingEndpoint = {
        uuid,
        endpoint,
        attributes,
        events,
        status: [],
        sent: 0,
        tallies: OBSERVER_NODES.map(() => new Tally(uuid, total)),
      };
      (async () => {
        for await (const event of endpoint.status()) entry.status.push({ at: now(), event });
      })();
      endpoints.push(entry);
      byUuid.set(uuid, entry);
      await endpoint.connect();
    }
    log(`${endpoints.length} endpoints online on node 1; streaming ${rate} values/s each`);

    streamStart = now();
    streaming = setInterval(() => {
      const due = Math.min(total, Math.floor((now() - streamStart) / 1000 * rate));
      for (const e of endpoints) {
        while (e.sent < due) {
          e.sent++;
          e.attributes[e.sent % count].value = e.sent;
        }
      }
    }, 20);

    const reports: KillReport[] = [];
    for (let k = 1; k <= kills; k++) {
      await sleep(options.seconds * 1000);
      const target = busiestNode(cluster, endpoints);
      const affected = endpoints.filter((e) => onNode(cluster, e) === target);
      log(`kill ${k}/${kills}: SIGKILL node ${target + 1} (${affected.length} endpoints on it)`);
      const killedAt = now();
      await cluster.kill(target);
      const listening = listeningAgain(cluster.nodes[target].tlsUrl, polling.signal);
      await sleep(Math.max(0, options.down * 1000 - (now() - killedAt)));
      await cluster.restart(target);
      const backAt = now();
      const listeningAt = await listening;
      log(`  node ${target + 1} back after ${Math.round(backAt - killedAt)} ms`);
      await until(
        () => affected.every((e) => onlineSince(e, killedAt) !== undefined),
        120_000,
        "every endpoint of the node to be online again",
      ).catch((error) => log(`  ${error.message}`));
      const report: KillReport = {
        lostAgain: 0,
        node: target,
        at: Math.round(killedAt - streamStart),
        endpointsOnIt: affected.length,
        backAfter: Math.round(backAt - killedAt),
        listeningAfter: Math.round(listeningAt - killedAt),
        endpoints: affected.map((e) => recovery(cluster, e, killedAt, listeningAt)),
      };
      reports.push(report);
      log(`  ${describeKill(report)}`);
    }

    await sleep(options.seconds * 1000);
    clearInterval(streaming);
    streaming = undefined;
    const sent = endpoints.reduce((sum, e) => sum + e.sent, 0);
    log(`streaming stopped: ${sent} values set; waiting for delivery`);
    await until(
      () => endpoints.every((e) => e.endpoint.state === "online"),
      120_000,
      "every endpoint to be online",
    ).catch((error) => log(error.message));
    await Promise.all(
      endpoints.map((e) =>
        withTimeout(e.endpoint.delivered(), 60_000).catch(() => log(`${e.uuid}: not delivered`))
      ),
    );
    const complete = () =>
      endpoints.every((e) => unionMissing(e).length === 0) &&
      endpoints.every((e) => e.tallies.every((t) => t.complete(e.sent)));
    await untilQuiet(complete, () => observed(endpoints), 60_000, 5_000);

    const retained = await retainedReport(cluster, endpoints, count);
    let delivered = 0;
    for (const e of endpoints) delivered += e.sent - unionMissing(e).length;
    const result: FailoverRunResult = {
      formedIn: cluster.formedIn,
      nodeStarts,
      endpoints: endpoints.length,
      sent,
      delivered,
      duplicates: Math.max(
        ...OBSERVER_NODES.map((_, i) => sum(endpoints, (e) => e.tallies[i].duplicates)),
      ),
      outOfOrder: Math.max(
        ...OBSERVER_NODES.map((_, i) => sum(endpoints, (e) => e.tallies[i].outOfOrder)),
      ),
      failovers: sum(endpoints, (e) => failovers(e.events)),
      droppedByEndpoints: sum(endpoints, (e) => {
        const dropped = e.endpoint.outbox?.dropped;
        return (dropped?.full ?? 0) + (dropped?.offline ?? 0);
      }),
      kills: reports,
      observers: OBSERVER_NODES.map((node, i) => ({
        node,
        delivered: sum(endpoints, (e) => e.tallies[i].deliveredUpTo(e.sent)),
        lostSetAfterKill: lossTiming(
          endpoints.flatMap((e) => e.tallies[i].missing(e.sent).filter((v) => v <= e.sent)),
          rate,
          reports.filter((k) => k.node === node).map((k) => k.at),
        ),
        duplicates: sum(endpoints, (e) => e.tallies[i].duplicates),
        outOfOrder: sum(endpoints, (e) => e.tallies[i].outOfOrder),
      })),
      retained,
      errors: [...errors],
      trace: endpoints.flatMap((e) =>
        e.events.map((a) => ({
          uuid: e.uuid,
          at: Math.round(a.at - streamStart),
          node: cluster.indexOf(a.url),
          outcome: a.outcome,
          ...(a.error === undefined ? {} : { error: a.error }),
        }))
      ).sort((a, b) => a.at - b.at),
      unprovoked: 0,
      brokerSaid: brokerSaid(cluster, uuids),
    };
    reports.forEach((k, i) => {
      const end = reports[i + 1]?.at ?? Infinity;
      for (const e of endpoints) {
        // The loss the kill caused is the first one of an endpoint that was on the node.
        const onIt = k.endpoints.some((r) => r.uuid === e.uuid);
        const from = onIt ? onlineSince(e, streamStart + k.at)?.at : streamStart + k.at;
        if (from === undefined) continue;
        k.lostAgain += e.events.filter((a) =>
          a.outcome === "lost" && a.at > from && a.at - streamStart < end
        ).length;
      }
    });
    result.unprovoked = result.trace.filter((a) =>
      a.outcome === "lost" && a.at < (reports[0]?.at ?? Infinity)
    ).length;
    return result;
  } finally {
    polling.abort();
    if (streaming !== undefined) clearInterval(streaming);
    if (options.logsTo) {
      await Deno.mkdir(options.logsTo, { recursive: true });
      for (const [i, node] of cluster.nodes.entries()) {
        await Deno.writeTextFile(`${options.logsTo}/n${i + 1}.log`, node.output());
      }
    }
    await Promise.all(endpoints.map((e) => e.endpoint.close({ timeout: 0 })));
    await Promise.all(observers.map((o) => o.close()));
    await cluster.stop();
    const left = cluster.processes();
    log(
      `cluster stopped${left.length ? `, BUT processes ${left.join(", ")} are left` : ""}; ` +
        `${Math.round((now() - began) / 1000)} s in all`,
    );
  }
}

/** The one-line summary: `sent N, delivered N, lost 0, duplicates D, out-of-order 0, failovers F`. */
export function summaryLine(r: FailoverRunResult): string {
  return `sent ${r.sent}, delivered ${r.delivered}, lost ${r.sent - r.delivered}, ` +
    `duplicates ${r.duplicates}, out-of-order ${r.outOfOrder}, failovers ${r.failovers}`;
}

/** Min, median and max of some numbers, rounded: `min/median/max`. */
export function spread(values: number[]): string {
  if (values.length === 0) return "-";
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted.length % 2
    ? sorted[(sorted.length - 1) / 2]
    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  return [sorted[0], median, sorted.at(-1)!].map((v) => Math.round(v)).join("/");
}

/** One line about a kill. */
export function describeKill(report: KillReport): string {
  const defined = (values: (number | undefined)[]) =>
    values.filter((v): v is number => v !== undefined);
  const toOnline = defined(report.endpoints.map((e) => e.toOnline));
  const missing = report.endpoints.length - toOnline.length;
  const nodes = [...new Set(report.endpoints.map((e) => e.node).filter((n) => n !== undefined))]
    .map((n) => n! + 1).join(",");
  const trapped = report.endpoints.filter((e) => e.dropped > 0);
  let line = `death → @online min/median/max ${spread(toOnline)} ms` +
    (missing ? ` (${missing} endpoints never came back)` : "") +
    ` on node(s) ${nodes}; failed attempts ${sumOf(report.endpoints, "failed")}`;
  if (trapped.length > 0) {
    line += `; ${trapped.length} endpoints caught in a loop of ${
      spread(trapped.map((e) => e.dropped))
    } accepted-then-closed connections for ${
      spread(defined(trapped.map((e) => e.trapped)))
    } ms, ` +
      `online ${
        spread(defined(trapped.map((e) =>
          e.afterRestart
        )))
      } ms after the node listened again, ` +
      `longest retryIn ${Math.max(...trapped.map((e) => e.maxRetryIn))} ms`;
  }
  return line;
}

function sum<T>(items: T[], f: (item: T) => number): number {
  return items.reduce((total, item) => total + f(item), 0);
}

function sumOf(items: EndpointRecovery[], key: "failed" | "dropped"): number {
  return sum(items, (item) => item[key]);
}

function now(): number {
  return performance.now();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms)
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `done`, or until `progress` stops changing for `quiet` ms, or `timeout`. */
async function untilQuiet(
  done: () => boolean,
  progress: () => number,
  timeout: number,
  quiet: number,
): Promise<void> {
  const end = now() + timeout;
  let last = progress();
  let since = now();
  while (!done() && now() < end && now() - since < quiet) {
    await sleep(100);
    const current = progress();
    if (current !== last) {
      last = current;
      since = now();
    }
  }
}

function observed(endpoints: StreamingEndpoint[]): number {
  return sum(endpoints, (e) => sum(e.tallies, (t) => t.delivered + t.duplicates));
}

/** Values of `e` (up to what it sent) that no observer received. */
function unionMissing(e: StreamingEndpoint): number[] {
  const [first, ...others] = e.tallies.map((t) => new Set(t.missing(e.sent)));
  return [...first].filter((v) => v <= e.sent && others.every((o) => o.has(v)));
}

/** The node an endpoint is on, as it says (the one it uses or tries next). */
function onNode(cluster: RabbitMqCluster, e: StreamingEndpoint): number {
  return cluster.indexOf(e.endpoint.broker ?? "");
}

/** The node most endpoints are on. */
function busiestNode(cluster: RabbitMqCluster, endpoints: StreamingEndpoint[]): number {
  const counts = cluster.nodes.map(() => 0);
  for (const e of endpoints) counts[onNode(cluster, e)]++;
  return counts.indexOf(Math.max(...counts));
}

/** The endpoint's first `online` at or after `since`. */
function onlineSince(e: StreamingEndpoint, since: number): AttemptEvent | undefined {
  return e.events.find((a) => a.at >= since && a.outcome === "online");
}

/**
 * Resolves with the time a (killed) node's listener accepts a TCP connection again, or NaN when
 * the signal aborts first.
 */
async function listeningAgain(url: string, signal: AbortSignal): Promise<number> {
  const port = Number(new URL(url).port);
  while (!signal.aborted) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return now();
    } catch {
      await sleep(50);
    }
  }
  return NaN;
}

function recovery(
  cluster: RabbitMqCluster,
  e: StreamingEndpoint,
  killedAt: number,
  listeningAt: number,
): EndpointRecovery {
  const online = onlineSince(e, killedAt);
  const end = online?.at ?? Infinity;
  const attempts = e.events.filter((a) => a.at >= killedAt && a.at <= end);
  const drops = attempts.filter((a) => a.outcome === "dropped");
  const offline = e.status.filter((s) =>
    s.at >= killedAt && s.at <= end && s.event.type === "offline"
  ).map((s) => s.event as Extract<EndpointStatus, { type: "offline" }>);
  const errors = new Set(
    offline.map((s) => s.error?.message).filter((m): m is string => m !== undefined).map((m) =>
      m.replaceAll(e.uuid, "<uuid>").replace(/127\.0\.0\.1:\d+/g, "<node>")
    ),
  );
  return {
    uuid: e.uuid,
    toOnline: online ? Math.round(online.at - killedAt) : undefined,
    afterRestart: online ? Math.round(online.at - listeningAt) : undefined,
    node: online ? cluster.indexOf(online.url) : undefined,
    failed: attempts.filter((a) => a.outcome === "failed").length,
    dropped: drops.length,
    trapped: online && drops.length ? Math.round(online.at - drops[0].at) : undefined,
    maxRetryIn: Math.max(0, ...offline.map((s) => s.retryIn ?? 0)),
    errors: [...errors],
    attempts: attempts.map((a) => `${cluster.indexOf(a.url) + 1} ${a.outcome}`).join(", "),
  };
}

/**
 * Matches values an observer missed with the kills of its node: value `v` was set `v / rate`
 * seconds after the streaming started.
 */
function lossTiming(
  missed: number[],
  rate: number,
  kills: number[],
): ObserverReport["lostSetAfterKill"] {
  if (missed.length === 0) return undefined;
  let min = Infinity, max = -Infinity, unexplained = 0;
  for (const value of missed) {
    const setAt = (value / rate) * 1000;
    // A value set just before the kill may still have been in flight, or not yet on disk.
    const kill = kills.filter((at) => at <= setAt + 2000).at(-1);
    if (kill === undefined) {
      unexplained++;
      continue;
    }
    min = Math.min(min, setAt - kill);
    max = Math.max(max, setAt - kill);
  }
  return { min: Math.round(min), max: Math.round(max), unexplained };
}

/**
 * Distinct warnings and errors about the endpoints in the nodes' logs, with their counts. An entry
 * is a run of lines with the same time and process; it is summed up by its first line and its
 * first line that gives a reason.
 */
function brokerSaid(cluster: RabbitMqCluster, uuids: string[]): { line: string; count: number }[] {
  const counts = new Map<string, number>();
  const normalize = (text: string, uuid: string) =>
    text.replace(/^\S+ \S+ \[(\w+)\] <[\d.]+> /, "[$1] ")
      .replaceAll(uuid, "<uuid>")
      .replace(/cloudio-[0-9a-f]{8}-(n\d)@localhost/g, "$1")
      .replace(/127\.0\.0\.1:\d+/g, "<ip:port>")
      .replace(/<\d+\.\d+\.\d+>/g, "<pid>")
      .replace(/\s+/g, " ")
      .trim();
  for (const node of cluster.nodes) {
    const entries: string[][] = [];
    let prefix = "";
    for (const line of node.log().split("\n")) {
      const head = /^\S+ \S+ \[\w+\] <[\d.]+> /.exec(line)?.[0] ?? "";
      if (head && head === prefix) entries.at(-1)!.push(line);
      else entries.push([line]);
      prefix = head;
    }
    for (const entry of entries) {
      const text = entry.join("\n");
      const uuid = uuids.find((u) => text.includes(u));
      if (!uuid || !/\[(error|warning)\]|duplicate/i.test(entry[0])) continue;
      const reason = entry.slice(1).find((l) =>
        /reason|exception|duplicate|NOT_FOUND|refused|timeout/i.test(l)
      );
      const summary = normalize(entry[0], uuid).slice(0, 200) +
        (reason ? ` … ${normalize(reason, uuid).slice(0, 200)}` : "");
      counts.set(summary, (counts.get(summary) ?? 0) + 1);
    }
  }
  return [...counts].map(([line, count]) => ({ line, count })).sort((a, b) => b.count - a.count);
}

/** Times the endpoint came online on another node than the time before. */
function failovers(events: readonly AttemptEvent[]): number {
  let previous: string | undefined;
  let count = 0;
  for (const event of events) {
    if (event.outcome !== "online") continue;
    if (previous !== undefined && event.url !== previous) count++;
    previous = event.url;
  }
  return count;
}

/**
 * Asks every node for the retained `@online` and `@update …/a0` of each endpoint (RabbitMQ sends
 * retained messages only to exact-topic subscriptions) and compares `a0` with the last value set.
 */
async function retainedReport(
  cluster: RabbitMqCluster,
  endpoints: StreamingEndpoint[],
  count: number,
): Promise<RetainedReport[]> {
  const reports: RetainedReport[] = [];
  for (const [node, rabbit] of cluster.nodes.entries()) {
    const topics = endpoints.flatMap((e) => [
      `@online/${e.uuid}`,
      `@update/${e.uuid}/Node/Status/a0`,
    ]);
    await using cloud = await connectCloud(rabbit.cloudUrl, { subscribe: topics });
    await sleep(1500);
    const report: RetainedReport = { node, online: 0, updateCurrent: 0, updateStale: 0 };
    for (const e of endpoints) {
      const got = (topic: string) => cloud.messages.filter((m) => m.retain && m.topic === topic);
      if (got(`@online/${e.uuid}`).length > 0) report.online++;
      const update = got(`@update/${e.uuid}/Node/Status/a0`).at(-1);
      if (!update) continue;
      const value = decodePayload(update.payload, { maxBytes: 1 << 20 }).value.value;
      if (value === e.sent - (e.sent % count)) report.updateCurrent++;
      else report.updateStale++;
    }
    reports.push(report);
  }
  return reports;
}

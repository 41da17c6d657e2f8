/**
 * A cluster of private RabbitMQ nodes on loopback, for failover runs (`deno task cluster`): each
 * node is a {@linkcode RabbitMq} of `_rabbitmq.ts` (TLS listener with certificate login from the
 * CN, a plain listener for the test cloud, its own data, log and configuration, ports from
 * `_ports.ts`), and the nodes share one private epmd and one Erlang cookie
 * ({@linkcode RabbitMqHost}), so the system instance is never touched.
 *
 * The first node starts alone; the others start together and join it at boot
 * (`classic_config` peer discovery, which only applies to a node with no data yet: a node that
 * comes back after {@linkcode RabbitMqCluster.kill} rejoins from its own data). Persistent MQTT
 * sessions get the queue type asked for (`mqtt.durable_queue_type`): `quorum` queues are
 * replicated on every node, `classic` ones live on the node where the client first subscribed.
 *
 * @example Kill the node a client is on, and bring it back
 * ```ts ignore
 * import { startRabbitMqCluster } from "./_rabbitmq_cluster.ts";
 *
 * await using cluster = await startRabbitMqCluster({ queueType: "quorum" });
 * await cluster.addEndpoint(uuid);
 * // … connect to cluster.nodes[0].tlsUrl …
 * await cluster.kill(0); // SIGKILL of its beam.smp
 * await cluster.restart(0); // back, and running in the cluster again
 * ```
 *
 * @module
 */

import type { TestPki } from "./_certs.ts";
import {
  createRabbitMqHost,
  type RabbitMq,
  type RabbitMqHost,
  rabbitMqMissing,
  type RabbitMqOptions,
  startRabbitMq,
} from "./_rabbitmq.ts";

export { rabbitMqMissing };

/** Where RabbitMQ keeps the queue of a persistent MQTT session (`mqtt.durable_queue_type`). */
export type QueueType = "quorum" | "classic";

/** Options of {@linkcode startRabbitMqCluster}. */
export interface RabbitMqClusterOptions
  extends Pick<RabbitMqOptions, "binDir" | "startTimeout" | "logLevel" | "extraConfig"> {
  /**
   * How many nodes.
   *
   * @default {3}
   */
  size?: number;
  /**
   * The queue type of persistent sessions (`cleanSession` false): `quorum` survives the death
   * of a node; `classic` drops what is routed to a queue while its node is down.
   *
   * @default {"quorum"}
   */
  queueType?: QueueType;
  /**
   * How long the nodes may take to see each other running, after they started, in ms.
   *
   * @default {60000}
   */
  clusterTimeout?: number;
}

/** A running cluster started by {@linkcode startRabbitMqCluster}. */
export interface RabbitMqCluster extends AsyncDisposable {
  /** The nodes, in start order; the others joined the first. */
  readonly nodes: readonly RabbitMq[];
  /** The PKI whose CA every TLS listener trusts. */
  readonly pki: TestPki;
  /** The queue type of persistent sessions. */
  readonly queueType: QueueType;
  /** Milliseconds from the call to every node running in the cluster with its listeners open. */
  readonly formedIn: number;
  /**
   * The node whose endpoint (TLS) or cloud listener has this URL.
   *
   * @param url A `tlsUrl` or `cloudUrl`.
   * @returns Its index in {@linkcode RabbitMqCluster.nodes}, or -1.
   */
  indexOf(url: string): number;
  /**
   * Creates endpoint users with cloud.iO's permissions ({@linkcode RabbitMq.addEndpoint}) on a
   * running node; users are cluster-wide.
   *
   * @param uuids The endpoint UUIDs.
   */
  addEndpoint(...uuids: string[]): Promise<void>;
  /**
   * Runs `rabbitmqctl` against the first running node.
   *
   * @param args The command and its arguments.
   * @returns Its stdout.
   */
  ctl(...args: string[]): Promise<string>;
  /**
   * The nodes the first running node sees running in the cluster.
   *
   * @returns Erlang node names.
   */
  runningNodes(): Promise<string[]>;
  /**
   * Kills a node with SIGKILL (its `beam.smp`: a crash, no clean shutdown) and waits for it to
   * exit.
   *
   * @param index The node.
   */
  kill(index: number): Promise<void>;
  /**
   * Starts a killed (or stopped) node again on the same ports and data; resolves when its
   * listeners accept and the other nodes see it running.
   *
   * @param index The node.
   * @throws {Error} When it does not start or join in time.
   */
  restart(index: number): Promise<void>;
  /** Kills every node, epmd and watchdog it started and removes their directories. */
  stop(): Promise<void>;
  /**
   * Processes of this cluster still running: its nodes' Erlang VMs (and their helpers) and its
   * epmd, found in `/proc` by their `-home` and `-port` arguments. Empty after
   * {@linkcode RabbitMqCluster.stop}.
   *
   * @returns Their pids.
   */
  processes(): number[];
}

const DEFAULT_SIZE = 3;
const CLUSTER_TIMEOUT_MS = 60_000;

/**
 * Starts a cluster of private RabbitMQ nodes on loopback.
 *
 * Dispose of it (`await using`) to kill every node and remove every directory, whatever happened.
 *
 * @param options Size, queue type, and the options of each node.
 * @returns The running cluster.
 * @throws {Error} When RabbitMQ is not installed, or a node does not start or join; whatever
 * started is stopped first.
 */
export async function startRabbitMqCluster(
  options: RabbitMqClusterOptions = {},
): Promise<RabbitMqCluster> {
  const { size = DEFAULT_SIZE, queueType = "quorum" } = options;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(
      `Cannot start a cluster of ${size} nodes: size must be a positive integer`,
    );
  }
  const missing = rabbitMqMissing(options.binDir);
  if (missing) throw new Error(`Cannot start a RabbitMQ cluster: ${missing}`);
  const began = performance.now();
  const host = await createRabbitMqHost();
  const id = crypto.randomUUID().slice(0, 8);
  const names = Array.from({ length: size }, (_, i) => `cloudio-${id}-n${i + 1}@localhost`);
  const nodeOptions = (i: number): RabbitMqOptions => ({
    binDir: options.binDir,
    startTimeout: options.startTimeout,
    logLevel: options.logLevel,
    host,
    nodeName: names[i],
    extraConfig: [
      "# Generated by tests/_rabbitmq_cluster.ts",
      `mqtt.durable_queue_type = ${queueType}`,
      // Joins the first node on its first boot; ignored once the node has data of its own.
      ...(i === 0 ? [] : [
        "cluster_formation.peer_discovery_backend = classic_config",
        `cluster_formation.classic_config.nodes.1 = ${names[0]}`,
      ]),
      ...(options.extraConfig ?? []),
    ],
  });
  const nodes: RabbitMq[] = [];
  try {
    nodes.push(await startRabbitMq(nodeOptions(0)));
    const rest = await Promise.allSettled(
      names.slice(1).map((_, i) => startRabbitMq(nodeOptions(i + 1))),
    );
    for (const result of rest) if (result.status === "fulfilled") nodes.push(result.value);
    const failed = rest.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    const cluster = new Cluster(nodes, host, queueType);
    await cluster.waitRunning(names, options.clusterTimeout ?? CLUSTER_TIMEOUT_MS);
    cluster.formedIn = Math.round(performance.now() - began);
    return cluster;
  } catch (error) {
    await stopAll(nodes, host);
    throw error;
  }
}

class Cluster implements RabbitMqCluster {
  readonly nodes: readonly RabbitMq[];
  readonly pki: TestPki;
  readonly queueType: QueueType;
  formedIn = 0;
  readonly #host: RabbitMqHost;
  #stopping: Promise<void> | undefined;

  constructor(nodes: RabbitMq[], host: RabbitMqHost, queueType: QueueType) {
    this.nodes = nodes;
    this.pki = nodes[0].pki;
    this.queueType = queueType;
    this.#host = host;
  }

  indexOf(url: string): number {
    return this.nodes.findIndex((node) => node.tlsUrl === url || node.cloudUrl === url);
  }

  #running(): RabbitMq {
    const node = this.nodes.find((n) => n.pid !== undefined);
    if (!node) throw new Error("Cannot reach the cluster: no node is running");
    return node;
  }

  addEndpoint(...uuids: string[]): Promise<void> {
    return this.#running().addEndpoint(...uuids);
  }

  ctl(...args: string[]): Promise<string> {
    return this.#running().ctl(...args);
  }

  async runningNodes(): Promise<string[]> {
    const status = JSON.parse(await this.ctl("cluster_status", "--formatter", "json"));
    return status.running_nodes ?? [];
  }

  /** Waits until a running node sees every one of `names` running. */
  async waitRunning(names: string[], timeout: number): Promise<void> {
    const deadline = Date.now() + timeout;
    let seen: string[] = [];
    let lastError: unknown;
    while (Date.now() < deadline) {
      try {
        seen = await this.runningNodes();
        if (names.every((name) => seen.includes(name))) return;
      } catch (error) {
        lastError = error; // a node between stop and start: ask again
      }
      await delay(250);
    }
    throw new Error(
      `Cannot see ${names.join(", ")} running in the cluster within ${timeout} ms: ` +
        `running ${seen.join(", ") || "(none)"}`,
      { cause: lastError },
    );
  }

  #node(index: number): RabbitMq {
    const node = this.nodes[index];
    if (!node) {
      throw new RangeError(
        `Cannot find node ${index}: the cluster has nodes 0 to ${this.nodes.length - 1}`,
      );
    }
    return node;
  }

  kill(index: number): Promise<void> {
    return this.#node(index).kill();
  }

  async restart(index: number): Promise<void> {
    const node = this.#node(index);
    await node.start();
    await this.waitRunning([node.nodeName], CLUSTER_TIMEOUT_MS);
  }

  stop(): Promise<void> {
    this.#stopping ??= stopAll(this.nodes, this.#host);
    return this.#stopping;
  }

  processes(): number[] {
    const home = `\0-home\0${this.#host.home}\0`;
    const epmd = `\0-port\0${this.#host.epmdPort}\0`;
    const pids: number[] = [];
    for (const entry of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      let cmdline: string;
      try {
        cmdline = `\0${Deno.readTextFileSync(`/proc/${entry.name}/cmdline`)}`;
      } catch {
        continue; // gone meanwhile, or not ours to read
      }
      if (cmdline.includes(home) || (cmdline.includes("epmd") && cmdline.includes(epmd))) {
        pids.push(Number(entry.name));
      }
    }
    return pids;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** Kills every node at once (their data is thrown away), then epmd; removes the directories. */
async function stopAll(nodes: readonly RabbitMq[], host: RabbitMqHost): Promise<void> {
  await Promise.all(nodes.map((node) => node.kill().catch(() => {})));
  await Promise.all(
    nodes.map((node) => Promise.resolve(node[Symbol.asyncDispose]()).catch(() => {})),
  );
  await host[Symbol.asyncDispose]();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

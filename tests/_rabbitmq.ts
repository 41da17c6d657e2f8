/**
 * A private RabbitMQ node for the integration tests: the broker family the real cloud.iO runs
 * (protocol §3, §9), with the MQTT plugin, TLS and certificate login.
 *
 * {@linkcode startRabbitMq} runs Debian's `rabbitmq-server` as a node of its own
 * (`cloudio-<random>@localhost`) on free loopback ports (from `_ports.ts`), with its own data, logs
 * and configuration in a temporary directory, and a private epmd and Erlang cookie, so the system
 * instance (`rabbit@localhost`, port 5672, the system epmd) is never touched:
 *
 * - `tlsUrl`: the endpoint listener. TLS 1.2, `verify_peer` + `fail_if_no_peer_cert`, CA and
 *   server certificate from {@linkcode testPki}; the login name is the certificate's CN
 *   (`mqtt.ssl_cert_login`, `ssl_cert_login_from = common_name`), with no password. Only
 *   endpoints added with {@linkcode RabbitMq.addEndpoint} may log in, and each may touch only
 *   its own topics: the topic permissions of protocol §9 on `amq.topic`.
 * - `cloudUrl`: a plain MQTT listener for the test cloud (`connectCloud()` of `_cloud.ts`): an
 *   anonymous client there logs in as the user `cloud`, which may read and write every topic.
 *   (`mqtt.allow_anonymous` has to be on for that, as `connectCloud()` sends no credentials; on
 *   the TLS listener it changes nothing: a client there always has a certificate, and RabbitMQ
 *   uses its CN, never the anonymous user.)
 *
 * The node is run by `/usr/lib/rabbitmq/bin/rabbitmq-server` directly: `/usr/sbin/rabbitmq-server`
 * is a Debian wrapper that, as root, switches to the `rabbitmq` user (who cannot read the test
 * PKI, a root-only temporary directory) and works in `/var/lib/rabbitmq`. The Erlang VM is the
 * child process itself. Nothing else is needed: no `rabbitmq-plugins enable` (the node reads its
 * own `enabled_plugins` file), no service.
 *
 * Three pieces:
 *
 * - {@linkcode RabbitMqHost}: what the nodes of one cluster share on this machine, the private
 *   epmd, the `HOME` with the Erlang cookie, and the cloud user's password. A lone node makes one of
 *   its own in its directory; {@linkcode createRabbitMqHost} makes one for several nodes
 *   (`_rabbitmq_cluster.ts`).
 * - The node ({@linkcode RabbitMq}): its ports, configuration, data and log, the VM's lifecycle.
 *   A first start that fails because a port was taken is tried again on new ports
 *   (`retryOnAddressInUse` of `_ports.ts`); so is the host's epmd.
 * - A watchdog per node and per host: a `sh` that kills the VM or epmd and removes the files when
 *   the test process dies without stopping them, however it dies (SIGKILL included).
 *
 * @example One node for a whole test file
 * ```ts ignore
 * import { startRabbitMq } from "./_rabbitmq.ts";
 * import { connectCloud } from "./_cloud.ts";
 *
 * Deno.test("something against RabbitMQ", async (t) => {
 *   await using broker = await startRabbitMq();
 *   await broker.addEndpoint(uuid);
 *   await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
 *   await t.step("…", async () => {});
 *   await broker.stop(); // the node goes away
 *   await broker.start(); // and comes back on the same ports, with its users and queues
 * });
 * ```
 *
 * @module
 */

import { type TestPki, testPki } from "./_certs.ts";
import { accepts, freePort, retryOnAddressInUse } from "./_ports.ts";

/** Options of {@linkcode startRabbitMq}. */
export interface RabbitMqOptions {
  /**
   * Directory of RabbitMQ's own scripts (`rabbitmq-server`, `rabbitmqctl`).
   *
   * @default {"/usr/lib/rabbitmq/bin"}
   */
  binDir?: string;
  /**
   * How long a (re)start may take before it fails, in ms. A first start takes ~10–13 s on
   * two cores (the MQTT plugin alone waits 3–6 s for cluster peers that never come).
   *
   * @default {90000}
   */
  startTimeout?: number;
  /**
   * Level of the node's log file (`log.file.level`). `"debug"` shows every authorization
   * decision but is slower.
   *
   * @default {"info"}
   */
  logLevel?: "debug" | "info" | "warning" | "error";
  /** More `rabbitmq.conf` lines, appended to the generated ones. */
  extraConfig?: string[];
  /**
   * The epmd, Erlang cookie and cloud password to share with other nodes, so that they can form
   * a cluster (`tests/_rabbitmq_cluster.ts`). The node neither stops nor removes it.
   *
   * @default {a host of its own, in the node's directory, gone with the node}
   */
  host?: RabbitMqHost;
  /**
   * The Erlang node name.
   *
   * @default {`cloudio-<random>@localhost`}
   */
  nodeName?: string;
}

/**
 * What the nodes of one cluster share on this machine: a private epmd on a loopback port of its
 * own, one `HOME` holding the Erlang cookie (the server and `rabbitmqctl` both read it there), and
 * the password of the test cloud's user. Every node still has ports of its own.
 */
export interface RabbitMqHost extends AsyncDisposable {
  /** The `HOME` of the nodes and of `rabbitmqctl`, with `.erlang.cookie`. */
  readonly home: string;
  /**
   * The private epmd's port (`ERL_EPMD_PORT`). Final once {@linkcode RabbitMqHost.startEpmd}
   * resolved: until then, a port found taken is replaced.
   */
  readonly epmdPort: number;
  /** The password of the `cloud` user, the anonymous login of the cloud listeners. */
  readonly cloudPassword: string;
  /**
   * Starts the private epmd unless it runs (on another port if its port was taken); resolves
   * when it accepts connections.
   *
   * @throws {Error} When epmd does not start.
   */
  startEpmd(): Promise<void>;
}

/**
 * Creates a host for the nodes of a cluster: a temporary `HOME` with a random cookie, and the
 * port of a private epmd, which starts with the first node. Dispose of it (after the nodes) to
 * kill epmd and remove the directory.
 *
 * @returns The host.
 */
export async function createRabbitMqHost(): Promise<RabbitMqHost> {
  const home = await Deno.makeTempDir({ prefix: "cloudio-rabbitmq-home-" });
  try {
    return await Host.create(home, true);
  } catch (error) {
    await Deno.remove(home, { recursive: true }).catch(() => {});
    throw error;
  }
}

/** Timings and memory of a node, measured by {@linkcode RabbitMq}. */
export interface RabbitMqStats {
  /** Milliseconds each (re)start took, from spawning the server to the listeners accepting. */
  starts: number[];
  /** Resident memory of the Erlang VM in kB, as last sampled (on start and on stop). */
  rssKb: number | undefined;
  /** The highest resident memory sampled, in kB. */
  maxRssKb: number | undefined;
}

/** An MQTT connection as RabbitMQ lists it (`rabbitmqctl list_mqtt_connections`). */
export interface MqttConnectionInfo {
  /** The MQTT client id. */
  clientId: string;
  /** The user it logged in as (the certificate CN on the TLS listener). */
  user: string;
  /** The broker's name for the connection, `"127.0.0.1:P -> 127.0.0.1:Q"`. */
  name: string;
}

/** A running (or stopped) RabbitMQ node started by {@linkcode startRabbitMq}. */
export interface RabbitMq extends AsyncDisposable {
  /**
   * `mqtts://127.0.0.1:P`: the endpoint listener. TLS 1.2 with a required client certificate
   * from {@linkcode RabbitMq.pki}; login = certificate CN, which must be an endpoint added with
   * {@linkcode RabbitMq.addEndpoint}.
   */
  readonly tlsUrl: string;
  /** `mqtt://127.0.0.1:P`: the test cloud's listener; anonymous = user `cloud`, every topic. */
  readonly cloudUrl: string;
  /** The PKI whose CA the TLS listener trusts. */
  readonly pki: TestPki;
  /** The Erlang node name, `cloudio-<random>@localhost`. */
  readonly nodeName: string;
  /** The pid of the Erlang VM, `undefined` when stopped. */
  readonly pid: number | undefined;
  /** Start times and memory (sampled when read). */
  readonly stats: RabbitMqStats;
  /**
   * Creates the RabbitMQ users of endpoints (named after the uuid, no password: certificate
   * login only) with the permissions of protocol §9: on exchange `amq.topic`, write only
   * `@online|@offline|@transaction|@delayed|@logs/<uuid>`, `@nodeAdded|@nodeRemoved|@execOutput/
   * <uuid>/<one level>` and `@update|@didSet/<uuid>/<three levels or more>`; read (subscribe)
   * only `@set/<uuid>/…`, `@exec/<uuid>` and `@logsLevel/<uuid>`; queues only its own
   * `mqtt-subscription-<uuid>qos0|1`. One `rabbitmqctl import_definitions` call (~1 s) for all.
   *
   * @param uuids The endpoint UUIDs.
   * @throws {Error} When `rabbitmqctl` fails; the message includes its output.
   */
  addEndpoint(...uuids: string[]): Promise<void>;
  /**
   * Runs `rabbitmqctl -n <node> <args>` against this node.
   *
   * @param args The command and its arguments.
   * @returns Its stdout.
   * @throws {Error} When it exits with an error; the message includes its output.
   */
  ctl(...args: string[]): Promise<string>;
  /**
   * The MQTT connections the node has now.
   *
   * @returns One entry per connection.
   */
  mqttConnections(): Promise<MqttConnectionInfo[]>;
  /**
   * (Re)starts the node on the same ports, with the same data (users, durable queues, retained
   * messages). Resolves when both MQTT listeners accept connections and the node logged
   * "Server startup complete"; does nothing when already running.
   *
   * @throws {Error} When the node exits or does not start in time; the message includes the
   * node's output and log.
   */
  start(): Promise<void>;
  /**
   * Stops the node: `rabbitmqctl stop`, then SIGTERM, then SIGKILL if it is still there; waits
   * until the VM has exited.
   */
  stop(): Promise<void>;
  /** Kills the node with SIGKILL (no clean shutdown) and waits for it to exit. */
  kill(): Promise<void>;
  /** The console output and the log file of the node so far, across restarts. */
  output(): string;
  /** The node's log file so far (every start appends to it). */
  log(): string;
  /**
   * Waits until everything the node logged so far is in its log file (RabbitMQ writes it with a
   * delay): connects an MQTT client with a unique id to the cloud listener and waits for the
   * line that accepts it.
   *
   * @returns The log, up to date.
   * @throws {Error} When the line does not appear within 10 s.
   */
  syncLog(): Promise<string>;
}

const START_TIMEOUT_MS = 90_000;
const CTL_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const EPMD_TIMEOUT_MS = 10_000;
const VHOST = "/";

/**
 * Starts a private RabbitMQ node with the MQTT plugin, certificate login and a test cloud
 * listener on free loopback ports.
 *
 * Dispose of it (`await using`) to stop it and remove its directory (and its host, unless the
 * host was given in `options`).
 *
 * @param options Where RabbitMQ is, timeouts, log level, extra configuration, a shared host.
 * @returns The started node.
 * @throws {Error} When RabbitMQ is not installed or the node does not start; the message
 * includes its output and log.
 */
export async function startRabbitMq(options: RabbitMqOptions = {}): Promise<RabbitMq> {
  const binDir = options.binDir ?? "/usr/lib/rabbitmq/bin";
  const missing = rabbitMqMissing(binDir);
  if (missing) throw new Error(`Cannot start RabbitMQ: ${missing}`);
  const pki = await testPki();
  const dir = await Deno.makeTempDir({ prefix: "cloudio-rabbitmq-" });
  let host: RabbitMqHost;
  try {
    host = options.host ?? await Host.create(dir, false);
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
  const node = new RabbitMqNode(pki, dir, binDir, options, host, options.host === undefined);
  try {
    // The ports are chosen before the node binds them: on a clash, start again on others.
    await retryOnAddressInUse(async () => {
      await node.prepare();
      await node.start();
    }, () => node.pickPorts());
  } catch (error) {
    await node[Symbol.asyncDispose]();
    throw error;
  }
  return node;
}

/**
 * Why RabbitMQ cannot run here, or `undefined` when it can.
 *
 * @param binDir Directory of RabbitMQ's scripts.
 * @returns The reason, e.g. a missing file.
 */
export function rabbitMqMissing(binDir = "/usr/lib/rabbitmq/bin"): string | undefined {
  for (const file of [`${binDir}/rabbitmq-server`, `${binDir}/rabbitmqctl`]) {
    try {
      Deno.statSync(file);
    } catch {
      return `${file} not found (apt-get install rabbitmq-server)`;
    }
  }
  if (!findEpmd()) return "epmd not found (it comes with erlang-base)";
  return undefined;
}

/** The Erlang port mapper daemon of the installed Erlang. */
function findEpmd(): string | undefined {
  const candidates = ["/usr/bin/epmd", "/usr/lib/erlang/bin/epmd"];
  try {
    for (const entry of Deno.readDirSync("/usr/lib/erlang")) {
      if (entry.name.startsWith("erts-")) candidates.push(`/usr/lib/erlang/${entry.name}/bin/epmd`);
    }
  } catch {
    // no /usr/lib/erlang
  }
  for (const path of candidates) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** Topic permissions of protocol §9 for one endpoint, as RabbitMQ sees topics ('/' → '.'). */
export function topicPermissions(uuid: string): { write: string; read: string } {
  const u = escapeRegExp(uuid);
  const level = "\\.[^.]+";
  return {
    write: [
      `^@(online|offline|transaction|delayed|logs)\\.${u}$`,
      `^@(nodeAdded|nodeRemoved|execOutput)\\.${u}${level}$`,
      `^@(update|didSet)\\.${u}(${level}){3,}$`,
    ].join("|"),
    read: [`^@set\\.${u}\\..+$`, `^@(exec|logsLevel)\\.${u}$`].join("|"),
  };
}

/** The ports a node listens on (its epmd's is the host's). */
interface NodePorts {
  tls: number;
  cloud: number;
  amqp: number;
  dist: number;
}

/**
 * A {@linkcode RabbitMq}: one node's ports, files and Erlang VM. The epmd, cookie and cloud
 * password are its host's; a watchdog kills the VM and removes the node's directory if the test
 * process dies first.
 */
class RabbitMqNode implements RabbitMq {
  readonly pki: TestPki;
  readonly nodeName: string;
  readonly #stats: RabbitMqStats = { starts: [], rssKb: undefined, maxRssKb: undefined };
  readonly #dir: string;
  readonly #binDir: string;
  readonly #options: RabbitMqOptions;
  readonly #host: RabbitMqHost;
  /** Whether the host is the node's own (in its directory), disposed of with it. */
  readonly #ownsHost: boolean;
  readonly #watchdog = new Watchdog();
  #ports: NodePorts = freshPorts();
  #child: Deno.ChildProcess | undefined;
  #exited: Promise<Deno.CommandStatus> | undefined;
  #drained: Promise<void> | undefined;
  #vmPid: number | undefined;
  #console = "";

  constructor(
    pki: TestPki,
    dir: string,
    binDir: string,
    options: RabbitMqOptions,
    host: RabbitMqHost,
    ownsHost: boolean,
  ) {
    this.pki = pki;
    this.#dir = dir;
    this.#binDir = binDir;
    this.#options = options;
    this.#host = host;
    this.#ownsHost = ownsHost;
    this.nodeName = options.nodeName ?? `cloudio-${crypto.randomUUID().slice(0, 8)}@localhost`;
    globalThis.addEventListener("unload", this.#onUnload);
  }

  /**
   * Chooses new ports (before the first successful start only: restarts keep the URLs). The
   * host's epmd keeps its port: the host finds another one itself when that one is taken.
   */
  pickPorts(): void {
    this.#ports = freshPorts();
  }

  get tlsUrl(): string {
    return `mqtts://127.0.0.1:${this.#ports.tls}`;
  }

  get cloudUrl(): string {
    return `mqtt://127.0.0.1:${this.#ports.cloud}`;
  }

  get stats(): RabbitMqStats {
    this.#sampleRss();
    return { ...this.#stats, starts: [...this.#stats.starts] };
  }

  get pid(): number | undefined {
    return this.#child ? this.#vmPid : undefined;
  }

  /** Environment of both the server and rabbitmqctl: same HOME (cookie) and epmd. */
  #env(): Record<string, string> {
    const dir = this.#dir;
    return {
      HOME: this.#host.home,
      // Not /etc/rabbitmq/rabbitmq-env.conf, which names the system node.
      RABBITMQ_CONF_ENV_FILE: `${dir}/rabbitmq-env.conf`,
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
      RABBITMQ_NODE_PORT: String(this.#ports.amqp),
      RABBITMQ_DIST_PORT: String(this.#ports.dist),
      RABBITMQ_MNESIA_BASE: `${dir}/mnesia`,
      RABBITMQ_LOG_BASE: `${dir}/log`,
      RABBITMQ_CONFIG_FILE: `${dir}/rabbitmq.conf`,
      RABBITMQ_ADVANCED_CONFIG_FILE: `${dir}/advanced.config`,
      RABBITMQ_ENABLED_PLUGINS_FILE: `${dir}/enabled_plugins`,
      RABBITMQ_PID_FILE: `${dir}/rabbitmq.pid`,
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
      ERL_EPMD_PORT: String(this.#host.epmdPort),
      ERL_EPMD_ADDRESS: "127.0.0.1",
    };
  }

  async prepare(): Promise<void> {
    const dir = this.#dir;
    const pki = this.pki;
    await Deno.writeTextFile(
      `${dir}/rabbitmq-env.conf`,
      "# empty: everything is in the environment\n",
    );
    await Deno.writeTextFile(
      `${dir}/enabled_plugins`,
      "[rabbitmq_mqtt,rabbitmq_auth_mechanism_ssl].\n",
    );
    const lines = [
      "# Generated by tests/_rabbitmq.ts",
      "listeners.tcp = none",
      "",
      "# The endpoint listener: TLS 1.2, client certificate required, login = its CN.",
      `mqtt.listeners.ssl.1 = 127.0.0.1:${this.#ports.tls}`,
      `ssl_options.cacertfile = ${pki.caCert}`,
      `ssl_options.certfile = ${pki.serverCert}`,
      `ssl_options.keyfile = ${pki.serverKey}`,
      "ssl_options.verify = verify_peer",
      "ssl_options.fail_if_no_peer_cert = true",
      "ssl_options.versions.1 = tlsv1.2",
      "mqtt.ssl_cert_login = true",
      "ssl_cert_login_from = common_name",
      "",
      "# The test cloud: plain MQTT; anonymous clients log in as `cloud` (all topics).",
      "# Certificate logins take precedence, so this does not open the TLS listener.",
      `mqtt.listeners.tcp.1 = 127.0.0.1:${this.#ports.cloud}`,
      "mqtt.allow_anonymous = true",
      "mqtt.default_user = cloud",
      `mqtt.default_pass = ${this.#host.cloudPassword}`,
      "# Seeded on the first boot instead of guest, permissions .* .* .*, no topic permissions.",
      "default_user = cloud",
      `default_pass = ${this.#host.cloudPassword}`,
      "default_user_tags.administrator = false",
      "",
      "log.console = false",
      "log.file = rabbit.log",
      `log.file.level = ${this.#options.logLevel ?? "info"}`,
      "",
      ...(this.#options.extraConfig ?? []),
      "",
    ];
    await Deno.writeTextFile(`${dir}/rabbitmq.conf`, lines.join("\n"));
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const began = performance.now();
    await this.#host.startEpmd();
    const logStart = this.log().length;
    const consoleStart = this.#console.length;
    await Deno.remove(`${this.#dir}/rabbitmq.pid`).catch(() => {});
    const child = new Deno.Command(`${this.#binDir}/rabbitmq-server`, {
      env: {
        ...this.#env(),
        // rabbitmq-server then `exec`s erl instead of running it in the background of a shell
        // that traps signals: the child is the Erlang VM itself, so its pid is the one to kill.
        detached: "true",
      },
      cwd: this.#dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#vmPid = child.pid;
    let exited = false;
    this.#exited = child.status.then((status) => {
      exited = true;
      return status;
    });
    this.#drained = Promise.all([this.#drain(child.stdout), this.#drain(child.stderr)]).then(
      () => {},
    );
    await this.#watchdog.arm([this.#vmPid], this.#dir);

    const timeout = this.#options.startTimeout ?? START_TIMEOUT_MS;
    const deadline = Date.now() + timeout;
    const pending = new Set([this.#ports.tls, this.#ports.cloud]);
    let complete = false;
    while (!exited && Date.now() < deadline) {
      complete ||= this.log().slice(logStart).includes("Server startup complete");
      for (const port of [...pending]) {
        if (await accepts(port)) pending.delete(port);
      }
      if (complete && pending.size === 0 && !exited) {
        const pid = await this.#readPidFile();
        if (pid !== undefined && pid !== this.#vmPid) {
          this.#vmPid = pid; // an older rabbitmq-server script that keeps a shell in between
          await this.#watchdog.arm([pid], this.#dir);
        }
        this.#stats.starts.push(Math.round(performance.now() - began));
        this.#sampleRss();
        return;
      }
      await delay(100);
    }
    const reason = exited
      ? `it exited with code ${(await this.#exited).code}`
      : `it did not ${
        complete ? "open ports " + [...pending].join(", ") : 'log "Server startup complete"'
      } within ${timeout} ms`;
    const output = this.#console.slice(consoleStart);
    const log = this.log().slice(logStart);
    await this.kill();
    throw new Error(
      `Cannot start RabbitMQ node ${this.nodeName} as ${reason}.\n` +
        `Console output:\n${output || "(none)"}\nLog (${this.#dir}/log/rabbit.log):\n${
          log.split("\n").slice(-80).join("\n") || "(none)"
        }`,
    );
  }

  async stop(): Promise<void> {
    if (!this.#child) return;
    this.#sampleRss();
    const exited = this.#exited!;
    try {
      await this.ctl("stop");
    } catch {
      // fall back to signals below
    }
    if (!(await settlesWithin(exited, STOP_TIMEOUT_MS))) {
      this.#signal("SIGTERM");
      if (!(await settlesWithin(exited, STOP_TIMEOUT_MS))) this.#signal("SIGKILL");
    }
    await this.#reap();
  }

  async kill(): Promise<void> {
    if (!this.#child) return;
    this.#signal("SIGKILL");
    await this.#reap();
  }

  async ctl(...args: string[]): Promise<string> {
    const command = new Deno.Command(`${this.#binDir}/rabbitmqctl`, {
      args: ["-n", this.nodeName, "-q", ...args],
      env: this.#env(),
      cwd: this.#dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => {
      try {
        command.kill("SIGKILL");
      } catch {
        // already exited
      }
    }, CTL_TIMEOUT_MS);
    const { code, stdout, stderr } = await command.output().finally(() => clearTimeout(timer));
    const out = new TextDecoder().decode(stdout);
    if (code !== 0) {
      throw new Error(
        `Cannot run "rabbitmqctl -n ${this.nodeName} ${args.join(" ")}": exit code ${code}\n` +
          out + new TextDecoder().decode(stderr),
      );
    }
    return out;
  }

  async addEndpoint(...uuids: string[]): Promise<void> {
    if (uuids.length === 0) return;
    const queue = (uuid: string) => `^mqtt-subscription-${escapeRegExp(uuid)}qos[01]$`;
    const definitions = {
      users: uuids.map((name) => ({
        name,
        // An empty hash: no password can match, so only a certificate login works (what
        // `rabbitmqctl clear_password` does).
        password_hash: "",
        hashing_algorithm: "rabbit_password_hashing_sha256",
        tags: [],
      })),
      permissions: uuids.map((user) => ({
        user,
        vhost: VHOST,
        configure: queue(user),
        write: `^amq\\.topic$|${queue(user)}`,
        read: `^amq\\.topic$|${queue(user)}`,
      })),
      topic_permissions: uuids.map((user) => ({
        user,
        vhost: VHOST,
        exchange: "amq.topic",
        ...topicPermissions(user),
      })),
    };
    const file = `${this.#dir}/definitions-${crypto.randomUUID().slice(0, 8)}.json`;
    await Deno.writeTextFile(file, JSON.stringify(definitions, null, 2));
    try {
      await this.ctl("import_definitions", file);
    } finally {
      await Deno.remove(file).catch(() => {});
    }
  }

  async mqttConnections(): Promise<MqttConnectionInfo[]> {
    const out = await this.ctl(
      "list_mqtt_connections",
      "client_id",
      "user",
      "conn_name",
      "--no-table-headers",
    );
    return out.split("\n").filter((line) => line.trim() !== "").map((line) => {
      const [clientId, user, name] = line.split("\t");
      return { clientId, user, name };
    });
  }

  output(): string {
    return `${this.#console}\n--- ${this.#dir}/log/rabbit.log ---\n${this.log()}`;
  }

  log(): string {
    try {
      return Deno.readTextFileSync(`${this.#dir}/log/rabbit.log`);
    } catch {
      return "";
    }
  }

  async syncLog(): Promise<string> {
    const marker = `log-marker-${crypto.randomUUID().slice(0, 8)}`;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.#ports.cloud });
    try {
      await conn.write(mqttConnect(marker));
      await conn.read(new Uint8Array(4)); // CONNACK
    } finally {
      conn.close();
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      const log = this.log();
      if (log.includes(`client id: ${marker})`)) return log;
      if (Date.now() > deadline) {
        throw new Error(`Cannot see ${marker} in the log of ${this.nodeName} within 10 s`);
      }
      await delay(50);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await this.#watchdog.disarm();
    if (this.#ownsHost) await this.#host[Symbol.asyncDispose]();
    globalThis.removeEventListener("unload", this.#onUnload);
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  /**
   * Safety net when a test forgot (or crashed before) disposing of the node; the host has its
   * own.
   */
  readonly #onUnload = () => {
    if (this.#vmPid !== undefined) {
      try {
        Deno.kill(this.#vmPid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    try {
      Deno.removeSync(this.#dir, { recursive: true });
    } catch {
      // best effort
    }
  };

  #signal(signal: Deno.Signal): void {
    for (const pid of new Set([this.#vmPid, this.#child?.pid])) {
      if (pid === undefined) continue;
      try {
        Deno.kill(pid, signal);
      } catch {
        // already exited
      }
    }
  }

  async #reap(): Promise<void> {
    await this.#exited;
    await this.#drained;
    // The VM's own helpers (erl_child_setup, inet_gethost) exit with it; wait for a VM that is not
    // our direct child (older scripts), too.
    if (this.#vmPid !== undefined && this.#vmPid !== this.#child?.pid) {
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (alive(this.#vmPid) && Date.now() < deadline) await delay(50);
      if (alive(this.#vmPid)) this.#signal("SIGKILL");
    }
    this.#child = undefined;
    this.#exited = undefined;
    this.#drained = undefined;
    this.#vmPid = undefined;
    await this.#watchdog.arm([], this.#dir); // the VM is gone; its files stay until disposed of
  }

  async #readPidFile(): Promise<number | undefined> {
    try {
      const pid = Number((await Deno.readTextFile(`${this.#dir}/rabbitmq.pid`)).trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  #sampleRss(): void {
    if (this.#vmPid === undefined) return;
    try {
      const status = Deno.readTextFileSync(`/proc/${this.#vmPid}/status`);
      const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
      if (Number.isFinite(kb)) {
        this.#stats.rssKb = kb;
        this.#stats.maxRssKb = Math.max(this.#stats.maxRssKb ?? 0, kb);
      }
    } catch {
      // not Linux, or gone
    }
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) this.#console += decoder.decode(chunk, { stream: true });
    } catch {
      // the pipe closes when the node dies
    }
    this.#console += decoder.decode();
  }
}

/**
 * A {@linkcode RabbitMqHost}: of a cluster ({@linkcode createRabbitMqHost}, which owns its `HOME`),
 * or of a lone node (whose directory is the `HOME`, removed by the node).
 */
class Host implements RabbitMqHost {
  readonly home: string;
  readonly cloudPassword = crypto.randomUUID();
  readonly #ownsHome: boolean;
  readonly #epmdPath = findEpmd()!;
  readonly #watchdog = new Watchdog();
  #epmdPort = freePort();
  #epmd: Deno.ChildProcess | undefined;
  #starting: Promise<void> | undefined;

  /**
   * Writes a random Erlang cookie to `home` and makes the host; its epmd starts with the first
   * node.
   *
   * @param home The `HOME` of the nodes (an existing directory).
   * @param ownsHome Whether the host removes `home` when disposed of (or when the test process
   * dies): a cluster's; a lone node removes its own directory.
   * @returns The host.
   */
  static async create(home: string, ownsHome: boolean): Promise<Host> {
    const cookie = Array.from(
      crypto.getRandomValues(new Uint8Array(20)),
      (b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[b % 26],
    ).join("");
    await Deno.writeTextFile(`${home}/.erlang.cookie`, cookie, { mode: 0o400 });
    const host = new Host(home, ownsHome);
    await host.#watch();
    return host;
  }

  private constructor(home: string, ownsHome: boolean) {
    this.home = home;
    this.#ownsHome = ownsHome;
    globalThis.addEventListener("unload", this.#onUnload);
  }

  get epmdPort(): number {
    return this.#epmdPort;
  }

  startEpmd(): Promise<void> {
    // Nodes starting together wait for the same epmd.
    this.#starting ??= retryOnAddressInUse(
      () => this.#spawnEpmd(),
      () => {
        this.#epmdPort = freePort(); // no node has used the old one: none could register
      },
    ).catch((error) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stopEpmd();
    this.#starting = undefined;
    await this.#watchdog.disarm();
    globalThis.removeEventListener("unload", this.#onUnload);
    if (this.#ownsHome) await Deno.remove(this.home, { recursive: true }).catch(() => {});
  }

  /**
   * The nodes' epmd, private (own port) so that nothing is registered with, or left running
   * beside, a system epmd. Erlang would otherwise start a detached `epmd -daemon` that outlives
   * the tests.
   */
  async #spawnEpmd(): Promise<void> {
    const port = this.#epmdPort;
    const taken = bindError(port);
    if (taken) throw new Error(`Cannot start epmd on port ${port}: ${taken}`); // AddrInUse
    const epmd = new Deno.Command(this.#epmdPath, {
      args: ["-port", String(port), "-address", "127.0.0.1"],
      env: { ERL_EPMD_ADDRESS: "127.0.0.1" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    this.#epmd = epmd;
    await this.#watch();
    let exited = false;
    epmd.status.then(() => exited = true);
    const deadline = Date.now() + EPMD_TIMEOUT_MS;
    while (!exited && Date.now() < deadline) {
      if (await accepts(port) && !exited) return;
      await delay(20);
    }
    await this.#stopEpmd();
    // epmd says nothing on stdout: when it exited, a port that cannot be bound is the reason.
    const lost = exited ? bindError(port) : undefined;
    const reason = exited
      ? `it exited${lost ? ` (${lost})` : ""}`
      : `it did not accept connections within ${EPMD_TIMEOUT_MS} ms`;
    throw new Error(`Cannot start epmd on port ${port}: ${reason}`);
  }

  async #stopEpmd(): Promise<void> {
    const epmd = this.#epmd;
    if (!epmd) return;
    this.#epmd = undefined;
    try {
      epmd.kill("SIGKILL");
    } catch {
      // already exited
    }
    await epmd.status;
    await this.#watch();
  }

  /** Points the watchdog at what there is now: epmd, and the `HOME` if the host owns it. */
  #watch(): Promise<void> {
    return this.#watchdog.arm(
      this.#epmd ? [this.#epmd.pid] : [],
      this.#ownsHome ? this.home : undefined,
    );
  }

  readonly #onUnload = () => {
    try {
      this.#epmd?.kill("SIGKILL");
    } catch {
      // already gone
    }
    if (!this.#ownsHome) return;
    try {
      Deno.removeSync(this.home, { recursive: true });
    } catch {
      // best effort
    }
  };
}

/**
 * A `sh` that waits for its stdin to close, then kills the given processes, waits (up to 5 s) for
 * them to go, and removes a directory: the pipe closes when this process dies, however it dies
 * (SIGKILL included), so no node or epmd outlives the tests, and neither do their files.
 */
class Watchdog {
  #child: Deno.ChildProcess | undefined;

  /**
   * Watches `pids` and `dir` instead of what was watched before (nothing, when both are empty).
   *
   * @param pids The processes to kill.
   * @param dir The directory to remove after they exited.
   */
  async arm(pids: number[], dir?: string): Promise<void> {
    await this.disarm();
    if (pids.length === 0 && dir === undefined) return;
    const watchdog = new Deno.Command("/bin/sh", {
      args: [
        "-c",
        [
          "while read -r _; do :; done",
          'kill -9 "$@" 2>/dev/null',
          'i=0; while [ "$i" -lt 50 ] && kill -0 "$@" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done',
          '[ -z "$WATCHDOG_DIR" ] || rm -rf -- "$WATCHDOG_DIR"',
        ].join("\n"),
        "watchdog",
        ...pids.map(String),
      ],
      env: { WATCHDOG_DIR: dir ?? "" },
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    watchdog.unref();
    this.#child = watchdog;
  }

  /** Stops watching, killing and removing nothing. */
  async disarm(): Promise<void> {
    const watchdog = this.#child;
    if (!watchdog) return;
    this.#child = undefined;
    watchdog.ref(); // or the event loop may end while its exit is awaited
    try {
      watchdog.kill("SIGKILL"); // before its stdin closes, so it kills nothing
    } catch {
      // already exited
    }
    await watchdog.status;
    await watchdog.stdin.close().catch(() => {});
  }
}

/** An MQTT 3.1.1 CONNECT packet: clean session, no credentials, keep-alive 60 s. */
function mqttConnect(clientId: string): Uint8Array {
  const id = new TextEncoder().encode(clientId);
  const body = [
    0,
    4,
    0x4d,
    0x51,
    0x54,
    0x54,
    4,
    0x02,
    0,
    60,
    id.length >> 8,
    id.length & 0xff,
    ...id,
  ];
  return new Uint8Array([0x10, body.length, ...body]); // body.length < 128: one length byte
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

function freshPorts(): NodePorts {
  return { tls: freePort(), cloud: freePort(), amqp: freePort(), dist: freePort() };
}

/** Why `port` of 127.0.0.1 cannot be bound now (e.g. "address already in use"), if it cannot. */
function bindError(port: number): string | undefined {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return undefined;
  } catch (error) {
    return String(error);
  }
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

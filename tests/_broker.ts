/**
 * A real mosquitto broker for the integration tests, emulating cloud.iO's
 * broker authorization (protocol §9).
 *
 * {@linkcode startMosquitto} runs `/usr/sbin/mosquitto` with a generated
 * configuration on free loopback ports, never the system instance on 1883:
 *
 * - `tlsUrl`: the endpoint listener. TLS with a client certificate from the
 *   test PKI ({@linkcode testPki}), the certificate CN becomes the username,
 *   no anonymous login, and an ACL that lets an endpoint publish and subscribe
 *   only its own topics (`%u` patterns).
 * - `tcpUrl`: the same ACL on plain TCP, keyed on the MQTT client id (`%c`),
 *   for fast tests without TLS.
 * - `cloudUrl`: the test "cloud", anonymous and unrestricted.
 * - `wsUrl` (option `websockets`): plain websockets, `%c` ACL like `tcpUrl`.
 *
 * @example Start a broker for one test
 * ```ts ignore
 * import { startMosquitto } from "./_broker.ts";
 *
 * Deno.test("something with a broker", async () => {
 *   await using broker = await startMosquitto();
 *   // connect to broker.tlsUrl / broker.tcpUrl / broker.cloudUrl …
 *   await broker.stop(); // the broker goes away
 *   await broker.start(); // and comes back on the same ports
 * });
 * ```
 *
 * @module
 */

import { type TestPki, testPki } from "./_certs.ts";
import { accepts, freePort, retryOnAddressInUse } from "./_ports.ts";

/** Options of {@linkcode startMosquitto}. */
export interface MosquittoOptions {
  /**
   * Also open a TLS-less websockets listener (`wsUrl`) with the `%c` ACL.
   *
   * @default {false}
   */
  websockets?: boolean;
  /**
   * Open the plain-TCP endpoint listener (`tcpUrl`) with the `%c` ACL.
   *
   * @default {true}
   */
  plainEndpointListener?: boolean;
  /**
   * mosquitto `log_type` values. `"debug"` (or `"all"`) logs every packet,
   * including `Denied PUBLISH …` lines, but slows the broker down under load.
   *
   * @default {["error", "warning", "notice", "information", "subscribe", "unsubscribe"]}
   */
  logTypes?: string[];
  /**
   * Keep sessions, subscriptions and queued messages across restarts (saved on a clean stop,
   * `stop()`; mosquitto's snapshot persistence loses what changed since the last save on `kill()`).
   *
   * @default {false}
   */
  persistence?: boolean;
}

/** A running (or stopped) mosquitto started by {@linkcode startMosquitto}. */
export interface Mosquitto extends AsyncDisposable {
  /**
   * `mqtts://127.0.0.1:P`: the endpoint listener. TLS with a required client
   * certificate from {@linkcode Mosquitto.pki}, CN used as the username, no
   * anonymous login, ACL on `%u` (protocol §9).
   */
  readonly tlsUrl: string;
  /**
   * `mqtt://127.0.0.1:P`: plain endpoint listener, anonymous, with the same
   * ACL keyed on the MQTT client id (`%c`).
   *
   * @throws {Error} When started with `plainEndpointListener: false`.
   */
  readonly tcpUrl: string;
  /** `mqtt://127.0.0.1:P`: the test cloud's listener, anonymous, no ACL. */
  readonly cloudUrl: string;
  /** `ws://127.0.0.1:P` when started with `websockets: true`: anonymous, `%c` ACL. */
  readonly wsUrl?: string;
  /** The PKI whose CA the TLS listener trusts. */
  readonly pki: TestPki;
  /** The pid of the running broker, `undefined` when stopped. */
  readonly pid: number | undefined;
  /**
   * (Re)start the broker on the same ports. Resolves when every listener
   * accepts TCP connections; does nothing when already running.
   *
   * @throws {Error} When the broker exits or does not open its ports within
   * ~10 s; the message includes the broker's output.
   */
  start(): Promise<void>;
  /** Stop the broker with SIGTERM and wait for it to exit. */
  stop(): Promise<void>;
  /** Kill the broker with SIGKILL and wait for it to exit. */
  kill(): Promise<void>;
  /**
   * Freeze the broker with SIGSTOP: its connections stay open (the kernel still accepts and
   * acknowledges), but it answers nothing until {@linkcode Mosquitto.resume}.
   */
  pause(): void;
  /** Let a paused broker run again (SIGCONT). */
  resume(): void;
  /** Everything the broker wrote to stderr so far, across restarts. */
  output(): string;
}

/** Path of the broker binary (Debian's `mosquitto` package). */
const MOSQUITTO = "/usr/sbin/mosquitto";
const START_TIMEOUT_MS = 10_000;
const DEFAULT_LOG_TYPES = ["error", "warning", "notice", "information", "subscribe", "unsubscribe"];

/** Topics an endpoint may publish (protocol §4, §9), `ID` being its identity. */
const WRITE_PATTERNS = [
  "@online/ID",
  "@offline/ID",
  "@nodeAdded/ID/#",
  "@nodeRemoved/ID/#",
  "@update/ID/#",
  "@didSet/ID/#",
  "@transaction/ID",
  "@delayed/ID",
  "@logs/ID",
  "@execOutput/ID/#",
];
/** Topics an endpoint may subscribe to and receive. */
const READ_PATTERNS = ["@set/ID/#", "@exec/ID", "@logsLevel/ID"];

/**
 * Start a mosquitto broker with the endpoint, plain, cloud (and optionally
 * websockets) listeners on free loopback ports.
 *
 * Dispose of it (`await using`) to stop it and remove its configuration.
 *
 * @param options Which listeners to open and what to log.
 * @returns The started broker.
 * @throws {Error} When the broker does not start; the message includes its output.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const pki = await testPki();
  const broker = new MosquittoBroker(
    pki,
    options,
    await Deno.makeTempDir({ prefix: "cloudio-mosquitto-" }),
  );
  try {
    // The ports are chosen before mosquitto binds them: on a clash, start again on others.
    await retryOnAddressInUse(async () => {
      await broker.writeConfig();
      await broker.start();
    }, () => broker.pickPorts());
  } catch (error) {
    await broker[Symbol.asyncDispose]();
    throw error;
  }
  return broker;
}

class MosquittoBroker implements Mosquitto {
  readonly pki: TestPki;
  readonly #dir: string;
  readonly #options: Required<MosquittoOptions>;
  #ports: { tls: number; tcp?: number; cloud: number; ws?: number };
  #child: Deno.ChildProcess | undefined;
  #exited: Promise<Deno.CommandStatus> | undefined;
  #drained: Promise<void> | undefined;
  #output = "";

  constructor(pki: TestPki, options: MosquittoOptions, dir: string) {
    this.pki = pki;
    this.#dir = dir;
    this.#options = {
      websockets: options.websockets ?? false,
      plainEndpointListener: options.plainEndpointListener ?? true,
      logTypes: options.logTypes ?? DEFAULT_LOG_TYPES,
      persistence: options.persistence ?? false,
    };
    globalThis.addEventListener("unload", this.#onUnload);
    this.#ports = this.#freshPorts();
  }

  /** Chooses new ports (before the first successful start only: restarts keep the URLs). */
  pickPorts(): void {
    this.#ports = this.#freshPorts();
  }

  #freshPorts(): { tls: number; tcp?: number; cloud: number; ws?: number } {
    return {
      tls: freePort(),
      tcp: this.#options.plainEndpointListener ? freePort() : undefined,
      cloud: freePort(),
      // A websockets listener binds every interface whatever the config says.
      ws: this.#options.websockets ? freePort("0.0.0.0") : undefined,
    };
  }

  get tlsUrl(): string {
    return `mqtts://127.0.0.1:${this.#ports.tls}`;
  }

  get tcpUrl(): string {
    if (this.#ports.tcp === undefined) {
      throw new Error(
        "Cannot get tcpUrl as the broker was started with plainEndpointListener: false",
      );
    }
    return `mqtt://127.0.0.1:${this.#ports.tcp}`;
  }

  get cloudUrl(): string {
    return `mqtt://127.0.0.1:${this.#ports.cloud}`;
  }

  get wsUrl(): string | undefined {
    return this.#ports.ws === undefined ? undefined : `ws://127.0.0.1:${this.#ports.ws}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  output(): string {
    return this.#output;
  }

  async writeConfig(): Promise<void> {
    const acl = (id: string) =>
      [
        "# Generated by tests/_broker.ts: an endpoint may only use its own topics (protocol §9).",
        ...WRITE_PATTERNS.map((t) => `pattern write ${t.replace("ID", id)}`),
        ...READ_PATTERNS.map((t) => `pattern read ${t.replace("ID", id)}`),
        "",
      ].join("\n");
    await Deno.writeTextFile(`${this.#dir}/acl-identity`, acl("%u"));
    await Deno.writeTextFile(`${this.#dir}/acl-clientid`, acl("%c"));
    const { tls, tcp, cloud, ws } = this.#ports;
    const lines = [
      "# Generated by tests/_broker.ts",
      "per_listener_settings true",
      ...(this.#options.persistence
        ? ["persistence true", `persistence_location ${this.#dir}/`, "autosave_interval 0"]
        : ["persistence false"]),
      "set_tcp_nodelay true",
      "max_inflight_messages 0",
      "max_queued_messages 100000",
      "log_dest stderr",
      ...this.#options.logTypes.map((t) => `log_type ${t}`),
      "log_timestamp_format %H:%M:%S",
      "connection_messages true",
      // As root, mosquitto would switch to user "mosquitto" and then fail to read the keys.
      ...(Deno.uid() === 0 ? ["user root"] : []),
      "",
      "# Endpoint listener: TLS + client certificate, CN = username = endpoint uuid.",
      `listener ${tls} 127.0.0.1`,
      "socket_domain ipv4",
      `cafile ${this.pki.caCert}`,
      `certfile ${this.pki.serverCert}`,
      `keyfile ${this.pki.serverKey}`,
      "require_certificate true",
      "use_identity_as_username true",
      "allow_anonymous false",
      `acl_file ${this.#dir}/acl-identity`,
      "",
    ];
    if (tcp !== undefined) {
      lines.push(
        "# Plain endpoint listener: the client id plays the role of the certificate CN.",
        `listener ${tcp} 127.0.0.1`,
        "socket_domain ipv4",
        "allow_anonymous true",
        `acl_file ${this.#dir}/acl-clientid`,
        "",
      );
    }
    lines.push(
      "# The test cloud: anonymous, no ACL.",
      `listener ${cloud} 127.0.0.1`,
      "socket_domain ipv4",
      "allow_anonymous true",
      "",
    );
    if (ws !== undefined) {
      lines.push(
        "# Websockets endpoint listener (binds every interface), client id ACL.",
        `listener ${ws}`,
        "protocol websockets",
        "socket_domain ipv4",
        "allow_anonymous true",
        `acl_file ${this.#dir}/acl-clientid`,
        "",
      );
    }
    await Deno.writeTextFile(`${this.#dir}/mosquitto.conf`, lines.join("\n"));
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const outputStart = this.#output.length;
    const child = new Deno.Command(MOSQUITTO, {
      args: ["-c", `${this.#dir}/mosquitto.conf`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    let exited = false;
    this.#exited = child.status.then((status) => {
      exited = true;
      return status;
    });
    this.#drained = this.#drain(child.stderr);

    const ports = Object.values(this.#ports).filter((p): p is number => p !== undefined);
    const pending = new Set(ports);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!exited && Date.now() < deadline) {
      const running = /mosquitto version \S+ running/.test(this.#output.slice(outputStart));
      if (running) {
        for (const port of [...pending]) {
          if (await accepts(port)) pending.delete(port);
        }
        if (pending.size === 0 && !exited) return;
      }
      await delay(20);
    }
    const reason = exited
      ? `it exited with code ${(await this.#exited).code}`
      : `ports ${[...pending].join(", ")} did not accept connections within ${START_TIMEOUT_MS} ms`;
    await this.kill();
    throw new Error(
      `Cannot start mosquitto as ${reason}; config ${this.#dir}/mosquitto.conf, output:\n` +
        this.#output.slice(outputStart),
    );
  }

  stop(): Promise<void> {
    return this.#terminate("SIGTERM");
  }

  kill(): Promise<void> {
    return this.#terminate("SIGKILL");
  }

  pause(): void {
    this.#child?.kill("SIGSTOP");
  }

  resume(): void {
    try {
      this.#child?.kill("SIGCONT");
    } catch {
      // already exited
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    globalThis.removeEventListener("unload", this.#onUnload);
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  /** Safety net when a test forgot (or crashed before) disposing of the broker. */
  readonly #onUnload = () => {
    try {
      this.#child?.kill("SIGKILL");
    } catch {
      // already exited
    }
    try {
      Deno.removeSync(this.#dir, { recursive: true });
    } catch {
      // best effort
    }
  };

  async #terminate(signal: Deno.Signal): Promise<void> {
    const child = this.#child;
    if (!child) return;
    try {
      child.kill(signal);
      if (signal !== "SIGKILL") child.kill("SIGCONT"); // a paused broker acts on it only then
    } catch {
      // already exited
    }
    await this.#exited;
    await this.#drained;
    this.#child = undefined;
    this.#exited = undefined;
    this.#drained = undefined;
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        this.#output += decoder.decode(chunk, { stream: true });
      }
    } catch {
      // the pipe closes when the broker dies
    }
    this.#output += decoder.decode();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

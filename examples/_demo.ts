/**
 * What the examples share: connect to a real cloud.iO when a properties file for the UUID is
 * found, and otherwise run the local demo (the "embedded default"): an MQTT broker in this
 * process on 127.0.0.1, the devcloud's stand-in cloud printing what it receives, and the
 * devcloud's web page. The outbox is kept in memory there, so a demo leaves no file behind.
 *
 * @module
 */

import { ConfigError, Endpoint, type EndpointModel } from "../mod.ts";
import { startLocalBroker } from "../devcloud/broker.ts";
import { type CloudEvent, DevCloud } from "../devcloud/cloud.ts";
import { startDevCloudServer } from "../devcloud/server.ts";

/** Prints a line for one side: the device, or the cloud. */
export function say(who: "device" | "cloud ", text: string): void {
  console.log(`${who} │ ${text}`);
}

/** The local demo: a broker, the stand-in cloud and its page. */
export interface Demo {
  /** The stand-in cloud; it can `set()` attributes as the real one would. */
  readonly cloud: DevCloud;
  /** The broker's URL. */
  readonly url: string;
  /** Everything the cloud saw, in order. */
  readonly seen: CloudEvent[];
  /** Stops the page, the cloud and the broker. */
  close(): Promise<void>;
}

/** Options of {@linkcode connectOrDemo}. */
export interface ConnectOrDemoOptions {
  /** Where to look for `<uuid>.properties` first; when given, no demo is started. */
  config?: string;
  /** The port of the devcloud page (0: a free one); `false`: no page. */
  port?: number | false;
  /** What the demo is, for its banner. */
  title: string;
  /**
   * How the demo ends, for its banner.
   *
   * @default {"Ctrl-C to stop."}
   */
  stop?: string;
}

/**
 * Connects an endpoint: to the cloud of `<uuid>.properties` when one is found, or to a local
 * demo started here.
 *
 * @param uuid The endpoint's UUID.
 * @param model Builds the model; called once per endpoint tried (class-style parts belong to one
 * endpoint only).
 * @param options Where else to look for the configuration, the page's port, the banner.
 * @returns The endpoint, online, and the demo when one was started.
 */
export async function connectOrDemo<const M extends EndpointModel>(
  uuid: string,
  model: () => M,
  options: ConnectOrDemoOptions,
): Promise<{ endpoint: Endpoint<M>; demo?: Demo }> {
  const locations = options.config ? [options.config] : undefined;
  const endpoint = new Endpoint(uuid, { model: model(), locations });
  try {
    await endpoint.connect();
    say("device", `online at ${endpoint.settings?.broker.url} as ${endpoint.uuid}`);
    return { endpoint };
  } catch (error) {
    const notFound = error instanceof ConfigError && error.path === undefined &&
      error.searched.length > 0;
    await endpoint.close();
    if (!notFound || options.config) throw error;
  }
  const demo = await startDemo(uuid, options);
  const local = new Endpoint(uuid, {
    model: model(),
    config: { hostUri: demo.url, persistence: "memory", messageFormat: "CBOR" },
  });
  await local.connect();
  return { endpoint: local, demo };
}

async function startDemo(uuid: string, options: ConnectOrDemoOptions): Promise<Demo> {
  const port = options.port ?? 0;
  if (port !== false && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new RangeError(`--port must be a port from 0 to 65535, not ${port}`);
  }
  const broker = await startLocalBroker();
  const cloud = await DevCloud.connect({ url: broker.url });
  const server = port === false
    ? undefined
    : await startDevCloudServer({ cloud, port, brokerUrl: broker.url });
  const open = server ? `Open ${server.url} to see the device` : "";
  console.log(`
  This is a LOCAL DEMO (${options.title}). No properties file was found for
  ${uuid}, so an MQTT broker runs in this process at ${broker.url}
  and a stand-in cloud prints what arrives and writes set-points. To connect to a real cloud.iO,
  put ${uuid}.properties (hostUri, ssl.authorityCert, ssl.clientCert,
  ssl.clientKey) in ~/.config/cloud.io/ and run again, or pass --config DIR. ${
    options.stop ?? "Ctrl-C to stop."
  }${
    server
      ? `

  ┌${"─".repeat(open.length + 4)}┐
  │  ${open}  │
  └${"─".repeat(open.length + 4)}┘`
      : ""
  }
`);
  const seen: CloudEvent[] = [];
  const printing = (async () => {
    for await (const event of cloud.events()) {
      seen.push(event);
      say("cloud ", describe(event));
    }
  })();
  return {
    url: broker.url,
    cloud,
    seen,
    async close() {
      await server?.close();
      await cloud.close();
      await printing;
      await broker.close();
    },
  };
}

/**
 * Describes what the cloud saw, in one line (the `@online` in a few).
 *
 * @param event The event.
 * @returns The text.
 */
export function describe(event: CloudEvent): string {
  switch (event.type) {
    case "online": {
      const lines = [`@online ${event.uuid}`];
      for (const [name, node] of Object.entries(event.nodes)) {
        lines.push(`         node ${name} implements ${node.implements?.join(", ") || "nothing"}`);
        for (const [objectName, object] of Object.entries(node.objects ?? {})) {
          const attributes = Object.entries(object.attributes ?? {})
            .map(([n, a]) =>
              `${n}: ${a.type} ${a.constraint}${
                a.value === undefined ? "" : ` = ${JSON.stringify(a.value)}`
              }`
            );
          lines.push(`           ${objectName} { ${attributes.join(", ")} }`);
        }
      }
      return lines.join("\n");
    }
    case "offline":
      return `@offline ${event.uuid}`;
    case "update":
      return `${event.via === "update" ? "@update " : `@${event.via}`} ${event.path} = ${
        JSON.stringify(event.attribute.value)
      }`;
    case "set":
      return `@set     ${event.path} ← ${JSON.stringify(event.value)}`;
    case "didSet":
      return `@didSet  ${event.path} = ${JSON.stringify(event.attribute.value)}` +
        (event.latency === undefined ? "" : ` (confirmed in ${event.latency} ms)`);
    case "log":
      return `@logs    ${event.record.level} ${event.record.loggerName}: ${event.record.message}`;
    case "logsLevel":
      return `@logsLevel ← ${event.level}`;
    case "exec":
      return `@exec    ${event.jobURI} (${event.correlationID})`;
    case "execOutput":
      return `@execOutput ${event.correlationID}: ${event.data}`;
    case "rejected":
      return `REJECTED ${event.topic}: ${event.problems.join("; ")}`;
    default:
      return `${event.type}`;
  }
}

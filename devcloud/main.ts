#!/usr/bin/env -S deno run -A
/**
 * The devcloud on its own: an MQTT broker on loopback, the stand-in cloud that follows every
 * endpoint on it, and the web page that shows them live.
 *
 *     deno run -A devcloud/main.ts [--mqtt-port 1883] [--port 8080] [--quiet]
 *
 * Point an endpoint at the printed MQTT address (`hostUri=tcp://127.0.0.1:1883`: plain MQTT,
 * no TLS, no certificates) and open the page. When a default port is taken, a free one is used
 * instead; a port given on the command line must be free. Ctrl-C stops everything cleanly.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startLocalBroker } from "./broker.ts";
import { type CloudEvent, DevCloud } from "./cloud.ts";
import { startDevCloudServer } from "./server.ts";

const USAGE =
  "Usage: deno run -A devcloud/main.ts [--mqtt-port 1883] [--ws-port 8083] [--port 8080] [--quiet]";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    "mqtt-port": { type: "string" },
    "ws-port": { type: "string" },
    port: { type: "string" },
    quiet: { type: "boolean", short: "q" },
    help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  console.log(USAGE);
  Deno.exit(0);
}

function portOf(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(
      `--${name} must be a port from 0 to 65535, not ${JSON.stringify(text)}\n${USAGE}`,
    );
    Deno.exit(2);
  }
  return port;
}

function inUse(error: unknown): boolean {
  return error instanceof Deno.errors.AddrInUse ||
    (error as { code?: string } | null)?.code === "EADDRINUSE";
}

/** Starts on the given port, or on the default one and, if that is taken, on a free one. */
async function listen<T>(
  given: number | undefined,
  fallback: number,
  what: string,
  start: (port: number) => Promise<T>,
): Promise<T> {
  if (given !== undefined) return await start(given);
  try {
    return await start(fallback);
  } catch (error) {
    if (!inUse(error)) throw error;
    console.log(`${what}: port ${fallback} is taken, using a free one`);
    return await start(0);
  }
}

const broker = await listen(
  portOf(args["mqtt-port"], "mqtt-port"),
  1883,
  "MQTT",
  // MQTT over WebSocket for endpoints in browsers: the given port, else a free one.
  (port) => startLocalBroker({ port, websocketPort: portOf(args["ws-port"], "ws-port") ?? 0 }),
);
const cloud = await DevCloud.connect({ url: broker.url });
const server = await listen(
  portOf(args.port, "port"),
  8080,
  "Web page",
  (port) => startDevCloudServer({ cloud, port, brokerUrl: broker.url }),
);

console.log(`
  cloud.iO devcloud: a local stand-in for the cloud (not cloud.iO itself: no TLS, no ACL)

    MQTT broker   ${broker.url}   (endpoints: hostUri=tcp://127.0.0.1:${broker.port})
    WebSocket     ${broker.wsUrl}   (endpoints in browsers: hostUri=${broker.wsUrl})
    Web page      ${server.url}

  Ctrl-C to stop.
`);

function describe(event: CloudEvent): string | undefined {
  switch (event.type) {
    case "online":
      return `@online   ${event.uuid} (${Object.keys(event.nodes).join(", ") || "no nodes"})`;
    case "offline":
      return `@offline  ${event.uuid}`;
    case "rejected":
      return `REJECTED  ${event.topic}: ${event.problems.join("; ")}`;
    default:
      return undefined;
  }
}

const printing = (async () => {
  for await (const event of cloud.events()) {
    const line = args.quiet ? undefined : describe(event);
    if (line) console.log(line);
  }
})();

// Ctrl-C (and SIGTERM): stop the page, the cloud and the broker, then let the process end.
const stop = Promise.withResolvers<void>();
const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
for (const signal of signals) Deno.addSignalListener(signal, stop.resolve);
await stop.promise;
for (const signal of signals) Deno.removeSignalListener(signal, stop.resolve);
console.log("stopping");
await server.close();
await cloud.close();
await printing;
await broker.close();

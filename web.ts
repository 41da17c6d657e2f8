/**
 * cloudio-endpoint for browsers and other places with web APIs only: the same endpoint, model,
 * codecs and connectors as `mod.ts`, reaching the broker over MQTT on WebSocket (`ws://`,
 * `wss://`), configured with an object, keeping its outbox in memory.
 *
 * @example An endpoint in a web page
 * ```ts ignore
 * import { Endpoint } from "@cloudio/endpoint/web";
 *
 * const endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55", {
 *   config: { hostUri: "wss://broker.example/mqtt", persistence: "memory" },
 * });
 * const level = endpoint.addNode("Tank").addObject("Status")
 *   .addAttribute("level", { type: "Number", constraint: "Measure" });
 * await endpoint.connect();
 * level.value = 0.75;
 * ```
 *
 * @module
 */

import { webPlatform } from "./lib/adapters/web.ts";
import { setDefaultPlatform } from "./lib/platform.ts";

setDefaultPlatform(webPlatform);

export * from "./lib/api.ts";
// The extension points a page may need: its own outbox store or WebSocket transport.
export { MemoryStore } from "./lib/outbox/memory_store.ts";
export { createWebSocketTransport } from "./lib/adapters/mqtt_ws.ts";
export type { OutboxStore } from "./lib/outbox/store.ts";
export type { Platform } from "./lib/platform.ts";
export type { Transport } from "./lib/transport.ts";
